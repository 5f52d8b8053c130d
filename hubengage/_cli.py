"""``hubengage``: the command line, a thin shell over the public API.

``hubengage import FILE --object TYPE`` streams a JSON Lines or CSV file through
``create_many`` (or ``upsert_many`` with ``--id-property``), journals every row's fate, and
can resume after Ctrl-C or a hard kill. ``hubengage emulator`` runs the built-in emulator.

Before anything is sent the command checks, and refuses with one line and exit 2: the
``--object`` type, that the whole file decodes (``--encoding``; CSV defaults to
``utf-8-sig``, JSON Lines to ``utf-8``), that a CSV starts with a header of property names,
and on ``--resume`` that the journal is readable and belongs to this file.

The journal (JSON Lines, ``FILE.journal.jsonl`` by default) holds a header line per run
(``{"journal": 1, ..., "input": {"path", "size", "head_sha256"}}``: the input file's
absolute path, its size and the SHA-256 of its first 65,536 bytes; the *first* header is the
journal's identity), a ``{"line": N, "event": "sent"}`` line written *before* the request
carrying row N leaves, and one outcome line per row: ``status`` ``ok`` with the record id,
``failed`` with the error class, category, message and correlation id, or ``unknown`` (the
same fields and ``"possible_duplicate": true``) when HubSpot answered but the answer could
not be tied to the row, so the record may or may not exist. A row's last line decides.

On ``--resume`` rows whose outcome is ``ok`` or ``failed`` are skipped, except rows that
failed because HubSpot rejected the token (401/403: nothing was written), which are sent
again. Rows marked sent without an outcome were in flight when the process died: their fate
is unknown, and they are resent (at least once, or exactly once with ``--id-property``,
because an upsert on a unique key is idempotent). Rows whose outcome is ``unknown`` are
resent only with ``--resend-unknown``, or with ``--id-property``. A journal whose first
header names other input (a different head, or a smaller file) is refused unless
``--force``; a grown file is accepted. A line that is not a JSON object is an error, except
a last line without its newline: a write cut short by a hard kill, ignored and cut off.
A 401 or 403 mid-run stops the import as Ctrl-C does; fix the token and ``--resume``.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import signal
import sys
import time
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ._bulk import NewRecord
from ._client import HubSpot
from ._constants import RATE_LIMIT_STORE_ENV_VAR, TOKEN_ENV_VAR
from ._errors import (
    APIError,
    AuthenticationError,
    HubEngageError,
    InvalidInputError,
    OutcomeUnknownError,
    ScopeError,
)
from ._limiter import RateLimits
from ._objecttypes import OBJECT_TYPES, resolve_object_type
from .emulator import SANDBOX_SEED  # the records the sandbox seeds (examples' associations)
from .models import Association
from .models._associations import parse_association
from .models._converter import to_wire_properties

__all__ = ["main"]

#: The unique-value property of ``examples/emails.jsonl`` the sandbox defines.
SANDBOX_EMAIL_KEY = "message_ref"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_CSV_ASSOCIATIONS = {
    "associate_contact": "contacts",
    "associate_company": "companies",
    "associate_deal": "deals",
    "associate_ticket": "tickets",
}
#: What a CSV header cell must look like: a HubSpot property's internal name.
_PROPERTY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
#: Custom object types: a type id (``2-123``) or a fully qualified name (``p123_cars``).
_CUSTOM_OBJECT = re.compile(r"(2-[0-9]+|p[0-9]*_[A-Za-z][A-Za-z0-9_]*)\Z")
#: The longest CSV field read (a longer value fails its row at HubSpot, not the reader).
CSV_FIELD_LIMIT = 1 << 24
#: How much of the input the journal's identity hashes.
HEAD_BYTES = 65_536
#: Errors meaning HubSpot refused the token itself: nothing was written, and every further
#: request would be refused the same way.
_TOKEN_ERRORS = (AuthenticationError, ScopeError)


class UsageError(Exception):
    """A problem with the command line or the environment: one line, exit 2."""


def _shown(text: str, limit: int = 60) -> str:
    """``repr`` of a value from the user's file, cut to a length fit for one line."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


# -- checking the input up front ----------------------------------------------------------------


def object_type_name(value: str) -> str:
    """The canonical name of a known type, or a custom-object form as given; else UsageError."""
    known = resolve_object_type(value)
    if known is not None:
        return known.name
    if _CUSTOM_OBJECT.match(value):
        return value
    names = ", ".join(t.name for t in OBJECT_TYPES)
    raise UsageError(f"unknown --object {value!r}: use one of {names} (or a type id such as "
                     "0-49), or a custom object as 2-<digits> or p<portal id>_<name>")


