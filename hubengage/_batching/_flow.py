"""Flow control: at most ``max_pending`` calls accepted and unfinished; the rest wait.

Calls wait for room first in, first out, and a waiter cancelled after it was given room
passes the room on. :meth:`FlowControl.idle` is how ``aclose`` waits for every call without
polling.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

__all__ = ["FlowControl"]


class FlowControl:
    """Counts live calls (by their futures) against ``max_pending``."""

    __slots__ = ("_idle", "_live", "_waiters", "max_pending")

    def __init__(self, max_pending: int) -> None:
        self.max_pending = max_pending
        self._live: set[asyncio.Future[Any]] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def pending(self) -> int:
        """Calls accepted and not yet finished."""
        return len(self._live)

    def live(self) -> list[asyncio.Future[Any]]:
        """The futures of the calls accepted and not yet finished."""
        return list(self._live)

    async def admit(self, future: asyncio.Future[Any]) -> None:
        """Wait for room, then count ``future`` as live."""
        if self._waiters or len(self._live) >= self.max_pending:
            await self._wait_for_room()
        self._live.add(future)
        self._idle.clear()

    def release(self, future: asyncio.Future[Any]) -> None:
        """The call is over: free its room (idempotent)."""
        if future not in self._live:
            return
        self._live.discard(future)
        if self._waiters:
            self._wake_one()
        if not self._live:
            self._idle.set()

    async def idle(self) -> None:
        """Wait until no call is live."""
        await self._idle.wait()

    async def _wait_for_room(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiters or len(self._live) >= self.max_pending:
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # pass the room we were given to the next waiter
                elif waiter in self._waiters:  # a release may have popped it already
                    self._waiters.remove(waiter)
                raise
            if len(self._live) < self.max_pending:
                return

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
