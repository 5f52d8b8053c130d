"""A manual clock for tests: time stands still until the test moves it.

``ManualClock`` implements :class:`hubengage._clock.Clock`. ``sleep(d)`` parks the caller on a
future until a test calls ``await clock.advance(...)`` (or ``advance_to``) past its deadline.
``advance`` wakes sleepers in deadline order, setting ``now()`` to each sleeper's exact
deadline before waking it and letting the event loop run until it is idle, so a woken task
that immediately sleeps again (or wakes others) is handled inside the same ``advance`` call.
No test ever waits on a real clock::

    clock = ManualClock()
    limiter = RateLimiter(RateLimits(requests_per_interval=2, interval_seconds=10), clock=clock)
    task = asyncio.create_task(limiter.acquire())
    await clock.advance(10.0)

Import it from other tests as ``from tests._clock import ManualClock``; ``settle()`` is the
same "run the loop until idle" for tests on the real clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

__all__ = ["ManualClock", "settle"]

#: Upper bound on event-loop turns ``settle()`` spends waiting for the loop to go idle.
MAX_SETTLE_ROUNDS = 1_000


class ManualClock:
    """A :class:`~hubengage._clock.Clock` whose time moves only when the test says so."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        #: How many times ``sleep`` parked a caller (handy for "no busy polling" checks).
        self.sleep_calls = 0

    def now(self) -> float:
        """The current manual time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Park until the clock is advanced by ``seconds``; ``<= 0`` just yields once."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        self.sleep_calls += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many sleepers are parked (cancelled ones excluded)."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    def next_wakeup(self) -> float | None:
        """The earliest deadline of a parked sleeper, or None when nobody sleeps."""
        self._drop_cancelled()
        return self._sleepers[0][0] if self._sleepers else None

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking every sleeper due on the way, in order."""
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go backwards")
        await self.advance_to(self._now + seconds)

    async def advance_to(self, when: float) -> None:
        """Move time forward to ``when`` (no-op if it is in the past), waking due sleepers."""
        while True:
            deadline = self.next_wakeup()
            if deadline is None or deadline > when:
                break
            self._now = max(self._now, deadline)
            self._wake_due()
            await self.settle()
        self._now = max(self._now, when)
        await self.settle()

    async def run_until_idle(self, *, limit: float = 1e9) -> None:
        """Advance sleeper by sleeper until nobody sleeps (or time would pass ``limit``)."""
        await self.settle()
        while (deadline := self.next_wakeup()) is not None and deadline <= limit:
            await self.advance_to(deadline)

    async def settle(self) -> None:
        """Let the event loop run until it has nothing ready, without moving time."""
        await settle()

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now!r}, sleepers={self.sleepers})"


async def settle() -> None:
    """Let the event loop run until it has nothing ready (timers are not waited for).

    The explicit "let everything that can happen now happen" of a test, for any clock: it
    never waits on real time, so it replaces ``await asyncio.sleep(0.01)``.
    """
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)  # CPython's queue of runnable callbacks
    for round_ in range(MAX_SETTLE_ROUNDS):
        await asyncio.sleep(0)
        if ready is None:
            if round_ >= 50:  # unknown loop: a generous fixed number of turns
                return
        elif not ready:
            return
