"""HubSpot's request budgets: the rolling burst window, the daily quota, the search bucket.

HubSpot counts a request against its rolling window when the request *arrives*, and a window of
``MAX`` requests per ``INTERVAL`` admits at most ``MAX`` arrivals in any ``INTERVAL``
(``docs/hubspot-wire.md`` §1). The client cannot see arrival times, so it uses a rule that is safe
for any arrival instant between the moment it takes a slot and the moment the response comes back:

    admit a new request at time ``t`` iff
        in_flight + #{released r : r + INTERVAL > t} + phantoms  <  MAX

Proof sketch: a request admitted at ``t`` arrives at some ``a >= t``. Every request of ours
that HubSpot counts at ``a`` arrived in ``(a - INTERVAL, a]``; it is either still in flight at
``t`` (counted), or was released at ``r >= its arrival > a - INTERVAL``, hence
``r + INTERVAL > a >= t`` (counted). So no admitted request can be the ``MAX + 1``-th in
any window, whatever the latency. ``phantoms`` are requests *others* made on the same token,
seen through ``X-HubSpot-RateLimit-Remaining`` (calibration); a 429 pauses the bucket.

Why not ``aiolimiter.AsyncLimiter``: it is a leaky bucket that drips capacity back
continuously (``MAX / INTERVAL`` per second). After a full burst of ``MAX`` it admits new
requests within the same rolling window, which HubSpot answers with 429. The rule above
frees a slot exactly ``INTERVAL`` after its response, which is both safe and lets a
saturated client send ``MAX`` requests per ``INTERVAL`` plus latency: the physical limit.

Pacing partial batches. The rule above says how many requests *may* go; it does not say how
to spend them. A steady stream of single calls sent one per request as they arrive spends the
whole window in its first moments and then waits for the rest of the interval, so calls made
in that gap wait up to ``INTERVAL``. So the batcher asks :meth:`RateLimiter.pacing_delay`
before it sends a *partial* batch (fewer than 100 items): partial batches spend a second,
smooth budget, a GCRA/token bucket with a burst of ``B = MAX // 10`` (at least 1) that
refills at ``(MAX - B) / INTERVAL`` per second, so burst + one interval of refill never
exceeds ``MAX``. While a partial batch waits for pacing, calls keep joining it; a full batch
never waits for pacing, only for the window. An idle client still sends a lone call at once;
a client under a steady stream sends a request every ``INTERVAL / (MAX - B)`` seconds with
whatever arrived, never stalling for a whole window. The price: callers that can never fill
a batch (fewer than 100 concurrent calls, all waiting on each other) get 90 % of the
window's requests rather than 100 % in bursts. ``RateLimits(pacing=False)`` turns it off
(every batch goes as soon as the window admits it).

Waiters are served first in, first out; one waker task per bucket sleeps on the injected
:class:`~hubengage._clock.Clock` until the next slot frees, so tests control time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import heapq
from collections.abc import Mapping
from typing import Any

import attrs
from attrs.validators import gt, optional

from ._clock import Clock, LoopClock
from ._constants import (
    BURST_INTERVAL_SECONDS,
    DEFAULT_DAILY_COOLDOWN,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_MAX_RETRY_AFTER,
    MAX_BURST_PER_INTERVAL,
    SEARCH_INTERVAL_SECONDS,
    SEARCH_PER_INTERVAL,
)
from ._errors import (
    ClientClosedError,
    DailyLimitError,
    DeadlineExceededError,
    HubEngageError,
    RateLimitError,
    invalid_input,
)

__all__ = ["Bucket", "RateLimiter", "RateLimits", "Slot"]


class Bucket(enum.Enum):
    """Which budget a request spends: the burst window, or the search API's own bucket."""

    BURST = "burst"
    SEARCH = "search"


_POSITIVE = invalid_input(gt(0))


