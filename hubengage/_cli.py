"""``hubengage``: the command line, a thin shell over the public API.

``hubengage import FILE --object TYPE`` streams a JSON Lines or CSV file through
``create_many`` (or ``upsert_many`` with ``--id-property``), journals every row's fate, and
can resume after Ctrl-C or a hard kill. ``hubengage emulator`` runs the built-in emulator.

The journal (JSON Lines, ``FILE.journal.jsonl`` by default) holds one header line, a
``{"line": N, "event": "sent"}`` line written *before* the request carrying row N leaves,
and one outcome line per row (``status`` ``ok`` with the record id, or ``failed`` with the
error category, message and correlation id). On ``--resume`` rows with an outcome are
skipped; rows marked sent without an outcome were in flight when the process died: their
fate is unknown, and they are resent (at least once, or exactly once with ``--id-property``,
because an upsert on a unique key is idempotent).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ._bulk import NewRecord
from ._client import TOKEN_ENV_VAR, HubSpot
from ._errors import APIError, HubEngageError, InvalidInputError
from ._limiter import RateLimits
from ._objecttypes import resolve_object_type
from .models import Association, parse_association, to_wire_properties

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_CSV_ASSOCIATIONS = {
    "associate_contact": "contacts",
    "associate_company": "companies",
    "associate_deal": "deals",
    "associate_ticket": "tickets",
}
#: Records the sandbox seeds so that the examples' associations resolve.
SANDBOX_SEED = {"contacts": range(601, 631), "companies": range(901, 911),
                "deals": range(1201, 1206), "tickets": range(1501, 1506)}


class UsageError(Exception):
    """A problem with the command line or the environment: one line, exit 2."""


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


def _csv_rows(stream: TextIO) -> Iterator[Row]:
    reader = csv.DictReader(stream)
    for record in reader:
        line_no = reader.line_num
        props: dict[str, Any] = {}
        assocs: list[Association] = []
        try:
            for column, value in record.items():
                if column is None:
                    raise InvalidInputError("more values than header columns", field="line")
                value = (value or "").strip()
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


def read_rows(path: Path, fmt: str) -> Iterator[Row]:
    """Every row of the file, lazily, each either sendable or carrying its error."""
    with path.open(encoding="utf-8", newline="" if fmt == "csv" else None) as stream:
        yield from (_csv_rows(stream) if fmt == "csv" else _jsonl_rows(stream))


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


class Journal:
    """Append-only JSON Lines of what happened to each row; flushed as outcomes land."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[int] = set()
        self.sent_unknown: set[int] = set()
        self._file: TextIO | None = None

    def load(self) -> None:
        """Read a previous run's journal (for ``--resume``)."""
        sent: set[int] = set()
        with self.path.open(encoding="utf-8") as stream:
            for text in stream:
                try:
                    entry = json.loads(text)
                except json.JSONDecodeError:
                    continue  # a line cut short by a hard kill
                line = entry.get("line")
                if not isinstance(line, int):
                    continue
                if entry.get("event") == "sent":
                    sent.add(line)
                elif entry.get("status") in ("ok", "failed"):
                    self.done.add(line)
        self.sent_unknown = sent - self.done

    def open(self, header: dict[str, Any]) -> None:
        """Open for appending and write a header line for this run."""
        self._file = self.path.open("a", encoding="utf-8")
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


def failure_entry(line: int, error: BaseException) -> dict[str, Any]:
    """The journal entry for a failed row."""
    entry: dict[str, Any] = {"line": line, "status": "failed", "error": type(error).__name__}
    if isinstance(error, APIError):
        entry["category"] = error.category
        entry["message"] = error.message
        entry["correlation_id"] = error.correlation_id
    else:
        entry["category"] = "INVALID_INPUT" if isinstance(error, InvalidInputError) else None
        entry["message"] = str(error)
    return entry


# -- the import ---------------------------------------------------------------------------------


class Counters:
    """What the progress bar and the summary show."""

    def __init__(self) -> None:
        self.read = 0
        self.skipped = 0
        self.succeeded = 0
        self.failed = 0
        self.first_failures: list[str] = []

    def failure(self, line: int, error: BaseException) -> None:
        """Count a failed row, keeping the first few messages for the summary."""
        self.failed += 1
        if len(self.first_failures) < 5:
            text = f"row {line}: {error}"
            self.first_failures.append(text if len(text) < 300 else text[:297] + "...")


async def run_import(args: argparse.Namespace, console: Any) -> int:
    """The import job. Returns the exit code."""
    path = Path(args.file)
    fmt = args.format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    known = resolve_object_type(args.object)
    object_type = known.name if known else args.object
    journal = Journal(Path(args.journal) if args.journal else Path(f"{path}.journal.jsonl"))
    counters = Counters()

    if args.dry_run:
        for row in read_rows(path, fmt):
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

    if args.resume_journal_exists:
        journal.load()

    emulator = None
    token = None
    base_url = args.base_url
    if args.sandbox:
        from .emulator import Emulator, EmulatorConfig

        unique = {object_type: (args.id_property,)} if args.id_property else {}
        emulator = Emulator(EmulatorConfig(seed=1, unique_properties=unique,
                                           custom_properties=unique))
        await emulator.start()
        for type_name, ids in SANDBOX_SEED.items():
            for rid in ids:
                emulator.put_record(type_name, {"hs_object_source": "sandbox"}, id=rid)
        base_url, token = emulator.url, "sandbox"
        console.print(f"sandbox: importing into the built-in HubSpot emulator at {base_url}; "
                      "nothing leaves this machine.")
    else:
        token = os.environ.get(args.token_env)
        if not token:
            raise UsageError(f"no access token: set {args.token_env} (or pick the variable with "
                             "--token-env), or add --sandbox to use the built-in emulator")
    try:
        code = await _send_rows(args, console, path, fmt, object_type, journal, counters,
                                token, base_url)
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


