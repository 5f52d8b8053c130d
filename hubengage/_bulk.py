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

from ._errors import HubEngageError, InvalidInputError
from .models import Association, CrmObject

__all__ = ["NewRecord", "OnSent", "Outcome", "RecordUpdate", "run_bulk"]

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
    success has neither (``ok`` is True).
    """

    index: int
    input: InputT
    record: CrmObject | None = None
    error: HubEngageError | None = None

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


#: Submits one input (index, input) and returns the future of its outcome. It may wait for
#: room in the batcher; it raises ``InvalidInputError`` for an input that cannot be sent.
Submit = Callable[[int, InputT], Awaitable["asyncio.Future[Any]"]]


async def run_bulk(
    items: Iterable[InputT] | AsyncIterable[InputT],
    submit: Submit[InputT],
    *,
    window: int,
    ordered: bool = False,
    stop: asyncio.Event | None = None,
    sent: set[int] | None = None,
) -> AsyncIterator[Outcome[InputT]]:
    """Feed ``items`` to ``submit`` with at most ``window`` unyielded, and yield outcomes.

    Memory is bounded by ``window`` whatever the number of inputs: no input is read from
    ``items`` while ``window`` outcomes are in the air or waiting to be yielded. With
    ``ordered`` outcomes come in input order, else as they complete. Closing the iterator
    early cancels the inputs not yet sent (sent ones complete; their outcomes are dropped).

    ``stop`` (with ``sent``, the indices whose request has left) ends a run gracefully:
    once it is set no more input is read, inputs not yet sent are withdrawn (their outcome
    is a "cancelled before it was sent" error), and those already sent complete and are
    yielded as usual.
    """
    _ensure_iterable(items, "items")
    if window < 1:
        raise InvalidInputError("must be at least 1", field="window")
    sync_iter = iter(items) if isinstance(items, Iterable) else None
    async_iter = aiter(items) if sync_iter is None else None  # type: ignore[arg-type]
    ready: deque[Outcome[InputT]] = deque()
    held: dict[int, Outcome[InputT]] = {}
    in_air: dict[int, asyncio.Future[Any]] = {}
    wake = asyncio.Event()
    next_index = 0
    next_to_yield = 0
    exhausted = False
    unyielded = 0

    def landed(outcome: Outcome[InputT]) -> None:
        if ordered:
            held[outcome.index] = outcome
        else:
            ready.append(outcome)
        wake.set()

    def on_done(index: int, value: InputT, future: asyncio.Future[Any]) -> None:
        in_air.pop(index, None)
        if sent is not None:
            sent.discard(index)
        if future.cancelled():
            landed(Outcome(index, value, error=HubEngageError("cancelled before it was sent")))
            return
        error = future.exception()
        if error is None:
            landed(Outcome(index, value, record=future.result()))
        elif isinstance(error, HubEngageError):
            landed(Outcome(index, value, error=error))
        else:  # not ours: a bug or a cancellation of the whole run; surface it
            landed(Outcome(index, value, error=HubEngageError(repr(error))))

    def withdraw_unsent() -> None:
        for index, future in list(in_air.items()):
            if sent is None or index not in sent:
                future.cancel()

    stopped = False
    watcher: asyncio.Future[Any] | None = None
    if stop is not None:
        watcher = asyncio.ensure_future(stop.wait())
        watcher.add_done_callback(lambda _: wake.set())
    try:
        while True:
            if stop is not None and stop.is_set() and not stopped:
                stopped = exhausted = True
                withdraw_unsent()
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
                try:
                    future = await submit(index, value)
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