def check_encoding(name: str) -> str:
    """``name`` if it is a text encoding Python knows; else UsageError."""
    try:
        codecs.lookup(name)
        io.TextIOWrapper(io.BytesIO(), encoding=name)  # not base64, zlib: no text encodings
    except LookupError:
        raise UsageError(f"--encoding {name!r} is not a text encoding Python knows "
                         "(e.g. utf-8, utf-8-sig, cp1252, latin-1, utf-16)") from None
    return name


def check_decodes(path: Path, encoding: str, chunk_size: int = 1 << 20) -> None:
    """Decode the whole file once, in binary chunks; a byte that does not decode is an error.

    Run before anything is sent, so a bad byte at the end cannot stop an import half way.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0  # of the chunk in the file
    line = 1
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(chunk_size)
            state = decoder.getstate()
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise UsageError(_decode_error(path, encoding, exc, offset, line, state,
                                               len(chunk))) from None
            line += text.count("\n")
            if not chunk:
                return
            offset += len(chunk)


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError, offset: int, line: int,
                  state: tuple[bytes, int], chunk_len: int) -> str:
    data = exc.object
    carried = max(0, len(data) - chunk_len)  # bytes the decoder held over from the last chunk
    position = offset - carried + exc.start
    before = data[:exc.start]
    try:  # count lines in what decoded, as the decoder saw it (right for UTF-16 too)
        again = codecs.getincrementaldecoder(encoding)()
        again.setstate((b"", state[1]))
        line += again.decode(before).count("\n")
    except (UnicodeDecodeError, TypeError, ValueError):
        line += before.count(b"\n")
    bad = " ".join(f"0x{byte:02x}" for byte in data[exc.start:exc.end][:8])
    other = ("cp1252" if codecs.lookup(encoding).name.startswith("utf-8") else "utf-8")
    return (f"{path}: not valid {encoding} at line {line} (byte offset {position}: {bad}: "
            f"{exc.reason}); name the file's encoding with --encoding, e.g. --encoding {other}")


def csv_header(rows: Iterator[list[str]], path: Path) -> list[str]:
    """The header row (leading blank lines skipped), checked: property or association names."""
    for header in rows:
        if header:
            break
    else:
        raise UsageError(f"{path}: the file is empty; a CSV must start with a header row of "
                         "property names")
    names = [cell.strip() for cell in header]
    seen: dict[str, int] = {}
    for column, name in enumerate(names, start=1):
        if not name:
            raise UsageError(f"{path}: column {column} of the header is empty; the first row "
                             "must name a property in every column")
        if name not in _CSV_ASSOCIATIONS and not _PROPERTY_NAME.match(name):
            hint = (" (a byte-order mark: read the file with --encoding utf-8-sig)"
                    if name.startswith("\ufeff") else "")
            raise UsageError(f"{path}: the first row must be a header of property names; "
                             f"{_shown(name)} is not a property name{hint}")
        if name in seen:
            raise UsageError(f"{path}: the header names {name!r} twice (columns {seen[name]} "
                             f"and {column})")
        seen[name] = column
    return names


def check_input(path: Path, fmt: str, encoding: str) -> None:
    """Everything about the file that would otherwise fail every row, or stop half way."""
    check_decodes(path, encoding)
    if fmt == "csv":
        with path.open(encoding=encoding, newline="") as stream:
            try:
                csv_header(csv.reader(stream), path)
            except csv.Error as exc:
                raise UsageError(f"{path}: the header row is not valid CSV: {exc}") from None


# -- reading rows -------------------------------------------------------------------------------


class Row:
    """One input row: its line number, and what to send or why it cannot be sent."""

    __slots__ = ("associations", "error", "line", "properties")

    def __init__(self, line: int, properties: dict[str, Any] | None = None,
                 associations: tuple[Association, ...] = (),
                 error: InvalidInputError | None = None) -> None:
        self.line = line
        self.properties = properties
        self.associations = associations
        self.error = error


def _jsonl_rows(stream: TextIO) -> Iterator[Row]:
    for line_no, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise InvalidInputError("each line must be a JSON object", field="line")
            if "properties" in raw:
                props = raw["properties"]
                if not isinstance(props, dict):
                    raise InvalidInputError("must be an object", field="properties")
                assocs = raw.get("associations") or []
                if not isinstance(assocs, list):
                    raise InvalidInputError("must be an array", field="associations")
                parsed = tuple(parse_association(a, field=f"associations[{i}]")
                               for i, a in enumerate(assocs))
                yield Row(line_no, props, parsed)
            else:
                yield Row(line_no, raw)
        except json.JSONDecodeError as exc:
            yield Row(line_no, error=InvalidInputError(f"not JSON: {exc.msg}", field="line"))
        except InvalidInputError as exc:
            yield Row(line_no, error=exc)


def _csv_rows(stream: TextIO, path: Path) -> Iterator[Row]:
    reader = csv.reader(stream)
    header = csv_header(reader, path)
    while True:
        try:
            record = next(reader, None)
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit()
            raise UsageError(f"{path}: line {reader.line_num} is not valid CSV ({exc})") from None
        if record is None:
            return
        if not record:
            continue  # a blank line
        line_no = reader.line_num
        if len(record) > len(header):
            yield Row(line_no, error=InvalidInputError("more values than header columns",
                                                       field="line"))
            continue
        props: dict[str, Any] = {}
        assocs: list[Association] = []
        try:
            for column, value in zip(header, record, strict=False):
                value = value.strip()
                if not value:
                    continue
                if column in _CSV_ASSOCIATIONS:
                    for part in value.split(";"):
                        assocs.append(Association.to(_CSV_ASSOCIATIONS[column], part.strip()))
                else:
                    props[column] = value
        except InvalidInputError as exc:
            yield Row(line_no, error=exc)
            continue
        yield Row(line_no, props, tuple(assocs))


def read_rows(path: Path, fmt: str, encoding: str) -> Generator[Row, None, None]:
    """Every row of the file, lazily, each either sendable or carrying its error.

    The file was checked up front (:func:`check_input`); should it change under the import
    and no longer decode or parse, that is a UsageError naming the file and line.
    """
    with path.open(encoding=encoding, newline="" if fmt == "csv" else None) as stream:
        try:
            yield from (_csv_rows(stream, path) if fmt == "csv" else _jsonl_rows(stream))
        except UnicodeDecodeError as exc:
            raise UsageError(f"{path}: no longer decodes as {encoding} ({exc.reason}): the "
                             "file changed during the import") from None


def check_row(row: Row, object_type: str, id_property: str | None) -> Row:
    """Validate a row as the SDK would before sending (so bad rows fail without a request)."""
    if row.error is None and row.properties is not None:
        try:
            to_wire_properties(object_type, row.properties, create=True)
            for i, assoc in enumerate(row.associations):
                assoc.resolved_type_id(object_type)
                if id_property and assoc.to_type is None:
                    raise InvalidInputError(
                        'with --id-property use the short form, e.g. {"contact": 601}',
                        field=f"associations[{i}]",
                    )
            if id_property and not str(row.properties.get(id_property) or "").strip():
                raise InvalidInputError("missing: --id-property needs it on every row",
                                        field=id_property)
        except InvalidInputError as exc:
            row.error = exc
    return row


# -- the journal --------------------------------------------------------------------------------


def input_identity(path: Path, head_bytes: int = HEAD_BYTES) -> dict[str, Any]:
    """What the journal records of its input: absolute path, size, SHA-256 of the head."""
    with path.open("rb") as stream:
        head = stream.read(head_bytes)
        size = os.fstat(stream.fileno()).st_size
    return {"path": str(path.resolve()), "size": size,
            "head_sha256": hashlib.sha256(head).hexdigest()}


_SENT, _DONE, _UNKNOWN, _REJECTED = range(4)


class Journal:
    """Append-only JSON Lines of what happened to each row; flushed as outcomes land."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: Rows whose last outcome is ``ok`` or ``failed``: skipped on resume.
        self.done: set[int] = set()
        #: Rows marked sent without an outcome (a hard kill): resent.
        self.in_flight: set[int] = set()
        #: Rows whose last outcome is ``unknown``: resent only when asked (or by upsert).
        self.unknown: set[int] = set()
        #: Rows that failed because HubSpot rejected the token: nothing written, resent.
        self.rejected: set[int] = set()
        #: The first header line (the journal's identity), if any.
        self.header: dict[str, Any] | None = None
        self._file: TextIO | None = None
        self._cut_at: int | None = None  # where a last line cut short by a kill begins
        self._unterminated = False  # the last line is whole but lost its newline

    def load(self) -> None:
        """Read a previous run's journal (for ``--resume``). UsageError if it is corrupted."""
        last: dict[int, int] = {}  # row -> what its last line says (_SENT, _DONE, ...)
        rejected = {error.__name__ for error in _TOKEN_ERRORS}
        offset = 0
        with self.path.open("rb") as stream:
            for number, raw in enumerate(stream, start=1):
                line_start, offset = offset, offset + len(raw)
                complete = raw.endswith(b"\n")
                if not raw.strip():
                    continue
                try:
                    entry = json.loads(raw)
                    if not isinstance(entry, dict):
                        raise ValueError("not a JSON object")
                except ValueError as exc:  # also JSONDecodeError, UnicodeDecodeError
                    if not complete:  # the last line, cut short by a hard kill: ignored
                        self._cut_at = line_start
                        break
                    what = (f"not JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError)
                            else "not JSON: not UTF-8" if isinstance(exc, UnicodeDecodeError)
                            else str(exc))
                    raise UsageError(f"journal {self.path} line {number} is corrupted ({what}); "
                                     "repair or delete that line, or delete the journal to "
                                     "start over") from None
                self._unterminated = not complete
                if self.header is None and "journal" in entry:
                    self.header = entry
                line, status = entry.get("line"), entry.get("status")
                if not isinstance(line, int):
                    continue
                if status is None:
                    if entry.get("event") == "sent":
                        last[line] = _SENT
                elif status == "unknown":
                    last[line] = _UNKNOWN
                elif status == "failed" and entry.get("error") in rejected:
                    last[line] = _REJECTED
                elif status in ("ok", "failed"):
                    last[line] = _DONE
        by_state = {_SENT: self.in_flight, _DONE: self.done, _UNKNOWN: self.unknown,
                    _REJECTED: self.rejected}
        for line, state in last.items():
            by_state[state].add(line)

    def check_belongs_to(self, identity: dict[str, Any], path: Path, force: bool) -> str | None:
        """Refuse (UsageError) to resume with input other than the journal's, unless
        ``force``; a warning when that cannot be checked, else None."""
        if self.header is None and not (self.done or self.unknown or self.in_flight
                                        or self.rejected):
            return None  # an empty journal: nothing to skip
        recorded = (self.header or {}).get("input")
        if recorded is None:
            return (f"journal {self.path} is from an earlier version that did not record its "
                    f"input: the input could not be checked; resuming with {path}")
        if (not isinstance(recorded, dict) or not isinstance(recorded.get("size"), int)
                or not isinstance(recorded.get("head_sha256"), str)):
            raise UsageError(f"journal {self.path}: the header's \"input\" record is malformed; "
                             "delete the journal to start over")
        size = recorded["size"]
        if recorded.get("shard") != identity.get("shard"):
            def shard(value: Any) -> str:
                return f"shard {value[0]}/{value[1]}" if value else "the whole file"
            why = (f"it was written for {shard(recorded.get('shard'))}, not "
                   f"{shard(identity.get('shard'))}")
        elif identity["size"] < size:
            why = f"{path} is smaller ({identity['size']} bytes, was {size})"
        elif input_identity(path, min(size, HEAD_BYTES))["head_sha256"] != recorded[
                "head_sha256"]:
            why = f"the first {min(size, HEAD_BYTES)} bytes of {path} differ"
        else:
            return None
        if force:
            return (f"journal {self.path} belongs to {recorded.get('path')}, but {why}: "
                    "resuming anyway (--force)")
        raise UsageError(f"journal {self.path} belongs to {recorded.get('path')} "
                         f"({size} bytes), but {why}: resuming would skip the wrong rows; give "
                         "that file, another --journal, or --force to resume anyway")

    def open(self, header: dict[str, Any]) -> None:
        """Open for appending and write a header line for this run."""
        if self._cut_at is not None:  # drop the torn line, or the header would join it
            with self.path.open("r+b") as stream:
                stream.truncate(self._cut_at)
        self._file = self.path.open("a", encoding="utf-8")
        if self._unterminated:
            self._file.write("\n")
        self.write(header)

    def write(self, entry: dict[str, Any]) -> None:
        """Append one entry."""
        assert self._file is not None
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")

    def flush(self) -> None:
        """Hand buffered lines to the OS (survives a killed process)."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Flush, fsync and close."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


_CORRELATION_ID = re.compile(r"correlation id ([^\s)]+)")


def failure_entry(line: int, error: BaseException, status: str = "failed") -> dict[str, Any]:
    """The journal entry for a failed row (or, with ``status="unknown"``, an unknown one)."""
    entry: dict[str, Any] = {"line": line, "status": status, "error": type(error).__name__}
    if isinstance(error, APIError):
        entry["category"] = error.category
        entry["message"] = error.message
        entry["correlation_id"] = error.correlation_id
    else:
        entry["category"] = "INVALID_INPUT" if isinstance(error, InvalidInputError) else None
        entry["message"] = str(error)
        correlation_id = getattr(error, "correlation_id", None)
        if correlation_id is None:
            found = _CORRELATION_ID.search(str(error))
            correlation_id = found.group(1) if found else None
        if correlation_id is not None or isinstance(error, OutcomeUnknownError):
            entry["correlation_id"] = correlation_id
    if status == "unknown":
        entry["possible_duplicate"] = True
    return entry


# -- the import ---------------------------------------------------------------------------------


class Counters:
    """What the progress bar and the summary show."""

    def __init__(self) -> None:
        self.read = 0
        self.skipped = 0
        self.skipped_unknown = 0
        self.succeeded = 0
        self.failed = 0
        self.unknown = 0
        self.first_failures: list[str] = []

    def failure(self, line: int, error: BaseException, *, note: bool = True) -> None:
        """Count a failed row, keeping the first few messages for the summary."""
        self.failed += 1
        if note:
            self._note(f"row {line}: {error}")

    def unknown_outcome(self, line: int, error: BaseException) -> None:
        """Count a row whose outcome is unknown."""
        self.unknown += 1
        self._note(f"row {line}: outcome unknown: {error}")

    def _note(self, text: str) -> None:
        if len(self.first_failures) < 5:
            self.first_failures.append(text if len(text) < 300 else text[:297] + "...")


class Job:
    """What the checks up front settled: the file, its format and encoding, the type and
    the journal (loaded, on ``--resume``)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.path = Path(args.file)
        self.fmt: str = args.format or ("csv" if self.path.suffix.lower() == ".csv"
                                        else "jsonl")
        self.encoding: str = args.encoding or ("utf-8-sig" if self.fmt == "csv" else "utf-8")
        self.object_type = ""
        self.identity: dict[str, Any] = {}
        #: ``(k, n)``: this process sends the k-th of every n rows (``--shard K/N``).
        self.shard: tuple[int, int] = args.shard or (1, 1)
        k, n = self.shard
        default = (f"{self.path}.journal.jsonl" if n == 1
                   else f"{self.path}.shard-{k}-of-{n}.journal.jsonl")
        self.journal = Journal(Path(args.journal) if args.journal else Path(default))


