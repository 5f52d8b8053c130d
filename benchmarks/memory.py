"""Peak memory of the client during ``create_many`` over N generated emails: flat in N?

For each size, a fresh emulator process (no limits: ``--burst 0 --daily 0``) and a fresh
client process (this script re-run with ``--child N --url URL``) that streams N emails from a
generator through ``hs.emails.create_many`` (default window) and reports its own RSS before
the run and its peak RSS (``VmHWM``) after it. The parent prints one row per size.

    python benchmarks/memory.py            # N = 10,000 and 1,000,000
    python benchmarks/memory.py --quick    # N = 1,000 and 2,000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    UNLIMITED,
    EmulatorProcess,
    bench_client,
    emails,
    peak_rss_bytes,
    print_table,
    rss_bytes,
)

MB = 2**20
HEADERS = ["N", "ok", "seconds", "RSS before MB", "peak RSS MB", "growth MB", "bytes/item"]


async def child(url: str, n: int) -> dict[str, float]:
    async with bench_client(url) as hs:
        before = rss_bytes() or 0
        start = time.perf_counter()
        ok = 0
        async for outcome in hs.emails.create_many(emails(n)):
            ok += outcome.ok
        return {"ok": ok, "seconds": time.perf_counter() - start, "before": before,
                "peak": peak_rss_bytes() or 0}


def measure(n: int) -> list[object]:
    with EmulatorProcess(UNLIMITED) as emu:
        proc = subprocess.run([sys.executable, __file__, "--child", str(n), "--url", emu.url],
                              capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    growth = result["peak"] - result["before"]
    return [n, int(result["ok"]), f"{result['seconds']:.1f}", f"{result['before'] / MB:.1f}",
            f"{result['peak'] / MB:.1f}", f"{growth / MB:.1f}", f"{growth / n:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000],
                        help="values of N (10,000 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(asyncio.run(child(args.url, args.child))))
        return
    if args.quick:
        args.sizes = [1_000, 2_000]
    print_table(HEADERS, [measure(n) for n in args.sizes])


if __name__ == "__main__":
    main()
