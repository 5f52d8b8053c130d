"""The bulk API's stop and progress: a stop withdraws every input not yet sent at once, even
while the rate window is full (inputs queued for a slot, or waiting for room in the client),
and ``on_progress`` counts what a run read, sent and yielded."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

from hubengage import (
    BulkProgress,
    HubSpot,
    OutcomeUnknownError,
    RateLimits,
    Request,
    Response,
    WithdrawnError,
)
from hubengage.emulator import Emulator, EmulatorConfig
from tests._clock import ManualClock
from tests._fakes import MiniHubSpot, ScriptedTransport, client, email, json_response

TS = "2026-01-15T10:00:00.000Z"
#: Two requests per ten seconds on a clock nobody advances: once two batches are sent the
#: window stays full for good, so anything that waits for a slot would wait forever.
FULL_WINDOW = RateLimits(requests_per_interval=2, interval_seconds=10.0, daily=None)
#: Budgets that never make a test wait.
UNLIMITED = RateLimits(requests_per_interval=1_000_000, interval_seconds=1.0, daily=None)


def notes(n: int) -> list[dict[str, str]]:
    return [{"hs_timestamp": TS, "hs_note_body": f"note {i}"} for i in range(n)]


@pytest.mark.parametrize(("max_pending", "ordered", "batching"), [
    (None, False, True),  # every input queued in the batcher, batches waiting for a slot
    (None, True, True),
    (300, False, True),  # the run itself waits for room in the client (max_pending) behind them
    (None, False, False),  # no batcher: each input's own request waits for its slot
])
async def test_a_stop_withdraws_the_inputs_waiting_for_a_slot_at_once(
        max_pending: int | None, ordered: bool, batching: bool) -> None:
    n = 2_000
    extra: dict[str, Any] = {} if max_pending is None else {"max_pending": max_pending}
    extra["batching"] = batching
    async with Emulator(EmulatorConfig(burst_limit=0)) as emu, HubSpot(
            access_token="t", base_url=emu.url, rate_limits=FULL_WINDOW,
            clock=ManualClock(), **extra) as hs:
        stop = asyncio.Event()
        run = hs.notes.create_many(notes(n), stop=stop, ordered=ordered, window=500)
        outcomes = [await asyncio.wait_for(anext(run), timeout=5)]
        # The window is full now: the rest wait for a slot that never comes.
        await asyncio.sleep(0.05)
        stop.set()
        stopped_at = time.monotonic()
        outcomes += await asyncio.wait_for(_rest(run), timeout=5)
        took = time.monotonic() - stopped_at
        stored = len(emu.records("notes"))
    assert took < 0.5, f"the stop took {took:.2f}s"
    assert sorted(o.index for o in outcomes) == list(range(len(outcomes)))
    sent = [o for o in outcomes if not o.withdrawn]
    withdrawn = [o for o in outcomes if o.withdrawn]
    assert all(o.ok for o in sent) and len(sent) == stored > 0
    assert withdrawn and all(isinstance(o.error, WithdrawnError) for o in withdrawn)
    assert len(outcomes) < n, "no input is read after the stop"


async def _rest(run: Any) -> list[Any]:
    return [outcome async for outcome in run]


async def test_a_stop_while_an_async_source_is_read_withdraws_what_it_yields() -> None:
    stop = asyncio.Event()
    mini = MiniHubSpot()

    async def source() -> Any:
        for i in range(250):
            if i == 150:
                stop.set()  # set while this input is being read
            yield email(f"s{i}")

    async with client(ScriptedTransport(mini), rate_limits=UNLIMITED) as hs:
        outcomes = [o async for o in hs.emails.create_many(source(), stop=stop)]
    withdrawn = [o for o in outcomes if o.withdrawn]
    assert len(outcomes) == 151  # read up to the stop, then nothing more
    assert {o.index for o in withdrawn} >= {150}
    assert len(mini.store) == 151 - len(withdrawn)


async def test_on_progress_counts_read_sent_and_every_kind_of_outcome() -> None:
    stop = asyncio.Event()
    mini = MiniHubSpot()
    requests = 0

    async def handler(request: Request) -> Response:
        nonlocal requests
        requests += 1
        if requests == 2:  # the second batch: an answer that names none of its inputs
            return json_response(200, {"status": "COMPLETE", "results": [],
                                       "startedAt": TS, "completedAt": TS})
        if requests == 3:
            stop.set()  # the rest are withdrawn
        return await mini(request)

    items: list[Any] = [email(f"s{i}") for i in range(1_000)]
    items[5] = {"hs_timestamp": TS, "hs_email_direction": "SIDEWAYS"}  # fails, unsent
    seen: list[BulkProgress] = []
    async with client(ScriptedTransport(handler), rate_limits=UNLIMITED, max_in_flight=1) as hs:
        outcomes = [o async for o in hs.emails.create_many(items, stop=stop, window=300,
                                                           on_progress=seen.append)]
    assert len(seen) == len(outcomes)
    last = seen[-1]
    assert last.done == last.read == len(outcomes)
    assert last.succeeded == sum(o.ok for o in outcomes) == len(mini.store) > 0
    assert last.unknown == sum(isinstance(o.error, OutcomeUnknownError) for o in outcomes) > 0
    assert last.failed == 1 == sum(not o.ok and not o.withdrawn
                                   and not isinstance(o.error, OutcomeUnknownError)
                                   for o in outcomes)
    assert last.withdrawn == sum(o.withdrawn for o in outcomes) > 0
    assert last.sent == last.succeeded + last.unknown  # the invalid input was never sent
    for before, after in itertools.pairwise(seen):
        assert after.done == before.done + 1
        assert after.read >= before.read and after.sent >= before.sent
    assert all(p.read >= p.done and p.read >= p.sent for p in seen)


async def test_a_run_with_stop_and_progress_still_fills_batches() -> None:
    # The stop's watcher must not cost batching: inputs are handed over without a task each.
    transport = ScriptedTransport(MiniHubSpot())
    async with client(transport, rate_limits=UNLIMITED) as hs:
        outcomes = [o async for o in hs.emails.create_many(
            (email(f"s{i}") for i in range(1_000)), stop=asyncio.Event(),
            on_progress=lambda progress: None)]
    assert all(o.ok for o in outcomes)
    assert [len(b) for b in transport.batches("create")] == [100] * 10


async def test_an_input_waiting_for_room_is_cancelled_cleanly_by_a_stop() -> None:
    from hubengage import InvalidInputError
    from hubengage._bulk import run_bulk

    room = asyncio.Event()
    cancelled: list[int] = []

    async def submit(index: int, value: str, on_sent: Any) -> asyncio.Future[Any]:
        if index == 0:
            raise InvalidInputError("bad", field="x")  # an outcome ready at once
        try:
            await room.wait()  # no room in the client: it waits in the background
        except asyncio.CancelledError:
            cancelled.append(index)  # what flow control cleans up on
            raise
        raise AssertionError("never given room")

    stop = asyncio.Event()
    outcomes = []
    async for outcome in run_bulk(["a", "b", "c"], submit, window=10, stop=stop):
        outcomes.append(outcome)
        stop.set()  # before the background hand-over has even started
    assert [(o.index, o.withdrawn) for o in outcomes] == [(0, False), (1, True)]
    assert isinstance(outcomes[1].error, WithdrawnError)
    assert cancelled == [1], "the waiting hand-over saw its cancellation"


async def test_outcomes_are_yielded_while_an_input_waits_for_room() -> None:
    # max_pending below the window: the run waits for room, and yields what lands meanwhile.
    transport = ScriptedTransport(MiniHubSpot())
    async with client(transport, rate_limits=UNLIMITED, max_pending=150) as hs:
        outcomes = [o async for o in hs.emails.create_many(
            (email(f"s{i}") for i in range(1_000)), window=400)]
    assert len(outcomes) == 1_000 and all(o.ok for o in outcomes)
