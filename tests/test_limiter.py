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
    kwargs.setdefault("cautious_start", False)  # these tests are about the window itself
    limits = RateLimits(requests_per_interval=max_, interval_seconds=interval, **kwargs)
    return RateLimiter(limits, clock=clock), clock


async def test_admits_max_at_once_then_waits_for_an_interval_after_release() -> None:
    lim, clock = limiter(3, 10.0)
    slots = [await lim.acquire() for _ in range(3)]
    waiter = asyncio.create_task(lim.acquire())
    await clock.settle()
    assert not waiter.done()
    await clock.advance(1.0)
    await lim.release(slots[0], None)  # response at t=1: the slot frees at t=11
    await clock.advance(9.9)
    assert not waiter.done()
    await clock.advance(0.1)
    assert waiter.done()
    await lim.release(waiter.result(), None)
    for s in slots[1:]:
        await lim.release(s, None)
    await lim.aclose()


async def test_abandoned_slot_is_free_at_once() -> None:
    lim, clock = limiter(1)
    slot = await lim.acquire()
    waiter = asyncio.create_task(lim.acquire())
    await clock.settle()
    await lim.abandon(slot)
    await clock.settle()
    assert waiter.done()
    await lim.abandon(waiter.result())
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
        await lim.release(slot, None)

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
        await lim.release(slot, None)

    tasks = [asyncio.create_task(take(i)) for i in range(5)]
    await clock.settle()
    await lim.release(first, None)
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
    await lim.abandon(first)
    await clock.settle()
    assert second.done()
    assert (await lim.snapshot())["burst"]["in_flight"] == 1
    await lim.abandon(second.result())
    await lim.aclose()


async def test_calibrates_down_to_the_headers_max_and_counts_other_apps() -> None:
    lim, clock = limiter(100, 10.0)
    slot = await lim.acquire()
    await lim.release(slot, {
        "x-hubspot-ratelimit-max": "10",
        "x-hubspot-ratelimit-remaining": "4",
        "x-hubspot-ratelimit-interval-milliseconds": "10000",
    })
    snap = (await lim.snapshot())["burst"]
    assert snap["max"] == 10
    assert snap["phantoms"] == 5  # 6 used, one of them ours
    slots = [await lim.acquire() for _ in range(4)]
    blocked = asyncio.create_task(lim.acquire())
    await clock.settle()
    assert not blocked.done()
    await clock.advance(10.0)
    assert blocked.done()
    for s in [*slots, blocked.result()]:
        await lim.release(s, None)
    await lim.aclose()


def window_headers(max_: int, interval_ms: int, remaining: int | None = None) -> dict[str, str]:
    headers = {"x-hubspot-ratelimit-max": str(max_),
               "x-hubspot-ratelimit-interval-milliseconds": str(interval_ms)}
    if remaining is not None:
        headers["x-hubspot-ratelimit-remaining"] = str(remaining)
    return headers


async def test_the_window_is_learned_up_as_well_as_down() -> None:
    lim, _ = limiter(10, 10.0)
    await lim.release(await lim.acquire(), window_headers(190, 5000))
    snap = (await lim.snapshot())["burst"]
    assert snap["max"] == 190 and snap["interval_seconds"] == 5.0
    slots = [await lim.acquire() for _ in range(189)]  # 190 in the learned window
    assert (await lim.snapshot())["burst"]["used"] == 190
    await lim.release(slots[0], window_headers(40, 2000))
    snap = (await lim.snapshot())["burst"]
    assert snap["max"] == 40 and snap["interval_seconds"] == 2.0
    await lim.aclose()


async def test_learn_false_makes_the_configured_window_an_upper_bound() -> None:
    lim, _ = limiter(10, 10.0, learn=False)
    await lim.release(await lim.acquire(), window_headers(190, 5000))
    snap = (await lim.snapshot())["burst"]
    assert snap["max"] == 10 and snap["interval_seconds"] == 10.0
    await lim.release(await lim.acquire(), window_headers(4, 20000))
    snap = (await lim.snapshot())["burst"]
    assert snap["max"] == 4 and snap["interval_seconds"] == 20.0
    await lim.aclose()


async def test_a_share_caps_this_client_without_counting_the_others_twice() -> None:
    lim, clock = limiter(100, 10.0, share=0.25)
    # HubSpot: 100 per 10 s, 60 counted; one of them is ours, 59 are other workers'.
    await lim.release(await lim.acquire(), window_headers(100, 10_000, remaining=40))
    snap = (await lim.snapshot())["burst"]
    assert snap["own_cap"] == 25 and snap["phantoms"] == 59
    slots = [await lim.acquire() for _ in range(24)]  # 25 of ours: our share, not 40 - 59
    blocked = asyncio.create_task(lim.acquire())
    await clock.settle()
    assert not blocked.done()
    await clock.advance(10.0)
    assert blocked.done()
    for slot in [*slots, blocked.result()]:
        await lim.release(slot, None)
    await lim.aclose()


async def test_a_fresh_client_sends_one_request_until_hubspot_says_what_is_left() -> None:
    lim, clock = limiter(10, 10.0, cautious_start=True)
    first = await lim.acquire()
    second = asyncio.create_task(lim.acquire())
    await clock.settle()
    assert not second.done()  # nothing is known of the window yet
    # Another process spent 7 of the 10; with our first, 8 are counted.
    await lim.release(first, window_headers(10, 10_000, remaining=2))
    await clock.settle()
    assert second.done()
    third = await lim.acquire()  # 7 theirs + first + second + third = 10
    fourth = asyncio.create_task(lim.acquire())
    await clock.settle()
    assert not fourth.done()
    for slot in (second.result(), third):
        await lim.release(slot, None)
    fourth.cancel()
    await lim.aclose()


