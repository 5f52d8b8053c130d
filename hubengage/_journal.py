"""The journal of a bulk run: what became of each input, so that a run resumes exactly.

A :class:`Journal` is an append-only JSON Lines file kept beside a bulk run (``create_many``
and the other ``*_many``; ``hubengage import`` keeps the same journal)::

    with Journal.open("notes.journal.jsonl", source="notes.csv") as journal:
        async for outcome in hs.notes.create_many(journal.pending(rows()),
                                                  on_sent=journal.sent):
            journal.record(outcome)

Run it again after Ctrl-C or a stop and ``pending`` yields exactly the inputs without an
outcome (the withdrawn ones included): each input is written once, none is lost. After a
hard kill, the inputs whose request was in the air have an unknown fate: ``pending`` sends
them again by default (at least once; exactly once with ``upsert_many``), or holds them
back to be checked with ``resend_in_flight=False``. Its lines:

- a header per session, ``{"journal": 1, "started": ..., "input": {...}}``; the *first*
  header's ``input`` is the journal's identity (the input file's absolute path, size and the
  SHA-256 of its first 65,536 bytes, and/or the caller's ``run_id``): the journal refuses to
  resume a run over other input;
- ``{"index": N, "event": "sent"}``, written and flushed *before* the request carrying input
  N leaves (``on_sent``), so that a crash leaves a trace of every input that may have been
  written;
- an outcome per input: ``"status": "ok"`` with the record ``id``; ``"failed"`` with the
  ``error`` class, ``category``, ``message`` and ``correlation_id``; ``"unknown"`` (the same
  fields and ``"possible_duplicate": true``) when HubSpot answered but not about this input.
  A withdrawn input (read, never sent) gets no line: it is still to do.

An input's last line decides its status (:meth:`Journal.status`). On resume, ``ok`` and
``failed`` inputs are done; inputs marked ``sent`` without an outcome were in flight when the
process died, and their fate is unknown (``in_flight``): like ``unknown`` ones, the record
may or may not exist. Inputs that failed because HubSpot refused the token (a whole-request
401/403: nothing was written) are ``rejected`` and sent again. A line that is not a JSON
object is an error, except a last line without its newline: a write cut short by a hard
kill, ignored and cut off before the next write.

The CLI's journals key rows by their line in the file (``"line": N``) instead of an index.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import re
import threading
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, TextIO, TypeVar, overload

import attrs

from ._bulk import Outcome
from ._errors import (
    APIError,
    AuthenticationError,
    HubEngageError,
    InvalidInputError,
    OutcomeUnknownError,
    ScopeError,
)

__all__ = [
    "HEAD_BYTES",
    "Journal",
    "JournalCounts",
    "JournalError",
    "JournalMismatchError",
    "JournalStatus",
    "describe_failure",
    "input_identity",
]

T = TypeVar("T")

#: How much of an input file the journal's identity hashes.
HEAD_BYTES = 65_536
#: The identity fields that describe the input file (the others must match exactly).
_FILE_KEYS = frozenset({"path", "size", "head_sha256"})
#: Errors meaning HubSpot refused the token itself (unless reported for one item).
_TOKEN_ERRORS = frozenset({AuthenticationError.__name__, ScopeError.__name__})
_CORRELATION_ID = re.compile(r"correlation id ([^\s)]+)")


class JournalStatus(enum.Enum):
    """What a journal says of one input (its last line decides)."""

    #: Written: the record's id is in the journal.
    OK = "ok"
    #: Failed with its own error (the reason is in the journal): done, not resent.
    FAILED = "failed"
    #: HubSpot answered, but the answer could not be tied to the input: the record may or
    #: may not exist.
    UNKNOWN = "unknown"
    #: Marked sent, no outcome: in flight when the process died; the record may or may not
    #: exist.
    IN_FLIGHT = "in_flight"
    #: HubSpot refused the token for the whole request: nothing was written; resent.
    REJECTED = "rejected"


class JournalError(HubEngageError):
    """A journal that cannot be used: a corrupted line, or one written for other input
    (:class:`JournalMismatchError`)."""


class JournalMismatchError(JournalError):
    """The journal was written for other input than this run's: resuming would skip the
    wrong inputs. ``recorded`` is the identity the journal holds, ``why`` says what differs.
    """

    def __init__(self, message: str, *, journal: Path, recorded: Mapping[str, Any],
                 why: str) -> None:
        self.journal = journal
        self.recorded = dict(recorded)
        self.why = why
        super().__init__(message)


@attrs.frozen
class JournalCounts:
    """How many inputs a journal holds in each status, over every session of the run."""

    succeeded: int = 0
    failed: int = 0
    unknown: int = 0
    in_flight: int = 0
    rejected: int = 0

    @property
    def done(self) -> int:
        """Inputs with a final outcome (succeeded or failed): skipped on resume."""
        return self.succeeded + self.failed


def input_identity(path: str | os.PathLike[str], head_bytes: int = HEAD_BYTES) -> dict[str, Any]:
    """What a journal records of an input file: absolute path, size, SHA-256 of the head."""
    file = Path(path)
    with file.open("rb") as stream:
        head = stream.read(head_bytes)
        size = os.fstat(stream.fileno()).st_size
    return {"path": str(file.resolve()), "size": size,
            "head_sha256": hashlib.sha256(head).hexdigest()}


_CODES = {status: code for code, status in enumerate(JournalStatus)}
_STATUSES = list(JournalStatus)
#: The statuses an outcome line may carry.
_OUTCOMES = frozenset(s.value for s in (JournalStatus.OK, JournalStatus.FAILED,
                                        JournalStatus.UNKNOWN))


class Journal:
    """A resumable record of a bulk run in a JSON Lines file (see the module docstring).

    Open one with :meth:`open`. Pass :meth:`pending` of the inputs to a ``*_many`` call,
    :meth:`sent` as its ``on_sent``, and :meth:`record` every outcome it yields; close the
    journal (or use it as a context manager) at the end. The same file opened again resumes
    the run: ``pending`` yields only the inputs still to do.

    ``mark_sent`` and ``record_at`` write by an input's position directly, for callers that
    number their inputs themselves (the CLI numbers rows by their line in the file).
    """

    #: The key an entry names its input by.
    key: ClassVar[str] = "index"

    def __init__(self, path: str | os.PathLike[str], identity: Mapping[str, Any], *,
                 force: bool = False, header: Mapping[str, Any] | None = None) -> None:
        """Read the journal at ``path`` (if any) and check it belongs to ``identity``.

        Nothing is written until :meth:`begin` or the first entry: then a header line
        (``header``'s fields, the start time and ``identity``). Prefer :meth:`open`.
        """
        self.path = Path(path)
        self._identity = dict(identity)
        self._header = dict(header or {})
        #: A warning about the journal's identity (an old journal that recorded none, or a
        #: mismatch overridden with ``force``), or None.
        self.warning: str | None = None
        self._status: dict[int, int] = {}
        self._reasons: dict[int, str] = {}
        self._first_header: dict[str, Any] | None = None
        self._file: TextIO | None = None
        self._began = False  # this session's header is written
        #: Writes may come from two threads: ``sent`` from the client's event loop and
        #: ``record`` from the caller's, with the synchronous facade (``hubengage.sync``).
        self._lock = threading.Lock()
        self._cut_at: int | None = None  # where a last line cut short by a kill begins
        self._unterminated = False  # the last line is whole but lost its newline
        #: Run index -> (position, input), for inputs :meth:`pending` handed to a run.
        self._run: dict[int, tuple[int, Any]] = {}
        self._mapped = False
        if self.path.exists():
            self._load()
        elif not os.access(self.path.parent, os.W_OK):
            raise JournalError(f"journal {self.path}: cannot create it (the directory is "
                               "missing or not writable)")
        #: The counts the journal held when it was opened (the earlier sessions).
        self.previous: JournalCounts = self.counts()
        self._check_identity(force)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *,
             source: str | os.PathLike[str] | None = None, run_id: str | None = None,
             force: bool = False) -> Self:
        """Open (or start) the journal at ``path`` for a run over ``source`` or ``run_id``.

        ``source`` is the input file the run reads (its path, size and the hash of its head
        are recorded; the file may grow between sessions, but not shrink or change);
        ``run_id`` names input that is not a file (a query, an export's date). At least one
        is needed: a journal resumed over other input would skip the wrong inputs, so that
        raises :class:`JournalMismatchError` unless ``force``. A corrupted journal raises
        :class:`JournalError`. The file is created (or appended to) with this session's
        header line at once.
        """
        if source is None and run_id is None:
            raise InvalidInputError("give the input file (source=...) or a run id (run_id=...) "
                                    "that ties the journal to its input", field="source")
        identity: dict[str, Any] = input_identity(source) if source is not None else {}
        if run_id is not None:
            if not isinstance(run_id, str) or not run_id:
                raise InvalidInputError("must be a non-empty string", field="run_id")
            identity["run_id"] = run_id
        journal = cls(path, identity, force=force)
        journal.begin()
        return journal

    # -- reading -------------------------------------------------------------------------------

    def status(self, position: int) -> JournalStatus | None:
        """What the journal says of the input at ``position``; None if nothing yet."""
        code = self._status.get(position)
        return None if code is None else _STATUSES[code]

    def reason(self, position: int) -> str | None:
        """Why the input at ``position`` failed (or has an unknown outcome), as recorded."""
        return self._reasons.get(position)

    def counts(self) -> JournalCounts:
        """How many inputs are in each status now, over every session of the run."""
        tally = Counter(_STATUSES[code] for code in self._status.values())
        return JournalCounts(
            succeeded=tally[JournalStatus.OK], failed=tally[JournalStatus.FAILED],
            unknown=tally[JournalStatus.UNKNOWN], in_flight=tally[JournalStatus.IN_FLIGHT],
            rejected=tally[JournalStatus.REJECTED],
        )

    def should_send(self, position: int, *, resend_unknown: bool = False,
                    resend_in_flight: bool = True) -> bool:
        """Is the input at ``position`` still to do?

        Inputs never seen, withdrawn or rejected (nothing was written) are; ``ok`` and
        ``failed`` ones are not. ``in_flight`` ones (the process died with their request in
        the air) are resent by default: at least once, as a create may then exist twice
        (an upsert cannot). ``unknown`` ones are resent only with ``resend_unknown``: check
        them first.
        """
        status = self.status(position)
        if status is None or status is JournalStatus.REJECTED:
            return True
        if status is JournalStatus.IN_FLIGHT:
            return resend_in_flight
        if status is JournalStatus.UNKNOWN:
            return resend_unknown
        return False

    @overload
    def pending(self, items: Iterable[T], *, resend_unknown: bool = ...,
                resend_in_flight: bool = ...) -> Iterator[T]: ...

    @overload
    def pending(self, items: AsyncIterable[T], *, resend_unknown: bool = ...,
                resend_in_flight: bool = ...) -> AsyncIterator[T]: ...

    def pending(self, items: Iterable[T] | AsyncIterable[T], *, resend_unknown: bool = False,
                resend_in_flight: bool = True) -> Iterator[T] | AsyncIterator[T]:
        """The inputs still to do (:meth:`should_send`), read lazily from ``items``.

        Pass the result straight to one ``*_many`` call: the journal maps the run's indexes
        back to the inputs' positions in ``items`` (for :meth:`sent` and :meth:`record`),
        which holds only while the run reads exactly what ``pending`` yields, in order.
        ``items`` must yield the same inputs in the same order in every session.
        """
        self._run.clear()
        self._mapped = True
        policy = {"resend_unknown": resend_unknown, "resend_in_flight": resend_in_flight}
        if isinstance(items, Iterable):
            return self._pending(items, policy)
        return self._apending(items, policy)

    def _pending(self, items: Iterable[T], policy: dict[str, bool]) -> Iterator[T]:
        run_index = 0
        for position, item in enumerate(items):
            if self.should_send(position, **policy):
                self._run[run_index] = (position, item)
                run_index += 1
                yield item

    async def _apending(self, items: AsyncIterable[T],
                        policy: dict[str, bool]) -> AsyncIterator[T]:
        run_index = 0
        position = 0
        async for item in items:
            if self.should_send(position, **policy):
                self._run[run_index] = (position, item)
                run_index += 1
                yield item
            position += 1

    # -- writing -------------------------------------------------------------------------------

    def sent(self, index: int) -> None:
        """``on_sent`` of a run over :meth:`pending`: the input is about to be sent.

        Written and flushed before the request leaves, so that after a crash the journal
        knows which inputs may have been written.
        """
        if self._mapped:
            entry = self._run.get(index)
            if entry is None:
                raise JournalError(f"run index {index} is not one pending() yielded: pass "
                                   "journal.pending(items) straight to the *_many call")
            index = entry[0]
        self.mark_sent(index)

    def record(self, outcome: Outcome[Any]) -> None:
        """Write an outcome a run over :meth:`pending` yielded (withdrawn: nothing)."""
        position = outcome.index
        if self._mapped:
            entry = self._run.pop(outcome.index, None)
            if entry is None or entry[1] is not outcome.input:
                raise JournalError(f"the outcome of run index {outcome.index} is not for an "
                                   "input pending() yielded there: pass journal.pending(items) "
                                   "straight to the *_many call")
            position = entry[0]
        self.record_at(position, outcome)

    def mark_sent(self, position: int) -> None:
        """Mark the input at ``position`` as about to be sent (written and flushed)."""
        with self._lock:
            self._write({self.key: position, "event": "sent"})
            self._set(position, JournalStatus.IN_FLIGHT)
            self._flush()

    def record_at(self, position: int, outcome: Outcome[Any]) -> None:
        """Write ``outcome`` as the input at ``position``'s (withdrawn: nothing).

        An outcome with both a record and an error (written, then a follow-up failed) is
        journaled as failed, with the record's id.
        """
        if outcome.withdrawn:
            return
        entry: dict[str, Any] = {self.key: position}
        if outcome.error is None:
            entry["status"] = JournalStatus.OK.value
            if outcome.record is not None:
                entry["id"] = outcome.record.id
                if outcome.record.possible_duplicate:
                    entry["possible_duplicate"] = True
            status = JournalStatus.OK
        else:
            entry.update(_failure(outcome.error))
            if outcome.record is not None:
                entry["id"] = outcome.record.id
            status = _status_of(entry)
        with self._lock:
            self._write(entry)
            self._set(position, status, entry)
            self._flush()

    def begin(self) -> None:
        """Open the file for appending and write this session's header line (idempotent).

        :meth:`open` does it at once; a journal made with the constructor does it at its
        first entry, or when this is called.
        """
        with self._lock:
            if self._file is None:
                self._open_for_append()
                self._flush()

    def flush(self) -> None:
        """Hand buffered lines to the OS (they survive a killed process)."""
        with self._lock:
            self._flush()

    def close(self) -> None:
        """Flush, fsync and close (idempotent; a later write opens the file again)."""
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Journal {str(self.path)!r} {self.counts()}>"

    # -- internals -----------------------------------------------------------------------------

    def _flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def _set(self, position: int, status: JournalStatus,
             entry: Mapping[str, Any] | None = None) -> None:
        self._status[position] = _CODES[status]
        if status in (JournalStatus.FAILED, JournalStatus.UNKNOWN) and entry is not None:
            self._reasons[position] = _reason(entry)
        else:
            self._reasons.pop(position, None)

    def _write(self, entry: Mapping[str, Any]) -> None:
        if self._file is None:
            self._open_for_append()
        assert self._file is not None
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")

    def _open_for_append(self) -> None:
        if self._cut_at is not None:  # drop the torn line, or the next line would join it
            with self.path.open("r+b") as stream:
                stream.truncate(self._cut_at)
            self._cut_at = None
        self._file = self.path.open("a", encoding="utf-8")
        if self._unterminated:
            self._file.write("\n")
            self._unterminated = False
        if self._began:
            return  # reopened after close: this session has its header
        self._began = True
        header = {"journal": 1, **self._header,
                  "started": datetime.now(UTC).isoformat(), "input": self._identity}
        self._file.write(json.dumps(header, separators=(",", ":")) + "\n")
        if self._first_header is None:
            self._first_header = header

    def _load(self) -> None:
        """Read every line (JournalError for a corrupted one)."""
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
                    raise JournalError(f"journal {self.path} line {number} is corrupted "
                                       f"({what}); repair or delete that line, or delete the "
                                       "journal to start over") from None
                self._unterminated = not complete
                self._read_entry(entry)

    def _read_entry(self, entry: dict[str, Any]) -> None:
        if self._first_header is None and "journal" in entry:
            self._first_header = entry
            return
        position = entry.get(self.key, entry.get("index", entry.get("line")))
        if not isinstance(position, int) or isinstance(position, bool):
            return
        status = entry.get("status")
        if status is None:
            if entry.get("event") == "sent":
                self._set(position, JournalStatus.IN_FLIGHT)
        elif status in _OUTCOMES:
            self._set(position, _status_of(entry), entry)

    def _check_identity(self, force: bool) -> None:
        """Refuse (JournalMismatchError) to resume over input other than the journal's,
        unless ``force``; set :attr:`warning` when that cannot be checked."""
        if self._first_header is None and not self._status:
            return  # a new or empty journal: nothing to skip
        recorded = (self._first_header or {}).get("input")
        if recorded is None:
            self.warning = (f"journal {self.path} is from an earlier version that did not "
                            "record its input: the input could not be checked")
            return
        if not isinstance(recorded, dict):
            raise JournalError(f"journal {self.path}: the header's \"input\" record is "
                               "malformed; delete the journal to start over")
        why = self._mismatch(recorded)
        if why is None:
            return
        owner = _describe_input(recorded)
        if force:
            self.warning = (f"journal {self.path} belongs to {owner}, but {why}: resuming "
                            "anyway (forced)")
            return
        raise JournalMismatchError(
            f"journal {self.path} belongs to {owner}, but {why}: resuming would skip the wrong "
            "inputs; open it with the input it was written for, or force=True to resume anyway",
            journal=self.path, recorded=recorded, why=why)

    def _mismatch(self, recorded: Mapping[str, Any]) -> str | None:
        """What differs between the recorded identity and this run's, or None."""
        identity = self._identity
        for key in sorted((recorded.keys() | identity.keys()) - _FILE_KEYS):
            if recorded.get(key) != identity.get(key):
                return (f"it was written for {_describe_key(key, recorded.get(key))}, not "
                        f"{_describe_key(key, identity.get(key))}")
        if "size" not in recorded and "head_sha256" not in recorded:
            return None if "size" not in identity else "it was not written for an input file"
        size, head = recorded.get("size"), recorded.get("head_sha256")
        if not isinstance(size, int) or not isinstance(head, str):
            raise JournalError(f"journal {self.path}: the header's \"input\" record is "
                               "malformed; delete the journal to start over")
        if "size" not in identity:
            return "this run names no input file"
        path = identity.get("path")
        if identity["size"] < size:
            return f"{path} is smaller ({identity['size']} bytes, was {size})"
        checked = min(size, HEAD_BYTES)
        if path is None or input_identity(path, checked)["head_sha256"] != head:
            return f"the first {checked} bytes of {path} differ"
        return None


def _describe_input(recorded: Mapping[str, Any]) -> str:
    if "path" in recorded:
        return f"{recorded['path']} ({recorded.get('size')} bytes)"
    if "run_id" in recorded:
        return f"run {recorded['run_id']!r}"
    return "other input"


def _describe_key(key: str, value: Any) -> str:
    if key == "shard":
        return f"shard {value[0]}/{value[1]}" if value else "the whole file"
    if key == "run_id":
        return f"run {value!r}" if value is not None else "no run id"
    return f"{key} {value!r}"


def _failure(error: BaseException) -> dict[str, Any]:
    """The journal fields of a failed (or unknown) outcome."""
    unknown = isinstance(error, OutcomeUnknownError)
    status = JournalStatus.UNKNOWN if unknown else JournalStatus.FAILED
    entry: dict[str, Any] = {"status": status.value, "error": type(error).__name__}
    if isinstance(error, APIError):
        entry["category"] = error.category
        entry["message"] = error.message
        entry["correlation_id"] = error.correlation_id
        if error.per_item and isinstance(error, AuthenticationError | ScopeError):
            entry["per_item"] = True  # this item's own 401/403: not a refused token
    else:
        entry["category"] = "INVALID_INPUT" if isinstance(error, InvalidInputError) else None
        entry["message"] = str(error)
        correlation_id = getattr(error, "correlation_id", None)
        if correlation_id is None:
            found = _CORRELATION_ID.search(str(error))
            correlation_id = found.group(1) if found else None
        if correlation_id is not None or unknown:
            entry["correlation_id"] = correlation_id
    if unknown:
        entry["possible_duplicate"] = True
    return entry


def describe_failure(error: BaseException) -> str:
    """A failure in one line as the journal has it: ``CATEGORY: message`` (or the class)."""
    return _reason(_failure(error))


def _status_of(entry: Mapping[str, Any]) -> JournalStatus:
    status = JournalStatus(entry["status"])
    if (status is JournalStatus.FAILED and entry.get("error") in _TOKEN_ERRORS
            and not entry.get("per_item")):
        return JournalStatus.REJECTED
    return status


def _reason(entry: Mapping[str, Any]) -> str:
    """A failure as one line: ``CATEGORY: message`` (or the error class)."""
    label = entry.get("category") or entry.get("error") or "error"
    message = entry.get("message")
    return f"{label}: {message}" if message else str(label)

