"""HubSpot's request budgets: the rolling burst window, the daily quota, the search bucket.

HubSpot counts a request against its rolling window when the request *arrives*, and a window
of ``MAX`` requests per ``INTERVAL`` admits at most ``MAX`` arrivals in any ``INTERVAL``
(``docs/hubspot-wire.md`` §1). The client cannot see arrival times, so it keeps every
request it sent in its own count from the moment it takes a slot until ``INTERVAL`` after an
upper bound of the request's arrival, and admits a new request at time ``t`` iff

    in_flight + #{answered r : bound(r) + INTERVAL > t} + phantoms  <  MAX

Proof sketch: a request admitted at ``t`` arrives at some ``a >= t``. Every request of ours
that HubSpot counts at ``a`` arrived in ``(a - INTERVAL, a]``; it is either still in flight
at ``t`` (counted), or answered with ``bound >= its arrival > a - INTERVAL``, hence
``bound + INTERVAL > a >= t`` (counted). So no admitted request of ours is the ``MAX + 1``-th
in any window, whatever the latency, as long as each bound is >= the true arrival.

The arrival bound (when a slot frees). The safe bound is the moment the answer came back
(``received``): the request surely arrived before. HubSpot's batch answers also say, on
HubSpot's clock, when processing started and ended (``startedAt``, ``completedAt``). Write
``θ`` for the offset of HubSpot's clock from ours (HubSpot's reading minus ours at the same
instant). Assume (1) HubSpot counts a request no later than it starts processing it, (2) an
answer leaves HubSpot no earlier than its processing ended, (3) ``θ`` is the same for every
answer, within a margin ``m`` (HubSpot's servers agree on the time within ``m``, and no
clock steps; 25 ms), over the last minute of answers. Then every answer ``j`` gives
``θ >= completedAt_j - received_j - m`` (it left at ``completedAt_j - θ`` on our clock and
arrived at ``received_j``, later); let ``θ_low`` be the largest of these, over the last
minute. For a request ``i``, on our clock,

    arrival_i <= startedAt_i - θ <= startedAt_i - θ_low

so ``bound_i = startedAt_i - θ_low`` (never earlier than when it was sent) is >= the arrival,
and the slot frees as soon as HubSpot's own window lets it go, however late the client got to
read the answer: ``θ_low`` comes from the answer read most promptly. (With ``j = i`` alone
this is ``received_i - (completedAt_i - startedAt_i) + m``: the request arrived no later than
the answer came back less HubSpot's own processing time, an offset-free bound.) After any
burst 429 (the model was wrong somewhere: another spender, a clock step) every slot counts
from ``received`` for the rest of the run (``conservative``).

Learning the window from HubSpot. ``X-HubSpot-RateLimit-Max`` and
``-Interval-Milliseconds`` together set the window, up as well as down (``RateLimits`` is
the starting assumption; ``learn=False`` makes it an upper bound, ``share`` caps this
client to a fraction of HubSpot's window). Before the first answer the client is cautious:
one request at a time, so a fresh client never spends a window already partly spent by
another process. ``-Remaining`` says how many requests HubSpot counted; those beyond the
ones we count ourselves were made by others on the same token (``phantoms``): they are
held for an interval, never double-counted with ours. ``-Daily-Remaining`` at zero (or a
``DAILY`` 429) stops the client with ``DailyLimitError`` for a cooldown; ``RateLimits.daily``
is a cap of the user's own (no local cap by default). A burst 429 pauses the bucket for
``Retry-After`` (capped at ``max_pause``) or an interval. Search has its own bucket.

Where the counts live: a :class:`~hubengage._budget.BudgetStore`, in this process (default)
or in Redis (``hubengage._budget_redis``), so that every process on a token shares one
budget. The rule and the bookkeeping are the store's; waiting in line, deadlines, closing
and pacing are this module's.

Pacing partial batches. The rule above says how many requests *may* go; it does not say how
to spend them. A steady stream of single calls sent one per request as they arrive spends the
whole window in its first moments and then waits for the rest of the interval. So the batcher
asks :meth:`RateLimiter.pacing_delay` before it sends a *partial* batch: partial batches
spend a second, smooth budget, a GCRA with a burst of ``B = MAX // 10`` (at least 1) that
refills at ``(MAX - B) / INTERVAL`` per second; full batches never wait for it.
``RateLimits(pacing=False)`` turns it off. This is a leaky bucket, but not
``aiolimiter.AsyncLimiter``: the batcher needs the *delay* (to let calls join the waiting
batch, cut short when the queue fills) rather than to be woken when capacity returns, the
bucket must follow the window learned from HubSpot, and the suite drives time through an
injected clock, which ``AsyncLimiter`` (reading the event loop's clock) cannot use; so the
dependency was dropped.

Waiters are served first in, first out; one waker task per bucket sleeps on the injected
:class:`~hubengage._clock.Clock` until the next change or a local release.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import itertools
import math
import secrets
from collections.abc import Mapping
from typing import Any, TypedDict

import attrs
from attrs.validators import and_, gt, le, optional

from ._budget import Admission, BudgetStore, MemoryStore, Observation, WindowRules
from ._clock import Clock, LoopClock
from ._constants import (
    BURST_INTERVAL_SECONDS,
    DEFAULT_DAILY_COOLDOWN,
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

__all__ = ["Bucket", "BucketSnapshot", "LimiterSnapshot", "RateLimiter", "RateLimits", "Slot"]

#: The margin ``m`` of the early-release bound (see above): how far HubSpot's servers' clocks
#: may disagree, plus millisecond truncation; and how long an offset reading is trusted.
_OFFSET_MARGIN = 0.025
_OFFSET_HORIZON = 60.0
#: With a store shared by other processes, whose releases this one does not hear of, a
#: waiter looks again at least this often.
_SHARED_POLL = 0.025


class Bucket(enum.Enum):
    """Which budget a request spends: the burst window, or the search API's own bucket."""

    BURST = "burst"
    SEARCH = "search"