async def test_a_slot_frees_when_hubspots_timestamps_prove_it_left_the_window() -> None:
    lim, clock = limiter(1, 10.0)
    slot = await lim.acquire()
    await clock.advance(0.6)  # 0.1 s there, 0.5 s of server time, back
    # HubSpot's clock reads 1000 more than ours: it started at 1000.1, completed at 1000.6.
    await lim.release(slot, None, sent_at=0.0, received_at=0.6, server_times=(1000.1, 1000.6))
    waiter = asyncio.create_task(lim.acquire())
    # θ >= 1000.6 - 0.6 - 0.025: counted by 0.125 on our clock; free at 10.125, not 10.6.
    await clock.advance(9.5)
    assert not waiter.done()
    await clock.advance(0.03)
    assert waiter.done()
    await lim.release(waiter.result(), None)
    await lim.aclose()


async def test_after_a_burst_429_slots_free_only_an_interval_after_the_answer() -> None:
    lim, clock = limiter(1, 10.0)
    await lim.on_rate_limited(RateLimitError("x", status=429, policy_name="TEN_SECONDLY_ROLLING",
                                             retry_after=0.0), Bucket.BURST)
    slot = await lim.acquire()
    await clock.advance(0.6)
    await lim.release(slot, None, sent_at=0.0, received_at=0.6, server_times=(1000.1, 1000.6))
    waiter = asyncio.create_task(lim.acquire())
    await clock.advance(9.9)
    assert not waiter.done()  # conservative: counted until 10.6
    await clock.advance(0.1)
    assert waiter.done()
    await lim.release(waiter.result(), None)
    await lim.aclose()


async def test_the_offset_comes_from_the_answer_read_most_promptly() -> None:
    lim, clock = limiter(2, 10.0)
    first, second = await lim.acquire(), await lim.acquire()
    # Both counted at 0.1 on our clock (HubSpot's reads 1000 more). The first answer is read
    # promptly (0.6); the second only at 2.0 (the client was busy): its own round trip would
    # say "counted by 1.5", the offset learned from the first says "by 0.125".
    await clock.advance(0.6)
    await lim.release(first, None, sent_at=0.0, received_at=0.6, server_times=(1000.1, 1000.6))
    await clock.advance(1.4)
    await lim.release(second, None, sent_at=0.0, received_at=2.0, server_times=(1000.1, 1000.6))
    waiters = [asyncio.create_task(lim.acquire()) for _ in range(2)]
    await clock.advance(8.15)  # t = 10.15
    assert all(w.done() for w in waiters)
    for waiter in waiters:
        await lim.release(waiter.result(), None)
    await lim.aclose()


async def test_server_timestamps_that_contradict_the_round_trip_are_not_trusted() -> None:
    lim, clock = limiter(1, 10.0)
    slot = await lim.acquire()
    await clock.advance(0.2)
    await lim.release(slot, None, sent_at=0.0, received_at=0.2, server_times=(1000.0, 1005.0))
    waiter = asyncio.create_task(lim.acquire())
    await clock.advance(9.9)
    assert not waiter.done()
    await clock.advance(0.1)
    assert waiter.done()
    await lim.release(waiter.result(), None)
    await lim.aclose()


async def test_burst_429_pauses_the_bucket() -> None:
    lim, clock = limiter(100, 10.0)
    await lim.release(await lim.acquire(), None)
    await lim.on_rate_limited(
        RateLimitError("limit", status=429, policy_name="TEN_SECONDLY_ROLLING", retry_after=2.0),
        Bucket.BURST,
    )
    waiter = asyncio.create_task(lim.acquire())
    await clock.advance(1.9)
    assert not waiter.done()
    await clock.advance(0.1)
    assert waiter.done()
    await lim.release(waiter.result(), None)
    await lim.aclose()


async def test_daily_429_fails_fast_for_the_cooldown() -> None:
    lim, clock = limiter(100, 10.0, daily_cooldown_seconds=60.0)
    daily = DailyLimitError("daily", status=429, policy_name="DAILY")
    await lim.on_rate_limited(daily, Bucket.BURST)
    with pytest.raises(DailyLimitError):
        await lim.acquire()
    await clock.advance(60.0)
    await lim.release(await lim.acquire(), None)
    await lim.aclose()


async def test_daily_remaining_zero_header_stops_the_client() -> None:
    lim, _ = limiter(100, 10.0)
    await lim.release(await lim.acquire(), {"x-hubspot-ratelimit-daily-remaining": "0"})
    with pytest.raises(DailyLimitError):
        await lim.acquire()
    await lim.aclose()


async def test_configured_daily_quota_is_counted_locally() -> None:
    lim, _ = limiter(100, 10.0, daily=2)
    for _ in range(2):
        await lim.release(await lim.acquire(), None)
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
        await lim.release(s, None)
    await clock.advance(0.99)
    assert not third.done()
    await clock.advance(0.01)
    assert third.done()
    await lim.release(third.result(), None)
    await lim.release(burst, None)
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
    await lim.release(await lim.acquire(), window_headers(20, 10_000, remaining=19))
    for _ in range(2):  # a tenth of the calibrated 20
        assert lim.pacing_delay() == 0.0
        lim.spend_pacing()
    assert lim.pacing_delay() == pytest.approx(10.0 / 18)
    off, _ = limiter(100, 10.0, pacing=False)
    for _ in range(200):
        off.spend_pacing()
    assert off.pacing_delay() == 0.0
