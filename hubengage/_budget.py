"""Where a rate budget's state lives: one interface, two stores (this process, or Redis).

The :class:`~hubengage._limiter.RateLimiter` decides *when* to ask for a slot and waits in
line; a store decides, atomically, whether one is free, and remembers what HubSpot said. The
state of one bucket (the burst window, or the search bucket) is the same in both stores:

- ``in_flight``: slots taken and not yet answered (a lease: a slot whose process died frees
  when its lease ends);
- ``window``: for each answered request, an upper bound of the moment HubSpot counted it
  (its *arrival bound*); it leaves the window ``interval`` after that bound;
- what HubSpot's headers said: ``max`` and ``interval`` (learned, shared by every process on
  the store), ``phantoms`` (requests others made on the token, seen through ``Remaining``,
  held for an interval), whether an answer has come back yet (before it, one request at a
  time), the pause after a 429 (``paused_until``), and ``conservative`` (set after a burst
  429: no more early release);
- the daily quota: blocked for a cooldown when HubSpot's ``Daily-Remaining`` says 0 (or a
  ``DAILY`` 429 came back), and a count against a cap of the user's own (``daily``), reset
  24 hours after its first request.

Admission (atomic): refuse while the daily quota is blocked or the user's cap is spent;
purge what left the window; refuse while paused; count ``in_flight + window``; before the
first answer admit only into an empty count; else admit iff ``count < own_cap`` and
``count + phantoms < max``. Both stores implement exactly this; the
Redis store runs it as one Lua script on the Redis server's clock.

Phantoms (others' requests) are what HubSpot counted beyond every request of ours it *could*
have been counting when it answered. It answered at some moment between the request's
sending and the answer's arrival, so ours are the slots in flight taken before the answer
arrived plus the window entries that were still in the window when the request was sent
(entries are kept up to 5 s after they leave the window, for this count only). Counted "now"
instead, a client that reads an answer late (a busy event loop, a garbage collection) or
whose own slots leave the window during the round trip would take them for another
spender's and hold a slot idle for a whole interval. The count of ours is thus an upper
bound: others are never overcounted, and may be undercounted by the slots of ours that left
the window during one round trip (a 429 then pauses the window, see ``_limiter``). Phantoms
are held until an interval after the answer arrived.
"""

from __future__ import annotations

import bisect
import math
from typing import Protocol

import attrs

from ._clock import Clock

__all__ = ["GRACE", "Admission", "BudgetStore", "MemoryStore", "Observation", "WindowRules"]

#: A slot whose request is still unanswered after this long (seconds) is presumed dead (its
#: process died): its lease ends and it leaves the count. Longer than any request may take
#: (the transport's timeout) plus one window.
DEFAULT_LEASE = 120.0
_SLACK = 1e-9
#: Phantoms are counted against what was in the window at most this long ago (arrival
#: bounds are kept this long after they leave the window, for that count).
GRACE = 5.0


def _ago(now: float, age: float) -> float:
    """``age`` seconds before ``now``, at most ``GRACE`` (what the window still keeps)."""
    return now - min(max(0.0, age), GRACE)


def _left(window: list[float], now: float, interval: float) -> int:
    """How many of the sorted arrival bounds in ``window`` have left it at ``now``.

    A nanosecond of slack: a bound that leaves "now" must leave, not a float ulp later.
    """
    return bisect.bisect_right(window, now - interval + _SLACK)


@attrs.frozen
class WindowRules:
    """How one process reads a bucket's window: its assumptions and its own caps.

    ``max`` and ``interval`` are the starting assumption (used until HubSpot's headers say
    otherwise, and always when ``learn`` is False, as upper bounds); ``share`` caps what
    this store's users may use to that fraction of HubSpot's window; ``cautious`` admits one
    request until the first answer.
    """

    max: int
    interval: float
    learn: bool = True
    share: float | None = None
    cautious: bool = True
    daily: int | None = None
    daily_cooldown: float = 900.0


@attrs.frozen
class Admission:
    """The store's answer: admitted (``wait`` 0), or try again in ``wait`` seconds.

    ``paused`` tells a refusal during a 429 pause from a full window, ``daily`` one because
    the daily quota is spent (for ``wait`` seconds). ``max`` and ``interval`` are the window
    in force and ``conservative`` whether early release has ended (the limiter caches them
    for pacing, releases and snapshots).
    """

    admitted: bool
    wait: float
    max: int
    interval: float
    paused: bool = False
    daily: bool = False
    conservative: bool = False


@attrs.frozen
class Observation:
    """What one answer's headers said (None: not sent)."""

    max: int | None = None
    interval: float | None = None
    remaining: int | None = None
    daily_remaining: int | None = None