@attrs.frozen(kw_only=True)
class RateLimits:
    """The budgets the client keeps to (HubSpot's Free/Starter private-app defaults).

    ``requests_per_interval`` per ``interval_seconds`` is the burst window (100 / 10 s;
    190 for Professional and Enterprise, 250 with the API limit add-on). ``daily`` is the
    account's daily quota (None: no local count; the ``X-HubSpot-RateLimit-Daily-Remaining``
    header and a ``DAILY`` 429 still stop the client). ``search_per_second`` requests per
    ``search_interval_seconds`` is the search API's bucket (5 / 1 s). With ``calibrate``
    the limiter tightens itself to the ``X-HubSpot-RateLimit-*`` headers HubSpot sends
    (a lower ``Max``, a longer interval, requests made by other apps on the same token).
    After the daily quota is spent, calls fail fast with ``DailyLimitError`` for
    ``daily_cooldown_seconds`` before one request probes again. With ``pacing`` (the
    default), partial batches are spread over the window instead of spending it at once
    (see the module docstring); full batches are never delayed by it.
    """

    requests_per_interval: int = attrs.field(default=MAX_BURST_PER_INTERVAL, validator=_POSITIVE)
    interval_seconds: float = attrs.field(default=BURST_INTERVAL_SECONDS, validator=_POSITIVE)
    daily: int | None = attrs.field(default=DEFAULT_DAILY_LIMIT,
                                    validator=invalid_input(optional(gt(0))))
    search_per_second: int = attrs.field(default=SEARCH_PER_INTERVAL, validator=_POSITIVE)
    search_interval_seconds: float = attrs.field(default=SEARCH_INTERVAL_SECONDS,
                                                 validator=_POSITIVE)
    calibrate: bool = True
    daily_cooldown_seconds: float = attrs.field(default=DEFAULT_DAILY_COOLDOWN,
                                                validator=_POSITIVE)
    pacing: bool = True


class _Waiter:
    """One ``acquire`` waiting for a slot: its future and the time it gives up at."""

    __slots__ = ("deadline", "future")

    def __init__(self, future: asyncio.Future[Slot], deadline: float | None) -> None:
        self.future = future
        self.deadline = deadline

    def __lt__(self, other: _Waiter) -> bool:  # heap order: earliest deadline first
        return (self.deadline or 0.0) < (other.deadline or 0.0)


@attrs.define(eq=False)
class Slot:
    """Permission for one request. Hand it back with ``release`` (sent) or ``abandon``."""

    bucket: Bucket
    acquired_at: float
    done: bool = False


