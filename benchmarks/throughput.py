"""Throughput under the burst window: hubengage vs the physical limit and the official SDK.

Each run gets a fresh emulator process with ``--burst MAX/I --daily 0`` where I = 10 / SCALE
seconds: by default HubSpot's own 100 requests per 10 s (a Free/Starter private app);
``--scale 10`` shrinks it to 100 per 1 s for shorter runs; ``--max 190`` is a Professional
app's window; ``--latency S`` makes the emulator spend S seconds on each request after
counting it (HubSpot's batch writes take hundreds of milliseconds). The physical limit of a
rolling window of MAX requests per I over T seconds is MAX x (T / I + 1) requests (MAX at
once, then MAX / I per second), 100 items each. Two shares of that limit are reported: "of
limit" over the whole run (from the first call to the last outcome: asyncio starting the
tasks is charged), and "of limit, counted" over the span from the first arrival HubSpot
counted to the last (the emulator's own record), which is what the budget controls.
``--client-limits assumed`` gives hubengage no limits (the default ``RateLimits()``, 100 /
10 s, learned from the headers); by default it is told the emulator's window. ``--plot
FILE`` draws what the emulator counted in its rolling window over time, per client, against
the limit, with the 429s. Rows:

- hubengage: N individual ``await hs.emails.create(...)`` calls, all started at once
  (the client batches them, 100 per request, and keeps to the window itself);
- official ``basic_api.create`` per item from 16 threads, urllib3 ``Retry`` on 429;
- official ``batch_api.create`` hand-chunked by 100 from 4 threads, the same ``Retry``.

The official rows need ``hubspot-api-client`` (``pip install -e '.[bench]'``); without it
they say so and only hubengage is measured.

    python benchmarks/throughput.py       # 100,000 / 1,000 / 100,000 emails, 10 s (~6 min)
    python benchmarks/throughput.py --scale 10 -n 30000 --official-n 3000   # 1 s (~1 min)
    python benchmarks/throughput.py --latency 0.5 -n 50000 --no-official    # early release
    python benchmarks/throughput.py --max 190 --client-limits assumed -n 50000 --no-official
    python benchmarks/throughput.py --quick      # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    EmulatorProcess,
    bench_client,
    counted_times,
    email,
    emulator_arrivals,
    emulator_stats,
    physical_limit,
    plot_window,
    print_table,
)

from hubengage import RateLimits

BATCH = 100
HEADERS = ["client", "items", "ok", "seconds", "items/s", "of limit", "of limit, counted",
           "requests", "429s", "retries", "vs ours"]



#: Seconds from the first ``create`` call to the first request hubengage sent (last run).
FIRST_REQUEST: list[float] = []


async def ours(url: str, n: int, limits: RateLimits) -> tuple[int, float, object]:
    """(ok items, seconds, client retries) for n concurrent ``create`` calls."""
    async with bench_client(url, limits) as hs:

        async def watch_first_request() -> None:  # to the millisecond
            while not hs.stats.batches:  # noqa: ASYNC110 - polling the SDK from outside
                await asyncio.sleep(0.001)
            FIRST_REQUEST.append(time.perf_counter() - start)

        start = time.perf_counter()
        watcher = asyncio.create_task(watch_first_request())
        results = await asyncio.gather(*(hs.emails.create(email(i)) for i in range(n)),
                                       return_exceptions=True)
        elapsed = time.perf_counter() - start
        await watcher
        ok = sum(not isinstance(r, BaseException) for r in results)
        return ok, elapsed, hs.stats.retries


def official_client(url: str) -> Any:
    import hubspot
    from urllib3.util.retry import Retry

    retry = Retry(total=10, status_forcelist=(429,), allowed_methods=None, backoff_factor=0.5,
                  respect_retry_after_header=True)
    # Client kwargs are set on every API's Configuration: host, and a pool for 16 threads.
    client = hubspot.Client.create(access_token="bench", retry=retry, host=url,
                                   connection_pool_maxsize=16)
    return client.crm.objects.emails


def run_threads(threads: int, jobs: list[Callable[[], int]]) -> tuple[int, float]:
    """Run jobs (each returns items created) on a pool; (ok items, seconds). Errors count 0."""

    def safe(job: Callable[[], int]) -> int:
        try:
            return job()
        except Exception:  # MaxRetryError, ApiException...: the item failed
            return 0

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        ok = sum(pool.map(safe, jobs))
    return ok, time.perf_counter() - start


def official_basic(url: str, n: int) -> tuple[int, float, object]:
    from hubspot.crm.objects.emails import SimplePublicObjectInputForCreate

    api = official_client(url).basic_api  # each access builds a new ApiClient: keep one

    def job(i: int) -> Callable[[], int]:
        def create() -> int:
            api.create(SimplePublicObjectInputForCreate(properties=email(i), associations=[]))
            return 1
        return create

    return (*run_threads(16, [job(i) for i in range(n)]), "n/a")


def official_batch(url: str, n: int) -> tuple[int, float, object]:
    from hubspot.crm.objects.emails import (
        BatchInputSimplePublicObjectBatchInputForCreate as BatchInput,
    )
    from hubspot.crm.objects.emails import SimplePublicObjectBatchInputForCreate as Item

    api = official_client(url).batch_api

    def job(start: int) -> Callable[[], int]:
        def create() -> int:
            inputs = [Item(properties=email(i), associations=[])
                      for i in range(start, min(n, start + BATCH))]
            return len(api.create(BatchInput(inputs=inputs)).results)
        return create

    return (*run_threads(4, [job(s) for s in range(0, n, BATCH)]), "n/a")


#: What each client's emulator counted (for ``--plot``): name -> (counted, 429s).
COUNTED: dict[str, tuple[list[float], list[float]]] = {}


def measure(name: str, burst: list[str], maximum: int, interval: float, n: int,
            run: Callable[[str], tuple[int, float, object]]) -> list[object]:
    with EmulatorProcess(burst) as emu:
        ok, elapsed, retries = run(emu.url)
        stats = emulator_stats(emu.url)
        counted, rejected = counted_times(emulator_arrivals(emu.url))
    COUNTED[name] = (counted, rejected)
    whole = ok / (physical_limit(elapsed, maximum, interval) * BATCH)
    accepted = len(counted)  # the emulator counts only requests it admitted
    span = counted[-1] - counted[0] if counted else 0.0
    in_span = accepted / physical_limit(span, maximum, interval) if counted else 0.0
    return [name, n, ok, f"{elapsed:.2f}", round(ok / elapsed), f"{100 * whole:.1f}%",
            f"{100 * in_span:.1f}%", stats["total_requests"],
            sum(stats["rate_limited"].values()), retries, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000,
                        help="emails for hubengage (100,000)")
    parser.add_argument("--official-n", type=int, default=1_000,
                        help="emails for the official per-item basic_api.create (1,000)")
    parser.add_argument("--official-batch-n", type=int, default=None,
                        help="emails for the official hand-batched batch_api (default: -n)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="shrink HubSpot's 10 s window by this factor (default 1; 10: 1 s)")
    parser.add_argument("--max", type=int, default=100,
                        help="requests per window (100; 190 for Professional/Enterprise)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds the emulator spends on each request after counting it")
    parser.add_argument("--client-limits", choices=("exact", "assumed"), default="exact",
                        help="tell hubengage the emulator's window (exact), or nothing "
                             "(assumed: RateLimits(), learned from HubSpot's headers)")
    parser.add_argument("--no-official", action="store_true",
                        help="measure hubengage only")
    parser.add_argument("--plot", metavar="FILE", help="draw the counted window (PNG)")
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    args = parser.parse_args()
    if args.quick:
        args.n, args.official_n, args.scale = 1_500, 200, 10.0
    batch_n = args.official_batch_n or args.n
    interval = 10.0 / args.scale
    maximum = args.max
    burst = ["--port", "0", "--burst", f"{maximum}/{round(interval * 1000)}ms", "--daily", "0",
             "--latency", str(args.latency)]
    limits = (RateLimits() if args.client_limits == "assumed"
              else RateLimits(requests_per_interval=maximum, interval_seconds=interval))
    told = ("nothing (learns from the headers)" if args.client_limits == "assumed"
            else "the window")
    print(f"burst limit {maximum} requests / {interval:g} s (HubSpot: / 10 s), "
          f"server latency {args.latency:g} s, hubengage told: {told}", flush=True)

    rows = [measure("hubengage create() x N", burst, maximum, interval, args.n,
                    lambda url: asyncio.run(ours(url, args.n, limits)))]
    try:
        if args.no_official:
            raise ImportError
        import hubspot  # noqa: F401
    except ImportError:
        if not args.no_official:
            rows.append(["hubspot-api-client: not installed: pip install -e '.[bench]'",
                         *[None] * (len(HEADERS) - 1)])
    else:
        rows.append(measure("official basic_api.create, 16 threads", burst, maximum, interval,
                            args.official_n, lambda url: official_basic(url, args.official_n)))
        rows.append(measure("official batch_api 100s, 4 threads", burst, maximum, interval,
                            batch_n, lambda url: official_batch(url, batch_n)))
        ours_rate = rows[0][4]
        for row in rows[1:]:
            if isinstance(ours_rate, int) and isinstance(row[4], int) and row[4]:
                row[-1] = f"ours {ours_rate / row[4]:.1f}x"
    print_table(HEADERS, rows)
    if args.plot:
        plot_window(args.plot, {name: c for name, (c, _) in COUNTED.items()},
                    {name: r for name, (_, r) in COUNTED.items()}, maximum, interval,
                    f"{maximum} requests / {interval:g} s, latency {args.latency:g} s")
        print(f"plot: {args.plot}")
    if FIRST_REQUEST:
        print(f"hubengage's first request left {FIRST_REQUEST[-1]:.2f} s after the first call "
              f"(asyncio creating and starting {args.n:,} tasks; counted in its seconds)")


if __name__ == "__main__":
    main()