class BudgetStore(Protocol):
    """A bucket state as described in the module docstring, for one client or many."""

    async def admit(self, bucket: str, slot_id: str, rules: WindowRules) -> Admission:
        """Take a slot for ``slot_id`` if the window has room (atomically)."""
        ...

    async def release(
        self, bucket: str, slot_id: str, age: float, observed: Observation | None,
        rules: WindowRules, *, sent_age: float = 0.0, answer_age: float = 0.0,
    ) -> tuple[int, float]:
        """The request was answered (or failed after it may have been sent): learn from
        ``observed`` first (the request was sent ``sent_age`` seconds ago and its answer
        arrived ``answer_age`` seconds ago), then keep it in the window until ``interval``
        after its arrival bound, which lies ``age`` seconds in the past. Returns the window
        in force ``(max, interval)``."""
        ...

    async def abandon(self, bucket: str, slot_id: str) -> None:
        """The slot was not used: free it at once."""
        ...

    async def pause(self, bucket: str, seconds: float, *, conservative: bool) -> None:
        """Refuse admissions for ``seconds`` (a 429); ``conservative`` ends early release."""
        ...

    async def block_daily(self, bucket: str, seconds: float) -> None:
        """The daily quota is spent (HubSpot said so): refuse admissions for ``seconds``."""
        ...

    async def reset_daily(self, bucket: str) -> None:
        """Forget a spent daily quota and the user's daily count."""
        ...

    async def snapshot(self, bucket: str, rules: WindowRules) -> dict[str, float | int | bool]:
        """The state in force, for ``limiter.snapshot()``."""
        ...

    async def aclose(self) -> None:
        """Release connections (a no-op for the memory store)."""
        ...


class _Bucket:
    """One bucket's state in this process."""

    __slots__ = ("answered", "conservative", "daily_blocked_until", "daily_started",
                 "daily_used", "in_flight", "learned_interval", "learned_max", "paused_until",
                 "phantoms", "phantoms_until", "window")

    def __init__(self) -> None:
        self.daily_blocked_until = 0.0
        self.daily_used = 0
        self.daily_started = 0.0
        self.in_flight: dict[str, float] = {}  # slot id -> lease end
        #: Arrival bounds, sorted; kept an interval longer than they count (for phantoms).
        self.window: list[float] = []
        self.learned_max: int | None = None
        self.learned_interval: float | None = None
        self.phantoms = 0
        self.phantoms_until = 0.0
        self.paused_until = 0.0
        self.answered = False
        self.conservative = False


def effective(rules: WindowRules, learned_max: int | None,
              learned_interval: float | None) -> tuple[int, int, float]:
    """``(max, own_cap, interval)`` in force, from the rules and what HubSpot said.

    The one place this arithmetic lives; the Redis store's script mirrors it line by line.
    """
    if learned_max is None:
        window_max = rules.max
    elif rules.learn:
        window_max = learned_max
    else:
        window_max = min(rules.max, learned_max)
    if learned_interval is None:
        interval = rules.interval
    elif rules.learn:
        interval = learned_interval
    else:
        interval = max(rules.interval, learned_interval)
    own_cap = window_max
    if not rules.learn:
        own_cap = min(own_cap, rules.max)
    if rules.share is not None:
        own_cap = min(own_cap, max(1, math.floor(window_max * rules.share)))
    return window_max, own_cap, interval