class BucketSnapshot(TypedDict):
    """One bucket's budget in force and its use (``limiter.snapshot()["burst"]``)."""

    #: Requests the window allows (HubSpot's, once learned) and this client's own cap.
    max: int
    own_cap: int
    interval_seconds: float
    #: Requests sent and not yet answered; counted in the window now; others' requests seen
    #: through ``X-HubSpot-RateLimit-Remaining``.
    in_flight: int
    used: int
    phantoms: int
    #: Seconds until a pause after a 429 ends.
    paused_for: float
    #: True once HubSpot's headers set the window; True after a burst 429 (no early release).
    learned: bool
    conservative: bool
    #: Requests of this process waiting for a slot.
    waiting: int


class LimiterSnapshot(TypedDict):
    """The limiter's state: each bucket, and the daily quota (``await limiter.snapshot()``)."""

    burst: BucketSnapshot
    search: BucketSnapshot
    #: Seconds until the daily quota allows requests again (0 when it does).
    daily_blocked_for: float
    #: Requests counted against the daily quota.
    daily_used: int


_POSITIVE = invalid_input(gt(0))


@attrs.frozen(kw_only=True)
class RateLimits:
    """The budgets the client keeps to.

    ``requests_per_interval`` per ``interval_seconds`` is the starting assumption of the burst
    window (HubSpot's Free/Starter private apps: 100 / 10 s). With ``learn`` (the default)
    the window then follows HubSpot's ``X-HubSpot-RateLimit-Max`` and
    ``-Interval-Milliseconds`` headers, up as well as down (190 / 10 s on Professional, 110
    for a public app); with ``learn=False`` the configured window is an upper bound the
    headers can only lower. ``share`` (0 < share <= 1) caps this client (or, with a shared
    store, every process sharing it) to that fraction of HubSpot's window. ``daily`` is a
    daily cap of your own (None: none; HubSpot's ``Daily-Remaining`` and a ``DAILY`` 429
    stop the client anyway). ``search_per_second`` per ``search_interval_seconds`` is the
    search API's bucket (5 / 1 s). After the daily quota is spent, calls fail fast with
    ``DailyLimitError`` for ``daily_cooldown_seconds`` before one request probes again.
    ``pacing`` spreads partial batches over the window; ``early_release`` frees a slot as
    early as HubSpot's own timestamps prove it left HubSpot's window; ``cautious_start``
    sends one request alone until HubSpot's first answer says what is left of the window
    (see ``_limiter``).
    """

    requests_per_interval: int = attrs.field(default=MAX_BURST_PER_INTERVAL, validator=_POSITIVE)
    interval_seconds: float = attrs.field(default=BURST_INTERVAL_SECONDS, validator=_POSITIVE)
    learn: bool = True
    share: float | None = attrs.field(default=None,
                                      validator=invalid_input(optional(and_(gt(0), le(1)))))
    daily: int | None = attrs.field(default=None, validator=invalid_input(optional(gt(0))))
    search_per_second: int = attrs.field(default=SEARCH_PER_INTERVAL, validator=_POSITIVE)
    search_interval_seconds: float = attrs.field(default=SEARCH_INTERVAL_SECONDS,
                                                 validator=_POSITIVE)
    daily_cooldown_seconds: float = attrs.field(default=DEFAULT_DAILY_COOLDOWN,
                                                validator=_POSITIVE)
    pacing: bool = True
    early_release: bool = True
    cautious_start: bool = True