def prepare(args: argparse.Namespace) -> Job:
    """Every check that can be made before anything is sent (UsageError: exit 2)."""
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    job = Job(args)
    job.object_type = object_type_name(args.object)
    check_encoding(job.encoding)
    check_input(path, job.fmt, job.encoding)
    if args.dry_run:
        return job
    journal = job.journal.path
    if args.sandbox and not args.resume and journal.exists():
        journal.unlink()  # each sandbox starts from an empty emulator: nothing to resume
    if journal.exists() and not args.resume:
        raise UsageError(f"journal {journal} exists: add --resume to continue that import, "
                         "or remove the file to start over")
    job.identity = input_identity(path)
    if job.shard != (1, 1):
        job.identity["shard"] = list(job.shard)
    if args.resume and journal.exists():
        job.journal.load()
        warning = job.journal.check_belongs_to(job.identity, path, args.force)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    return job


async def run_import(args: argparse.Namespace, console: Any, job: Job | None = None) -> int:
    """The import job. Returns the exit code."""
    job = job or prepare(args)
    object_type = job.object_type
    counters = Counters()

    if args.dry_run:
        for row in read_rows(job.path, job.fmt, job.encoding):
            counters.read += 1
            if check_row(row, object_type, args.id_property).error is not None:
                counters.failure(row.line, row.error)  # type: ignore[arg-type]
            else:
                counters.succeeded += 1
        console.print(f"dry run: {counters.succeeded} rows valid, {counters.failed} invalid; "
                      "nothing was sent")
        for text in counters.first_failures:
            console.print(f"  {text}", markup=False, highlight=False)
        return EXIT_OK if counters.failed == 0 else EXIT_FAILED

    emulator = None
    token = None
    base_url = args.base_url
    if args.sandbox:
        from .emulator import Emulator, EmulatorConfig

        # The examples' account: emails carry the unique custom property message_ref.
        unique: dict[str, tuple[str, ...]] = {"emails": (SANDBOX_EMAIL_KEY,)}
        if args.id_property:
            unique[object_type] = tuple(dict.fromkeys(
                (*unique.get(object_type, ()), args.id_property)))
        emulator = Emulator(EmulatorConfig(seed=1, seed_records=True, unique_properties=unique,
                                           custom_properties=unique))
        await emulator.start()
        base_url, token = emulator.url, "sandbox"
        console.print(f"sandbox: importing into the built-in HubSpot emulator at {base_url}; "
                      "nothing leaves this machine.")
    else:
        token = os.environ.get(args.token_env)
        if not token:
            raise UsageError(f"no access token: set {args.token_env} (or pick the variable with "
                             "--token-env), or add --sandbox to use the built-in emulator")
    try:
        code = await _send_rows(args, console, job, counters, token, base_url)
        if emulator is not None:
            stats = emulator.stats()
            stored = ", ".join(f"{name}: {v['live']}" for name, v in stats["objects"].items()
                               if name not in SANDBOX_SEED) or "nothing"
            console.print(f"sandbox: the emulator stored {stored} "
                          f"({stats['total_requests']} requests served)")
        return code
    finally:
        if emulator is not None:
            await emulator.stop()


