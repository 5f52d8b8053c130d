"""Client CPU per item: hubengage ``create_many`` vs the official SDK's hand-batched creates.

The emulator runs in its own process with no limits (``--burst 0 --daily 0``), so the client
never waits on a window; ``time.process_time()`` of this (client) process is measured around
each run (all threads included), and divided by the items created.

- hubengage: ``async for outcome in hs.emails.create_many(generator)`` over N emails;
- official: ``batch_api.create`` of 100 emails per call from 4 threads (needs
  ``hubspot-api-client``: ``pip install -e '.[bench]'``).

    python benchmarks/overhead.py           # 100,000 and 10,000 emails, median of 9 runs each
    python benchmarks/overhead.py --profile /tmp/ours.prof   # plus a cProfile of our path
    python benchmarks/overhead.py --quick   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import UNLIMITED, EmulatorProcess, bench_client, email, emails, print_table

HEADERS = ["client", "items", "ok", "wall s", "CPU s", "CPU µs/item (median)",
           "µs/item min-max", "items/s"]



async def ours(url: str, n: int) -> int:
    async with bench_client(url) as hs:
        return sum([outcome.ok async for outcome in hs.emails.create_many(emails(n))])


def official(url: str, n: int) -> int:
    import hubspot
    from hubspot.crm.objects.emails import (
        BatchInputSimplePublicObjectBatchInputForCreate as BatchInput,
    )
    from hubspot.crm.objects.emails import SimplePublicObjectBatchInputForCreate as Item

    client = hubspot.Client.create(access_token="bench", host=url, connection_pool_maxsize=4)
    api = client.crm.objects.emails.batch_api  # each access builds an ApiClient: keep one

    def chunk(start: int) -> int:
        inputs = [Item(properties=email(i), associations=[])
                  for i in range(start, min(n, start + 100))]
        return len(api.create(BatchInput(inputs=inputs)).results)

    with ThreadPoolExecutor(4) as pool:
        return sum(pool.map(chunk, range(0, n, 100)))


def measure(name: str, n: int, run: Callable[[str], int], repeat: int) -> list[object]:
    """``repeat`` runs, each on a fresh emulator; the row of the median CPU per item."""
    runs = []
    for _ in range(repeat):
        with EmulatorProcess(UNLIMITED) as emu:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            ok = run(emu.url)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        runs.append((1e6 * cpu / max(ok, 1), ok, cpu, wall))
    runs.sort()
    per_item, ok, cpu, wall = runs[len(runs) // 2]
    return [name, n, ok, f"{wall:.2f}", f"{cpu:.2f}", f"{per_item:.1f}",
            f"{runs[0][0]:.1f}-{runs[-1][0]:.1f}", round(ok / wall)]


def profile(n: int, path: str) -> None:
    """cProfile one hubengage run (the client process only) and print the top functions."""
    import cProfile
    import pstats

    with EmulatorProcess(UNLIMITED) as emu:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(ours(emu.url, n))
        profiler.disable()
    profiler.dump_stats(path)
    print(f"profile of hubengage create_many over {n:,} emails (cProfile inflates small calls):")
    pstats.Stats(path).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="emails for hubengage (100,000)")
    parser.add_argument("--official-n", type=int, default=10_000,
                        help="emails for the official client (10,000)")
    parser.add_argument("--repeat", type=int, default=9, help="runs per client (9)")
    parser.add_argument("--profile", metavar="FILE",
                        help="also cProfile one hubengage run into FILE and print its top")
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    args = parser.parse_args()
    if args.quick:
        args.n, args.official_n, args.repeat = 2_000, 1_000, 1
    rows = [measure("hubengage create_many", args.n, lambda url: asyncio.run(ours(url, args.n)),
                    args.repeat)]
    try:
        import hubspot  # noqa: F401
    except ImportError:
        rows.append(["hubspot-api-client: not installed: pip install -e '.[bench]'",
                     *[None] * (len(HEADERS) - 1)])
    else:
        rows.append(measure("official batch_api 100s, 4 threads", args.official_n,
                            lambda url: official(url, args.official_n), args.repeat))
    print_table(HEADERS, rows)
    if args.profile:
        profile(args.n, args.profile)


if __name__ == "__main__":
    main()
