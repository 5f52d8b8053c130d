"""Batch assembly: queued calls, and the drain that turns a queue's head into one batch.

One :class:`Queue` per (object type, operation, and what a batch body shares: ``idProperty``,
read properties, archived flag), and per-call options: calls made through views with different
options (``hs.with_options(...)``) never share a batch, so each batch is sent under the
options of every call in it. :func:`drain` takes up to 100 live items from its head,
leaving behind creates that HubSpot's echo could not tell apart from ones already taken
(``_matching``), unless HubSpot is known to echo trace ids.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from .._calls import Call, Op
from .._constants import CREATE_SCAN_LIMIT, MAX_BATCH_SIZE, MAX_HISTORY_BATCH_SIZE
from .._matching import Fingerprint, FingerprintSet, fingerprint

__all__ = ["Item", "Queue", "drain", "queue_key"]


class Item:
    """One call waiting for its outcome: what the batcher and the decoder know of it."""

    __slots__ = (
        "call",
        "chain",
        "fingerprint",
        "finished",
        "future",
        "key",
        "on_sent",
        "properties",
        "queue",
        "queued",
        "sent",
        "to_id",
        "trace_id",
    )

    def __init__(
        self,
        call: Call,
        future: asyncio.Future[Any],
        queue: Queue,
        *,
        trace_id: str | None,
        chain: Hashable | None,
        on_sent: Callable[[], None] | None,
    ) -> None:
        self.call = call
        self.future = future
        self.queue = queue
        self.trace_id = trace_id
        self.chain = chain
        self.on_sent = on_sent
        self.finished = False
        #: Admitted by the sequencer (head of its record's chain): in its queue or a batch.
        self.queued = False
        #: In a request that left (or is leaving): its caller can no longer withdraw it.
        self.sent = False
        # What the multi-status decoder reads (``SentInput``).
        self.key = call.key
        self.properties = call.properties
        link = call.link
        self.to_id = link.to_id if link is not None else None
        #: The create's fingerprint (``_matching``), computed when a batch needs it.
        self.fingerprint: Fingerprint | None = None

    def cancelled(self) -> bool:
        """True when the caller gave up on the call (its future is done without us)."""
        return self.future.done()


def queue_key(call: Call) -> tuple[Any, ...]:
    """What calls must share to ride in one batch request (their options included)."""
    op = call.op
    if op is Op.CREATE or op is Op.ARCHIVE:  # the hot path
        return (call.target.name, op, call.options)
    if op is Op.READ:
        return (call.target.name, op, call.id_property, call.read_properties,
                call.archived, call.history, call.options)
    if op is Op.UPDATE or op is Op.UPSERT:
        return (call.target.name, op, call.id_property, call.options)
    link = call.link
    assert link is not None  # one v4 endpoint per pair of types and typed-or-not
    return (call.target.name, op, link.to.name, link.types is None, call.options)


class Queue:
    """The items of one queue key, and the dispatcher task that sends them."""

    __slots__ = ("dispatcher", "full", "items", "op", "options", "size", "unmatchable")

    def __init__(self, call: Call) -> None:
        self.op = call.op
        #: The per-call options every call in this queue shares (part of its key).
        self.options = call.options
        #: Inputs per request: HubSpot's batch size, smaller for reads with history.
        self.size = MAX_HISTORY_BATCH_SIZE if call.history else MAX_BATCH_SIZE
        self.unmatchable = call.target.unmatchable
        self.items: deque[Item] = deque()
        self.dispatcher: asyncio.Task[None] | None = None
        #: Set while a partial batch lingers for pacing; resolved when the queue fills.
        self.full: asyncio.Future[None] | None = None


def drain(
    queue: Queue, limit: int, *, distinct: bool, finish: Callable[[Item], None]
) -> list[Item]:
    """Take up to ``limit`` live items from the head of ``queue``.

    Items whose callers were cancelled are finished and skipped. With ``distinct`` (creates
    while HubSpot is not known to echo trace ids), an item indistinguishable from one
    already taken stays queued for a later batch; at most ``CREATE_SCAN_LIMIT`` items past
    the head are looked at.
    """
    items = queue.items
    batch: list[Item] = []
    taken = FingerprintSet() if distinct else None
    deferred: list[Item] = []
    scanned = 0
    while items and len(batch) < limit:
        item = items.popleft()
        if item.future.done():  # its caller was cancelled before it was sent
            finish(item)
            continue
        if taken is not None:
            scanned += 1
            fp = item.fingerprint
            if fp is None:
                fp = item.fingerprint = fingerprint(item.properties or {}, queue.unmatchable)
            if not taken.admits(fp):
                deferred.append(item)
                if scanned >= CREATE_SCAN_LIMIT:
                    break
                continue
            taken.add(fp)
        batch.append(item)
    if deferred:
        items.extendleft(reversed(deferred))
    return batch