def _resume_notes(args: argparse.Namespace, console: Any, journal: Journal) -> None:
    if journal.in_flight:
        how = ("exactly once (upsert by --id-property)" if args.id_property
               else "at least once: check for duplicates")
        console.print(f"resume: {len(journal.in_flight)} rows were in flight when the last run "
                      f"stopped; their fate is unknown, resending them {how}")
    if journal.unknown:
        what = (f"resume: {len(journal.unknown)} rows have an unknown outcome (HubSpot "
                "answered, but the answer could not be tied to them: the records may or may "
                "not exist)")
        if args.id_property:
            console.print(f"{what}; resending them exactly once (upsert by --id-property)")
        elif args.resend_unknown:
            console.print(f"{what}; resending them (--resend-unknown): check for duplicates")
        else:
            console.print(f"{what}; NOT resending them. Check them in HubSpot (search for "
                          'them; the journal marks them "status": "unknown"), or resend them '
                          "deliberately with --resend-unknown")
    if journal.rejected:
        console.print(f"resume: {len(journal.rejected)} rows were refused with the token last "
                      "time (nothing was written); sending them again")
    if journal.done:
        console.print(f"resume: {len(journal.done)} rows already have an outcome; skipping them")


async def _send_rows(args: argparse.Namespace, console: Any, job: Job, counters: Counters,
                     token: str, base_url: str | None) -> int:
    path, journal, object_type = job.path, job.journal, job.object_type
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    lines: dict[int, int] = {}  # bulk index -> file line
    resend_unknown = bool(args.id_property or args.resend_unknown)
    journal.open({"journal": 1, "file": str(path), "object": object_type,
                  "started": datetime.now(UTC).isoformat(), "resume": bool(args.resume),
                  "id_property": args.id_property, "encoding": job.encoding,
                  "input": job.identity})
    _resume_notes(args, console, journal)
    rejected: list[BaseException] = []  # the first 401/403: the token is refused
    unreadable: list[UsageError] = []  # the file changed under the import

    def inputs() -> Iterator[NewRecord]:
        with contextlib.closing(read_rows(path, job.fmt, job.encoding)) as rows:
            yield from _sendable(rows)

    def _sendable(rows: Iterator[Row]) -> Iterator[NewRecord]:
        index = 0
        ordinal = -1
        shard, shards = job.shard
        while not stop.is_set():
            try:
                row = next(rows, None)
            except UsageError as exc:  # stop as Ctrl-C does: the in-flight are journaled
                unreadable.append(exc)
                stop.set()
                return
            if row is None:
                return
            ordinal += 1
            if ordinal % shards != shard - 1:
                continue  # another shard's row
            if row.line in journal.done:
                counters.skipped += 1
                continue
            if row.line in journal.unknown and not resend_unknown:
                counters.skipped_unknown += 1
                continue
            counters.read += 1
            if check_row(row, object_type, args.id_property).error is not None:
                assert row.error is not None
                counters.failure(row.line, row.error)
                journal.write(failure_entry(row.line, row.error))
                continue
            lines[index] = row.line
            index += 1
            yield NewRecord(row.properties, row.associations)  # type: ignore[arg-type]

    def on_sent(index: int) -> None:
        journal.write({"line": lines[index], "event": "sent"})
        journal.flush()

    def failed(line: int, error: BaseException, record_id: str | None = None) -> None:
        refused = isinstance(error, _TOKEN_ERRORS)
        if refused and not rejected:
            rejected.append(error)
            stop.set()  # as Ctrl-C: read no more, withdraw the unsent, finish the in-flight
        counters.failure(line, error, note=not refused)
        entry = failure_entry(line, error)
        if record_id is not None:
            entry["id"] = record_id
        journal.write(entry)

    def succeeded(line: int, record: Any) -> None:
        counters.succeeded += 1
        entry = {"line": line, "status": "ok", "id": record.id}
        if record.possible_duplicate:
            entry["possible_duplicate"] = True
        journal.write(entry)

    associating: set[asyncio.Task[None]] = set()

    async def associate(line: int, record: Any, associations: Sequence[Association]) -> None:
        # Batch upsert takes no associations: each is a call of its own, coalesced by the
        # batcher into v4 association batches (idempotent, so a resumed row may repeat them).
        outcomes = await asyncio.gather(
            *(resource.associate(record.id, str(a.to_type), a.to_id, type_id=a.type_id,
                                 category=a.category, label=a.label)
              for a in associations),  # check_row: rows with --id-property name to_type
            return_exceptions=True)
        error = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if isinstance(error, HubEngageError):  # written, not (wholly) associated
            failed(line, error, record_id=record.id)
        elif error is not None:
            raise error
        else:
            succeeded(line, record)
        journal.flush()

    progress = _progress(console)
    started = time.monotonic()
    per, interval = args.rate
    limits = RateLimits(requests_per_interval=per, interval_seconds=interval)
    try:
        async with HubSpot(token, base_url=base_url, rate_limits=limits,
                           rate_limit_store=args.rate_limit_store) as hs:
            resource = hs.objects(object_type)
            if args.id_property:
                outcomes = resource.upsert_many(inputs(), id_property=args.id_property,
                                                on_sent=on_sent, stop=stop)
            else:
                outcomes = resource.create_many(inputs(), on_sent=on_sent, stop=stop)
            with progress:
                task = progress.add_task("importing", total=None)
                async for outcome in outcomes:
                    line = lines.pop(outcome.index)
                    if outcome.withdrawn:
                        continue  # never sent (a stop, a refused token): resume sends it
                    if outcome.ok and outcome.record is not None:
                        if args.id_property and outcome.input.associations:
                            # Concurrently, so that rows' associations share v4 batches.
                            task_ = asyncio.get_running_loop().create_task(associate(
                                line, outcome.record, outcome.input.associations))
                            associating.add(task_)
                            task_.add_done_callback(associating.discard)
                            continue
                        succeeded(line, outcome.record)
                    elif isinstance(outcome.error, OutcomeUnknownError):
                        counters.unknown_outcome(line, outcome.error)
                        journal.write(failure_entry(line, outcome.error, "unknown"))
                    else:
                        failed(line, outcome.error or HubEngageError("no record returned"))
                    journal.flush()
                    progress.update(task, completed=counters.succeeded + counters.failed
                                    + counters.unknown,
                                    description=_describe(counters, hs, started))
                while associating:
                    await asyncio.wait(list(associating))
            stats = hs.stats
    finally:
        journal.close()
    interrupted = stop.is_set() and not rejected and not unreadable
    _summary(console, counters, stats, time.monotonic() - started, interrupted, journal)
    if unreadable:
        print(f"error: {unreadable[0]}: the import stopped there; fix the file, then run the "
              "same command with --resume --force", file=sys.stderr)
        return EXIT_USAGE
    if rejected:
        print(f"error: HubSpot rejected the token ({rejected[0]}): fix the token or its "
              "scopes, then run the same command with --resume", file=sys.stderr)
        return EXIT_FAILED
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if counters.failed == 0 and counters.unknown == 0 else EXIT_FAILED


