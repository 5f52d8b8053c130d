"""The shapes of the bulk API: what goes into ``create_many`` & co., and what comes out.

``create_many(items)`` (and ``update_many``, ``upsert_many``, ``archive_many``,
``read_many``) take a sync or async iterable of inputs of any length and yield one
:class:`Outcome` per input. Each input becomes one ordinary batched call, so a bulk run
shares the batcher, the limiter and the retry policy with every other call on the client;
the bulk layer only bounds how many inputs are in the air at once (the window) and hands
outcomes back in completion or input order, and counts them (:class:`BulkProgress`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Mapping,
)
from functools import partial
from typing import Any, Generic, TypeVar

import attrs

from ._errors import (
    AuthenticationError,
    BudgetStoreError,
    ClientClosedError,
    DailyLimitError,
    DeadlineExceededError,
    HubEngageError,
    InvalidInputError,
    OutcomeUnknownError,
    ScopeError,
    WithdrawnError,
)
from .models import Association, CrmObject, PropertyModel

__all__ = [
    "BulkProgress",
    "NewRecord",
    "OnProgress",
    "OnSent",
    "Outcome",
    "RecordUpdate",
    "halts_run",
    "run_bulk",
]

InputT = TypeVar("InputT")

#: Called with an input's index right before the request carrying it is first sent
#: (synchronously, so a journal written there is on disk before the request leaves).
OnSent = Callable[[int], None]


@attrs.frozen
class BulkProgress:
    """Where a bulk run stands, handed to ``on_progress`` as each outcome is yielded.

    ``read`` inputs were taken from the iterable and ``sent`` of them left in a request
    (read ahead of the answers: up to ``window`` more than are done). The other counts are
    of outcomes yielded so far, including the one being yielded: ``succeeded``, ``failed``
    (their own error, including inputs that failed validation and were never sent),
    ``unknown`` (:class:`OutcomeUnknownError`: HubSpot answered, but not about this input)
    and ``withdrawn`` (read, never sent: the run was stopped or the token refused).
    """

    read: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    unknown: int = 0
    withdrawn: int = 0

    @property
    def done(self) -> int:
        """Outcomes yielded so far (every kind)."""
        return self.succeeded + self.failed + self.unknown + self.withdrawn


#: Called with the run's :class:`BulkProgress` right before each outcome is yielded.
OnProgress = Callable[[BulkProgress], None]


def _associations(value: Iterable[Association]) -> tuple[Association, ...]:
    return tuple(value)


@attrs.frozen
class NewRecord:
    """A record to create (or upsert) with its associations.

    ``properties`` is a typed model (``Email(...)``) or a mapping of property names to
    values; ``associations`` are :class:`Association` values written with it.
    """

    properties: PropertyModel | Mapping[str, object]
    associations: tuple[Association, ...] = attrs.field(default=(), converter=_associations)


@attrs.frozen
class RecordUpdate:
    """An update for ``update_many``: the record's id and the properties to set."""

    id: str | int
    properties: Mapping[str, Any] | Any


@attrs.frozen
class Outcome(Generic[InputT]):
    """What became of one input of a bulk call.

    ``index`` is the input's position (0-based) in the iterable, ``input`` the input itself.
    Exactly one of ``record`` and ``error`` is set, except for ``archive_many`` where a
    success has neither (``ok`` is True). ``withdrawn`` is True for an input that was read
    but never sent: the run was stopped (``error`` is a :class:`WithdrawnError`) or halted
    because HubSpot rejected the token (``error`` is that ``AuthenticationError`` or
    ``ScopeError``). A withdrawn input is safe to send again later: a
    :class:`~hubengage.Journal` writes no line for it, so that a resumed run sends it.
    """

    index: int
    input: InputT
    record: CrmObject | None = None
    error: HubEngageError | None = None
    withdrawn: bool = False

    @property
    def ok(self) -> bool:
        """True when the input succeeded."""
        return self.error is None


def _ensure_iterable(items: object, field: str) -> None:
    """Reject a plain string or mapping passed where an iterable of inputs is expected."""
    if isinstance(items, str | bytes | Mapping) or not (
        isinstance(items, (Iterable, AsyncIterable))
    ):
        raise InvalidInputError(
            f"must be an iterable (or async iterable) of inputs, not {type(items).__name__}",
            field=field,
        )


#: Submits one input (index, input, a callback to run right before the request carrying it
#: is first sent) and returns the future of its outcome. It may wait for room in the
#: batcher; it raises ``InvalidInputError`` for an input that cannot be sent.
Submit = Callable[[int, InputT, Callable[[], None]],
                  Coroutine[Any, Any, "asyncio.Future[Any]"]]


