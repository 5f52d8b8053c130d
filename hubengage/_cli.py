"""``hubengage``: the command line, a thin shell over the public API.

``hubengage import FILE --object TYPE`` streams a JSON Lines or CSV file through
``create_many`` (or ``upsert_many`` with ``--id-property``), journals every row's fate, and
can resume after Ctrl-C or a hard kill. ``hubengage emulator`` runs the built-in emulator.

Before anything is sent the command checks, and refuses with one line and exit 2: the
``--object`` type, that the whole file decodes (``--encoding``; CSV defaults to
``utf-8-sig``, JSON Lines to ``utf-8``), that a CSV starts with a header of property names,
and on ``--resume`` that the journal is readable and belongs to this file. It then counts
the rows, for a progress bar with a total, a percentage, the rate of rows written (from
outcomes, never from rows read ahead) and an ETA.

The journal is :class:`hubengage.Journal`'s (``FILE.journal.jsonl`` by default), with rows
keyed by their line in the file (``"line": N``): a header line per run whose first one holds
the input file's identity (absolute path, size, SHA-256 of its first 65,536 bytes, and the
shard), a ``sent`` mark written *before* the request carrying a row leaves, and one outcome
line per row (``ok`` with the record id, ``failed`` with the error's class, category,
message and correlation id, ``unknown`` with ``"possible_duplicate": true``). A row's last
line decides.

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
The summary counts the whole job (every run of the journal) beside this run's share.

``--failed-out FILE`` writes the rows that failed (in any run of the journal) in the input's
format with their reasons: a JSON Lines row gets an ``"error"`` field, a CSV row an
``error`` column. The importer ignores that field and column, so the file imports as it is
once the rows are fixed.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import csv
import io
import json
import os
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from ._bulk import NewRecord, Outcome, halts_run
from ._client import HubSpot
from ._constants import RATE_LIMIT_STORE_ENV_VAR, TOKEN_ENV_VAR
from ._errors import HubEngageError, InvalidInputError, OutcomeUnknownError
from ._journal import (
    Journal,
    JournalCounts,
    JournalError,
    JournalMismatchError,
    JournalStatus,
    describe_failure,
    input_identity,
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
#: The field (JSON Lines) and column (CSV) ``--failed-out`` adds with a row's reason; the
#: importer ignores it, so that a failed-rows file imports as it is once fixed.
FAILED_OUT_FIELD = "error"
#: What a CSV header cell must look like: a HubSpot property's internal name.
_PROPERTY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
#: Custom object types: a type id (``2-123``) or a fully qualified name (``p123_cars``).
_CUSTOM_OBJECT = re.compile(r"(2-[0-9]+|p[0-9]*_[A-Za-z][A-Za-z0-9_]*)\Z")
#: The longest CSV field read (a longer value fails its row at HubSpot, not the reader).
CSV_FIELD_LIMIT = 1 << 24


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
            else:  # the properties; an "error" field is a failed-rows file's reason
                yield Row(line_no, {k: v for k, v in raw.items() if k != FAILED_OUT_FIELD})
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
                if not value or column == FAILED_OUT_FIELD:  # a failed-rows file's reason
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


# -- counting and writing rows back ---------------------------------------------------------------


def count_rows(path: Path, fmt: str, encoding: str) -> int | None:
    """How many rows the file holds (blank lines and the CSV header aside), for the progress
    bar's total; None when the file cannot be read through (the import then says why)."""
    with path.open(encoding=encoding, newline="" if fmt == "csv" else None) as stream:
        try:
            if fmt == "csv":
                reader = csv.reader(stream)
                records = sum(1 for record in reader if record)
                return max(0, records - 1)  # the header
            return sum(1 for text in stream if text.strip())
        except (csv.Error, UnicodeDecodeError):
            return None


def shard_size(rows: int, shard: tuple[int, int]) -> int:
    """How many of ``rows`` rows the k-th of n shards sends."""
    k, n = shard
    return len(range(k - 1, rows, n))


