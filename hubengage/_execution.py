"""How a single-record call is carried out: one interface, two executors, chosen once.

A resource turns ``hs.emails.create(Email(...))`` into a :class:`Call` (what to do, to which
record, with which properties) and hands it to the client's :class:`Executor`, without
knowing which one it is:

- :class:`DirectExecutor` sends each call on its own single-record endpoint (``POST``,
  ``GET``, ``PATCH``, ``DELETE``; upserts as a one-input ``batch/upsert``, HubSpot has no
  single upsert);
- the batcher (``hubengage._batching.Batcher``) coalesces calls into 100-input batch
  requests.

Both build their requests in :mod:`hubengage._requests`, send them through the one request
pipeline, and read the answer with the one decoder (:mod:`hubengage._multistatus`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from ._calls import Call, Op
from ._multistatus import decode, decode_record
from ._pipeline import RequestPipeline
from ._requests import single_request
from .models import CrmObject

__all__ = ["DirectExecutor", "Executor", "OnSent"]


#: Runs right before the request carrying a call first leaves (for journals).
OnSent = Callable[[], None]


class Executor(Protocol):
    """Carries out calls. One per client; resources use it without knowing which it is."""

    @property
    def pending(self) -> int:
        """Calls accepted and not yet finished."""
        ...

    async def run(self, call: Call) -> CrmObject | None:
        """Carry out one call; its record (None for an archive) or its own error."""
        ...

    async def submit(self, call: Call, on_sent: OnSent | None = None) -> asyncio.Future[Any]:
        """Accept one call (after waiting for room) and return the future of its outcome."""
        ...

    async def flush(self) -> None:
        """Wait until every call accepted so far is finished."""
        ...

    async def aclose(self) -> None:
        """Finish every call accepted (sending what is queued), then stop."""
        ...


class DirectExecutor:
    """Each call on its own single-record endpoint, through the request pipeline."""

    def __init__(self, pipeline: RequestPipeline) -> None:
        self._pipeline = pipeline
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def pending(self) -> int:
        """Submitted calls not yet finished (calls awaited through :meth:`run` excluded)."""
        return len(self._tasks)

    async def run(self, call: Call, on_sent: OnSent | None = None) -> CrmObject | None:
        """Send the call's request and read its record (or raise its error).

        ``on_sent`` runs once the request has its rate-limit slot, right before it leaves:
        a call cancelled before then was never sent.
        """
        request = single_request(call)
        if on_sent is None:
            response = await self._pipeline.send(request, options=call.options)
        else:
            reservation = await self._pipeline.reserve(options=call.options)
            try:
                on_sent()
            except BaseException:
                await reservation.abandon()
                raise
            response = await reservation.send(request)
        if call.op is Op.ARCHIVE:
            return None
        if call.op is Op.UPSERT or request.endpoint.startswith("v4 batch"):
            outcome = decode(call.op, [call], response, id_property=call.id_property)
            result = outcome.outcomes[0]
            if isinstance(result, BaseException):
                raise result
            return result
        if call.op is Op.LINK or call.op is Op.UNLINK:
            return None  # a 2xx from the single-pair endpoint: done
        return decode_record(call.op, response)

    async def submit(self, call: Call, on_sent: OnSent | None = None) -> asyncio.Future[Any]:
        """Run the call as a task of its own (the bulk API wants a future per input).

        Cancelling the future before the call has its rate-limit slot withdraws it."""
        task = asyncio.get_running_loop().create_task(self.run(call, on_sent))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def flush(self) -> None:
        """Wait for every submitted call."""
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    async def aclose(self) -> None:
        """Wait for every submitted call (calls awaited through :meth:`run` are the
        pipeline's to wait for)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))
