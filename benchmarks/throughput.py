"""Throughput against HubSpot's rolling burst window: hubengage vs the physical limit.

The emulator runs in its own process with a burst limit of 100 requests per INTERVAL
(``--scale 10`` shrinks HubSpot's 10 s window to 1 s so a run takes seconds, not minutes).
N emails are written through individual, concurrent ``await hs.emails.create(...)`` calls.
A rolling window of MAX requests per INTERVAL admits at most MAX x (T / INTERVAL + 1)
requests in T seconds, 100 items each: that is the physical limit we report against.

When ``hubspot-api-client`` is installed (``pip install -e '.[bench]'``), the same emulator
settings are measured for the official SDK as a user would write it: hand-chunked
``batch_api.create`` of 100 from 4 threads, with urllib3 ``Retry`` on 429.

    python benchmarks/throughput.py                 # 30,000 emails, 100 per 1 s window
    python benchmarks/throughput.py --quick         # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import EmulatorProcess, print_table

from hubengage import HubSpot, RateLimits, RetryConfig

TS = "2026-01-15T10:00:00.000Z"
MAX = 100


def email(i: int) -> dict[str, str]:
    return {"hs_timestamp": TS, "hs_email_direction": "EMAIL", "hs_email_subject": f"bench {i}"}


def emulator_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/__emulator__/stats") as resp:
        stats: dict[str, Any] = json.load(resp)
    return stats


async def ours(url: str, n: int, interval: float) -> tuple[float, dict[str, Any]]:
    limits = RateLimits(requests_per_interval=MAX, interval_seconds=interval, daily=None)
    async with HubSpot(access_token="bench", base_url=url, rate_limits=limits,
                       retry=RetryConfig(max_attempts=8), max_pending=n) as hs:
        start = time.perf_counter()
        await asyncio.gather(*(hs.emails.create(email(i)) for i in range(n)))
        elapsed = time.perf_counter() - start
        return elapsed, {"retries": hs.stats.retries}


def official(url: str, n: int) -> tuple[float, dict[str, Any]] | None:
    try:
        import hubspot
        from hubspot.crm.objects.emails import (
            BatchInputSimplePublicObjectBatchInputForCreate,
            SimplePublicObjectBatchInputForCreate,
        )
        from urllib3.util.retry import Retry
    except ImportError:
        return None
    retry = Retry(total=20, status_forcelist=(429,), allowed_methods=None, backoff_factor=0.5,
                  respect_retry_after_header=True)
    client = hubspot.Client.create(access_token="bench", retry=retry)
    api = client.crm.objects.emails.batch_api
    api.api_client.configuration.host = url

    def chunk(start: int) -> None:
        inputs = [SimplePublicObjectBatchInputForCreate(properties=email(i), associations=[])
                  for i in range(start, min(n, start + 100))]
        api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))

    begin = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(chunk, range(0, n, 100)))
    return time.perf_counter() - begin, {"retries": "n/a"}


def row(name: str, n: int, elapsed: float, interval: float, url: str,
        extra: dict[str, Any]) -> list[object]:
    stats = emulator_stats(url)
    physical = MAX * (elapsed / interval + 1) * 100 / elapsed
    rate = n / elapsed
    return [name, n, f"{elapsed:.2f}", f"{rate:,.0f}", f"{100 * rate / physical:.1f}%",
            stats["total_requests"], sum(stats["rate_limited"].values()), extra["retries"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=30_000, help="emails (default 30,000)")
    parser.add_argument("--official-n", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=10.0,
                        help="shrink HubSpot's 10 s window by this factor (default 10: 1 s)")
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    args = parser.parse_args()
    if args.quick:
        args.n, args.official_n, args.scale = 1_500, 500, 50.0
    interval = 10.0 / args.scale
    burst = ["--port", "0", "--burst", f"{MAX}/{int(interval * 1000)}ms", "--daily", "0"]
    rows = []
    with EmulatorProcess(burst) as emu:
        elapsed, extra = asyncio.run(ours(emu.url, args.n, interval))
        rows.append(row("hubengage create() x N", args.n, elapsed, interval, emu.url, extra))
    with EmulatorProcess(burst) as emu:
        result = official(emu.url, args.official_n)
        if result is None:
            rows.append(["hubspot-api-client: not installed (pip install -e '.[bench]')",
                         "", "", "", "", "", "", ""])
        else:
            rows.append(row("official batch_api 100s, 4 threads", args.official_n, *result[:1],
                            interval, emu.url, result[1]))
    print(f"burst limit {MAX} requests / {interval:g} s (HubSpot: / 10 s)")
    print_table(["client", "items", "seconds", "items/s", "of physical limit", "requests",
                 "429s", "retries"], rows)


if __name__ == "__main__":
    main()
