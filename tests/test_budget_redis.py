"""The rate budget shared through a real Redis server.

The Redis store must keep exactly the rule of the memory store (a parity test runs the same
steps on both), several clients on one key must together stay inside HubSpot's window with
no 429, what one client learns serves the others, a dead worker's slots free when their
leases end, and Redis going away is a clear error or, if asked, a local budget: no call lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubengage import BudgetStoreError, HubSpot, RateLimits, RetryConfig
from hubengage._budget import MemoryStore, Observation, WindowRules
from hubengage._budget_redis import RedisStore, redacted
from hubengage._clock import LoopClock
from hubengage.emulator import Emulator, EmulatorConfig
from tests._redis import RedisServer

TS = "2026-01-15T10:00:00.000Z"
RETRY = RetryConfig(max_attempts=4, initial_backoff=0.001, max_backoff=0.004)


def note(i: int) -> dict[str, str]:
    return {"hs_timestamp": TS, "hs_note_body": f"note {i}"}


async def test_the_redis_store_keeps_the_memory_stores_rule(
    redis_server: RedisServer, budget_key: str
) -> None:
    clock = LoopClock()
    stores = [MemoryStore(clock), RedisStore(redis_server.url, key=budget_key, clock=clock)]
    rules = WindowRules(max=3, interval=30.0, share=None, cautious=True)
    traces: list[list[Any]] = []
    for store in stores:
        trace: list[Any] = []
        admitted = [await store.admit("burst", f"s{i}", rules) for i in range(2)]
        trace.append([(a.admitted, a.max) for a in admitted])  # cautious: one alone
        window = await store.release("burst", "s0", 0.0,
                                     Observation(max=5, interval=30.0, remaining=1), rules)
        trace.append(window)  # learned 5 / 30 s
        snap = await store.snapshot("burst", rules)
        trace.append((snap["max"], snap["used"], snap["phantoms"]))  # 4 counted, 1 ours
        trace.append([(await store.admit("burst", f"t{i}", rules)).admitted for i in range(3)])
        await store.abandon("burst", "t0")
        trace.append((await store.admit("burst", "u", rules)).admitted)
        await store.pause("burst", 30.0, conservative=True)
        paused = await store.admit("burst", "v", rules)
        trace.append((paused.admitted, paused.paused, paused.conservative))
        traces.append(trace)
        await store.aclose()
    assert traces[0] == traces[1]
    assert traces[0][0] == [(True, 3), (False, 3)]
    assert traces[0][2] == (5, 1, 3)


async def test_phantoms_never_count_a_request_of_ours_hubspot_may_have_counted(
    redis_server: RedisServer, budget_key: str
) -> None:
    # Our slot A leaves the window 0.5 s from now; B is sent now. B's answer says HubSpot
    # counts 2: A and B, if HubSpot answered before A left. Read after A left (a slow answer,
    # a late read), A must not pass for another spender's request, which would hold a slot
    # for a whole interval. A third request counted is someone else's.
    clock = LoopClock()
    rules = WindowRules(max=10, interval=2.0, cautious=False)
    for store in (MemoryStore(clock), RedisStore(redis_server.url, key=budget_key,
                                                  clock=clock)):
        assert (await store.admit("burst", "a", rules)).admitted
        await store.release("burst", "a", 1.5, None, rules)  # counted 1.5 s ago
        assert (await store.admit("burst", "b", rules)).admitted
        await asyncio.sleep(0.8)  # A has left the window (0.3 s ago)
        await store.release("burst", "b", 0.7, Observation(max=10, interval=2.0, remaining=8),
                            rules, sent_age=0.8, answer_age=0.1)
        assert (await store.snapshot("burst", rules))["phantoms"] == 0, type(store)
        assert (await store.admit("burst", "c", rules)).admitted
        await store.release("burst", "c", 0.0, Observation(max=10, interval=2.0, remaining=7),
                            rules)  # now: B, C and one request of someone else's
        snapshot = await store.snapshot("burst", rules)
        assert (snapshot["used"], snapshot["phantoms"]) == (2, 1), type(store)
        await store.aclose()


async def test_the_store_never_puts_a_password_in_a_message() -> None:
    assert redacted("redis://user:s3cret@host:6379/0") == "redis://user:***@host:6379/0"
    assert redacted("redis://:s3cret@host/0") == "redis://:***@host/0"
    assert "s3cret" not in repr(RedisStore("redis://:s3cret@host/0", key="k", clock=LoopClock()))


async def writers(url: str, store: str | None, key: str, clients: int, calls: int,
                  limits: RateLimits) -> list[HubSpot]:
    """``clients`` clients on one token, each creating ``calls`` notes concurrently."""
    made = [HubSpot(access_token="one-token", base_url=url, rate_limits=limits, retry=RETRY,
                    rate_limit_store=store, rate_limit_key=key) for _ in range(clients)]

    async def write(hs: HubSpot, n: int) -> None:
        async with hs:
            await asyncio.gather(*(hs.notes.create(note(n * 1000 + i)) for i in range(calls)))

    await asyncio.gather(*(write(hs, n) for n, hs in enumerate(made)))
    return made


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(clients=st.integers(2, 4), calls=st.integers(50, 400))
def test_clients_sharing_one_budget_stay_inside_the_window(
    redis_server: RedisServer, budget_key: str, clients: int, calls: int
) -> None:
    async def scenario() -> None:
        limits = RateLimits(requests_per_interval=100, interval_seconds=10.0)  # assumptions
        config = EmulatorConfig(burst_limit=8, burst_interval=0.2, seed=1)
        async with Emulator(config) as emu:
            key = f"{budget_key}:{clients}:{calls}"
            made = await writers(emu.url, redis_server.url, key, clients, calls, limits)
            assert sum(hs.stats.total_rate_limited for hs in made) == 0
            assert emu.stats()["rate_limited"] == {}
            assert len(emu.records("notes")) == clients * calls

    asyncio.run(scenario())


async def test_the_same_clients_without_the_shared_budget_do_hit_the_window() -> None:
    # The control for the test above: proof that it can fail.
    limits = RateLimits(requests_per_interval=100, interval_seconds=10.0)
    async with Emulator(burst_limit=8, burst_interval=0.2, seed=1) as emu:
        made = await writers(emu.url, None, "unused", 4, 300, limits)
        assert len(emu.records("notes")) == 1200
    assert sum(hs.stats.total_rate_limited for hs in made) > 0


async def test_a_window_of_answers_at_once_never_runs_out_of_redis_connections(
    redis_server: RedisServer, budget_key: str
) -> None:
    # 150 full batches ask for their slots together, and their answers release them
    # together; redis-py's pool holds 100 connections and refuses the 101st call unless the
    # limiter asks one at a time and the store waits for a connection.
    limits = RateLimits(requests_per_interval=400, interval_seconds=10.0, cautious_start=False)
    async with Emulator(burst_limit=0) as emu, HubSpot(
        access_token="t", base_url=emu.url, retry=RETRY, rate_limits=limits,
        rate_limit_store=redis_server.url, rate_limit_key=budget_key,
    ) as hs:
        records = await asyncio.gather(*(hs.notes.create(note(i)) for i in range(15_000)))
        assert len({r.id for r in records}) == 15_000
        assert hs.stats.total_requests == 150


async def test_what_one_client_learns_serves_the_next_at_once(
    redis_server: RedisServer, budget_key: str
) -> None:
    async with Emulator(burst_limit=40, burst_interval=2.0) as emu:
        kwargs: dict[str, Any] = {"access_token": "t", "base_url": emu.url, "retry": RETRY,
                                  "rate_limit_store": redis_server.url,
                                  "rate_limit_key": budget_key}
        async with HubSpot(**kwargs) as first:
            await first.notes.create(note(1))
        async with HubSpot(**kwargs) as second:
            burst = (await second.limiter.snapshot())["burst"]
            assert burst["max"] == 40 and burst["interval_seconds"] == 2.0 and burst["learned"]
            assert burst["used"] == 1  # the first client's request, still in the window
            # No cautious start: the budget has been answered before.
            slots = [await second.limiter.acquire() for _ in range(3)]
            for slot in slots:
                await second.limiter.abandon(slot)


async def test_a_killed_workers_slots_free_when_their_leases_end(
    redis_server: RedisServer, budget_key: str
) -> None:
    worker = textwrap.dedent(f"""
        import asyncio, sys
        from hubengage._budget import WindowRules
        from hubengage._budget_redis import RedisStore
        from hubengage._clock import LoopClock

        async def main():
            store = RedisStore({redis_server.url!r}, key={budget_key!r}, clock=LoopClock(),
                               lease=0.5)
            rules = WindowRules(max=2, interval=60.0, cautious=False)
            for i in range(2):
                assert (await store.admit("burst", f"dead-{{i}}", rules)).admitted
            print("holding", flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
    """)
    proc = subprocess.Popen(  # noqa: ASYNC220 - a worker to kill, read before it is
        [sys.executable, "-c", worker], stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"holding"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    store = RedisStore(redis_server.url, key=budget_key, clock=LoopClock())
    rules = WindowRules(max=2, interval=60.0, cautious=False)
    refused = await store.admit("burst", "alive-0", rules)
    assert not refused.admitted and 0 < refused.wait <= 0.5
    await asyncio.sleep(refused.wait + 0.05)
    assert (await store.admit("burst", "alive-1", rules)).admitted
    await store.aclose()


async def test_redis_going_away_is_a_clear_error_and_loses_no_call(budget_key: str) -> None:
    server = RedisServer().start()
    try:
        async with Emulator(burst_limit=0) as emu, HubSpot(
            access_token="t", base_url=emu.url, retry=RETRY,
            rate_limit_store=server.url, rate_limit_key=budget_key,
        ) as hs:
            await hs.notes.create(note(0))
            server.stop()
            outcomes = await asyncio.gather(*(hs.notes.create(note(i)) for i in range(1, 6)),
                                            return_exceptions=True)
            assert all(isinstance(o, BudgetStoreError) for o in outcomes)
            assert "unreachable" in str(outcomes[0]) and "nothing was sent" in str(outcomes[0])
            assert len(emu.records("notes")) == 1
    finally:
        server.close()


async def test_or_with_a_fallback_a_warning_and_a_budget_of_its_own(
    budget_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer().start()
    try:
        async with Emulator(burst_limit=0) as emu, HubSpot(
            access_token="t", base_url=emu.url, retry=RETRY, rate_limit_store=server.url,
            rate_limit_key=budget_key, rate_limit_fallback=True,
        ) as hs:
            await hs.notes.create(note(0))
            server.stop()
            with caplog.at_level(logging.WARNING, logger="hubengage"):
                records = await asyncio.gather(*(hs.notes.create(note(i)) for i in range(1, 6)))
            assert len(records) == 5 and len(emu.records("notes")) == 6
            assert "keeping a budget in this process" in caplog.text
    finally:
        server.close()


def test_the_key_is_a_hash_of_the_token_never_the_token() -> None:
    from hubengage._client import budget_key

    key = budget_key("pat-na1-SECRET")
    assert "SECRET" not in key and key.startswith("hubengage:")
    assert key == budget_key("pat-na1-SECRET") != budget_key("pat-na1-OTHER")