def write_failed_rows(path: Path, fmt: str, encoding: str, out: Path,
                      reason: Callable[[int], str | None]) -> int:
    """Write every row that ``reason(line)`` says failed to ``out``, in the input's format,
    with its reason: JSON Lines, the row's object plus an ``"error"`` field; CSV, the row
    plus an ``error`` column. The importer ignores that field and column, so the file can be
    fixed and imported as it is. Written to a temporary file first, then renamed. Returns
    the number of rows written."""
    partial = out.with_name(out.name + ".partial")
    newline = "" if fmt == "csv" else None
    try:
        with path.open(encoding=encoding, newline=newline) as source, \
                partial.open("w", encoding=encoding, newline=newline) as sink:
            written = (_failed_csv_rows(source, sink, reason) if fmt == "csv"
                       else _failed_jsonl_rows(source, sink, reason))
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written


def _failed_jsonl_rows(source: TextIO, sink: TextIO,
                       reason: Callable[[int], str | None]) -> int:
    written = 0
    for line_no, text in enumerate(source, start=1):
        why = reason(line_no) if text.strip() else None
        if why is None:
            continue
        try:
            raw = json.loads(text)
        except json.JSONDecodeError:
            raw = None
        row = ({**raw, FAILED_OUT_FIELD: why} if isinstance(raw, dict)  # the row as it was
               else {FAILED_OUT_FIELD: why, "text": text.rstrip("\r\n")})  # not an object
        sink.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
    return written


def _failed_csv_rows(source: TextIO, sink: TextIO, reason: Callable[[int], str | None]) -> int:
    reader = csv.reader(source)
    writer = csv.writer(sink)
    header = next((record for record in reader if record), None)
    if header is None:
        return 0
    names = [cell.strip() for cell in header]
    if FAILED_OUT_FIELD in names:  # a failed-rows file failing again: replace the reasons
        column = names.index(FAILED_OUT_FIELD)
        out_header = header
    else:
        column = len(header)
        out_header = [*header, FAILED_OUT_FIELD]
    writer.writerow(out_header)
    written = 0
    for record in reader:
        why = reason(reader.line_num) if record else None
        if why is None:
            continue
        cells = list(record)
        if len(cells) <= column:  # short rows padded, so that the reason is in its column
            cells += [""] * (column - len(cells)) + [why]
        elif column == len(header):  # more values than the header: the reason goes first
            cells.insert(column, why)
        else:
            cells[column] = why
        writer.writerow(cells)
        written += 1
    return written


# -- the journal --------------------------------------------------------------------------------


class RowJournal(Journal):
    """The import's journal (:class:`hubengage.Journal`): rows keyed by their line in the
    file (``"line": N``), the input file's identity (and the shard) in its first header."""

    key = "line"


def open_journal(path: Path, identity: dict[str, Any], header: dict[str, Any],
                 force: bool) -> RowJournal:
    """The journal, read and checked (a UsageError when it is corrupted or not this file's)."""
    try:
        journal = RowJournal(path, identity, force=force, header=header)
    except JournalMismatchError as exc:
        recorded = exc.recorded
        raise UsageError(f"journal {path} belongs to {recorded.get('path')} "
                         f"({recorded.get('size')} bytes), but {exc.why}: resuming would skip "
                         "the wrong rows; give that file, another --journal, or --force to "
                         "resume anyway") from None
    except JournalError as exc:
        raise UsageError(str(exc)) from None
    if journal.warning:
        print(f"warning: {journal.warning.replace('(forced)', '(--force)')}", file=sys.stderr)
    return journal


# -- the import ---------------------------------------------------------------------------------


#: How many failures the summary prints (the rest: "N more errors in the journal").
SHOWN_ERRORS = 5


