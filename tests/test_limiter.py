"""The rate limiter on a manual clock: the rolling-window rule, calibration, 429 pauses,
the daily quota, the search bucket, FIFO order and cancellation."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from hubengage import Bucket, DailyLimitError, InvalidInputError, RateLimits
from hubengage._errors import RateLimitError
from hubengage._limiter import RateLimiter, Slot
from tests._clock import ManualClock


def limiter(
    max_: int = 3, interval: float = 10.0, **kwargs: Any
) -> tuple[RateLimiter, ManualClock]:
    clock = ManualClock()
    limits = RateLimits(requests_per_interval=max_, interval_seconds=interval, **kwargs)
    return RateLimiter(limits, clock=clock), clock


async def test_admits_max_at_once_then_waits_for_an_interval_after_release() -> None:
    lim, clock = limiter(3, 10.0)
    slots = [await lim.acquire() for _ in range(3)]
    waiter = asyncio.create_task(lim.acquire())
    await clock.settle()
    assert not waiter.done()
    await clock.advance(1.0)
    lim.release(slots[0], None)  # response at t=1: the slot frees at t=11
    await clock.advance(9.9)
    assert not waiter.done()
    await clock.advance(0.1)
    assert waiter.done()
    lim.release(waiter.result(), None)
    for s in slots[1:]:
        lim.release(s, None)
    await lim.aclose()


async def test_abandoned_slot_is_free_at_once() -> None:
    lim, clock = limiter(1)
    slot = await lim.acquire()
    waiter = asyncio.create_task(lim.acquire())
    await clock.settle()
    lim.abandon(slot)
    await clock.settle()
    assert waiter.done()
    lim.abandon(waiter.result())
    await lim.aclose()


async def test_never_more_than_max_arrivals_in_any_window_whatever_the_latency() -> None:
    """Simulate random latencies; every arrival instant is checked against a true rolling
    window, as HubSpot counts it."""
    lim, clock = limiter(5, 1.0)
    rng = random.Random(7)
    arrivals: list[float] = []

    async def request() -> None:
        slot = await lim.acquire()
        await clock.sleep(rng.uniform(0, 0.3))  # on the way
        arrivals.append(clock.now())
        await clock.sleep(rng.uniform(0, 0.5))  # server time and the way back
        lim.release(slot, None)

    tasks = [asyncio.create_task(request()) for _ in range(60)]
    await clock.run_until_idle()
    await asyncio.gather(*tasks)
    arrivals.sort()
    for i, t in enumerate(arrivals):
        in_window = [a for a in arrivals[: i + 1] if a > t - 1.0]
        assert len(in_window) <= 5, (t, in_window)
    # ...and it is not timid: 60 requests at 5/s with <0.8 s latency take under 60/5 * 1.8 s.
    assert clock.now() < 60 / 5 * 1.8
    await lim.aclose()


async def test_waiters_are_served_in_order() -> None:
    lim, clock = limiter(1)
    first = await lim.acquire()
    order: list[int] = []

    async def take(i: int) -> None:
        slot = await lim.acquire()
        order.append(i)
        lim.release(slot, None)

    tasks = [asyncio.create_task(take(i)) for i in range(5)]
    await clock.settle()
    lim.release(first, None)
    await clock.run_until_idle()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    await lim.aclose()


async def test_a_cancelled_waiter_loses_its_place_and_leaks_nothing() -> None:
    lim, clock = limiter(1)
    first = await lim.acquire()
    cancelled = asyncio.create_task(lim.acquire())
    second = asyncio.create_task(lim.acquire())
    await clock.settle()
    cancelled.cancel()
    await clock.settle()
    lim.abandon(first)
    await clock.settle()
    assert second.done()
    assert lim.snapshot()["burst"]["in_flight"] == 1
    lim.abandon(second.result())
    await lim.aclose()


async def test_calibrates_down_to_the_headers_max_and_counts_other_apps() -> None:
    lim, clock = limiter(100, 10.0)
    slot = await lim.acquire()
    lim.release(slot, {
        "x-hubspot-ratelimit-max": "10",
        "x-hubspot-ratelimit-remaining": "4",
        "x-hubspot-ratelimit-interval-milliseconds": "10000",
    })
    snap = lim.snapshot()["burst"]
    assert snap["max"] == 10
    assert snap["phantoms"] == 5  # 6 used, one of them ours
    slots = [await lim.acquire() for _ in range(4)]
    blocked = asyncio.create_task(lim.acquire())
    await clock.settle()
    assert not blocked.done()
    await clock.advance(10.0)
    assert blocked.done()
    for s in [*slots, blocked.result()]:
        lim.release(s, None)
    await lim.aclose()


async def test_calibration_never_raises_the_configured_budget() -> None:
    lim, _ = limiter(10, 10.0)
    lim.release(await lim.acquire(), {"x-hubspot-ratelimit-max": "190",
                                      "x-hubspot-ratelimit-interval-milliseconds": "5000"})
    snap = lim.snapshot()["burst"]
    assert snap["max"] == 10 and snap["interval_seconds"] == 10.0
    await lim.aclose()


async def test_burst_429_pauses_the_bucket() -> None:
    lim, clock = limiter(100, 10.0)
    lim.release(await lim.acquire(), None)
    lim.on_rate_limited(
        RateLimitError("limit", status=429, policy_name="TEN_SECONDLY_ROLLING", retry_after=2.0),
        Bucket.BURST,
    )
    waiter = asyncio.create_task(lim.acquire())
    await clock.advance(1.9)
    assert not waiter.done()
    await clock.advance(0.1)
    assert waiter.done()
    lim.release(waiter.result(), None)
    await lim.aclose()


async def test_daily_429_fails_fast_for_the_cooldown() -> None:
    lim, clock = limiter(100, 10.0, daily_cooldown_seconds=60.0)
    lim.on_rate_limited(DailyLimitError("daily", status=429, policy_name="DAILY"), Bucket.BURST)
    with pytest.raises(DailyLimitError):
        await lim.acquire()
    await clock.advance(60.0)
    lim.release(await lim.acquire(), None)
    await lim.aclose()


async def test_daily_remaining_zero_header_stops_the_client() -> None:
    lim, _ = limiter(100, 10.0)
    lim.release(await lim.acquire(), {"x-hubspot-ratelimit-daily-remaining": "0"})
    with pytest.raises(DailyLimitError):
        await lim.acquire()
    await lim.aclose()


async def test_configured_daily_quota_is_counted_locally() -> None:
    lim, _ = limiter(100, 10.0, daily=2)
    for _ in range(2):
        lim.release(await lim.acquire(), None)
    with pytest.raises(DailyLimitError):
        await lim.acquire()
    await lim.aclose()


async def test_search_bucket_is_separate() -> None:
    clock = ManualClock()
    lim = RateLimiter(RateLimits(requests_per_interval=1, search_per_second=2), clock=clock)
    burst = await lim.acquire(Bucket.BURST)
    searches = [await lim.acquire(Bucket.SEARCH) for _ in range(2)]
    third: asyncio.Task[Slot] = asyncio.create_task(lim.acquire(Bucket.SEARCH))
    for s in searches:
        lim.release(s, None)
    await clock.advance(0.99)
    assert not third.done()
    await clock.advance(0.01)
    assert third.done()
    lim.release(third.result(), None)
    lim.release(burst, None)
    await lim.aclose()


def test_rate_limits_are_validated() -> None:
    with pytest.raises(InvalidInputError, match="requests_per_interval"):
        RateLimits(requests_per_interval=0)
    with pytest.raises(InvalidInputError, match="interval_seconds"):
        RateLimits(interval_seconds=-1)


async def test_pacing_lets_a_tenth_of_the_window_go_at_once_then_spreads_the_rest() -> None:
    lim, clock = limiter(100, 10.0)
    for _ in range(10):  # the pacing burst: partial batches go at once
        assert lim.pacing_delay() == 0.0
        lim.spend_pacing()
    emission = 10.0 / 90  # the other 90 requests of the window, spread over the interval
    assert lim.pacing_delay() == pytest.approx(emission)
    await clock.advance(emission)
    assert lim.pacing_delay() == pytest.approx(0.0)
    lim.spend_pacing()
    assert lim.pacing_delay() == pytest.approx(emission)
    # An idle interval refills the burst, never more: 10 at once again, then spread.
    await clock.advance(100.0)
    for _ in range(10):
        assert lim.pacing_delay() == 0.0
        lim.spend_pacing()
    assert lim.pacing_delay() > 0


async def test_pacing_burst_plus_one_interval_of_refill_fits_the_window() -> None:
    for max_ in (1, 2, 3, 10, 100, 190):
        lim, clock = limiter(max_, 10.0)
        sent = 0
        while clock.now() < 10.0 - 1e-9:  # a partial batch whenever pacing allows, for 10 s
            delay = lim.pacing_delay()
            if delay > 0:
                await clock.advance(delay)
                continue
            lim.spend_pacing()
            sent += 1
        assert 0.9 * max_ - 1 <= sent <= max_, max_  # never over, and not much under


async def test_pacing_follows_calibration_and_can_be_turned_off() -> None:
    lim, _ = limiter(100, 10.0)
    lim.release(await lim.acquire(), {"x-hubspot-ratelimit-max": "20",
                                      "x-hubspot-ratelimit-remaining": "19"})
    for _ in range(2):  # a tenth of the calibrated 20
        assert lim.pacing_delay() == 0.0
        lim.spend_pacing()
    assert lim.pacing_delay() == pytest.approx(10.0 / 18)
    off, _ = limiter(100, 10.0, pacing=False)
    for _ in range(200):
        off.spend_pacing()
    assert off.pacing_delay() == 0.0