class MemoryStore:
    """The default store: the state of this client's buckets, in this process.

    Time is the limiter's injectable clock, so tests control it.
    """

    def __init__(self, clock: Clock, *, lease: float = DEFAULT_LEASE) -> None:
        self._clock = clock
        self._lease = lease
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, name: str) -> _Bucket:
        state = self._buckets.get(name)
        if state is None:
            state = self._buckets[name] = _Bucket()
        return state

    def _count(self, state: _Bucket, now: float, interval: float) -> int:
        """Slots in flight plus arrival bounds still in the window (purging the rest)."""
        window = state.window
        if window and window[0] <= now - interval - GRACE:
            del window[:bisect.bisect_right(window, now - interval - GRACE)]
        if state.in_flight and min(state.in_flight.values()) <= now:  # dead leases
            state.in_flight = {k: v for k, v in state.in_flight.items() if v > now}
        return len(state.in_flight) + len(window) - _left(window, now, interval)

    async def admit(self, bucket: str, slot_id: str, rules: WindowRules) -> Admission:
        """Take a slot if the window has room (see the module docstring)."""
        state = self._bucket(bucket)
        now = self._clock.now()
        window_max, own_cap, interval = effective(rules, state.learned_max,
                                                  state.learned_interval)
        conservative = state.conservative
        if state.daily_blocked_until > now:
            return Admission(False, state.daily_blocked_until - now, window_max, interval,
                             daily=True, conservative=conservative)
        if rules.daily is not None:
            if now - state.daily_started >= 86_400:
                state.daily_started, state.daily_used = now, 0
            if state.daily_used >= rules.daily:
                return Admission(False, state.daily_started + 86_400 - now, window_max,
                                 interval, daily=True, conservative=conservative)
        if state.paused_until > now:
            return Admission(False, state.paused_until - now, window_max, interval, True,
                             conservative=conservative)
        count = self._count(state, now, interval)
        phantoms = state.phantoms if state.phantoms_until > now else 0
        if rules.cautious and not state.answered:
            room = count == 0
        else:
            room = count < own_cap and count + phantoms < window_max
        if room:
            state.in_flight[slot_id] = now + self._lease
            if rules.daily is not None:
                state.daily_used += 1
            return Admission(True, 0.0, window_max, interval, conservative=conservative)
        first = _left(state.window, now, interval)
        changes = [b + interval for b in state.window[first:first + 1]]
        if phantoms:
            changes.append(state.phantoms_until)
        if state.in_flight:
            changes.append(min(state.in_flight.values()))
        wait = max(0.0, min(changes) - now) if changes else math.inf
        return Admission(False, wait, window_max, interval, conservative=conservative)

    async def release(
        self, bucket: str, slot_id: str, age: float, observed: Observation | None,
        rules: WindowRules, *, sent_age: float = 0.0, answer_age: float = 0.0,
    ) -> tuple[int, float]:
        """Learn from ``observed``, then move the slot from in flight to the window."""
        state = self._bucket(bucket)
        now = self._clock.now()
        state.answered = True
        if observed is not None:
            self._observe(state, observed, rules, now, _ago(now, sent_age), _ago(now, answer_age))
        state.in_flight.pop(slot_id, None)
        window_max, _, interval = effective(rules, state.learned_max, state.learned_interval)
        bound = now - max(0.0, age)
        if bound + interval > now:
            bisect.insort(state.window, bound)
        return window_max, interval

    def _observe(self, state: _Bucket, observed: Observation, rules: WindowRules,
                 now: float, sent: float, arrived: float) -> None:
        if observed.max is not None and observed.interval is not None:
            state.learned_max = observed.max
            state.learned_interval = observed.interval
        if observed.daily_remaining is not None and observed.daily_remaining <= 0:
            state.daily_blocked_until = now + rules.daily_cooldown
        if observed.max is not None and observed.remaining is not None:
            _, _, interval = effective(rules, state.learned_max,
                                                state.learned_interval)
            self._count(state, now, interval)  # purges dead leases
            taken_before = arrived + self._lease
            ours = (sum(1 for end in state.in_flight.values() if end <= taken_before)
                    + len(state.window) - _left(state.window, sent, interval))
            state.phantoms = max(0, (observed.max - observed.remaining) - ours)
            state.phantoms_until = arrived + interval

    async def abandon(self, bucket: str, slot_id: str) -> None:
        """Free an unused slot at once (it does not count against the daily cap either)."""
        state = self._bucket(bucket)
        if state.in_flight.pop(slot_id, None) is not None and state.daily_used:
            state.daily_used -= 1

    async def pause(self, bucket: str, seconds: float, *, conservative: bool) -> None:
        """Refuse admissions for ``seconds``."""
        state = self._bucket(bucket)
        state.paused_until = max(state.paused_until, self._clock.now() + seconds)
        state.conservative = state.conservative or conservative

    async def block_daily(self, bucket: str, seconds: float) -> None:
        """Refuse admissions for ``seconds``: the daily quota is spent."""
        state = self._bucket(bucket)
        state.daily_blocked_until = max(state.daily_blocked_until,
                                        self._clock.now() + seconds)

    async def reset_daily(self, bucket: str) -> None:
        """Forget a spent daily quota and the user's daily count."""
        state = self._bucket(bucket)
        state.daily_blocked_until = 0.0
        state.daily_used = 0

    async def snapshot(self, bucket: str, rules: WindowRules) -> dict[str, float | int | bool]:
        """The state in force."""
        state = self._bucket(bucket)
        now = self._clock.now()
        window_max, own_cap, interval = effective(rules, state.learned_max,
                                                  state.learned_interval)
        return {
            "max": window_max,
            "own_cap": own_cap,
            "interval_seconds": interval,
            "in_flight": len(state.in_flight),
            "used": self._count(state, now, interval),
            "phantoms": state.phantoms if state.phantoms_until > now else 0,
            "paused_for": max(0.0, state.paused_until - now),
            "learned": state.learned_max is not None,
            "conservative": state.conservative,
            "daily_blocked_for": max(0.0, state.daily_blocked_until - now),
            "daily_used": state.daily_used,
        }

    async def aclose(self) -> None:
        """Nothing to release."""