def halts_run(error: HubEngageError) -> bool:
    """Does ``error`` mean no further request of this run can succeed?

    HubSpot rejected the token itself (401) or its scopes (403) for a whole request; the
    same errors reported for one item of a multi-status answer do not halt a run.
    """
    return isinstance(error, AuthenticationError | ScopeError) and not error.per_item


#: Errors that mean a call was never sent (the daily quota was spent, its deadline passed
#: waiting for the budget, the shared budget was unreachable, the client closed): for an
#: input no request carried, its outcome is ``withdrawn`` (safe to send again), not final.
_NOT_SENT = (DailyLimitError, DeadlineExceededError, BudgetStoreError, ClientClosedError)


def _ends_run(error: HubEngageError) -> bool:
    """Does ``error`` end a run: :func:`halts_run`, or the daily quota is spent."""
    return halts_run(error) or isinstance(error, DailyLimitError)


async def run_bulk(
    items: Iterable[InputT] | AsyncIterable[InputT],
    submit: Submit[InputT],
    *,
    window: int,
    ordered: bool = False,
    stop: asyncio.Event | None = None,
    on_sent: OnSent | None = None,
    on_progress: OnProgress | None = None,
) -> AsyncIterator[Outcome[InputT]]:
    """Feed ``items`` to ``submit`` with at most ``window`` unyielded, and yield outcomes.

    Memory is bounded by ``window`` whatever the number of inputs: no input is read from
    ``items`` while ``window`` outcomes are in the air or waiting to be yielded. With
    ``ordered`` outcomes come in input order, else as they complete. Closing the iterator
    early cancels the inputs not yet sent (sent ones complete; their outcomes are dropped).
    ``on_sent(index)`` runs right before the request carrying an input is first sent;
    ``on_progress(BulkProgress)`` right before each outcome is yielded.

    An input the client has no room for yet (``max_pending``: it waits until calls finish,
    which may take a rate-limit slot) is handed over in the background: outcomes that land
    meanwhile are yielded, not held back behind it.

    ``stop`` ends a run gracefully: once it is set no more input is read, inputs not yet
    sent are withdrawn at once (``Outcome.withdrawn``), those queued for a rate-limit slot
    or waiting for room included, and those already sent complete and are yielded as usual.
    A stop set while an async source is producing an input takes effect once it has: that
    input is withdrawn. An error that :func:`halts_run` (the token was rejected), or a
    ``DailyLimitError``, ends the run the same way, except that every input still to come is
    read and yielded withdrawn with that error, without a request. An input that failed
    without ever being sent (``DailyLimitError``, ``DeadlineExceededError``,
    ``BudgetStoreError``, ``ClientClosedError``) is yielded withdrawn with that error.

    An exception raised by the source, ``on_sent`` or ``on_progress`` ends the run as a
    stop does (no more input is read, the unsent are withdrawn, the sent complete and are
    yielded); it is then raised from the iterator.
    """
    _ensure_iterable(items, "items")
    if window < 1:
        raise InvalidInputError("must be at least 1", field="window")
    sync_iter = iter(items) if isinstance(items, Iterable) else None
    async_iter = aiter(items) if sync_iter is None else None  # type: ignore[arg-type]
    ready: deque[Outcome[InputT]] = deque()
    held: dict[int, Outcome[InputT]] = {}
    in_air: dict[int, asyncio.Future[Any]] = {}
    sent: set[int] = set()
    wake = asyncio.Event()
    next_index = 0
    next_to_yield = 0
    exhausted = False
    stop_seen = False
    unyielded = 0
    counts = _Counts()
    #: Why unsent inputs are withdrawn (set by a stop or a halting error).
    withdrawal: HubEngageError | None = None
    #: The input being handed over in the background: index, input, ``submit`` resumed in
    #: a task.
    handing: tuple[int, InputT, asyncio.Future[Any], _Resumed] | None = None
    #: The first exception of the source, ``on_sent`` or ``on_progress`` (or a bug): the
    #: run ends as if stopped, then raises it.
    failure: BaseException | None = None
    progress_broken = False

    def landed(outcome: Outcome[InputT]) -> None:
        if ordered:
            held[outcome.index] = outcome
        else:
            ready.append(outcome)
        wake.set()

    def withdrawn(index: int, value: InputT) -> None:
        reason = withdrawal or WithdrawnError("withdrawn before it was sent")
        landed(Outcome(index, value, error=reason, withdrawn=True))

    def mark_sent(index: int) -> None:
        if on_sent is not None:
            try:
                on_sent(index)
            except Exception as exc:  # not sent: the request leaves without it, or not at all
                fail(exc)
                raise
        sent.add(index)
        counts.sent += 1

    def fail(exc: BaseException) -> None:
        """The source or a callback raised: end the run as a stop would, raise ``exc`` after."""
        nonlocal failure, exhausted
        if failure is None:
            failure = exc
        exhausted = True
        if withdrawal is None:
            withdraw(WithdrawnError(
                f"withdrawn before it was sent: the run failed ({exc!r})"))

    def unsent(index: int, value: InputT, error: HubEngageError) -> None:
        """An input that failed before any request carried it."""
        if isinstance(error, _NOT_SENT):
            landed(Outcome(index, value, error=error, withdrawn=True))
        else:  # its own error (InvalidInputError, a failed label lookup): final
            landed(Outcome(index, value, error=error))
        if withdrawal is None and _ends_run(error):
            withdraw(error)

    def on_done(index: int, value: InputT, future: asyncio.Future[Any]) -> None:
        in_air.pop(index, None)
        was_sent = index in sent
        sent.discard(index)
        if future.cancelled():
            reason = withdrawal or WithdrawnError("withdrawn before it was sent")
            landed(Outcome(index, value, error=reason, withdrawn=not was_sent))
            return
        error = future.exception()
        if error is None:
            landed(Outcome(index, value, record=future.result()))
        elif not was_sent and isinstance(error, HubEngageError):
            unsent(index, value, error)
        elif isinstance(error, HubEngageError):
            landed(Outcome(index, value, error=error))
            if withdrawal is None and _ends_run(error):
                withdraw(error)
        elif not was_sent:  # on_sent raised for it (or a bug before it left): end the run
            fail(error)
            withdrawn(index, value)
        else:  # not ours: a bug or a cancellation of the whole run; surface it
            landed(Outcome(index, value, error=HubEngageError(repr(error))))

    def withdraw(reason: HubEngageError) -> None:
        nonlocal withdrawal
        if withdrawal is None:
            withdrawal = reason
        for index, future in list(in_air.items()):
            if index not in sent:
                future.cancel()
        if handing is not None:
            cancel_handing()  # not accepted yet, so not sent

    def stopped() -> None:
        """The first time ``stop`` is seen set: read no more, withdraw the unsent."""
        nonlocal exhausted, stop_seen
        if stop is None or stop_seen or not stop.is_set():
            return
        stop_seen = exhausted = True
        if withdrawal is None:
            withdraw(WithdrawnError("withdrawn before it was sent: the run was stopped"))

    def accepted(index: int, value: InputT, future: asyncio.Future[Any]) -> None:
        """``submit`` accepted the input: follow its outcome (unless it is to be withdrawn)."""
        stopped()
        if withdrawal is None or index in sent or future.done():
            in_air[index] = future
            future.add_done_callback(partial(on_done, index, value))
        else:  # accepted as the run was stopped or halted: not sent
            future.cancel()
            withdrawn(index, value)

    def hand_over(index: int, value: InputT) -> None:
        """Submit the input; one that must wait for room continues in the background.

        ``submit`` runs eagerly, in the run's own task, up to its first wait: most inputs
        are accepted without one, and a task per input would yield to the event loop once
        per input, so the batcher would send them one per request instead of a hundred.
        """
        nonlocal handing
        coro = submit(index, value, partial(mark_sent, index))
        try:
            first = coro.send(None)
        except StopIteration as done:
            accepted(index, value, done.value)
            return
        except HubEngageError as exc:  # this input fails alone, unsent (a bad input, a
            unsent(index, value, exc)  # failed label lookup)
            return
        except Exception as exc:  # a bug in submit: end the run, withdraw this input
            fail(exc)
            withdrawn(index, value)
            return
        resumed = _Resumed(coro, first)
        task = asyncio.ensure_future(resumed)
        task.add_done_callback(lambda _: wake.set())
        handing = (index, value, task, resumed)

    def cancel_handing() -> None:
        assert handing is not None
        handing[2].cancel()
        handing[3].abandon()  # if the task never got to run it
    def handed_over() -> None:
        """The input handed over in the background got its room, was withdrawn, or failed."""
        nonlocal handing
        assert handing is not None
        index, value, task, _ = handing
        handing = None
        if task.cancelled():
            withdrawn(index, value)
            return
        error = task.exception()
        if isinstance(error, HubEngageError):
            unsent(index, value, error)
        elif isinstance(error, Exception):
            fail(error)
            withdrawn(index, value)
        elif error is not None:
            raise error
        else:
            accepted(index, value, task.result())

    def counted(outcome: Outcome[InputT]) -> Outcome[InputT]:
        nonlocal progress_broken
        if outcome.withdrawn:
            counts.withdrawn += 1
        elif outcome.error is None:
            counts.succeeded += 1
        elif isinstance(outcome.error, OutcomeUnknownError):
            counts.unknown += 1
        else:
            counts.failed += 1
        if on_progress is not None and not progress_broken:
            try:
                on_progress(BulkProgress(read=next_index, sent=counts.sent,
                                         succeeded=counts.succeeded, failed=counts.failed,
                                         unknown=counts.unknown, withdrawn=counts.withdrawn))
            except Exception as exc:  # called no more; the run ends, then raises it
                progress_broken = True
                fail(exc)
        return outcome

    watcher: asyncio.Future[Any] | None = None
    if stop is not None:
        watcher = asyncio.ensure_future(stop.wait())

        def stop_seen_now(_: object) -> None:
            stopped()  # at once, even while the caller holds an outcome
            wake.set()

        watcher.add_done_callback(stop_seen_now)
    try:
        while True:
            stopped()
            if handing is not None and handing[2].done():
                handed_over()
            while handing is None and not exhausted and unyielded < window:
                try:
                    if sync_iter is not None:
                        value = next(sync_iter)
                    else:
                        assert async_iter is not None
                        value = await anext(async_iter)
                except (StopIteration, StopAsyncIteration):
                    exhausted = True
                    break
                except Exception as exc:  # a broken source: as a stop, then raise it
                    fail(exc)
                    break
                if exhausted:  # stopped or failed while this input was being read
                    index = next_index
                    next_index += 1
                    unyielded += 1
                    withdrawn(index, value)
                    break
                index = next_index
                next_index += 1
                unyielded += 1
                stopped()  # set while this input was being read: it is withdrawn
                if withdrawal is not None:  # stopped or halted: unsent, without a request
                    withdrawn(index, value)
                    continue
                hand_over(index, value)
            if ordered:
                while next_to_yield in held:
                    outcome = held.pop(next_to_yield)
                    next_to_yield += 1
                    unyielded -= 1
                    yield counted(outcome)
                    stopped()
            else:
                while ready:
                    unyielded -= 1
                    yield counted(ready.popleft())
                    stopped()
            if exhausted and unyielded == 0 and handing is None:
                if failure is not None:
                    raise failure
                return
            if (ordered and next_to_yield in held) or (not ordered and ready):
                continue
            if handing is not None and handing[2].done():
                continue
            if handing is None and not exhausted and unyielded < window:
                continue
            if stop is not None and stop.is_set() and not stop_seen:
                continue
            wake.clear()
            await wake.wait()
    finally:
        if handing is not None:
            task = handing[2]
            if not task.done():
                cancel_handing()
            elif not task.cancelled() and task.exception() is None and handing[0] not in sent:
                task.result().cancel()  # it got its room after the run was left: never sent
        if watcher is not None:
            watcher.cancel()
        for future in list(in_air.values()):
            future.cancel()


