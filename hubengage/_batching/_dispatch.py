"""The batcher: single calls coalesced into batch requests, every outcome back to its caller.

Data path (``docs/architecture.md``): ``hs.emails.create(...)`` → :meth:`Batcher.submit`
queues an :class:`~._assembly.Item` (after flow control and per-record sequencing) → the
queue's dispatcher drains 100 items at once when it has them (the full batch then waits for
its slot, request built), otherwise asks the pipeline for a slot
(:meth:`RequestPipeline.reserve`) and only *then* drains (whatever queued while it waited
rides along; a partial batch may also linger for the budget's pacing) → the batch is sent
through the reservation
(retries inside the pipeline) → :func:`hubengage._multistatus.decode` maps the response
back to each item, never by position, never by a guess.

Invariants this module owns (with its helpers ``_flow``, ``_sequencer``, ``_assembly``):

- Every item's future is resolved exactly once (its record or its own error), or was
  cancelled by its caller; a done future is never set again.
- A batch never holds two items for one record; calls on one record complete in order.
- A whole-batch 400/409 that names inputs fails those and resends the rest; one that names
  none is bisected until the bad inputs fail alone.
- Results no call can claim are never handed out: counted, logged, and for creates counted
  as possible duplicates.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import secrets
from collections.abc import Coroutine, Hashable, Mapping, Sequence
from typing import Any

import attrs

from .._calls import Call, Op
from .._constants import DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_PENDING
from .._errors import (
    APIError,
    ClientClosedError,
    ConflictError,
    HubEngageError,
    InvalidInputError,
    OutcomeUnknownError,
    ValidationError,
)
from .._execution import DirectExecutor, OnSent
from .._matching import canonical
from .._multistatus import TRACED_OPS, decode
from .._pipeline import RequestPipeline, Reservation
from .._requests import batch_request
from .._stats import ClientStats
from .._transport import Request
from ..models import CrmObject
from ._assembly import Item, Queue, drain, queue_key
from ._flow import FlowControl
from ._sequencer import Sequencer

__all__ = ["Batcher"]

#: Association calls: an input whose outcome a batch answer leaves open is sent again alone.
_IDEMPOTENT_LINKS = frozenset({Op.LINK, Op.UNLINK})

logger = logging.getLogger("hubengage")


Outcome = CrmObject | HubEngageError | None


class Batcher:
    """Coalesces single-record calls into batch requests; one per client (``hs.batcher``).

    ``max_in_flight`` bounds concurrent batch requests; ``max_pending`` bounds calls accepted
    and not yet completed (further calls wait for room). Reads that ask for associations
    (which ``batch/read`` cannot return) go to the ``direct`` executor.
    """

    def __init__(
        self,
        pipeline: RequestPipeline,
        *,
        stats: ClientStats,
        direct: DirectExecutor,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if max_in_flight < 1:
            raise InvalidInputError("must be at least 1", field="max_in_flight")
        if max_pending < 1:
            raise InvalidInputError("must be at least 1", field="max_pending")
        self._pipeline = pipeline
        self._stats = stats
        self._direct = direct
        self.max_in_flight = max_in_flight
        self._flow = FlowControl(max_pending)
        self._sequencer: Sequencer[Item] = Sequencer()
        self._permits: asyncio.Semaphore | None = None
        self._queues: dict[tuple[Any, ...], Queue] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Batch tasks still waiting for their rate-limit slot.
        self._waiting: set[asyncio.Task[Any] | None] = set()
        self._trace_prefix = f"he{secrets.token_hex(4)}-"
        self._trace_counter = itertools.count(1)
        #: Learned from responses: does HubSpot echo trace ids on successful creates? Once a
        #: result came back without its trace id, assume none will (False is final).
        self.trace_ids_echoed: bool | None = None

    @property
    def max_pending(self) -> int:
        """The most calls accepted and unfinished at once."""
        return self._flow.max_pending

    @property
    def pending(self) -> int:
        """Calls accepted and not yet completed (queued or in flight)."""
        return self._flow.pending + self._direct.pending

    # -- the executor interface -------------------------------------------------------------

    async def run(self, call: Call) -> CrmObject | None:
        """Carry out one call in the next batch for its queue; its record or its error."""
        if call.with_associations:
            return await self._direct.run(call)  # batch/read returns no associations
        result: CrmObject | None = await (await self.submit(call))
        return result

    async def submit(self, call: Call, on_sent: OnSent | None = None) -> asyncio.Future[Any]:
        """Queue one call (after waiting for room) and return the future of its outcome.

        Cancelling the future before the call is sent removes it. ``on_sent`` runs right
        before the request carrying the call is first sent.
        """
        if call.with_associations:
            return await self._direct.submit(call, on_sent)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._flow.admit(future)
        key = queue_key(call)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = Queue(call)
        trace_id = (f"{self._trace_prefix}{next(self._trace_counter)}"
                    if call.op in TRACED_OPS else None)
        chain: Hashable | None = None
        if call.link is not None:  # one pair of records at a time, in order
            chain = (call.target.name, "", canonical(call.key), call.link.to.name,
                     canonical(call.link.to_id))
        elif call.key is not None:
            # HubSpot may treat "A@x.com" and "a@x.com", or "0123" and "123", as one record.
            chain = (call.target.name, call.id_property or "", canonical(call.key))
        item = Item(call, future, queue, trace_id=trace_id, chain=chain, on_sent=on_sent)
        future.add_done_callback(lambda _: self._withdrawn(item))
        if self._sequencer.admit(item):
            self._enqueue(item)
        return future

    async def flush(self) -> None:
        """Wait until every call accepted so far has completed (or been cancelled)."""
        pending = self._flow.live()
        if pending:
            await asyncio.wait(pending)
        await self._direct.flush()

    async def aclose(self) -> None:
        """Send everything queued, wait for every outcome, then stop the dispatchers.

        A call cancelled while queued needs nothing more, so a dispatcher still waiting for a
        rate-limit slot on its behalf is stopped rather than waited for.
        """
        while live := [f for f in self._flow.live() if not f.done()]:
            await asyncio.wait(live)
        # Every call is over, so a batch still waiting for a slot holds only cancelled calls.
        for task in list(self._waiting):
            if task is not None:
                task.cancel()
        while self._tasks:
            await asyncio.wait(list(self._tasks))
        dispatchers = [q.dispatcher for q in self._queues.values() if q.dispatcher is not None]
        for dispatcher in dispatchers:
            dispatcher.cancel()
        if dispatchers:
            await asyncio.wait(dispatchers)
        await self._direct.aclose()

    # -- queueing ---------------------------------------------------------------------------

    def _enqueue(self, item: Item) -> None:
        item.queued = True
        queue = item.queue
        queue.items.append(item)
        full = queue.full
        if full is not None and len(queue.items) >= queue.size and not full.done():
            full.set_result(None)
        if queue.dispatcher is None:
            # In a context of its own: the dispatcher serves every caller of this queue, so
            # none of the first caller's context variables (its trace span, a web framework's
            # request state) may ride along into other callers' batches.
            queue.dispatcher = asyncio.get_running_loop().create_task(
                self._dispatch(queue), context=contextvars.Context())

    def _withdrawn(self, item: Item) -> None:
        """The caller's future is done: if it was cancelled before the call was sent, give
        its place back at once rather than when its queue next drains (which may wait for a
        rate-limit slot). An item still queued, or drained into a batch not yet sent, is
        skipped there later (``_finish`` is idempotent)."""
        if item.finished or item.sent or not item.future.cancelled():
            return
        if item.queued:
            self._finish(item)  # the next call on its record may go: this one never will
        else:  # behind another call on its record: the chain skips it when its turn comes
            self._flow.release(item.future)

    def _finish(self, item: Item) -> None:
        """Forget a finished (or cancelled) item; queue the next call on its record."""
        if item.finished:
            return
        item.finished = True
        self._flow.release(item.future)
        nxt, skipped = self._sequencer.release(item)
        for gone in skipped:
            gone.finished = True
            self._flow.release(gone.future)
        if nxt is not None:
            self._enqueue(nxt)

    def _resolve(self, item: Item, outcome: Outcome | BaseException) -> None:
        """Give an item its outcome (unless its caller has gone) and finish it."""
        future = item.future
        if not future.done():
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
                self._stats.items_failed += 1
            else:
                future.set_result(outcome)
                self._stats.items_succeeded += 1
        self._finish(item)

    # -- dispatching ------------------------------------------------------------------------

    async def _dispatch(self, queue: Queue) -> None:
        """Turn what is queued into batches, each sent on its own rate-limit slot; repeat.

        A full batch is drained at once and waits for its slot in its own task, with its
        request already built, so that when many slots free together (a window rolling over)
        each batch goes out at once rather than being assembled one after another. A partial
        batch takes its slot first and only then drains: whatever queues while it waits rides
        along, and it may linger for the budget's pacing.
        """
        if self._permits is None:
            self._permits = asyncio.Semaphore(self.max_in_flight)
        permits = self._permits
        pipeline = self._pipeline
        try:
            ahead = False  # full batches started that may not be in the budget's line yet
            while queue.items:
                await permits.acquire()
                if len(queue.items) >= queue.size:
                    batch = self._drain(queue, queue.size)
                    if batch:
                        self._start(self._run_batch(queue, batch, None, permits))
                        ahead = True
                    else:
                        permits.release()
                    continue
                if ahead:  # let them take their place in line first: calls go out in order
                    ahead = False
                    await asyncio.sleep(0)
                    if not queue.items or len(queue.items) >= queue.size:
                        permits.release()
                        continue
                try:
                    reservation = await pipeline.reserve(options=queue.options)
                except HubEngageError as exc:  # daily quota spent, deadline, closed: fail all
                    permits.release()
                    for item in self._drain(queue, len(queue.items)):
                        self._resolve(item, exc)
                    continue
                except BaseException:
                    permits.release()
                    raise
                batch = []
                try:
                    await self._linger(queue)
                    batch = self._drain(queue, queue.size)
                finally:
                    if not batch:  # cancelled while lingering, or nothing left to send
                        permits.release()
                        await reservation.abandon()
                if not batch:
                    continue
                if len(batch) < queue.size:
                    pipeline.spend_pacing()
                self._start(self._run_batch(queue, batch, reservation, permits))
        finally:
            queue.dispatcher = None

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _linger(self, queue: Queue) -> None:
        """Hold a partial batch until the budget's pacing allows it or the queue fills.

        Calls made meanwhile join the batch (see "Pacing partial batches" in
        ``_limiter.py``); an idle client never waits here.
        """
        if len(queue.items) >= queue.size:
            return
        delay = self._pipeline.pacing_delay()
        if delay <= 0:
            return
        loop = asyncio.get_running_loop()
        full = queue.full = loop.create_future()
        sleeper = loop.create_task(self._pipeline.clock.sleep(delay))
        try:
            await asyncio.wait((full, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            queue.full = None
            full.cancel()
            if not sleeper.done():
                sleeper.cancel()
                await asyncio.wait((sleeper,))

    def _drain(self, queue: Queue, limit: int) -> list[Item]:
        distinct = queue.op is Op.CREATE and self.trace_ids_echoed is not True
        return drain(queue, limit, distinct=distinct, finish=self._finish)

    async def _run_batch(
        self, queue: Queue, batch: list[Item], reservation: Reservation | None,
        permits: asyncio.Semaphore,
    ) -> None:
        """Send ``batch`` on ``reservation``, or, for a batch drained before its slot, build
        its request, then wait for a slot (a waiting batch counts against the permits)."""
        try:
            request = None
            if reservation is None:
                request = batch_request(queue.op, batch)
                _ = request.body  # encoded now, not once the slot is there
                self._waiting.add(asyncio.current_task())
                try:
                    reservation = await self._pipeline.reserve(options=queue.options)
                except HubEngageError as exc:  # daily quota spent, deadline, closed
                    for item in batch:
                        self._resolve(item, exc)
                    return
                finally:
                    self._waiting.discard(asyncio.current_task())
            await self._send(queue, batch, reservation, request)
        except asyncio.CancelledError:
            error = ClientClosedError("the client was closed while this call was in flight")
            for item in batch:
                self._resolve(item, error)
            raise
        except Exception as exc:  # a bug: never leave a caller hanging
            logger.exception("hubengage: unexpected error sending batch/%s", queue.op.value)
            for item in batch:
                self._resolve(item, exc)
        finally:
            permits.release()
            if reservation is not None:
                await reservation.abandon()  # a no-op once it was used

    async def _send(
        self, queue: Queue, batch: list[Item], reservation: Reservation | None,
        request: Request | None = None,
    ) -> None:
        """Send one batch (retries inside the pipeline) and resolve every item in it.

        ``request`` is the batch's, if built already (it is rebuilt when a caller left).
        """
        live: list[Item] = []
        for item in batch:
            if item.future.done():
                # Its caller cancelled it between the drain and now (perhaps from an earlier
                # item's on_sent): it is not sent.
                self._finish(item)
                continue
            if item.on_sent is not None:
                callback, item.on_sent = item.on_sent, None
                try:
                    callback()
                except Exception as exc:  # e.g. its journal could not be written: not sent
                    self._resolve(item, exc)
                    continue
            item.sent = True
            live.append(item)
        if len(live) != len(batch):
            batch = live
            request = None
            if not batch:
                return
        stats = self._stats
        stats.batches += 1
        stats.items_sent += len(batch)
        stats.batch_sizes[len(batch)] += 1
        if request is None:
            request = batch_request(queue.op, batch)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("sending %s with %d items", request.path, len(batch))
        try:
            if reservation is not None:
                response = await reservation.send(request)
            else:
                response = await self._pipeline.send(request, options=queue.options)
        except (ValidationError, ConflictError) as exc:
            await self._rejected(queue, batch, exc)
            return
        except HubEngageError as exc:
            for item in batch:
                self._resolve(item, exc)
            return
        first = batch[0].call
        decoded = decode(queue.op, batch, response, id_property=first.id_property,
                         unmatchable=queue.unmatchable)
        outcomes = decoded.outcomes
        if queue.op is Op.CREATE:
            if decoded.trace_ids_echoed is not None and self.trace_ids_echoed is not False:
                self.trace_ids_echoed = decoded.trace_ids_echoed
            if response.uncertain_attempts:
                outcomes = self._mark_possible_duplicates(request.path, outcomes)
        if decoded.unclaimed:
            self._unclaimed(queue, request.path, outcomes, decoded.unclaimed,
                            response.correlation_id)
        again: list[Item] = []
        for item, outcome in zip(batch, outcomes, strict=True):
            if (len(batch) > 1 and isinstance(outcome, OutcomeUnknownError)
                    and queue.op in _IDEMPOTENT_LINKS):
                again.append(item)  # its own request tells (associating is idempotent)
            else:
                self._resolve(item, outcome)
        if again:
            self._stats.link_resends += len(again)
            await asyncio.gather(*(self._send(queue, [item], None) for item in again))

    def _unclaimed(
        self,
        queue: Queue,
        path: str,
        outcomes: Sequence[Outcome],
        records: Sequence[CrmObject],
        correlation_id: str | None,
    ) -> None:
        """Count and log results no caller could claim (never hand them to anyone).

        A created record that no caller receives exists in HubSpot all the same: it is a
        possible duplicate of one of this batch's inputs (those callers got
        ``OutcomeUnknownError``), and its id is logged so it can be found.
        """
        stats = self._stats
        given = {o.id for o in outcomes if isinstance(o, CrmObject)}
        stray = sorted({r.id for r in records if r.id not in given})
        stats.unclaimed_results += len(records)
        if not stray:
            return
        creates = queue.op is Op.CREATE or queue.op is Op.UPSERT
        if creates:
            stats.possible_duplicates += len(stray)
            stats.possible_duplicate_ids.extend(stray)
        logger.warning(
            "%s (correlation id %s) returned %d result(s) no call could claim without guessing"
            "%s: %s%s",
            path, correlation_id, len(stray),
            "; these records exist and may duplicate an input whose outcome is unknown"
            if creates else "",
            ", ".join(stray[:10]), ", ..." if len(stray) > 10 else "",
        )

    def _mark_possible_duplicates(self, path: str, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """This create batch succeeded after an attempt HubSpot may have written too."""
        marked: list[Outcome] = [
            attrs.evolve(o, possible_duplicate=True) if isinstance(o, CrmObject) else o
            for o in outcomes
        ]
        ids = [o.id for o in marked if isinstance(o, CrmObject)]
        self._stats.possible_duplicates += len(ids)
        self._stats.possible_duplicate_ids.extend(ids)
        logger.warning(
            "%s succeeded after an attempt HubSpot may also have written; these %d records "
            "may exist twice (marked possible_duplicate): %s%s",
            path, len(ids), ", ".join(ids[:10]), ", ..." if len(ids) > 10 else "",
        )
        return marked

    async def _rejected(self, queue: Queue, batch: list[Item], exc: APIError) -> None:
        """A whole-batch 400/409: fail the inputs it names, else bisect to find them."""
        named = _named_items(batch, exc.context)
        if named:
            rest = [item for item in batch if item not in named]
            for item in named:
                self._resolve(item, exc)
            if rest:
                await self._send(queue, rest, None)
            return
        if len(batch) == 1:
            self._resolve(batch[0], exc)
            return
        self._stats.bisections += 1
        mid = len(batch) // 2
        logger.warning(
            "batch/%s rejected the whole batch of %d (%s); bisecting to isolate the bad inputs",
            queue.op.value, len(batch), exc,
        )
        await asyncio.gather(
            self._send(queue, batch[:mid], None), self._send(queue, batch[mid:], None)
        )


def _named_items(batch: Sequence[Item], context: Mapping[str, Sequence[str]]) -> set[Item]:
    """The items a whole-batch error's ``context`` names by trace id or id."""
    traces = {str(t) for t in context.get("objectWriteTraceId") or ()}
    ids = {canonical(str(i)) for i in context.get("ids") or ()}
    if not traces and not ids:
        return set()
    return {
        item for item in batch
        if (item.trace_id is not None and item.trace_id in traces)
        or (item.key is not None and canonical(item.key) in ids)
    }