async def _send_rows(args: argparse.Namespace, console: Any, path: Path, fmt: str,
                     object_type: str, journal: Journal, counters: Counters, token: str,
                     base_url: str | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    lines: dict[int, int] = {}  # bulk index -> file line
    unknown = len(journal.sent_unknown)
    journal.open({"journal": 1, "file": str(path), "object": object_type,
                  "started": datetime.now(UTC).isoformat(), "resume": bool(args.resume),
                  "id_property": args.id_property})
    if unknown:
        how = ("exactly once (upsert by --id-property)" if args.id_property
               else "at least once: check for duplicates")
        console.print(f"resume: {unknown} rows were in flight when the last run stopped; "
                      f"their fate is unknown, resending them {how}")
    elif journal.done:
        console.print(f"resume: {len(journal.done)} rows already have an outcome; skipping them")

    def inputs() -> Iterator[NewRecord]:
        index = 0
        for row in read_rows(path, fmt):
            if stop.is_set():
                return
            if row.line in journal.done:
                counters.skipped += 1
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

    sent: set[int] = set()

    def on_sent(index: int) -> None:
        sent.add(index)
        journal.write({"line": lines[index], "event": "sent"})
        journal.flush()

    progress = _progress(console)
    started = time.monotonic()
    per, interval = args.rate
    limits = RateLimits(requests_per_interval=per, interval_seconds=interval, daily=None)
    async with HubSpot(token, base_url=base_url, rate_limits=limits) as hs:
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
                if outcome.index not in sent and not outcome.ok and stop.is_set():
                    continue  # withdrawn unsent on interrupt: no outcome, resume sends it
                sent.discard(outcome.index)
                if outcome.ok and outcome.record is not None:
                    record = outcome.record
                    if args.id_property and outcome.input.associations:
                        await _associate(resource, record.id, outcome.input.associations)
                    counters.succeeded += 1
                    entry = {"line": line, "status": "ok", "id": record.id}
                    if record.possible_duplicate:
                        entry["possible_duplicate"] = True
                    journal.write(entry)
                else:
                    error = outcome.error or HubEngageError("no record returned")
                    counters.failure(line, error)
                    journal.write(failure_entry(line, error))
                journal.flush()
                progress.update(task, completed=counters.succeeded + counters.failed,
                                description=_describe(counters, hs, started))
        stats = hs.stats
    journal.close()
    _summary(console, counters, stats, time.monotonic() - started, stop.is_set(), journal)
    if stop.is_set():
        return EXIT_INTERRUPTED
    return EXIT_OK if counters.failed == 0 else EXIT_FAILED


async def _associate(resource: Any, record_id: str,
                     associations: Sequence[Association]) -> None:
    # Batch upsert takes no associations; a PUT per association is idempotent.
    for assoc in associations:
        await resource.associate(record_id, assoc.to_type, assoc.to_id,
                                 type_id=assoc.resolved_type_id(resource.object_type))


def _describe(counters: Counters, hs: HubSpot, started: float) -> str:
    elapsed = max(time.monotonic() - started, 1e-9)
    done = counters.succeeded + counters.failed
    return (f"read {counters.read}  ok {counters.succeeded}  failed {counters.failed}  "
            f"requests {hs.stats.total_requests}  429s {hs.stats.total_rate_limited}  "
            f"{done / elapsed:,.0f} rows/s")


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
    table.add_row("succeeded", f"{counters.succeeded}")
    table.add_row("failed", f"{counters.failed}")
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


def _check_paths(args: argparse.Namespace) -> None:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    journal = Path(args.journal) if args.journal else Path(f"{path}.journal.jsonl")
    args.resume_journal_exists = False
    if args.dry_run:
        return
    if args.sandbox and not args.resume and journal.exists():
        journal.unlink()  # each sandbox starts from an empty emulator: nothing to resume
    if journal.exists() and not args.resume:
        raise UsageError(f"journal {journal} exists: add --resume to continue that import, "
                         "or remove the file to start over")
    args.resume_journal_exists = args.resume and journal.exists()


# -- the parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``hubengage`` parser."""
    from .emulator._cli import _rate, add_emulator_arguments

    parser = argparse.ArgumentParser(prog="hubengage", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="create (or upsert) records from a JSONL or CSV file")
    imp.add_argument("file", help="input file: JSON Lines or CSV")
    imp.add_argument("--object", required=True, help="object type: emails, notes, 0-49, ...")
    imp.add_argument("--format", choices=("jsonl", "csv"), help="default: from the extension")
    imp.add_argument("--sandbox", action="store_true",
                     help="import into the built-in emulator (nothing leaves the machine)")
    imp.add_argument("--journal", help="journal path (default FILE.journal.jsonl)")
    imp.add_argument("--resume", action="store_true",
                     help="continue an interrupted import: send only rows without an outcome")
    imp.add_argument("--dry-run", action="store_true", help="validate every row; send nothing")
    imp.add_argument("--id-property", metavar="NAME",
                     help="upsert by this unique property (exactly-once on resume)")
    imp.add_argument("--token-env", default=TOKEN_ENV_VAR, metavar="NAME",
                     help=f"environment variable holding the token (default {TOKEN_ENV_VAR})")
    imp.add_argument("--base-url", help="API base URL (default https://api.hubapi.com)")
    imp.add_argument("--rate", type=_rate, default=(100, 10.0), metavar="N/INTERVAL",
                     help="the app's burst limit, e.g. 190/10s for Professional "
                          "(default 100/10s; tightened further by HubSpot's headers)")
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
    try:
        _check_paths(args)
        return asyncio.run(run_import(args, console))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HubEngageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
