"""Bounded waits and the client's life: Retry-After caps, deadlines, close, event loops.

Every wait is bounded (a Retry-After, a 429 pause, a limiter wait), ``aclose()`` waits for
every call in flight, batched or not, and is never held up by a pause; a closed transport is
never retried; a client refuses an event loop it was not made in.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hubengage import (
    AiohttpTransport,
    ClientClosedError,
    DeadlineExceededError,
    EventLoopError,
    HubSpot,
    RateLimitError,
    RateLimits,
    Request,
    Response,
    RetryConfig,
)
from hubengage._limiter import Bucket, RateLimiter
from tests._clock import ManualClock, settle
from tests._fakes import MiniHubSpot, ScriptedTransport, client, email, json_response

BURST_429 = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
             "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}


def first_answers_429(retry_after: str) -> tuple[MiniHubSpot, Any]:
    """A handler whose first request gets a burst 429 with ``Retry-After``."""
    mini = MiniHubSpot()
    calls = 0

    async def handler(request: Request) -> Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return json_response(429, BURST_429, **{"retry-after": retry_after})
        return await mini(request)

    return mini, handler


async def test_a_huge_retry_after_pauses_for_at_most_max_retry_after() -> None:
    clock = ManualClock()
    _, handler = first_answers_429("100000")  # a proxy's "come back tomorrow"
    retry = RetryConfig(max_attempts=3, max_retry_after=30.0, jitter=False)
    async with client(ScriptedTransport(handler), clock=clock, retry=retry) as hs:
        call = asyncio.ensure_future(hs.emails.create(email("a")))
        await clock.settle()
        assert hs.limiter.paused_for(Bucket.BURST) == 30.0
        await clock.advance(30.0)
        rec = await call
    assert rec.properties["hs_email_subject"] == "a"


async def test_aclose_is_not_held_up_by_a_pause_and_each_call_gets_an_outcome() -> None:
    clock = ManualClock()  # never advanced: any wait for the pause would hang the test
    _, handler = first_answers_429("50")
    hs = client(ScriptedTransport(handler), clock=clock,
                retry=RetryConfig(max_attempts=3, jitter=False))
    first = asyncio.ensure_future(hs.emails.create(email("a")))
    await clock.settle()  # its batch got the 429 and waits out the pause
    second = asyncio.ensure_future(hs.notes.create(
        {"hs_timestamp": "2026-01-15T10:00:00.000Z", "hs_note_body": "b"}))
    await clock.settle()  # queued behind the paused window
    await asyncio.wait_for(hs.aclose(), timeout=5)
    with pytest.raises(RateLimitError):  # its last error: it was sent, got a 429
        await first
    with pytest.raises(ClientClosedError):  # never sent
        await second


async def test_cancelling_a_call_that_waits_for_the_limiter_then_closing_does_not_spin() -> None:
    clock = ManualClock()
    _, handler = first_answers_429("50")
    hs = client(ScriptedTransport(handler), clock=clock,
                retry=RetryConfig(max_attempts=3, jitter=False))
    first = asyncio.ensure_future(hs.emails.create(email("a")))
    await clock.settle()
    waiting = asyncio.ensure_future(hs.emails.create(email("b")))
    await clock.settle()
    waiting.cancel()
    await clock.settle()
    loop_turns = clock.sleep_calls
    await asyncio.wait_for(hs.aclose(), timeout=5)  # at once: the clock never moves
    assert clock.sleep_calls == loop_turns and hs.batcher is not None
    assert hs.batcher.pending == 0
    assert first.done()
    first.exception()


async def test_aclose_waits_for_calls_that_bypass_the_batcher() -> None:
    gate = asyncio.Event()
    mini = MiniHubSpot()
    mini.store["7"] = {"hs_email_subject": "seven"}

    async def slow(request: Request) -> Response:
        await gate.wait()
        return json_response(200, mini._record("7"))

    transport = ScriptedTransport(slow)
    hs = client(transport, batching=False)
    call = asyncio.ensure_future(hs.emails.get("7"))
    await transport.wait_for_requests(1)  # the GET is in flight
    closing = asyncio.ensure_future(hs.aclose())
    await settle()  # aclose runs as far as it can without the GET's answer
    assert not closing.done()  # the GET is still in flight
    with pytest.raises(ClientClosedError):
        await hs.emails.get("7")  # new calls are refused while closing
    gate.set()
    await closing
    assert (await call).id == "7"


async def test_a_closed_transport_raises_client_closed_and_is_never_retried() -> None:
    transport = AiohttpTransport(base_url="http://127.0.0.1:9", access_token="secret")
    await transport.aclose()
    with pytest.raises(ClientClosedError):
        await transport.send(Request(method="GET", path="/crm/v3/objects/emails/1"))
    hs = HubSpot(transport=transport, batching=False,
                 retry=RetryConfig(max_attempts=5, initial_backoff=0.001))
    with pytest.raises(ClientClosedError):
        await hs.emails.get("1")
    assert hs.stats.retries == 0 and hs.stats.total_requests == 0
    await hs.aclose()


async def test_a_limiter_wait_ends_at_the_calls_deadline() -> None:
    clock = ManualClock()
    limiter = RateLimiter(RateLimits(requests_per_interval=1, interval_seconds=10), clock=clock)
    slot = await limiter.acquire()
    waiter = asyncio.ensure_future(limiter.acquire(deadline=3.0))
    await clock.settle()
    await limiter.release(slot, None)  # frees at t=10, after the deadline
    await clock.advance(3.0)
    with pytest.raises(DeadlineExceededError):
        await waiter
    assert (await limiter.snapshot())["burst"]["waiting"] == 0
    await clock.advance(7.0)
    again = await limiter.acquire(deadline=20.0)  # the window admits again on time
    await limiter.abandon(again)
    await limiter.aclose()


async def test_a_pause_never_outlasts_the_cap_even_when_headers_disagree() -> None:
    clock = ManualClock()
    limiter = RateLimiter(RateLimits(), clock=clock, max_pause=5.0)
    error = RateLimitError("x", status=429, policy_name="TEN_SECONDLY_ROLLING",
                           retry_after=86_400.0)
    await limiter.on_rate_limited(error, Bucket.BURST)
    assert limiter.paused_for(Bucket.BURST) == 5.0
    await limiter.aclose()


def test_a_client_refuses_an_event_loop_it_was_not_first_used_in() -> None:
    hs = client(ScriptedTransport())

    async def use() -> str:
        return (await hs.emails.create(email("a"))).id

    asyncio.run(use())
    with pytest.raises(EventLoopError, match="one client per event loop"):
        asyncio.run(use())