@attrs.define(eq=False)
class Slot:
    """Permission for one request. Hand it back with ``release`` (sent) or ``abandon``."""

    bucket: Bucket
    id: str
    acquired_at: float
    done: bool = False


class _Waiter:
    """One ``acquire`` waiting for a slot: its future and the time it gives up at."""

    __slots__ = ("deadline", "future")

    def __init__(self, future: asyncio.Future[Slot], deadline: float | None) -> None:
        self.future = future
        self.deadline = deadline


class _Line:
    """One bucket's waiters, their waker task, and the local view of the window."""

    def __init__(self, bucket: Bucket, rules: WindowRules) -> None:
        self.bucket = bucket
        self.rules = rules
        self.waiters: collections.deque[_Waiter] = collections.deque()
        self.waker: asyncio.Task[None] | None = None
        self.wake: asyncio.Event | None = None
        #: An ``acquire`` is asking the store directly (others join the line meanwhile).
        self.trying = False
        #: The window in force, as the store last said (for pacing and snapshots).
        self.max = rules.max
        self.interval = rules.interval
        self.paused_until = 0.0
        self.conservative = False
        #: When the store said the window may next admit (clock time).
        self.next_change = 0.0
        #: Pacing of partial batches (GCRA): the "theoretical arrival time" of the next one.
        self.pace_tat = 0.0

    def pacing(self) -> tuple[float, float]:
        """(emission interval, burst tolerance) of the partial-batch pacing budget."""
        burst = max(1, self.max // 10)
        emission = self.interval / max(1, self.max - burst)
        return emission, (burst - 1) * emission


class RateLimiter:
    """Admits requests within HubSpot's budgets. One per client; all its tasks share it.

    ``acquire(bucket)`` waits for a :class:`Slot` (first in, first out). Every slot is
    returned with ``await release(slot, headers, ...)`` once its response (or failure) is in,
    or ``await abandon(slot)`` when no request was sent with it. ``on_rate_limited`` reacts
    to a 429. ``store`` keeps the counts (default: in this process; see
    :class:`~hubengage._budget.BudgetStore`).
    """

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Clock | None = None,
        max_pause: float = DEFAULT_MAX_RETRY_AFTER,
        store: BudgetStore | None = None,
    ) -> None:
        self.limits = limits = limits or RateLimits()
        self.clock: Clock = clock or LoopClock()
        #: The longest pause a 429 (or its ``Retry-After``) may impose, in seconds.
        self.max_pause = max_pause
        self.store: BudgetStore = store or MemoryStore(self.clock)
        self._shared = not isinstance(self.store, MemoryStore)
        self._lines = {
            Bucket.BURST: _Line(Bucket.BURST, WindowRules(
                limits.requests_per_interval, limits.interval_seconds, learn=limits.learn,
                share=limits.share, cautious=limits.cautious_start, daily=limits.daily,
                daily_cooldown=limits.daily_cooldown_seconds)),
            Bucket.SEARCH: _Line(Bucket.SEARCH, WindowRules(
                limits.search_per_second, limits.search_interval_seconds, learn=False,
                cautious=False)),
        }
        self._slot_ids = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        #: Until when the store last said the daily quota is spent (fail fast meanwhile).
        self._daily_blocked_until = 0.0
        self._closing = False
        #: (when read, completedAt - received) of recent answers: θ_low is their largest.
        self._offsets: collections.deque[tuple[float, float]] = collections.deque()

    # -- acquire / release ----------------------------------------------------------------

    async def acquire(
        self, bucket: Bucket = Bucket.BURST, *, deadline: float | None = None
    ) -> Slot:
        """Wait for a slot in ``bucket``, first in, first out.

        Raises ``DailyLimitError`` at once while the daily quota is spent,
        ``DeadlineExceededError`` when no slot frees before ``deadline`` (clock time), and
        ``ClientClosedError`` when the client is closing while the bucket is paused after
        a 429 (closing never waits out a pause). A cancelled waiter leaves the line at once.
        """
        line = self._lines[bucket]
        now = self.clock.now()
        self._check_daily(now)
        if self._closing and line.paused_until > now:
            raise _closed_error()
        if not line.waiters and not line.trying:
            # One admission at a time straight to the store (the waker serves the rest in
            # line): calls started together make one store call each in turn, not a
            # hundred at once, and keep their order.
            line.trying = True
            try:
                slot = await self._try(line)
            finally:
                line.trying = False
            if slot is not None:
                self._kick(line)
                return slot
            now = self.clock.now()
        if deadline is not None and deadline <= now:
            raise _deadline_error(bucket)
        future: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(future, deadline)
        line.waiters.append(waiter)
        self._kick(line)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                await self.abandon(future.result())
            else:
                with contextlib.suppress(ValueError):
                    line.waiters.remove(waiter)
            raise

    async def release(
        self,
        slot: Slot,
        headers: Mapping[str, str] | None,
        *,
        received_at: float | None = None,
        sent_at: float | None = None,
        server_times: tuple[float, float] | None = None,
    ) -> None:
        """The request was sent (whatever came back): keep it counted for an interval.

        ``headers`` (lower-case keys) are the response's, or None when there was none;
        ``sent_at`` / ``received_at`` (clock time) and ``server_times`` (HubSpot's
        ``startedAt``, ``completedAt`` as epoch seconds) bound when HubSpot counted it (see
        the module docs).
        """
        if slot.done:
            return
        slot.done = True
        line = self._lines[slot.bucket]
        now = self.clock.now()
        received = now if received_at is None else received_at
        sent = slot.acquired_at if sent_at is None else sent_at
        bound = received
        if (server_times is not None and self.limits.early_release
                and slot.bucket is Bucket.BURST and not line.conservative):
            bound = self._arrival_bound(server_times, received, sent)
        age = now - bound
        observed = _observation(headers) if headers else None
        line.max, line.interval = await self.store.release(
            slot.bucket.value, slot.id, age, observed, line.rules, sent_age=now - sent,
            answer_age=now - received)
        if observed is not None and observed.daily_remaining is not None \
                and observed.daily_remaining <= 0:
            self._daily_blocked_until = now + self.limits.daily_cooldown_seconds
            self._fail_daily()
        self._kick(line)

    async def abandon(self, slot: Slot) -> None:
        """The slot was not used for a request: give it back at once."""
        if slot.done:
            return
        slot.done = True
        await self.store.abandon(slot.bucket.value, slot.id)
        self._kick(self._lines[slot.bucket])

    def _arrival_bound(self, server_times: tuple[float, float], received: float,
                       sent: float) -> float:
        """The latest our clock may say HubSpot counted the request (see the module docs)."""
        started, completed = server_times
        offsets = self._offsets  # a sliding maximum: readings in decreasing order of θ
        theta = completed - received
        while offsets and offsets[-1][1] <= theta:
            offsets.pop()
        offsets.append((received, theta))
        while offsets[0][0] < received - _OFFSET_HORIZON:
            offsets.popleft()
        theta_low = offsets[0][1] - _OFFSET_MARGIN
        bound = started - theta_low
        if not sent <= bound <= received:  # a reading that contradicts the round trip
            return received
        return bound

    def paused_for(self, bucket: Bucket = Bucket.BURST) -> float:
        """Seconds until ``bucket`` admits again after a 429 (0 when it is not paused)."""
        return max(0.0, self._lines[bucket].paused_until - self.clock.now())

    def pacing_delay(self, bucket: Bucket = Bucket.BURST) -> float:
        """Seconds a *partial* batch should wait before it is sent (0: send it now)."""
        if not self.limits.pacing:
            return 0.0
        line = self._lines[bucket]
        _, tolerance = line.pacing()
        delay = line.pace_tat - tolerance - self.clock.now()
        return delay if delay > 1e-9 else 0.0  # not a float rounding error's worth of linger

    def spend_pacing(self, bucket: Bucket = Bucket.BURST) -> None:
        """A partial batch is being sent: spend one unit of the pacing budget."""
        line = self._lines[bucket]
        emission, _ = line.pacing()
        line.pace_tat = max(line.pace_tat, self.clock.now()) + emission

    async def on_rate_limited(self, error: RateLimitError, bucket: Bucket) -> None:
        """React to a 429: stop for the day, or pause the bucket until it has room again."""
        now = self.clock.now()
        if isinstance(error, DailyLimitError) or error.policy_name == "DAILY":
            cooldown = self.limits.daily_cooldown_seconds
            self._daily_blocked_until = now + cooldown
            await self.store.block_daily(Bucket.BURST.value, cooldown)
            self._fail_daily()
            return
        line = self._lines[Bucket.SEARCH if error.is_search_limit else bucket]
        pause = error.retry_after if error.retry_after is not None else line.interval
        pause = min(pause, self.max_pause)  # a proxy's Retry-After of a day is not obeyed
        line.paused_until = max(line.paused_until, now + pause)
        burst = line.bucket is Bucket.BURST
        line.conservative = line.conservative or burst
        await self.store.pause(line.bucket.value, pause, conservative=burst)
        if self._closing:
            self._fail(line, _closed_error())
        self._kick(line)

    def begin_close(self) -> None:
        """The client is closing: from now on nobody waits out a 429 pause (see acquire)."""
        self._closing = True
        now = self.clock.now()
        for line in self._lines.values():
            if line.paused_until > now:
                self._fail(line, _closed_error())

    async def aclose(self) -> None:
        """Fail any waiter with ``ClientClosedError``, stop the wakers, close the store."""
        self._closing = True
        for line in self._lines.values():
            self._fail(line, _closed_error())
            waker, line.waker = line.waker, None
            if waker is not None and not waker.done():
                waker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waker
        await self.store.aclose()

    # -- introspection --------------------------------------------------------------------

    async def snapshot(self) -> LimiterSnapshot:
        """The budget in force and how much of it is in use, per bucket (JSON-friendly)."""
        now = self.clock.now()
        buckets: dict[Bucket, BucketSnapshot] = {}
        daily_blocked_for = max(0.0, self._daily_blocked_until - now)
        daily_used = 0
        for bucket, line in self._lines.items():
            state = await self.store.snapshot(bucket.value, line.rules)
            buckets[bucket] = BucketSnapshot(
                max=int(state["max"]), own_cap=int(state["own_cap"]),
                interval_seconds=float(state["interval_seconds"]),
                in_flight=int(state["in_flight"]), used=int(state["used"]),
                phantoms=int(state["phantoms"]), paused_for=float(state["paused_for"]),
                learned=bool(state["learned"]), conservative=bool(state["conservative"]),
                waiting=len(line.waiters))
            if bucket is Bucket.BURST:
                daily_blocked_for = max(daily_blocked_for,
                                        float(state.get("daily_blocked_for", 0.0)))
                daily_used = int(state.get("daily_used", 0))
        return LimiterSnapshot(burst=buckets[Bucket.BURST], search=buckets[Bucket.SEARCH],
                               daily_blocked_for=daily_blocked_for, daily_used=daily_used)

    async def reset_daily(self) -> None:
        """Forget a spent daily quota (e.g. after midnight in the account's time zone)."""
        self._daily_blocked_until = 0.0
        await self.store.reset_daily(Bucket.BURST.value)

    # -- internals ------------------------------------------------------------------------

    async def _try(self, line: _Line) -> Slot | None:
        """One admission attempt at the store; the slot, or None (the view is updated)."""
        slot_id = f"{self._prefix}-{next(self._slot_ids)}"
        admission = await self.store.admit(line.bucket.value, slot_id, line.rules)
        now = self.clock.now()
        self._see(line, admission, now)
        if admission.daily:
            self._daily_blocked_until = max(self._daily_blocked_until, now + admission.wait)
            raise _daily_error(self._daily_blocked_until - now)
        if not admission.admitted:
            return None
        return Slot(line.bucket, slot_id, now)

    def _see(self, line: _Line, admission: Admission, now: float) -> None:
        line.max, line.interval = admission.max, admission.interval
        line.conservative = admission.conservative
        line.next_change = now + admission.wait
        if admission.paused:
            line.paused_until = max(line.paused_until, now + admission.wait)
        elif line.paused_until > now:
            line.paused_until = now

    def _kick(self, line: _Line) -> None:
        """Something changed: have the waker look again (starting it if needed)."""
        if not line.waiters:
            return
        if line.wake is not None:
            line.wake.set()
        if line.waker is None or line.waker.done():
            line.waker = asyncio.get_running_loop().create_task(self._wake(line))

    async def _wake(self, line: _Line) -> None:
        """Serve waiters in order while slots are admitted; otherwise sleep until the next
        change (or a local release); exit when nobody waits."""
        line.wake = asyncio.Event()
        try:
            while line.waiters:
                now = self.clock.now()
                if now < self._daily_blocked_until:
                    self._fail_daily()
                    return
                if self._closing and line.paused_until > now:
                    self._fail(line, _closed_error())
                    return
                self._expire(line, now)
                if not line.waiters:
                    return
                line.wake.clear()
                try:
                    slot = await self._try(line)
                except DailyLimitError:
                    self._fail_daily()
                    return
                if slot is not None:
                    await self._hand(line, slot)
                    continue
                await self._sleep(line, self._next_look(line))
        finally:
            if line.waker is asyncio.current_task():
                line.wake = None

    async def _hand(self, line: _Line, slot: Slot) -> None:
        """Give ``slot`` to the first waiter still waiting, or back to the store."""
        while line.waiters:
            waiter = line.waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_result(slot)
                return
        await self.abandon(slot)

    def _next_look(self, line: _Line) -> float:
        """Seconds until the waker should try again (the store's hint, a deadline, a poll)."""
        now = self.clock.now()
        wait = max(0.0, line.next_change - now)
        deadlines = [w.deadline for w in line.waiters if w.deadline is not None]
        if deadlines:
            wait = min(wait, max(0.0, min(deadlines) - now))
        if self._shared:
            wait = min(wait, _SHARED_POLL)
        return wait

    async def _sleep(self, line: _Line, seconds: float) -> None:
        """Sleep ``seconds`` on the clock, or until a local change wakes the line."""
        assert line.wake is not None
        if line.wake.is_set():
            return
        loop = asyncio.get_running_loop()
        waits: list[asyncio.Task[Any]] = [loop.create_task(line.wake.wait())]
        if seconds != math.inf:
            waits.append(loop.create_task(self.clock.sleep(seconds)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                if not task.done():
                    task.cancel()
            await asyncio.wait(waits)

    def _expire(self, line: _Line, now: float) -> None:
        if not any(w.deadline is not None and w.deadline <= now for w in line.waiters):
            return
        kept: collections.deque[_Waiter] = collections.deque()
        for waiter in line.waiters:
            if waiter.deadline is not None and waiter.deadline <= now:
                if not waiter.future.done():
                    waiter.future.set_exception(_deadline_error(line.bucket))
            else:
                kept.append(waiter)
        line.waiters = kept

    def _check_daily(self, now: float) -> None:
        if now < self._daily_blocked_until:
            raise _daily_error(self._daily_blocked_until - now)

    def _fail(self, line: _Line, error: HubEngageError) -> None:
        while line.waiters:
            future = line.waiters.popleft().future
            if not future.done():
                future.set_exception(error)

    def _fail_daily(self) -> None:
        error = _daily_error(self._daily_blocked_until - self.clock.now())
        for line in self._lines.values():
            self._fail(line, error)


def _observation(headers: Mapping[str, str]) -> Observation | None:
    """What HubSpot's rate-limit headers said, or None when they said nothing."""
    maximum = _int_header(headers, "x-hubspot-ratelimit-max")
    interval_ms = _int_header(headers, "x-hubspot-ratelimit-interval-milliseconds")
    remaining = _int_header(headers, "x-hubspot-ratelimit-remaining")
    daily_remaining = _int_header(headers, "x-hubspot-ratelimit-daily-remaining")
    if maximum is None and remaining is None and daily_remaining is None:
        return Observation()
    return Observation(
        max=maximum if maximum and maximum > 0 else None,
        interval=interval_ms / 1000 if interval_ms and interval_ms > 0 else None,
        remaining=remaining,
        daily_remaining=daily_remaining,
    )


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _daily_error(for_seconds: float) -> DailyLimitError:
    return DailyLimitError(
        "the daily request quota is spent (HubSpot said so, or RateLimits.daily is reached); "
        f"calls fail fast for {max(0.0, for_seconds):.0f}s",
        status=429, policy_name="DAILY",
    )


def _closed_error() -> ClientClosedError:
    return ClientClosedError(
        "the client closed while HubSpot's rate window was paused after a 429; "
        "this call was not sent"
    )


def _deadline_error(bucket: Bucket) -> DeadlineExceededError:
    return DeadlineExceededError(
        f"no {bucket.value} rate-limit slot freed before the call's deadline; nothing was sent"
    )
