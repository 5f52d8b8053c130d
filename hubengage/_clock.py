"""The clock the rate limiter reads and sleeps on.

This module owns one tiny seam: *where time comes from*. The limiter never calls
``asyncio.sleep`` or ``loop.time()`` itself; it asks a :class:`Clock`. Production code uses
:class:`LoopClock` (the running event loop's monotonic time and ``asyncio.sleep``), and tests
inject a manual clock (``tests/_clock.py``) so that a ten-second rate-limit window passes in
microseconds and every wake-up happens at an exact, reproducible instant.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "LoopClock"]


@runtime_checkable
class Clock(Protocol):
    """A monotonic time source with a matching sleep.

    ``now()`` returns monotonic seconds (any epoch; only differences matter) and ``sleep``
    returns once ``now()`` has advanced by at least ``seconds``. Both must agree: a limiter
    that sleeps until ``now() + d`` relies on reading ``now() >= that`` afterwards (give or
    take the clock's resolution).
    """

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` of this clock's time have passed (at once when <= 0)."""
        ...


class LoopClock:
    """The default clock: the running event loop's ``time()`` and ``asyncio.sleep``.

    Reading the loop's clock (rather than ``time.monotonic`` directly) keeps ``now()`` and
    ``sleep()`` on the same time base under any event loop implementation. Outside a running
    loop ``now()`` falls back to ``time.monotonic()``, the default loop's own source, so a
    ``snapshot()`` taken from synchronous code still reads sensibly.
    """

    def now(self) -> float:
        """The running loop's monotonic time in seconds."""
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep(seconds)``; negative values sleep for zero."""
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "LoopClock()"
