"""Per-call latency of ``await hs.emails.create(...)``: idle, against raw aiohttp, and loaded.

- idle: an emulator with no limits (``--burst 0 --daily 0``); ``--calls`` sequential creates
  through hubengage, then the same number of sequential one-email ``batch/create`` POSTs
  through a bare ``aiohttp.ClientSession`` (the wire floor). Our overhead is the difference.
- loaded: a fresh emulator with ``--burst 100/1s``; calls started at a steady ``--rate`` per
  second for ``--seconds`` (each started on schedule, not when the previous one ends), the
  client keeping to ``RateLimits(100, 1 s)``; latency of each call from its start. Run twice:
  with the default pacing of partial batches, and with ``RateLimits(pacing=False)``.

    python benchmarks/latency.py                 # 200 idle calls; 500 calls/s for 10 s
    python benchmarks/latency.py --quick         # a smoke run (20 idle calls; 0.2 s loaded)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
from _common import UNLIMITED, EmulatorProcess, bench_client, email, print_table

from hubengage import RateLimits

WARMUP = 5
HEADERS = ["run", "calls", "ok", "p50 ms", "p99 ms", "max ms", "mean ms", "requests"]



def summary(name: str, latencies: list[float], calls: int, requests: object) -> list[object]:
    ms = sorted(x * 1000 for x in latencies)
    if not ms:
        return [name, calls, 0, None, None, None, None, requests]
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    return [name, calls, len(ms), f"{statistics.median(ms):.2f}", f"{p99:.2f}",
            f"{ms[-1]:.2f}", f"{statistics.fmean(ms):.2f}", requests]


async def sequential(call: Callable[[int], Awaitable[object]], n: int) -> list[float]:
    for i in range(WARMUP):  # open the connection, warm caches; not timed
        await call(-1 - i)
    latencies = []
    for i in range(n):
        start = time.perf_counter()
        await call(i)
        latencies.append(time.perf_counter() - start)
    return latencies


async def idle_ours(url: str, n: int) -> tuple[list[float], int]:
    async with bench_client(url) as hs:
        latencies = await sequential(lambda i: hs.emails.create(email(i)), n)
        return latencies, hs.stats.total_requests - WARMUP


async def idle_raw(url: str, n: int) -> list[float]:
    headers = {"Authorization": "Bearer bench"}
    async with aiohttp.ClientSession() as session:

        async def post(i: int) -> None:
            body = {"inputs": [{"properties": email(i), "objectWriteTraceId": "t"}]}
            async with session.post(f"{url}/crm/v3/objects/emails/batch/create",
                                    json=body, headers=headers) as resp:
                await resp.json()
                if resp.status != 201:
                    raise RuntimeError(f"raw POST answered {resp.status}")

        return await sequential(post, n)


async def loaded(url: str, rate: float, seconds: float,
                 pacing: bool) -> tuple[list[float], int, int]:
    """Start rate x seconds calls on schedule; (latencies of ok calls, calls, requests)."""
    limits = RateLimits(requests_per_interval=100, interval_seconds=1.0, daily=None,
                        pacing=pacing)
    latencies: list[float] = []
    async with bench_client(url, limits) as hs:

        async def one(i: int) -> None:
            start = time.perf_counter()
            await hs.emails.create(email(i))
            latencies.append(time.perf_counter() - start)

        total = int(rate * seconds)
        tasks = []
        begin = time.perf_counter()
        for i in range(total):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks, return_exceptions=True)
        return latencies, total, hs.stats.total_requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="sequential idle calls (200)")
    parser.add_argument("--rate", type=float, default=500.0, help="loaded calls/s (500)")
    parser.add_argument("--seconds", type=float, default=10.0, help="loaded duration (10)")
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.seconds = 20, 0.2
    rows = []
    with EmulatorProcess(UNLIMITED) as emu:
        latencies, requests = asyncio.run(idle_ours(emu.url, args.calls))
        rows.append(summary("idle: hubengage create()", latencies, args.calls, requests))
        raw = asyncio.run(idle_raw(emu.url, args.calls))
        rows.append(summary("idle: raw aiohttp POST", raw, args.calls, args.calls))
    overhead = statistics.median(latencies) - statistics.median(raw)
    for pacing in (True, False):
        with EmulatorProcess(["--port", "0", "--burst", "100/1s", "--daily", "0"]) as emu:
            latencies, calls, requests = asyncio.run(
                loaded(emu.url, args.rate, args.seconds, pacing))
        rows.append(summary(f"loaded: {args.rate:g}/s for {args.seconds:g} s, burst 100/1s, "
                            f"pacing {'on' if pacing else 'off'}", latencies, calls, requests))
    print_table(HEADERS, rows)
    print(f"hubengage overhead over raw aiohttp (p50): {overhead * 1000:.3f} ms per call")


if __name__ == "__main__":
    main()
