"""Requests spent by a web handler that logs an email and associates it (issue 14).

``--handlers`` concurrent handlers (default 2,000), each logging one email associated with a
contact and a deal, against the emulator with HubSpot's real window (100 requests per 10 s):

- ``create, then associate``: ``await hs.emails.create(...)``, then
  ``associate(..., "contacts", ...)`` and ``associate(..., "deals", ...)`` concurrently: the
  creates coalesce into ``batch/create``, the associations into v4
  ``batch/associate/default`` (one queue per pair of object types);
- ``create with inline associations``: one ``create(..., associations=[contact, deal])``;
- ``per-record calls`` (``batching=False``): what it costs without coalescing, the way a
  handler written against HubSpot's own SDK spends it (one create and one v4 PUT per
  association). It runs against an emulator without a window (at 100 requests per 10 s it
  would take ten minutes); the count does not depend on the window.

Requests are the emulator's count for the run (``/__emulator__/stats``), 429s included.
The contacts and deals are seeded before each run and not counted.

    python benchmarks/associations.py              # 2,000 handlers
    python benchmarks/associations.py --quick      # a smoke run (200 handlers)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    UNLIMITED,
    UNLIMITED_RATE,
    EmulatorProcess,
    bench_client,
    email,
    emulator_stats,
    print_table,
)

from hubengage import Association, HubSpot, RateLimits

#: HubSpot's Free/Starter window, as the emulator enforces it by default.
WINDOW = ("--port", "0", "--daily", "0")
CONTACTS, DEALS = 50, 20
#: HubSpot's Free/Starter window, as the client assumes it.
HUBSPOT_RATE = RateLimits(requests_per_interval=100, interval_seconds=10.0)

Handler = Callable[[HubSpot, int, list[str], list[str]], Awaitable[Any]]


async def create_then_associate(hs: HubSpot, i: int, contacts: list[str],
                                deals: list[str]) -> Any:
    record = await hs.emails.create(email(i, "assoc"))
    await asyncio.gather(hs.emails.associate(record.id, "contacts", contacts[i % CONTACTS]),
                         hs.emails.associate(record.id, "deals", deals[i % DEALS]))


async def create_inline(hs: HubSpot, i: int, contacts: list[str], deals: list[str]) -> Any:
    await hs.emails.create(email(i, "assoc"), associations=[
        Association.contact(contacts[i % CONTACTS]), Association.deal(deals[i % DEALS])])


async def seed(url: str) -> tuple[list[str], list[str]]:
    async with bench_client(url, HUBSPOT_RATE) as hs:
        contacts = await asyncio.gather(*(
            hs.contacts.create({"email": f"c{n}@example.com"}) for n in range(CONTACTS)))
        deals = await asyncio.gather(*(
            hs.deals.create({"dealname": f"Deal {n}", "pipeline": "default",
                             "dealstage": "appointmentscheduled"}) for n in range(DEALS)))
    return [c.id for c in contacts], [d.id for d in deals]


async def run(name: str, handler: Handler, handlers: int, *,
              batching: bool = True) -> list[object]:
    with EmulatorProcess(WINDOW if batching else UNLIMITED) as emu:
        contacts, deals = await seed(emu.url)
        before = emulator_stats(emu.url)["total_requests"]
        started = time.perf_counter()
        limits = HUBSPOT_RATE if batching else UNLIMITED_RATE
        async with bench_client(emu.url, limits, batching=batching) as hs:
            results = await asyncio.gather(*(handler(hs, i, contacts, deals)
                                             for i in range(handlers)), return_exceptions=True)
        elapsed = time.perf_counter() - started
        stats = emulator_stats(emu.url)
    failed = sum(1 for r in results if isinstance(r, BaseException))
    by_endpoint = {k: v for k, v in sorted(stats["requests"].items()) if v}
    spent = stats["total_requests"] - before
    n429 = sum(v for k, v in by_endpoint.items() if k.endswith(" 429"))
    print(f"{name}: {by_endpoint}", file=sys.stderr)
    return [name, handlers, handlers - failed, spent, n429, f"{elapsed:.2f}"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--handlers", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="200 handlers")
    args = parser.parse_args()
    handlers = 200 if args.quick else args.handlers
    rows = [await run("create, then associate", create_then_associate, handlers),
            await run("create with inline associations", create_inline, handlers)]
    if not args.quick:
        rows.append(await run("per-record calls (batching=False)", create_then_associate,
                              handlers, batching=False))
    print_table(["handler", "handlers", "succeeded", "requests", "429s", "seconds"], rows)


if __name__ == "__main__":
    asyncio.run(main())
