"""The rate budget end to end, against the emulator's real (scaled-down) windows.

What HubSpot's headers say sets the window; a fresh client next to a window already partly
spent causes no 429; slots free early by HubSpot's own timestamps whatever the offset
between the clocks, and never too early: the emulator's record of what it counted never
exceeds the limit.
"""

from __future__ import annotations

import asyncio

import pytest

from hubengage import HubSpot, RateLimits, RetryConfig
from hubengage.emulator import Emulator, EmulatorConfig, max_in_window

TS = "2026-01-15T10:00:00.000Z"
RETRY = RetryConfig(max_attempts=4, initial_backoff=0.001, max_backoff=0.004)


def note(i: int) -> dict[str, str]:
    return {"hs_timestamp": TS, "hs_note_body": f"note {i}"}


def counted(emu: Emulator, token: str) -> list[float]:
    return sorted(emu.arrivals(token)["counted"])


async def test_a_client_told_nothing_learns_a_wider_window_and_uses_it() -> None:
    # HubSpot's headers say 30 per 0.3 s; the client assumes 100 per 10 s (the default).
    async with Emulator(burst_limit=30, burst_interval=0.3) as emu:
        async with HubSpot(access_token="t", base_url=emu.url, retry=RETRY,
                           batching=False) as hs:
            await asyncio.gather(*(hs.notes.get(f"{i}") for i in range(1)),
                                 return_exceptions=True)
            burst = (await hs.limiter.snapshot())["burst"]
            assert burst["max"] == 30 and burst["interval_seconds"] == 0.3
            started = asyncio.get_running_loop().time()
            await asyncio.gather(*(hs.notes.create(note(i)) for i in range(120)))
            took = asyncio.get_running_loop().time() - started
            assert hs.stats.total_rate_limited == 0
        # 120 requests at 30 per 0.3 s: about 1.2 s; at the assumed 100 per 10 s, 10 s.
        assert took < 3.0
        assert max_in_window(counted(emu, "t"), 0.3) <= 30


async def test_and_a_narrower_one() -> None:
    async with Emulator(burst_limit=5, burst_interval=0.1) as emu:
        limits = RateLimits(requests_per_interval=1000, interval_seconds=0.05)
        async with HubSpot(access_token="t", base_url=emu.url, retry=RETRY, batching=False,
                           rate_limits=limits) as hs:
            await asyncio.gather(*(hs.notes.create(note(i)) for i in range(40)))
            assert hs.stats.total_rate_limited == 0
        assert max_in_window(counted(emu, "t"), 0.1) <= 5


async def test_a_fresh_client_next_to_a_window_another_process_spent_sees_no_429() -> None:
    async with Emulator(burst_limit=20, burst_interval=0.5) as emu:
        other = HubSpot(access_token="shared", base_url=emu.url, retry=RETRY, batching=False,
                        rate_limits=RateLimits(requests_per_interval=15, interval_seconds=0.5,
                                               learn=False, cautious_start=False))
        async with other:
            await asyncio.gather(*(other.notes.create(note(i)) for i in range(15)))
        async with HubSpot(access_token="shared", base_url=emu.url, retry=RETRY,
                           batching=False) as fresh:
            await asyncio.gather(*(fresh.notes.create(note(100 + i)) for i in range(30)))
            assert fresh.stats.total_rate_limited == 0
        assert emu.stats()["rate_limited"] == {}
        assert max_in_window(counted(emu, "shared"), 0.5) <= 20


@pytest.mark.parametrize("skew", [-3600.0, 3600.0])
async def test_early_release_is_safe_whatever_the_servers_clock(skew: float) -> None:
    config = EmulatorConfig(burst_limit=5, burst_interval=0.3, latency=0.15, clock_skew=skew)
    async with Emulator(config) as emu:
        limits = RateLimits(requests_per_interval=5, interval_seconds=0.3, cautious_start=False)
        async with HubSpot(access_token="t", base_url=emu.url, retry=RETRY,
                           rate_limits=limits) as hs:
            # 15 batches of 100 (the batch answers carry startedAt/completedAt).
            await asyncio.gather(*(hs.notes.create(note(i)) for i in range(1500)))
            assert hs.stats.total_rate_limited == 0
        times = counted(emu, "t")
    assert len(times) == 15 and max_in_window(times, 0.3) <= 5
    # ...and the slots did free early: three windows take two intervals and a little, not
    # the 2 x (0.3 + 0.15) that counting each slot from its answer would take.
    assert times[-1] - times[0] < 2 * 0.3 + 0.2