class _Window:
    """One bucket's rolling window: the admission rule of the module docstring."""

    def __init__(self, bucket: Bucket, maximum: int, interval: float) -> None:
        self.bucket = bucket
        self.maximum = maximum
        self.interval = interval
        self.in_flight = 0
        #: Times at which released requests leave the window (monotone: see ``release``).
        self.expiries: collections.deque[float] = collections.deque()
        self.phantoms = 0
        self.phantoms_until = 0.0
        self.paused_until = 0.0
        #: Pacing of partial batches (GCRA): the "theoretical arrival time" of the next one.
        self.pace_tat = 0.0
        self.waiters: collections.deque[_Waiter] = collections.deque()
        #: The waiters that have a deadline, earliest first (finished ones are skipped).
        self.deadlines: list[_Waiter] = []
        self.waker: asyncio.Task[None] | None = None
        #: When the waker task next wakes by itself (None: not sleeping).
        self.wake_at: float | None = None

    def used(self, now: float) -> int:
        expiries = self.expiries
        while expiries and expiries[0] <= now:
            expiries.popleft()
        phantoms = self.phantoms if now < self.phantoms_until else 0
        return self.in_flight + len(expiries) + phantoms

    def paused_for(self, now: float) -> float:
        """Seconds until the pause after a 429 ends (0 when not paused)."""
        return max(0.0, self.paused_until - now)

    def can_admit(self, now: float) -> bool:
        return now >= self.paused_until and self.used(now) < self.maximum

    def pacing(self) -> tuple[float, float]:
        """(emission interval, burst tolerance) of the partial-batch pacing budget."""
        burst = max(1, self.maximum // 10)
        emission = self.interval / max(1, self.maximum - burst)
        return emission, (burst - 1) * emission

    def next_change(self, now: float) -> float | None:
        """When capacity may next free up, or a waiter's deadline passes, without a release;
        None when only a release can change anything."""
        candidates = []
        deadlines = self.deadlines
        while deadlines and deadlines[0].future.done():
            heapq.heappop(deadlines)
        if deadlines:
            candidates.append(deadlines[0].deadline or now)
        if now < self.paused_until:
            candidates.append(self.paused_until)
        if self.expiries:
            candidates.append(self.expiries[0])
        if self.phantoms and now < self.phantoms_until:
            candidates.append(self.phantoms_until)
        return max(min(candidates), now) if candidates else None


class RateLimiter:
    """Admits requests within HubSpot's budgets. One per client; all its tasks share it.

    ``acquire(bucket)`` waits for a :class:`Slot` (first in, first out) and raises
    ``DailyLimitError`` at once while the daily quota is spent. Every slot is returned with
    ``release(slot, headers)`` once its response (or failure) is in, or ``abandon(slot)`` when
    no request was sent with it. ``on_rate_limited`` reacts to a 429.
    """

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Clock | None = None,
        max_pause: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> None:
        self.limits = limits or RateLimits()
        self.clock: Clock = clock or LoopClock()
        #: The longest pause a 429 (or its ``Retry-After``) may impose, in seconds.
        self.max_pause = max_pause
        self._windows = {
            Bucket.BURST: _Window(
                Bucket.BURST, self.limits.requests_per_interval, self.limits.interval_seconds
            ),
            Bucket.SEARCH: _Window(
                Bucket.SEARCH, self.limits.search_per_second, self.limits.search_interval_seconds
            ),
        }
        self._daily_blocked_until = 0.0
        self._daily_used = 0
        self._daily_started: float | None = None
        self._closing = False

    # -- acquire / release ----------------------------------------------------------------

    async def acquire(
        self, bucket: Bucket = Bucket.BURST, *, deadline: float | None = None
    ) -> Slot:
        """Wait for a slot in ``bucket``, first in, first out.

        Raises ``DailyLimitError`` at once while the daily quota is spent,
        ``DeadlineExceededError`` when no slot frees before ``deadline`` (clock time), and
        ``ClientClosedError`` when the client is closing while the bucket is paused after
        a 429 (closing never waits out a pause). A cancelled waiter leaves the queue at once.
        """
        window = self._windows[bucket]
        now = self.clock.now()
        self._check_daily(now)
        self._check_closing(window, now)
        if not window.waiters and window.can_admit(now):
            return self._admit(window, now)
        if deadline is not None and deadline <= now:
            raise _deadline_error(bucket)
        future: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(future, deadline)
        window.waiters.append(waiter)
        if deadline is not None:
            heapq.heappush(window.deadlines, waiter)
        self._ensure_waker(window)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self.abandon(future.result())
            else:
                with contextlib.suppress(ValueError):
                    window.waiters.remove(waiter)
            raise

    def begin_close(self) -> None:
        """The client is closing: from now on nobody waits out a 429 pause (see acquire)."""
        self._closing = True
        now = self.clock.now()
        for window in self._windows.values():
            if window.paused_for(now) > 0:
                self._fail_waiters(window, _closed_error())

    def release(self, slot: Slot, headers: Mapping[str, str] | None) -> None:
        """The request was sent (whatever came back): keep it in the window for an interval.

        ``headers`` (lower-case keys) are the response's, or None when there was none.
        """
        if slot.done:
            return
        slot.done = True
        window = self._windows[slot.bucket]
        now = self.clock.now()
        window.in_flight -= 1
        window.expiries.append(now + window.interval)
        if headers:
            self._calibrate(window, headers, now)
        self._pump(window)

    def abandon(self, slot: Slot) -> None:
        """The slot was not used for a request: give it back at once."""
        if slot.done:
            return
        slot.done = True
        window = self._windows[slot.bucket]
        window.in_flight -= 1
        if self._daily_used:
            self._daily_used -= 1
        self._pump(window)

    def paused_for(self, bucket: Bucket = Bucket.BURST) -> float:
        """Seconds until ``bucket`` admits again after a 429 (0 when it is not paused)."""
        return self._windows[bucket].paused_for(self.clock.now())

    def pacing_delay(self, bucket: Bucket = Bucket.BURST) -> float:
        """Seconds a *partial* batch should wait before it is sent (0: send it now)."""
        if not self.limits.pacing:
            return 0.0
        window = self._windows[bucket]
        _, tolerance = window.pacing()
        delay = window.pace_tat - tolerance - self.clock.now()
        return delay if delay > 1e-9 else 0.0  # not a float rounding error's worth of linger

    def spend_pacing(self, bucket: Bucket = Bucket.BURST) -> None:
        """A partial batch is being sent: spend one unit of the pacing budget."""
        window = self._windows[bucket]
        emission, _ = window.pacing()
        window.pace_tat = max(window.pace_tat, self.clock.now()) + emission

    def on_rate_limited(self, error: RateLimitError, bucket: Bucket) -> None:
        """React to a 429: stop for the day, or pause the bucket until it has room again."""
        now = self.clock.now()
        if isinstance(error, DailyLimitError) or error.policy_name == "DAILY":
            self._daily_blocked_until = now + self.limits.daily_cooldown_seconds
            self._fail_waiters_daily()
            return
        window = self._windows[Bucket.SEARCH if error.is_search_limit else bucket]
        pause = error.retry_after if error.retry_after is not None else window.interval
        # A proxy's Retry-After of a day must not stop the client for a day.
        window.paused_until = max(window.paused_until, now + min(pause, self.max_pause))
        if self._closing:
            self._fail_waiters(window, _closed_error())
        self._ensure_waker(window)

    async def aclose(self) -> None:
        """Fail any waiter with ``ClientClosedError`` and stop the waker tasks."""
        self._closing = True
        for window in self._windows.values():
            self._fail_waiters(window, _closed_error())
            if window.waker is not None and not window.waker.done():
                window.waker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await window.waker
            window.waker = None

    # -- introspection --------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The budget in force and how much of it is in use, per bucket."""
        now = self.clock.now()
        out: dict[str, Any] = {}
        for bucket, window in self._windows.items():
            out[bucket.value] = {
                "max": window.maximum,
                "interval_seconds": window.interval,
                "in_flight": window.in_flight,
                "used": window.used(now),
                "phantoms": window.phantoms if now < window.phantoms_until else 0,
                "paused_for": window.paused_for(now),
                "waiting": len(window.waiters),
            }
        out["daily_blocked_for"] = max(0.0, self._daily_blocked_until - now)
        out["daily_used"] = self._daily_used
        return out

    def reset_daily(self) -> None:
        """Forget a spent daily quota (e.g. after midnight in the account's time zone)."""
        self._daily_blocked_until = 0.0
        self._daily_used = 0
        self._daily_started = None

    # -- internals ------------------------------------------------------------------------

    def _admit(self, window: _Window, now: float) -> Slot:
        window.in_flight += 1
        if self.limits.daily is not None:
            if self._daily_started is None or now - self._daily_started >= 86_400:
                self._daily_started, self._daily_used = now, 0
            self._daily_used += 1
        return Slot(window.bucket, now)

    def _check_closing(self, window: _Window, now: float) -> None:
        if self._closing and window.paused_for(now) > 0:
            raise _closed_error()

    def _check_daily(self, now: float) -> None:
        if now < self._daily_blocked_until:
            raise DailyLimitError(
                "the daily request quota is spent (HubSpot said so); retrying in "
                f"{self._daily_blocked_until - now:.0f}s",
                status=429,
                policy_name="DAILY",
            )
        daily = self.limits.daily
        if (
            daily is not None
            and self._daily_started is not None
            and now - self._daily_started < 86_400
            and self._daily_used >= daily
        ):
            raise DailyLimitError(
                f"the configured daily quota of {daily} requests is spent",
                status=429,
                policy_name="DAILY",
            )

    def _calibrate(self, window: _Window, headers: Mapping[str, str], now: float) -> None:
        remaining_daily = _int_header(headers, "x-hubspot-ratelimit-daily-remaining")
        if remaining_daily is not None and remaining_daily <= 0:
            self._daily_blocked_until = now + self.limits.daily_cooldown_seconds
        if not self.limits.calibrate or window.bucket is not Bucket.BURST:
            return
        maximum = _int_header(headers, "x-hubspot-ratelimit-max")
        interval_ms = _int_header(headers, "x-hubspot-ratelimit-interval-milliseconds")
        remaining = _int_header(headers, "x-hubspot-ratelimit-remaining")
        if maximum is not None and maximum > 0:
            window.maximum = min(self.limits.requests_per_interval, maximum)
        if interval_ms is not None and interval_ms > 0:
            # Only ever lengthen: expiries stay monotone and the rule stays safe.
            window.interval = max(window.interval, interval_ms / 1000)
        if maximum is not None and remaining is not None:
            # Requests HubSpot counted that we cannot account for were made by others.
            ours = window.in_flight + len(window.expiries)
            window.phantoms = max(0, (maximum - remaining) - ours)
            window.phantoms_until = now + window.interval

    def _pump(self, window: _Window) -> None:
        """Hand slots to waiters, in order, while the window has room; fail expired ones."""
        now = self.clock.now()
        if window.waiters and now < self._daily_blocked_until:
            self._fail_waiters_daily()
            return
        if window.waiters and self._closing and window.paused_for(now) > 0:
            self._fail_waiters(window, _closed_error())
            return
        deadlines = window.deadlines
        while deadlines and (deadlines[0].future.done() or (deadlines[0].deadline or 0.0) <= now):
            expired = heapq.heappop(deadlines).future
            if not expired.done():
                expired.set_exception(_deadline_error(window.bucket))
        waiters = window.waiters
        while waiters and waiters[0].future.done():
            waiters.popleft()
        while window.waiters and window.can_admit(now):
            future = window.waiters.popleft().future
            if future.done():
                continue
            future.set_result(self._admit(window, now))
        if window.waiters:
            self._ensure_waker(window)

    def _ensure_waker(self, window: _Window) -> None:
        """Have a waker task sleeping until the next change (re-armed when that moved up)."""
        if not window.waiters:
            return
        waker = window.waker
        if waker is not None and not waker.done():
            if window.wake_at is None:
                return  # it is running and will compute its own sleep
            at = window.next_change(self.clock.now())
            if at is None or at >= window.wake_at:
                return
            waker.cancel()  # sleeping past a change that comes sooner: start afresh
        window.waker = asyncio.get_running_loop().create_task(self._wake(window))

    async def _wake(self, window: _Window) -> None:
        """Sleep until capacity frees by time alone, then serve waiters; exit when idle."""
        while window.waiters:
            self._pump(window)
            if not window.waiters:
                return
            now = self.clock.now()
            at = window.next_change(now)
            if at is None:
                return  # only a release can free capacity; it pumps
            window.wake_at = at
            try:
                await self.clock.sleep(max(at - now, 0.0))
            finally:
                if window.waker is asyncio.current_task():
                    window.wake_at = None

    def _fail_waiters(self, window: _Window, error: HubEngageError) -> None:
        window.deadlines.clear()
        while window.waiters:
            future = window.waiters.popleft().future
            if not future.done():
                future.set_exception(error)

    def _fail_waiters_daily(self) -> None:
        error = DailyLimitError("the daily request quota is spent", status=429,
                                policy_name="DAILY")
        for window in self._windows.values():
            self._fail_waiters(window, error)


def _closed_error() -> ClientClosedError:
    return ClientClosedError(
        "the client closed while HubSpot's rate window was paused after a 429; "
        "this call was not sent"
    )


def _deadline_error(bucket: Bucket) -> DeadlineExceededError:
    return DeadlineExceededError(
        f"no {bucket.value} rate-limit slot freed before the call's deadline; nothing was sent"
    )


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
