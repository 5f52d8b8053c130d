"""How many ``batch/create`` requests of 100 emails per second the emulator serves.

The emulator runs in its own process (``python -m hubengage.emulator --port 0 --burst 0
--daily 0``); one or more client processes each drive ``--concurrency`` connections that post
the same pre-serialised 100-email body to ``/crm/v3/objects/emails/batch/create`` for
``--duration`` seconds, reading each response but not parsing it (so the client is not the
bottleneck). It prints one table row per run: requests, items, seconds, requests/s, items/s,
errors, the emulator's CPU% (100 = one core) and RSS, the clients' CPU% and latency.

    python benchmarks/emulator_throughput.py                      # 10 s, 2 clients x 16
    python benchmarks/emulator_throughput.py --quick              # a tiny smoke run
    python benchmarks/emulator_throughput.py --profile emu.prof   # + emulator hotspots

The goal (issue 2) is at least 300 requests/s on a 2-core machine, so that the emulator is
never the bottleneck when the SDK is measured (HubSpot allows an app at most 25 requests/s).
Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import pstats
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CpuMeter, EmulatorProcess, peak_rss_bytes, print_table

BATCH_SIZE = 100
ENDPOINT = "/crm/v3/objects/emails/batch/create"
TOKEN = "benchmark-token"


def email_batch(size: int = BATCH_SIZE, seed: int = 0) -> bytes:
    """A valid ``batch/create`` body of ``size`` emails, serialised once."""
    inputs = [
        {
            "properties": {
                "hs_timestamp": "2026-01-15T10:00:00.000Z",
                "hs_email_direction": "EMAIL",
                "hs_email_status": "SENT",
                "hs_email_subject": f"Benchmark email {seed}-{i}",
                "hs_email_text": "Thanks for your interest, let's find a time to connect.",
            },
            "objectWriteTraceId": f"bench-{seed}-{i}",
        }
        for i in range(size)
    ]
    return json.dumps({"inputs": inputs}, separators=(",", ":")).encode()


@dataclass
class ClientResult:
    """What one client process measured."""

    requests: int = 0
    ok: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    cpu_seconds: float = 0.0


async def _drive(
    url: str, body: bytes, concurrency: int, duration: float, start_at: float
) -> ClientResult:
    result = ClientResult()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        base_url=url, connector=connector, timeout=timeout, headers=headers
    ) as session:

        async def post() -> None:
            began = time.perf_counter()
            try:
                async with session.post(ENDPOINT, data=body) as response:
                    await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
            result.requests += 1
            result.statuses[status] += 1
            if status == "201":
                result.ok += 1
            result.latencies.append(time.perf_counter() - began)

        # Open the connections before the clock starts (one request each, not counted).
        await asyncio.gather(*(post() for _ in range(concurrency)))
        result = ClientResult()
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu = CpuMeter()
        cpu.start()
        result.started = time.time()
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await post()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.finished = time.time()
        cpu.stop()
        result.cpu_seconds = cpu.cpu or 0.0
    return result


def run_client(
    url: str, concurrency: int, duration: float, start_at: float, seed: int
) -> ClientResult:
    """One client process: drive the emulator and return what it measured."""
    return asyncio.run(_drive(url, email_batch(seed=seed), concurrency, duration, start_at))


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _stored_emails(url: str) -> int | None:
    """Best effort: how many emails the emulator holds, from ``GET /__emulator__/stats``."""

    async def fetch() -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{url}/__emulator__/stats") as response,
        ):
            return await response.json()

    try:
        stats = asyncio.run(fetch())
    except (aiohttp.ClientError, ValueError, TimeoutError):
        return None
    for key in ("objects", "stored", "records", "objects_stored"):
        table = stats.get(key) if isinstance(stats, dict) else None
        if isinstance(table, dict) and isinstance(table.get("emails"), int):
            return int(table["emails"])
    return None


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One run: start the emulator, drive it from ``args.clients`` processes, stop it."""
    profile_to = Path(args.profile) if args.profile else None
    emulator_args = ["--port", "0", "--burst", "0", "--daily", "0", *args.emulator_arg]
    with EmulatorProcess(emulator_args, profile_to=profile_to) as emulator:
        emu_cpu = CpuMeter(emulator.pid)
        start_at = time.time() + args.start_margin  # after every client has connected
        jobs = [
            (emulator.url, args.concurrency, args.duration, start_at, n)
            for n in range(args.clients)
        ]
        # Client processes even for one client, so the emulator's CPU meter can start exactly
        # when the clients' clock does (after their connections are open).
        with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
            pending = pool.starmap_async(run_client, jobs)
            time.sleep(max(0.0, start_at - time.time()))
            emu_cpu.start()
            results = pending.get(timeout=args.duration + 120)
            emu_cpu.stop()
        stored = _stored_emails(emulator.url)
        emu_rss = peak_rss_bytes(emulator.pid)
    if profile_to is not None:
        _print_hotspots(profile_to, args.top)

    seconds = max(r.finished for r in results) - min(r.started for r in results)
    requests = sum(r.requests for r in results)
    ok = sum(r.ok for r in results)
    statuses: Counter[str] = Counter()
    for r in results:
        statuses.update(r.statuses)
    latencies = [lat for r in results for lat in r.latencies]
    return {
        "clients": f"{args.clients}x{args.concurrency}",
        "requests": requests,
        "items": ok * BATCH_SIZE,
        "seconds": seconds,
        "requests/s": requests / seconds if seconds else None,
        "items/s": ok * BATCH_SIZE / seconds if seconds else None,
        "errors": requests - ok,
        "emulator CPU%": emu_cpu.percent,
        "client CPU%": 100.0 * sum(r.cpu_seconds for r in results) / seconds if seconds else None,
        "emulator RSS MB": emu_rss / 2**20 if emu_rss else None,
        "p50 ms": _ms(_percentile(latencies, 0.50)),
        "p99 ms": _ms(_percentile(latencies, 0.99)),
        "stored": stored,
        "statuses": dict(statuses),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _print_hotspots(profile: Path, top: int) -> None:
    if not profile.exists():
        print(f"(no profile written to {profile})")
        return
    print(f"emulator hotspots ({profile}, by internal time):")
    stats = pstats.Stats(str(profile), stream=sys.stdout)
    stats.strip_dirs().sort_stats(pstats.SortKey.TIME).print_stats(top)
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(top)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (10)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="connections per client process (16)"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes (2)")
    parser.add_argument("--runs", type=int, default=1, help="repeat the run N times (1)")
    parser.add_argument("--quick", action="store_true", help="a tiny run (smoke test)")
    parser.add_argument("--profile", metavar="FILE", help="run the emulator under cProfile")
    parser.add_argument("--top", type=int, default=15, help="hotspots to print with --profile")
    parser.add_argument(
        "--emulator-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for the emulator command line (repeatable)",
    )
    args = parser.parse_args(argv)
    # Seconds from starting the client processes to their clock's start (they open their
    # connections meanwhile); a quick run spawns one client and just needs it up.
    args.start_margin = 1.0 + 0.5 * args.clients
    if args.quick:
        args.duration, args.concurrency, args.clients, args.runs = 0.25, 2, 1, 1
        args.start_margin = 0.75
    return args


COLUMNS = (
    "clients",
    "requests",
    "items",
    "seconds",
    "requests/s",
    "items/s",
    "errors",
    "emulator CPU%",
    "client CPU%",
    "emulator RSS MB",
    "p50 ms",
    "p99 ms",
)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"emulator_throughput: POST {ENDPOINT} x {BATCH_SIZE} emails, "
        f"{args.clients} client process(es) x {args.concurrency} connections, "
        f"{args.duration:g} s per run",
        flush=True,
    )
    rows = []
    for _ in range(args.runs):
        outcome = measure(args)
        rows.append([outcome[c] for c in COLUMNS])
        if outcome["errors"]:
            print(f"statuses: {outcome['statuses']}", flush=True)
        if outcome["stored"] is not None and outcome["stored"] < outcome["items"]:
            print(
                f"WARNING: emulator stores {outcome['stored']} emails, "
                f"clients saw {outcome['items']} created",
                flush=True,
            )
    print_table(COLUMNS, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