class Counters:
    """This run's counts (the journal has the whole job's)."""

    def __init__(self) -> None:
        self.read = 0
        self.skipped = 0
        self.skipped_unknown = 0
        self.succeeded = 0
        self.failed = 0
        self.unknown = 0
        self.first_failures: list[str] = []

    @property
    def done(self) -> int:
        """Rows with an outcome in this run."""
        return self.succeeded + self.failed + self.unknown

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
        if len(self.first_failures) < SHOWN_ERRORS:
            self.first_failures.append(text if len(text) < 300 else text[:297] + "...")


class RateMeter:
    """The rate of rows written, for the progress bar and its ETA.

    Counted from outcomes (never from rows read ahead) over the last ``span`` seconds. In
    the first rate-limit ``interval`` of a run the measure is capped at what the budget
    (``per`` requests per ``interval``) sustains at the rows per request seen so far:
    HubSpot's window lets a burst of requests through at once and then none until it rolls
    over, so the first second of a run would otherwise promise ten times the pace the window
    allows.
    """

    def __init__(self, per: int, interval: float, *, span: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per = per
        self.interval = interval
        self.span = max(span, interval)
        self._clock = clock
        self._started = clock()
        #: (time, rows done, requests made), the oldest at or before ``now - span``.
        self._samples: deque[tuple[float, int, int]] = deque([(self._started, 0, 0)])

    def update(self, done: int, requests: int) -> None:
        """``done`` rows have an outcome in this run so far, in ``requests`` requests."""
        now = self._clock()
        self._samples.append((now, done, requests))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.span:
            self._samples.popleft()

    def rate(self) -> float | None:
        """Rows per second lately; None before the first row."""
        now = self._clock()
        first_at, first, first_requests = self._samples[0]
        _, last, last_requests = self._samples[-1]
        if last == 0:
            return None
        seconds = now - first_at
        if now - self._started < self.interval:  # the first window: maybe only a burst
            share = min(1.0, (last_requests - first_requests) / self.per)
            seconds = max(seconds, self.interval * share)
        return (last - first) / seconds if seconds > 0 else None

    def eta(self, remaining: int) -> float | None:
        """Seconds until ``remaining`` more rows are done at the current rate."""
        if remaining <= 0:
            return 0.0
        rate = self.rate()
        return None if not rate else remaining / rate


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(seconds + 0.5)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ImportProgress:
    """The progress line: the whole job's rows done out of its total, the percentage, the
    rate of rows written in this run and the ETA, this run's counts and requests."""

    def __init__(self, console: Any, total: int | None, done_before: int, meter: RateMeter
                 ) -> None:
        self.total = total
        self.done_before = done_before if total is None else min(done_before, total)
        self.meter = meter
        self._progress = _rich_progress(console)
        self._task: Any = None

    def __enter__(self) -> ImportProgress:
        self._progress.__enter__()
        self._task = self._progress.add_task(self.describe(Counters(), 0, 0), total=self.total,
                                             completed=self.done_before)
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def completed(self, counters: Counters) -> int:
        """Rows of the job with an outcome: before this run, and in it."""
        done = self.done_before + counters.done
        return done if self.total is None else min(done, self.total)

    def describe(self, counters: Counters, requests: int, rate_limited: int) -> str:
        """The text beside the bar."""
        done = self.completed(counters)
        rate = self.meter.rate()
        parts = []
        if self.total:
            parts.append(f"{done:,}/{self.total:,} rows {100 * done / self.total:.0f}%")
        else:
            parts.append(f"{done:,} rows")
        parts.append(f"ok {counters.succeeded:,}  failed {counters.failed:,}")
        if counters.unknown:
            parts.append(f"unknown {counters.unknown:,}")
        parts.append(f"requests {requests:,}  429s {rate_limited:,}")
        parts.append("-- rows/s" if rate is None else f"{rate:,.0f} rows/s written")
        if self.total:
            parts.append(f"ETA {_duration(self.meter.eta(self.total - done))}")
        return "  ".join(parts)

    def update(self, counters: Counters, requests: int, rate_limited: int) -> None:
        """A row has its outcome."""
        self.meter.update(counters.done, requests)
        self._progress.update(self._task, completed=self.completed(counters),
                              description=self.describe(counters, requests, rate_limited))


def _rich_progress(console: Any) -> Any:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(BarColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=console, disable=not console.is_terminal, transient=False)


class Job:
    """What the checks up front settled: the file, its format and encoding, the type, the
    number of rows and the journal (read and checked)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.path = Path(args.file)
        self.fmt: str = args.format or ("csv" if self.path.suffix.lower() == ".csv"
                                        else "jsonl")
        self.encoding: str = args.encoding or ("utf-8-sig" if self.fmt == "csv" else "utf-8")
        self.object_type = ""
        #: ``(k, n)``: this process sends the k-th of every n rows (``--shard K/N``).
        self.shard: tuple[int, int] = args.shard or (1, 1)
        k, n = self.shard
        default = (f"{self.path}.journal.jsonl" if n == 1
                   else f"{self.path}.shard-{k}-of-{n}.journal.jsonl")
        self.journal_path = Path(args.journal) if args.journal else Path(default)
        self.journal: RowJournal | None = None
        #: The rows this process is to import (its shard's), when the file could be counted.
        self.total: int | None = None
        self.failed_out: Path | None = Path(args.failed_out) if args.failed_out else None


def _check_failed_out(job: Job) -> None:
    out = job.failed_out
    if out is None:
        return
    resolved = out.resolve()
    if resolved in (job.path.resolve(), job.journal_path.resolve()):
        raise UsageError(f"--failed-out {out} would overwrite the "
                         f"{'input file' if resolved == job.path.resolve() else 'journal'}; "
                         "name another file")
    if not out.parent.is_dir():
        raise UsageError(f"--failed-out {out}: no such directory {out.parent}")


def prepare(args: argparse.Namespace) -> Job:
    """Every check that can be made before anything is sent (UsageError: exit 2)."""
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    job = Job(args)
    job.object_type = object_type_name(args.object)
    check_encoding(job.encoding)
    check_input(path, job.fmt, job.encoding)
    _check_failed_out(job)
    if args.dry_run:
        return job
    journal = job.journal_path
    if args.sandbox and not args.resume and journal.exists():
        journal.unlink()  # each sandbox starts from an empty emulator: nothing to resume
    if journal.exists() and not args.resume:
        raise UsageError(f"journal {journal} exists: add --resume to continue that import, "
                         "or remove the file to start over")
    identity = input_identity(path)
    if job.shard != (1, 1):
        identity["shard"] = list(job.shard)
    header = {"file": str(path), "object": job.object_type, "resume": bool(args.resume),
              "id_property": args.id_property, "encoding": job.encoding}
    job.journal = open_journal(journal, identity, header, args.force)
    rows = count_rows(path, job.fmt, job.encoding)
    job.total = None if rows is None else shard_size(rows, job.shard)
    return job


async def run_import(args: argparse.Namespace, console: Any, job: Job | None = None) -> int:
    """The import job. Returns the exit code."""
    job = job or prepare(args)
    object_type = job.object_type
    counters = Counters()

    if args.dry_run:
        invalid: dict[int, str] = {}
        for row in read_rows(job.path, job.fmt, job.encoding):
            counters.read += 1
            if check_row(row, object_type, args.id_property).error is not None:
                assert row.error is not None
                counters.failure(row.line, row.error)
                invalid[row.line] = describe_failure(row.error)
            else:
                counters.succeeded += 1
        console.print(f"dry run: {counters.succeeded} rows valid, {counters.failed} invalid; "
                      "nothing was sent")
        for text in counters.first_failures:
            console.print(f"  {text}", markup=False, highlight=False)
        if counters.failed > len(counters.first_failures):
            console.print(f"  ... and {counters.failed - len(counters.first_failures)} more "
                          "invalid rows", markup=False, highlight=False)
        if job.failed_out is not None:
            _write_failed_out(console, job, invalid.get)
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


def _write_failed_out(console: Any, job: Job, reason: Callable[[int], str | None]) -> None:
    assert job.failed_out is not None
    try:
        written = write_failed_rows(job.path, job.fmt, job.encoding, job.failed_out, reason)
    except OSError as exc:
        print(f"error: --failed-out {job.failed_out}: {exc.strerror or exc}", file=sys.stderr)
        return
    if written:
        where = "column" if job.fmt == "csv" else "field"
        console.print(f"failed rows: {written} written to {job.failed_out} with their reasons "
                      f"(the {FAILED_OUT_FIELD!r} {where}); fix them and import that file",
                      markup=False, highlight=False)
    else:
        console.print(f"failed rows: none ({job.failed_out} is empty)", markup=False,
                      highlight=False)


def _resume_notes(args: argparse.Namespace, console: Any, journal: Journal) -> None:
    before = journal.previous
    if before.in_flight:
        how = ("exactly once (upsert by --id-property)" if args.id_property
               else "at least once: check for duplicates")
        console.print(f"resume: {before.in_flight} rows were in flight when the last run "
                      f"stopped; their fate is unknown, resending them {how}")
    if before.unknown:
        what = (f"resume: {before.unknown} rows have an unknown outcome (HubSpot "
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
    if before.rejected:
        console.print(f"resume: {before.rejected} rows were refused with the token last "
                      "time (nothing was written); sending them again")
    if before.done:
        console.print(f"resume: {before.done} rows already have an outcome; skipping them")


async def _send_rows(args: argparse.Namespace, console: Any, job: Job, counters: Counters,
                     token: str, base_url: str | None) -> int:
    path, journal, object_type = job.path, job.journal, job.object_type
    assert journal is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    lines: dict[int, int] = {}  # bulk index -> file line
    resend_unknown = bool(args.id_property or args.resend_unknown)
    journal.begin()  # the journal exists from here: a second run without --resume is refused
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
            if not journal.should_send(row.line, resend_unknown=resend_unknown):
                if journal.status(row.line) is JournalStatus.UNKNOWN:
                    counters.skipped_unknown += 1
                else:
                    counters.skipped += 1
                continue
            counters.read += 1
            if check_row(row, object_type, args.id_property).error is not None:
                assert row.error is not None
                counters.failure(row.line, row.error)
                journal.record_at(row.line, Outcome(row.line, None, error=row.error))
                tick()
                continue
            lines[index] = row.line
            index += 1
            yield NewRecord(row.properties, row.associations)  # type: ignore[arg-type]

    def on_sent(index: int) -> None:
        journal.mark_sent(lines[index])

    def failed(line: int, outcome: Outcome[Any]) -> None:
        error = outcome.error
        assert error is not None
        refused = halts_run(error)
        if refused and not rejected:
            rejected.append(error)
            stop.set()  # as Ctrl-C: read no more, withdraw the unsent, finish the in-flight
        counters.failure(line, error, note=not refused)
        journal.record_at(line, outcome)

    def succeeded(line: int, outcome: Outcome[Any]) -> None:
        counters.succeeded += 1
        journal.record_at(line, outcome)

    associating: set[asyncio.Task[None]] = set()

    async def associate(line: int, outcome: Outcome[Any]) -> None:
        # Batch upsert takes no associations: each is a call of its own, coalesced by the
        # batcher into v4 association batches (idempotent, so a resumed row may repeat them).
        record, associations = outcome.record, outcome.input.associations
        assert record is not None
        results = await asyncio.gather(
            *(resource.associate(record.id, str(a.to_type), a.to_id, type_id=a.type_id,
                                 category=a.category, label=a.label)
              for a in associations),  # check_row: rows with --id-property name to_type
            return_exceptions=True)
        error = next((o for o in results if isinstance(o, BaseException)), None)
        if isinstance(error, HubEngageError):  # written, not (wholly) associated
            failed(line, attrs.evolve(outcome, error=error))
        elif error is not None:
            raise error
        else:
            succeeded(line, outcome)
        tick()

    def tick() -> None:
        progress.update(counters, hs.stats.total_requests, hs.stats.total_rate_limited)

    resumed = journal.previous
    done_before = resumed.done + (0 if resend_unknown else resumed.unknown)
    per, interval = args.rate
    progress = ImportProgress(console, job.total, done_before, RateMeter(per, interval))
    started = time.monotonic()
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
                async for outcome in outcomes:
                    line = lines.pop(outcome.index)
                    if outcome.withdrawn:
                        continue  # never sent (a stop, a refused token): resume sends it
                    if outcome.ok and outcome.record is not None:
                        if args.id_property and outcome.input.associations:
                            # Concurrently, so that rows' associations share v4 batches.
                            task_ = asyncio.get_running_loop().create_task(
                                associate(line, outcome))
                            associating.add(task_)
                            task_.add_done_callback(associating.discard)
                            continue
                        succeeded(line, outcome)
                    elif isinstance(outcome.error, OutcomeUnknownError):
                        counters.unknown_outcome(line, outcome.error)
                        journal.record_at(line, outcome)
                    elif outcome.error is not None:
                        failed(line, outcome)
                    else:
                        failed(line, attrs.evolve(
                            outcome, error=HubEngageError("no record returned")))
                    tick()
                while associating:
                    await asyncio.wait(list(associating))
            stats = hs.stats
    finally:
        journal.close()
    interrupted = stop.is_set() and not rejected and not unreadable
    _summary(console, counters, stats, time.monotonic() - started, interrupted, job)
    if job.failed_out is not None:
        _write_failed_out(console, job, _failed_reason(journal))
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


def _failed_reason(journal: Journal) -> Callable[[int], str | None]:
    def reason(line: int) -> str | None:
        return journal.reason(line) if journal.status(line) is JournalStatus.FAILED else None
    return reason


def _summary(console: Any, counters: Counters, stats: Any, elapsed: float, interrupted: bool,
             job: Job) -> None:
    """The whole job's counts (the journal's, over every run) and this run's."""
    from rich.table import Table

    journal = job.journal
    assert journal is not None
    job_counts = journal.counts()
    resumed = journal.previous != JournalCounts()

    def this_run(total: int, session: int) -> str:
        return f"{total:,} ({session:,} in this run)" if resumed else f"{total:,}"

    table = Table(title="hubengage import", show_header=False)
    if job.total is not None:
        table.add_row("rows in the file" if job.shard == (1, 1)
                      else f"rows of shard {job.shard[0]}/{job.shard[1]}", f"{job.total:,}")
    table.add_row("rows read (this run)" if resumed else "rows read", f"{counters.read:,}")
    if counters.skipped:
        table.add_row("skipped (done before)", f"{counters.skipped:,}")
    if counters.skipped_unknown:
        table.add_row("skipped (unknown outcome before)",
                      f"{counters.skipped_unknown:,} (check them; --resend-unknown resends "
                      "them)")
    table.add_row("succeeded", this_run(job_counts.succeeded, counters.succeeded))
    table.add_row("failed", this_run(job_counts.failed + job_counts.rejected, counters.failed))
    if job_counts.unknown:
        table.add_row("unknown outcome", f"{this_run(job_counts.unknown, counters.unknown)} "
                      '(journal: "status": "unknown"; the records may or may not exist: check '
                      "before resending)")
    if job_counts.in_flight:
        table.add_row("in flight (fate unknown)", f"{job_counts.in_flight:,} (resent by "
                      "--resume)")
    suffix = " (this run)" if resumed else ""
    table.add_row(f"requests{suffix}", f"{stats.total_requests:,}")
    table.add_row(f"429s{suffix}", f"{stats.total_rate_limited:,}")
    table.add_row(f"retries{suffix}", f"{stats.retries:,}")
    if stats.possible_duplicates:
        table.add_row("possible duplicates", f"{stats.possible_duplicates} (journal: "
                      '"possible_duplicate": true; see the README on duplicates)')
    table.add_row(f"seconds{suffix}", f"{elapsed:.1f}")
    table.add_row("journal", str(journal.path))
    console.print(table)
    for text in counters.first_failures:
        console.print(f"error: {text}", markup=False, highlight=False)
    more = job_counts.failed + job_counts.unknown - len(counters.first_failures)
    if more > 0:
        hint = ("" if job.failed_out is not None
                else "; --failed-out FILE writes every failed row with its reason")
        console.print(f"... and {more:,} more errors in the journal ({journal.path}){hint}",
                      markup=False, highlight=False)
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
    from . import __version__
    from .emulator._cli import add_emulator_arguments, rate_argument

    parser = argparse.ArgumentParser(
        prog="hubengage",
        description="Import records into HubSpot from JSON Lines or CSV files, resumably, "
                    "or run the built-in HubSpot emulator.")
    parser.add_argument("--version", action="version", version=f"hubengage {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    imp = sub.add_parser(
        "import", help="create (or upsert) records from a JSON Lines or CSV file",
        description="Create (or upsert) a record per row of a JSON Lines or CSV file, with a "
                    "journal (FILE.journal.jsonl) that makes the import resumable: after "
                    "Ctrl-C or a crash, run the same command with --resume.")
    imp.add_argument("file", help="input file: JSON Lines or CSV (with a header row)")
    imp.add_argument("--object", required=True,
                     help="object type: emails, notes, 0-49, or a custom 2-123 / p123_cars")
    imp.add_argument("--format", choices=("jsonl", "csv"), help="default: from the extension")
    imp.add_argument("--encoding", metavar="NAME",
                     help="the file's text encoding (default utf-8-sig for CSV, which also "
                          "reads plain UTF-8; utf-8 for JSONL), e.g. cp1252, latin-1, utf-16")
    imp.add_argument("--sandbox", action="store_true",
                     help="import into the built-in emulator (nothing leaves the machine)")
    imp.add_argument("--journal", metavar="PATH", help="journal path (default FILE.journal.jsonl)")
    imp.add_argument("--resume", action="store_true",
                     help="continue an interrupted import: send only rows without an outcome")
    imp.add_argument("--force", action="store_true",
                     help="with --resume: use the journal even if it names other input")
    imp.add_argument("--resend-unknown", action="store_true",
                     help="with --resume: resend rows whose outcome is unknown (they may "
                          "exist already; automatic with --id-property)")
    imp.add_argument("--dry-run", action="store_true", help="validate every row; send nothing")
    imp.add_argument("--failed-out", metavar="FILE",
                     help="write the rows that failed (in this or an earlier run of the "
                          "journal) to FILE in the input's format, each with its reason in "
                          f"an {FAILED_OUT_FIELD!r} field (JSON Lines) or column (CSV), which "
                          "the import ignores: fix the rows and import FILE")
    imp.add_argument("--id-property", metavar="NAME",
                     help="upsert by this unique property (exactly-once on resume)")
    imp.add_argument("--token-env", default=TOKEN_ENV_VAR, metavar="NAME",
                     help=f"environment variable holding the token (default {TOKEN_ENV_VAR})")
    imp.add_argument("--base-url", metavar="URL",
                     help="API base URL (default https://api.hubapi.com)")
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
    emu = sub.add_parser("emulator", help="run the built-in HubSpot emulator",
                         description="Run the built-in HubSpot emulator (a local HubSpot for "
                                     "tests and trials).")
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