def _describe(counters: Counters, hs: HubSpot, started: float) -> str:
    elapsed = max(time.monotonic() - started, 1e-9)
    done = counters.succeeded + counters.failed + counters.unknown
    unknown = f"unknown {counters.unknown}  " if counters.unknown else ""
    return (f"read {counters.read}  ok {counters.succeeded}  failed {counters.failed}  "
            f"{unknown}requests {hs.stats.total_requests}  "
            f"429s {hs.stats.total_rate_limited}  {done / elapsed:,.0f} rows/s")


def _progress(console: Any) -> Any:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=console, disable=not console.is_terminal, transient=False)


def _summary(console: Any, counters: Counters, stats: Any, elapsed: float, interrupted: bool,
             journal: Journal) -> None:
    from rich.table import Table

    table = Table(title="hubengage import", show_header=False)
    table.add_row("rows read", f"{counters.read}")
    if counters.skipped:
        table.add_row("skipped (done before)", f"{counters.skipped}")
    if counters.skipped_unknown:
        table.add_row("skipped (unknown outcome before)",
                      f"{counters.skipped_unknown} (check them; --resend-unknown resends them)")
    table.add_row("succeeded", f"{counters.succeeded}")
    table.add_row("failed", f"{counters.failed}")
    if counters.unknown:
        table.add_row("unknown outcome", f"{counters.unknown} (journal: \"status\": "
                      '"unknown"; the records may or may not exist: check before resending)')
    table.add_row("requests", f"{stats.total_requests}")
    table.add_row("429s", f"{stats.total_rate_limited}")
    table.add_row("retries", f"{stats.retries}")
    if stats.possible_duplicates:
        table.add_row("possible duplicates", f"{stats.possible_duplicates} (journal: "
                      '"possible_duplicate": true; see the README on duplicates)')
    table.add_row("seconds", f"{elapsed:.1f}")
    table.add_row("journal", str(journal.path))
    console.print(table)
    for text in counters.first_failures:
        console.print(f"error: {text}", markup=False, highlight=False)
    if interrupted:
        console.print("interrupted: in-flight batches were finished and journaled; "
                      "run the same command with --resume to continue")


