"""The shapes of the bulk API: what goes into ``create_many`` & co., and what comes out.

``create_many(items)`` (and ``update_many``, ``upsert_many``, ``archive_many``,
``read_many``) take a sync or async iterable of inputs of any length and yield one
:class:`Outcome` per input. Each input becomes one ordinary batched call, so a bulk run
shares the batcher, the limiter and the retry policy with every other call on the client;
the bulk layer only bounds how many inputs are in the air at once (the window) and hands
outcomes back in completion or input order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import Any, Generic, TypeVar

import attrs

from ._errors import (
    AuthenticationError,
    HubEngageError,
    InvalidInputError,
    ScopeError,
    WithdrawnError,
)
from .models import Association, CrmObject

__all__ = ["NewRecord", "OnSent", "Outcome", "RecordUpdate", "halts_run", "run_bulk"]

InputT = TypeVar("InputT")

#: Called with an input's index right before the request carrying it is first sent
#: (synchronously, so a journal written there is on disk before the request leaves).
OnSent = Callable[[int], None]


@attrs.frozen
class NewRecord:
    """A record to create (or upsert) with its associations.

    ``properties`` is a typed model (``Email(...)``) or a mapping of property names to
    values; ``associations`` are :class:`Association` values written with it.
    """

    properties: Any
    associations: tuple[Association, ...] = attrs.field(default=(), converter=tuple)


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
    ``ScopeError``). A withdrawn input is safe to send again later.
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
Submit = Callable[[int, InputT, Callable[[], None]], Awaitable["asyncio.Future[Any]"]]


def halts_run(error: HubEngageError) -> bool:
    """Does ``error`` mean no further request of this run can succeed?

    HubSpot rejected the token itself (401) or its scopes (403) for a whole request; the
    same errors reported for one item of a multi-status answer do not halt a run.
    """
    return isinstance(error, AuthenticationError | ScopeError) and not error.per_item


async def run_bulk(
    items: Iterable[InputT] | AsyncIterable[InputT],
    submit: Submit[InputT],
    *,
    window: int,
    ordered: bool = False,
    stop: asyncio.Event | None = None,
    on_sent: OnSent | None = None,
) -> AsyncIterator[Outcome[InputT]]:
    """Feed ``items`` to ``submit`` with at most ``window`` unyielded, and yield outcomes.

    Memory is bounded by ``window`` whatever the number of inputs: no input is read from
    ``items`` while ``window`` outcomes are in the air or waiting to be yielded. With
    ``ordered`` outcomes come in input order, else as they complete. Closing the iterator
    early cancels the inputs not yet sent (sent ones complete; their outcomes are dropped).
    ``on_sent(index)`` runs right before the request carrying an input is first sent.

    ``stop`` ends a run gracefully: once it is set no more input is read, inputs not yet
    sent are withdrawn at once (``Outcome.withdrawn``), and those already sent complete and
    are yielded as usual. An error that :func:`halts_run` (the token was rejected) ends the
    run the same way, except that every input still to come is read and yielded withdrawn
    with that error, without a request.
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
    unyielded = 0
    #: Why unsent inputs are withdrawn (set by a stop or a halting error).
    withdrawal: HubEngageError | None = None

    def landed(outcome: Outcome[InputT]) -> None:
        if ordered:
            held[outcome.index] = outcome
        else:
            ready.append(outcome)
        wake.set()

    def mark_sent(index: int) -> None:
        sent.add(index)
        if on_sent is not None:
            on_sent(index)

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
        elif isinstance(error, HubEngageError):
            landed(Outcome(index, value, error=error))
            if withdrawal is None and halts_run(error):
                withdraw(error)
        else:  # not ours: a bug or a cancellation of the whole run; surface it
            landed(Outcome(index, value, error=HubEngageError(repr(error))))

    def withdraw(reason: HubEngageError) -> None:
        nonlocal withdrawal
        if withdrawal is None:
            withdrawal = reason
        for index, future in list(in_air.items()):
            if index not in sent:
                future.cancel()

    watcher: asyncio.Future[Any] | None = None
    if stop is not None:
        watcher = asyncio.ensure_future(stop.wait())
        watcher.add_done_callback(lambda _: wake.set())
    try:
        while True:
            if stop is not None and stop.is_set() and withdrawal is None:
                exhausted = True
                withdraw(WithdrawnError("withdrawn before it was sent: the run was stopped"))
            while not exhausted and unyielded < window:
                try:
                    if sync_iter is not None:
                        value = next(sync_iter)
                    else:
                        assert async_iter is not None
                        value = await anext(async_iter)
                except (StopIteration, StopAsyncIteration):
                    exhausted = True
                    break
                index = next_index
                next_index += 1
                unyielded += 1
                if withdrawal is not None:  # halted: the rest fail fast, unsent
                    landed(Outcome(index, value, error=withdrawal, withdrawn=True))
                    continue
                try:
                    future = await submit(index, value, partial(mark_sent, index))
                except InvalidInputError as exc:
                    landed(Outcome(index, value, error=exc))
                    continue
                in_air[index] = future
                future.add_done_callback(partial(on_done, index, value))
            if ordered:
                while next_to_yield in held:
                    outcome = held.pop(next_to_yield)
                    next_to_yield += 1
                    unyielded -= 1
                    yield outcome
            else:
                while ready:
                    unyielded -= 1
                    yield ready.popleft()
            if exhausted and unyielded == 0:
                return
            if (ordered and next_to_yield in held) or (not ordered and ready):
                continue
            if not exhausted and unyielded < window:
                continue
            wake.clear()
            await wake.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        for future in list(in_air.values()):
            future.cancel()