class _Counts:
    """The running counts behind :class:`BulkProgress`."""

    __slots__ = ("failed", "sent", "succeeded", "unknown", "withdrawn")

    def __init__(self) -> None:
        self.sent = self.succeeded = self.failed = self.unknown = self.withdrawn = 0


class _Resumed:
    """Awaits a coroutine that already ran up to its first suspension (``coro.send(None)``
    returned ``first``, what it waits on) as if it had been awaited from the start.

    :func:`run_bulk` runs ``submit`` eagerly in its own task and moves only one that has to
    wait (for room in the client) to a task of its own, from where it stopped: the task
    first waits on ``first``, then resumes the coroutine; exceptions thrown in,
    cancellation included, are passed to it.
    """

    __slots__ = ("_coro", "_first", "_started")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coro = coro
        self._first = first
        self._started = False

    def abandon(self) -> None:
        """Cancel the coroutine here if no task resumed it: a task cancelled before its first
        step never runs ``__await__``, and the coroutine, suspended in its first wait, would
        otherwise be closed by the garbage collector without the cancellation it cleans up
        on (flow control would hand room to a waiter that is gone)."""
        if self._started:
            return  # the task throws the cancellation in
        self._started = True
        try:
            self._coro.throw(asyncio.CancelledError())
        except (asyncio.CancelledError, Exception):  # as expected, or it is over anyway
            return
        self._coro.close()  # it caught the cancellation and waits again: give up on it

    def __await__(self) -> Generator[Any, None, Any]:
        if self._started:
            raise RuntimeError("this coroutine was abandoned")
        self._started = True
        waiting_on = self._first
        while True:
            try:
                yield waiting_on
            except BaseException as exc:  # e.g. CancelledError: the coroutine handles it
                try:
                    waiting_on = self._coro.throw(exc)
                except StopIteration as done:
                    return done.value
                continue
            break
        return (yield from self._coro.__await__())