# -- the parser ---------------------------------------------------------------------------------


def _shard(text: str) -> tuple[int, int]:
    k, sep, n = text.partition("/")
    try:
        shard, shards = int(k), int(n)
    except ValueError:
        shard = shards = 0
    if not sep or not 1 <= shard <= shards:
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N, e.g. 2/4, got {text!r}")
    return shard, shards


def build_parser() -> argparse.ArgumentParser:
    """The ``hubengage`` parser."""
    from .emulator._cli import add_emulator_arguments, rate_argument

    parser = argparse.ArgumentParser(prog="hubengage", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="create (or upsert) records from a JSONL or CSV file")
    imp.add_argument("file", help="input file: JSON Lines or CSV (with a header row)")
    imp.add_argument("--object", required=True,
                     help="object type: emails, notes, 0-49, or a custom 2-123 / p123_cars")
    imp.add_argument("--format", choices=("jsonl", "csv"), help="default: from the extension")
    imp.add_argument("--encoding", metavar="NAME",
                     help="the file's text encoding (default utf-8-sig for CSV, which also "
                          "reads plain UTF-8; utf-8 for JSONL), e.g. cp1252, latin-1, utf-16")
    imp.add_argument("--sandbox", action="store_true",
                     help="import into the built-in emulator (nothing leaves the machine)")
    imp.add_argument("--journal", help="journal path (default FILE.journal.jsonl)")
    imp.add_argument("--resume", action="store_true",
                     help="continue an interrupted import: send only rows without an outcome")
    imp.add_argument("--force", action="store_true",
                     help="with --resume: use the journal even if it names other input")
    imp.add_argument("--resend-unknown", action="store_true",
                     help="with --resume: resend rows whose outcome is unknown (they may "
                          "exist already; automatic with --id-property)")
    imp.add_argument("--dry-run", action="store_true", help="validate every row; send nothing")
    imp.add_argument("--id-property", metavar="NAME",
                     help="upsert by this unique property (exactly-once on resume)")
    imp.add_argument("--token-env", default=TOKEN_ENV_VAR, metavar="NAME",
                     help=f"environment variable holding the token (default {TOKEN_ENV_VAR})")
    imp.add_argument("--base-url", help="API base URL (default https://api.hubapi.com)")
    imp.add_argument("--rate", type=rate_argument, default=(100, 10.0), metavar="N/INTERVAL",
                     help="the burst window to assume until HubSpot's headers say (default "
                          "100/10s; the headers then set it, up or down)")
    imp.add_argument("--rate-limit-store", metavar="URL",
                     help="share one rate budget through Redis with every process on the "
                          "token, e.g. redis://localhost:6379/0 (default: "
                          f"${RATE_LIMIT_STORE_ENV_VAR}, else a budget of this process)")
    imp.add_argument("--shard", type=_shard, metavar="K/N",
                     help="send only the K-th of every N rows (N processes split one file; "
                          "each keeps its own journal, FILE.shard-K-of-N.journal.jsonl)")
    emu = sub.add_parser("emulator", help="run the built-in HubSpot emulator")
    add_emulator_arguments(emu)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hubengage`` command."""
    args = build_parser().parse_args(argv)
    if args.command == "emulator":
        from .emulator._cli import config_from_args, serve

        asyncio.run(serve(config_from_args(args)))
        return EXIT_OK
    try:
        from rich.console import Console
    except ImportError:
        print("error: the command line needs rich: pip install 'hubengage[cli]'",
              file=sys.stderr)
        return EXIT_USAGE
    console = Console()
    field_limit = csv.field_size_limit(CSV_FIELD_LIMIT)  # HTML bodies outgrow csv's 128 KiB
    try:
        job = prepare(args)
        return asyncio.run(run_import(args, console, job))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HubEngageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        csv.field_size_limit(field_limit)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
