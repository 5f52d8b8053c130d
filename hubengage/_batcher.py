"""The batcher: single calls coalesced into batch requests, every outcome back to its caller.

Data path (DESIGN.md): ``hs.emails.create(...)`` → :meth:`Batcher.submit` puts an item on the
queue of its (object type, operation, group) → that queue's dispatcher takes an in-flight
permit, then a rate-limiter slot, and only *then* drains up to 100 items into one request
("smart batching": whatever queued while it waited rides along; an idle client sends a lone
call at once, a saturated one sends full batches, and a partial batch also waits for the
limiter's pacing so a steady stream of calls is spread over the window) →
:class:`RequestPipeline` sends it (retries included) → :func:`hubengage._multistatus.decode`
maps the response back to each item's future, by trace id or id, never by position.

Invariants this module owns:

- Every item's future is resolved exactly once (its record or its own error), or was
  cancelled by its caller; a done future is never set again.
- A batch never holds two items for the same record: calls keyed on one record (update,
  upsert, archive, read of the same id) form a chain, and only the head of a chain sits in a
  queue; the next one is queued when the head completes. So calls on one id complete in the
  order they were made.
- Two creates that HubSpot's echo could not tell apart (equal fingerprints, or one a subset of
  the other; ``_matching``) never share a batch unless HubSpot is known to echo trace ids.
- A whole-batch 400/409 that names inputs fails those and resends the rest; one that names
  none is bisected until the bad inputs fail alone.
- At most ``max_pending`` items are accepted and unfinished; further calls wait for room.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import attrs

from ._errors import (
    APIError,
    ClientClosedError,
    ConflictError,
    HubEngageError,
    ValidationError,
)
from ._limiter import Bucket
from ._matching import FingerprintSet, canonical, fingerprint
from ._multistatus import decode
from ._objecttypes import resolve_object_type
from ._pipeline import RequestPipeline
from ._stats import ClientStats
from ._transport import Request, path_segment
from .models import CrmObject

__all__ = [
    "DEFAULT_MAX_IN_FLIGHT",
    "DEFAULT_MAX_PENDING",
    "MAX_BATCH_SIZE",
    "Batcher",
]

logger = logging.getLogger("hubengage")

#: HubSpot's limit on inputs per batch request.
MAX_BATCH_SIZE = 100
#: Batch requests one client keeps in flight at once, by default.
DEFAULT_MAX_IN_FLIGHT = 16
#: Calls accepted but not yet completed, by default; further calls wait for room.
DEFAULT_MAX_PENDING = 10_000
#: How far past the head a create drain looks for items distinct from those already taken.
_CREATE_SCAN_LIMIT = 1_000

CREATE, READ, UPDATE, UPSERT, ARCHIVE = "create", "read", "update", "upsert", "archive"


class _Item:
    """One call waiting for its outcome (also the decoder's :class:`SentInput`)."""

    __slots__ = (
        "associations",
        "chain",
        "fingerprint",
        "finished",
        "future",
        "key",
        "on_sent",
        "properties",
        "queue",
        "trace_id",
    )

    def __init__(
        self,
        future: asyncio.Future[Any],
        queue: _Queue,
        *,
        key: str | None = None,
        properties: dict[str, str] | None = None,
        associations: list[dict[str, Any]] | None = None,
        trace_id: str | None = None,
        chain: tuple[Hashable, ...] | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> None:
        self.future = future
        self.queue = queue
        self.key = key
        self.properties = properties
        self.associations = associations
        self.trace_id = trace_id
        self.chain = chain
        self.on_sent = on_sent
        self.finished = False
        #: The create's fingerprint (``_matching``), computed when a batch needs it.
        self.fingerprint: Any = None


class _Queue:
    """The items of one (object type, operation, group) and its dispatcher task."""

    __slots__ = ("archived", "dispatcher", "full", "id_property", "items", "object_type", "op",
                 "path", "read_properties", "unmatchable")

    def __init__(
        self,
        object_type: str,
        op: str,
        *,
        id_property: str | None,
        read_properties: tuple[str, ...] = (),
        archived: bool = False,
    ) -> None:
        self.object_type = object_type
        self.op = op
        self.id_property = id_property
        self.read_properties = read_properties
        self.archived = archived
        self.path = f"/crm/v3/objects/{path_segment(object_type, field='object_type')}/batch/{op}"
        known = resolve_object_type(object_type)
        #: Properties a returned record cannot be recognised by (``_matching``).
        self.unmatchable = known.unmatchable if known is not None else frozenset()
        self.items: deque[_Item] = deque()
        self.dispatcher: asyncio.Task[None] | None = None
        #: Set while a partial batch waits for pacing; resolved when a full batch is queued.
        self.full: asyncio.Future[None] | None = None


class Batcher:
    """Coalesces single-record calls into batch requests; one per client.

    ``max_in_flight`` bounds concurrent batch requests; ``max_pending`` bounds calls accepted
    and not yet completed. Resources call :meth:`create`, :meth:`read`, :meth:`update`,
    :meth:`upsert` and :meth:`archive` (or :meth:`submit` for the bulk API, which wants the
    future without a task per item).
    """

    def __init__(
        self,
        pipeline: RequestPipeline,
        *,
        stats: ClientStats,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._pipeline = pipeline
        self._stats = stats
        self.max_in_flight = max_in_flight
        self.max_pending = max_pending
        self._in_flight: asyncio.Semaphore | None = None
        self._queues: dict[tuple[Any, ...], _Queue] = {}
        self._chains: dict[tuple[Hashable, ...], deque[_Item]] = {}
        self._live: set[asyncio.Future[Any]] = set()
        #: Set while no call is live (``aclose`` waits on it; no polling).
        self._idle = asyncio.Event()
        self._idle.set()
        self._room_waiters: deque[asyncio.Future[None]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._trace_prefix = f"he{secrets.token_hex(4)}-"
        self._trace_counter = itertools.count(1)
        #: Learned from responses: does HubSpot echo trace ids on successful creates?
        self.trace_ids_echoed: bool | None = None

    # -- public coroutines ------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Calls accepted and not yet completed (queued or in flight)."""
        return len(self._live)

    async def create(
        self,
        object_type: str,
        properties: dict[str, str],
        associations: list[dict[str, Any]] | None = None,
    ) -> CrmObject:
        """Create one record through ``batch/create``."""
        fut = await self.submit(object_type, CREATE, properties=properties,
                                associations=associations)
        result: CrmObject = await fut
        return result

    async def read(
        self,
        object_type: str,
        record_id: str,
        properties: tuple[str, ...] = (),
        archived: bool = False,
        id_property: str | None = None,
    ) -> CrmObject:
        """Read one record through ``batch/read``."""
        fut = await self.submit(object_type, READ, key=record_id, read_properties=properties,
                                archived=archived, id_property=id_property)
        result: CrmObject = await fut
        return result

    async def update(
        self,
        object_type: str,
        record_id: str,
        properties: dict[str, str],
        id_property: str | None = None,
    ) -> CrmObject:
        """Update one record through ``batch/update``."""
        fut = await self.submit(object_type, UPDATE, key=record_id, properties=properties,
                                id_property=id_property)
        result: CrmObject = await fut
        return result

    async def upsert(
        self, object_type: str, id_value: str, properties: dict[str, str], id_property: str
    ) -> CrmObject:
        """Create or update one record by a unique property through ``batch/upsert``."""
        fut = await self.submit(object_type, UPSERT, key=id_value, properties=properties,
                                id_property=id_property)
        result: CrmObject = await fut
        return result

    async def archive(self, object_type: str, record_id: str) -> None:
        """Archive one record through ``batch/archive``."""
        fut = await self.submit(object_type, ARCHIVE, key=record_id)
        await fut

    async def submit(
        self,
        object_type: str,
        op: str,
        *,
        key: str | None = None,
        properties: dict[str, str] | None = None,
        associations: list[dict[str, Any]] | None = None,
        id_property: str | None = None,
        read_properties: tuple[str, ...] = (),
        archived: bool = False,
        on_sent: Callable[[], None] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue one call (after waiting for room) and return the future of its outcome.

        The future's result is the record (``None`` for archive) or its own exception.
        Cancelling the future before the item is sent removes the item. ``on_sent`` is
        called right before the request carrying the item is first sent.
        """
        if self._room_waiters or len(self._live) >= self.max_pending:
            await self._wait_for_room()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        trace_id = None
        if op in (CREATE, UPDATE, UPSERT):
            trace_id = f"{self._trace_prefix}{next(self._trace_counter)}"
        chain = None
        if key is not None:
            # HubSpot may treat "A@x.com" and "a@x.com", or "0123" and "123", as one record.
            chain = (object_type, id_property or "", canonical(key))
        group: tuple[Any, ...]
        if op == READ:
            group = (object_type, op, id_property, read_properties, archived)
        elif op in (UPDATE, UPSERT):
            group = (object_type, op, id_property)
        else:
            group = (object_type, op)
        queue = self._queues.get(group)
        if queue is None:
            queue = _Queue(
                object_type, op, id_property=id_property,
                read_properties=read_properties, archived=archived,
            )
            self._queues[group] = queue
        item = _Item(future, queue, key=key, properties=properties, associations=associations,
                     trace_id=trace_id, chain=chain, on_sent=on_sent)
        self._live.add(future)
        self._idle.clear()
        if chain is not None:
            waiting = self._chains.get(chain)
            if waiting is not None:
                # An earlier call on this record is queued or in flight: go after it.
                waiting.append(item)
                return future
            self._chains[chain] = deque()
        self._enqueue(item)
        return future

    async def flush(self) -> None:
        """Wait until every call accepted so far has completed (or been cancelled)."""
        pending = list(self._live)
        if pending:
            await asyncio.wait(pending)

    async def aclose(self) -> None:
        """Send everything queued, wait for every outcome, then for the dispatchers."""
        await self._idle.wait()
        while self._tasks:
            await asyncio.wait(list(self._tasks))
        dispatchers = [q.dispatcher for q in self._queues.values() if q.dispatcher is not None]
        if dispatchers:
            await asyncio.wait(dispatchers)

    # -- queueing ---------------------------------------------------------------------------

    def _enqueue(self, item: _Item) -> None:
        queue = item.queue
        queue.items.append(item)
        full = queue.full
        if full is not None and len(queue.items) >= MAX_BATCH_SIZE and not full.done():
            full.set_result(None)
        if queue.dispatcher is None:
            queue.dispatcher = asyncio.get_running_loop().create_task(self._dispatch(queue))

    async def _wait_for_room(self) -> None:
        loop = asyncio.get_running_loop()
        while self._room_waiters or len(self._live) >= self.max_pending:
            waiter: asyncio.Future[None] = loop.create_future()
            self._room_waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # pass the room we were given to the next waiter
                else:
                    self._room_waiters.remove(waiter)
                raise
            if len(self._live) < self.max_pending:
                return

    def _wake_one(self) -> None:
        while self._room_waiters:
            waiter = self._room_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _release(self, future: asyncio.Future[Any]) -> None:
        """A call is over: it no longer counts against ``max_pending`` (no polling: a call
        cancelled while queued is released when its queue reaches it, within one slot)."""
        self._live.discard(future)
        if self._room_waiters:
            self._wake_one()
        if not self._live:
            self._idle.set()

    def _finish(self, item: _Item) -> None:
        """Forget a finished (or cancelled) item; start the next call on its record."""
        if item.finished:
            return
        item.finished = True
        self._release(item.future)
        if item.chain is None:
            return
        waiting = self._chains.get(item.chain)
        while waiting:
            nxt = waiting.popleft()
            if nxt.future.done():  # cancelled while it waited behind this one
                nxt.finished = True
                self._release(nxt.future)
                continue
            self._enqueue(nxt)
            return
        self._chains.pop(item.chain, None)

    def _resolve(self, item: _Item, outcome: CrmObject | BaseException | None) -> None:
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

    async def _dispatch(self, queue: _Queue) -> None:
        """Take a permit and a slot, then drain what is queued into one batch; repeat."""
        if self._in_flight is None:
            self._in_flight = asyncio.Semaphore(self.max_in_flight)
        permits = self._in_flight
        limiter = self._pipeline.limiter
        try:
            while queue.items:
                await permits.acquire()
                try:
                    deadline = limiter.clock.now() + self._pipeline.retry.config.max_elapsed_seconds
                    slot = await limiter.acquire(Bucket.BURST, deadline=deadline)
                except HubEngageError as exc:  # daily quota spent, deadline, closed: fail all
                    permits.release()
                    for item in self._drain(queue, len(queue.items)):
                        self._resolve(item, exc)
                    continue
                except BaseException:
                    permits.release()
                    raise
                batch: list[_Item] = []
                try:
                    await self._linger(queue)
                    batch = self._drain(queue, MAX_BATCH_SIZE)
                finally:
                    if not batch:  # cancelled while lingering, or nothing left to send
                        limiter.abandon(slot)
                        permits.release()
                if not batch:
                    continue
                if len(batch) < MAX_BATCH_SIZE:
                    limiter.spend_pacing(Bucket.BURST)
                task = asyncio.get_running_loop().create_task(
                    self._run_batch(queue, batch, slot, permits)
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            queue.dispatcher = None

    async def _linger(self, queue: _Queue) -> None:
        """Hold a partial batch until the limiter's pacing allows it or the queue fills.

        Calls made meanwhile join the batch (see "Pacing partial batches" in
        ``_limiter.py``); an idle client never waits here.
        """
        if len(queue.items) >= MAX_BATCH_SIZE:
            return
        limiter = self._pipeline.limiter
        delay = limiter.pacing_delay(Bucket.BURST)
        if delay <= 0:
            return
        loop = asyncio.get_running_loop()
        full = queue.full = loop.create_future()
        sleeper = loop.create_task(limiter.clock.sleep(delay))
        try:
            await asyncio.wait((full, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            queue.full = None
            full.cancel()
            if not sleeper.done():
                sleeper.cancel()
                await asyncio.wait((sleeper,))

    def _drain(self, queue: _Queue, limit: int) -> list[_Item]:
        """Take up to ``limit`` live items from the head of ``queue``.

        Creates whose results HubSpot's echo could not tell apart stay queued for a later
        batch, unless HubSpot is known to echo trace ids.
        """
        items = queue.items
        batch: list[_Item] = []
        distinct = queue.op == CREATE and self.trace_ids_echoed is not True
        taken = FingerprintSet()
        deferred: list[_Item] = []
        scanned = 0
        while items and len(batch) < limit:
            item = items.popleft()
            if item.future.done():  # its caller was cancelled before it was sent
                self._finish(item)
                continue
            if distinct:
                scanned += 1
                fp = item.fingerprint
                if fp is None:
                    fp = item.fingerprint = fingerprint(item.properties or {}, queue.unmatchable)
                if not taken.admits(fp):
                    deferred.append(item)
                    if scanned >= _CREATE_SCAN_LIMIT:
                        break
                    continue
                taken.add(fp)
            batch.append(item)
        if deferred:
            items.extendleft(reversed(deferred))
        return batch

    async def _run_batch(
        self, queue: _Queue, batch: list[_Item], slot: Any, permits: asyncio.Semaphore
    ) -> None:
        try:
            await self._send(queue, batch, slot)
        except asyncio.CancelledError:
            error = ClientClosedError("the client was closed while this call was in flight")
            for item in batch:
                self._resolve(item, error)
            raise
        except Exception as exc:  # a bug: never leave a caller hanging
            logger.exception("hubengage: unexpected error sending %s", queue.path)
            for item in batch:
                self._resolve(item, exc)
        finally:
            permits.release()

    def _request(self, queue: _Queue, batch: Sequence[_Item]) -> Request:
        op = queue.op
        params: tuple[tuple[str, str], ...] = ()
        body: dict[str, Any]
        if op == CREATE:
            inputs: list[dict[str, Any]] = []
            for item in batch:
                entry: dict[str, Any] = {
                    "properties": item.properties,
                    "objectWriteTraceId": item.trace_id,
                }
                if item.associations:
                    entry["associations"] = item.associations
                inputs.append(entry)
            body = {"inputs": inputs}
        elif op in (UPDATE, UPSERT):
            idp = queue.id_property
            if idp:
                body = {"inputs": [
                    {"id": item.key, "idProperty": idp, "properties": item.properties,
                     "objectWriteTraceId": item.trace_id}
                    for item in batch
                ]}
            else:
                body = {"inputs": [
                    {"id": item.key, "properties": item.properties,
                     "objectWriteTraceId": item.trace_id}
                    for item in batch
                ]}
        elif op == READ:
            props = list(queue.read_properties)
            if queue.id_property:
                # The decoder maps results back by this property's value: ask for it.
                if not props:
                    known = resolve_object_type(queue.object_type)
                    props = list(known.default_properties) if known else []
                if queue.id_property not in props:
                    props.append(queue.id_property)
            body = {"inputs": [{"id": item.key} for item in batch], "properties": props,
                    "propertiesWithHistory": []}
            if queue.id_property:
                body["idProperty"] = queue.id_property
            params = (("archived", "true" if queue.archived else "false"),)
        else:
            body = {"inputs": [{"id": item.key} for item in batch]}
        return Request(method="POST", path=queue.path, params=params, json=body,
                       endpoint=f"batch/{op}")

    async def _send(self, queue: _Queue, batch: list[_Item], slot: Any) -> None:
        """Send one batch (retries inside the pipeline) and resolve every item in it."""
        if any(item.future.done() for item in batch):
            # Callers cancelled between the drain and now: those items are not sent.
            for item in batch:
                if item.future.done():
                    self._finish(item)
            batch = [item for item in batch if not item.future.done()]
            if not batch:
                self._pipeline.limiter.abandon(slot)
                return
        for item in batch:
            if item.on_sent is not None:
                callback, item.on_sent = item.on_sent, None
                callback()
        stats = self._stats
        stats.batches += 1
        stats.items_sent += len(batch)
        stats.batch_sizes[len(batch)] += 1
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("sending %s with %d items", queue.path, len(batch))
        request = self._request(queue, batch)
        try:
            response = await self._pipeline.send(request, slot=slot)
        except (ValidationError, ConflictError) as exc:
            await self._rejected(queue, batch, exc)
            return
        except HubEngageError as exc:
            for item in batch:
                self._resolve(item, exc)
            return
        decoded = decode(queue.op, batch, response, id_property=queue.id_property,
                         unmatchable=queue.unmatchable)
        outcomes = decoded.outcomes
        if queue.op == CREATE:
            if decoded.trace_ids_echoed is not None and self.trace_ids_echoed is not False:
                # Once a result has come back without its trace id, assume none will.
                self.trace_ids_echoed = decoded.trace_ids_echoed
            if response.uncertain_attempts:
                outcomes = self._mark_possible_duplicates(queue, outcomes)
        if decoded.unclaimed:
            self._unclaimed(queue, outcomes, decoded.unclaimed, response.correlation_id)
        for item, outcome in zip(batch, outcomes, strict=True):
            self._resolve(item, outcome)

    def _unclaimed(
        self,
        queue: _Queue,
        outcomes: Sequence[CrmObject | HubEngageError | None],
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
        creates = queue.op in (CREATE, UPSERT)
        if creates:
            stats.possible_duplicates += len(stray)
            stats.possible_duplicate_ids.extend(stray)
        logger.warning(
            "%s (correlation id %s) returned %d result(s) no call could claim without guessing"
            "%s: %s%s",
            queue.path, correlation_id, len(stray),
            "; these records exist and may duplicate an input whose outcome is unknown"
            if creates else "",
            ", ".join(stray[:10]), ", ..." if len(stray) > 10 else "",
        )

    def _mark_possible_duplicates(
        self, queue: _Queue, outcomes: Sequence[CrmObject | HubEngageError | None]
    ) -> list[CrmObject | HubEngageError | None]:
        """This create batch succeeded after an attempt HubSpot may have written too."""
        marked = [
            attrs.evolve(o, possible_duplicate=True) if isinstance(o, CrmObject) else o
            for o in outcomes
        ]
        ids = [o.id for o in marked if isinstance(o, CrmObject)]
        self._stats.possible_duplicates += len(ids)
        self._stats.possible_duplicate_ids.extend(ids)
        logger.warning(
            "%s succeeded after an attempt HubSpot may also have written; these %d records "
            "may exist twice (marked possible_duplicate): %s%s",
            queue.path, len(ids), ", ".join(ids[:10]), ", ..." if len(ids) > 10 else "",
        )
        return marked

    async def _rejected(self, queue: _Queue, batch: list[_Item], exc: APIError) -> None:
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
            "%s rejected the whole batch of %d (%s); bisecting to isolate the bad inputs",
            queue.path, len(batch), exc,
        )
        await asyncio.gather(
            self._send(queue, batch[:mid], None), self._send(queue, batch[mid:], None)
        )


def _named_items(batch: Sequence[_Item], context: Mapping[str, Sequence[str]]) -> set[_Item]:
    """The items a whole-batch error's ``context`` names by trace id or id."""
    traces = {str(t) for t in context.get("objectWriteTraceId") or ()}
    ids = {str(i) for i in context.get("ids") or ()}
    if not traces and not ids:
        return set()
    return {
        item for item in batch
        if (item.trace_id is not None and item.trace_id in traces)
        or (item.key is not None and item.key in ids)
    }
