"""The public journal (``hubengage.Journal``): a stopped run resumed exactly, a crash that
leaves inputs of unknown fate, the journal tied to its input, corrupted and torn lines, and
the proposed README example run against the emulator."""

from __future__ import annotations

import asyncio
import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hubengage import (
    HubSpot,
    InvalidInputError,
    Journal,
    JournalCounts,
    JournalError,
    JournalMismatchError,
    JournalStatus,
    RateLimits,
    Request,
    Response,
)
from hubengage.emulator import Emulator, EmulatorConfig
from tests._clock import ManualClock
from tests._fakes import MiniHubSpot, ScriptedTransport, client, email, json_response

TS = "2026-01-15T10:00:00.000Z"
UNLIMITED = RateLimits(requests_per_interval=1_000_000, interval_seconds=1.0, daily=None)
#: Two requests per ten seconds on a clock nobody advances: the window fills for good.
FULL_WINDOW = RateLimits(requests_per_interval=2, interval_seconds=10.0, daily=None)


def write_csv(path: Path, n: int, start: int = 0) -> Path:
    with path.open("a" if start else "w", newline="") as stream:
        writer = csv.writer(stream)
        if not start:
            writer.writerow(["timestamp", "body"])
        for i in range(start, start + n):
            writer.writerow([TS, f"note {i}"])
    return path


def read_csv(path: Path) -> Any:
    with path.open(newline="") as stream:
        for row in csv.DictReader(stream):
            yield {"hs_timestamp": row["timestamp"], "hs_note_body": row["body"]}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(text) for text in path.read_text().splitlines()]


async def test_a_stopped_run_resumes_exactly_through_the_journal(tmp_path: Path) -> None:
    n = 1_500
    source = write_csv(tmp_path / "notes.csv", n)
    jpath = tmp_path / "notes.journal.jsonl"
    async with Emulator(EmulatorConfig(burst_limit=0)) as emu:
        # The first run: its window fills after two batches; it is stopped there.
        stop = asyncio.Event()
        first: list[Any] = []
        async with HubSpot(access_token="t", base_url=emu.url, rate_limits=FULL_WINDOW,
                           clock=ManualClock()) as hs:
            with Journal.open(jpath, source=source) as journal:
                async for outcome in hs.notes.create_many(
                        journal.pending(read_csv(source)), on_sent=journal.sent, stop=stop,
                        window=600):
                    journal.record(outcome)
                    first.append(outcome)
                    stop.set()
        withdrawn = [o for o in first if o.withdrawn]
        written = [o for o in first if o.ok]
        assert withdrawn and written and len(written) == len(emu.records("notes"))
        assert all(not o.withdrawn for o in first if o.ok)
        assert {e["index"] for e in lines(jpath) if e.get("status") == "ok"} == {
            o.index for o in written}
        assert not any(e.get("index") in {o.index for o in withdrawn} for e in lines(jpath)
                       if "status" in e or "event" in e), "a withdrawn input leaves no line"

        # The resume: only what the journal does not hold as done is sent.
        async with HubSpot(access_token="t", base_url=emu.url, rate_limits=UNLIMITED) as hs:
            journal = Journal.open(jpath, source=source)
            assert journal.previous == JournalCounts(succeeded=len(written))
            second = [o async for o in hs.notes.create_many(
                journal.pending(read_csv(source)), on_sent=journal.sent)]
            for outcome in second:
                journal.record(outcome)
            journal.close()
        assert len(second) == n - len(written) and all(o.ok for o in second)
        bodies = Counter(r["properties"]["hs_note_body"] for r in emu.records("notes"))
    assert bodies == Counter(f"note {i}" for i in range(n)), "each input once, none lost"
    again = Journal.open(jpath, source=source)
    assert again.counts() == JournalCounts(succeeded=n)
    assert list(again.pending(read_csv(source))) == []
    again.close()


async def test_a_crash_leaves_the_inputs_in_flight_of_unknown_fate(tmp_path: Path) -> None:
    gate = asyncio.Event()
    mini = MiniHubSpot()
    requests = 0

    async def handler(request: Request) -> Response:
        nonlocal requests
        requests += 1
        if requests == 2:
            await gate.wait()  # this batch is in the air when the process "dies"
        return await mini(request)

    items = [email(f"s{i}") for i in range(300)]
    jpath = tmp_path / "emails.journal.jsonl"
    transport = ScriptedTransport(handler)
    async with client(transport, rate_limits=UNLIMITED, max_in_flight=2) as hs:
        journal = Journal.open(jpath, run_id="emails-2026-01-15")
        run = hs.emails.create_many(journal.pending(items), on_sent=journal.sent, ordered=True)
        async for outcome in run:
            journal.record(outcome)
            if outcome.index == 99:
                await transport.wait_for_requests(2)
                break  # the process dies: no more outcomes are recorded
        await run.aclose()
        crashed = jpath.read_bytes()  # what a killed process leaves: every flushed line
        gate.set()
    journal.close()
    assert jpath.read_bytes() == crashed, "every line was on disk before the crash"

    after = Journal.open(jpath, run_id="emails-2026-01-15")
    counts = after.counts()
    in_flight = [i for i in range(300) if after.status(i) is JournalStatus.IN_FLIGHT]
    assert counts.succeeded == 100 and counts.in_flight == len(in_flight) > 0
    assert all(after.status(i) is JournalStatus.OK for i in range(100))
    assert after.previous == counts
    # In flight: the record may or may not exist. Resent by default (at least once), or
    # held back to be checked first.
    assert [items.index(x) for x in after.pending(items)] == list(range(100, 300))
    held = list(after.pending(items, resend_in_flight=False))
    assert [items.index(x) for x in held] == [i for i in range(100, 300) if i not in in_flight]
    after.close()


async def test_unknown_outcomes_and_refused_tokens_on_resume(tmp_path: Path) -> None:
    calls = 0

    async def handler(request: Request) -> Response:
        nonlocal calls
        calls += 1
        if calls == 1:  # accepted, but the answer names none of the inputs
            return json_response(200, {"status": "COMPLETE", "results": [],
                                       "startedAt": TS, "completedAt": TS})
        return json_response(401, {"status": "error", "message": "expired",
                                   "category": "INVALID_AUTHENTICATION"})

    items = [email(f"s{i}") for i in range(250)]
    jpath = tmp_path / "j.jsonl"
    async with client(ScriptedTransport(handler), rate_limits=UNLIMITED, max_in_flight=1) as hs:
        with Journal.open(jpath, run_id="r") as journal:
            async for outcome in hs.emails.create_many(journal.pending(items),
                                                       on_sent=journal.sent, ordered=True):
                journal.record(outcome)
    again = Journal.open(jpath, run_id="r")
    counts = again.counts()
    assert counts.unknown == 100 and counts.rejected == 100 and counts.succeeded == 0
    assert again.reason(0) is not None and "OutcomeUnknownError" in again.reason(0)  # type: ignore[operator]
    # Refused with the token: nothing was written, so they are sent again; the unknown ones
    # only when asked; the withdrawn ones left no line and are sent.
    assert len(list(again.pending(items))) == 150
    assert len(list(again.pending(items, resend_unknown=True))) == 250
    again.close()


async def test_pending_reads_an_async_source_and_checks_how_it_is_used(tmp_path: Path) -> None:
    async def source() -> Any:
        for i in range(5):
            yield email(f"s{i}")

    jpath = tmp_path / "j.jsonl"
    async with client(ScriptedTransport(MiniHubSpot()), rate_limits=UNLIMITED) as hs:
        with Journal.open(jpath, run_id="async") as journal:
            async for outcome in hs.emails.create_many(journal.pending(source()),
                                                       on_sent=journal.sent):
                journal.record(outcome)
            assert journal.counts().succeeded == 5
            # An outcome of a run that did not read pending(): refused, not misfiled.
            stray = [o async for o in hs.emails.create_many([email("x")])]
            with pytest.raises(JournalError, match="pending"):
                journal.record(stray[0])


def test_the_journal_is_tied_to_its_input(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "a.csv", 3)
    other = tmp_path / "b.csv"
    other.write_bytes(source.read_bytes().replace(b"note 1", b"note X"))
    jpath = tmp_path / "j.jsonl"
    with pytest.raises(InvalidInputError, match="source"):
        Journal.open(jpath)
    with Journal.open(jpath, source=source) as journal:
        for index in range(3):
            journal.mark_sent(index)
    header = lines(jpath)[0]
    assert header["journal"] == 1 and header["input"]["path"] == str(source.resolve())
    assert header["input"]["size"] == source.stat().st_size

    with pytest.raises(JournalMismatchError) as info:
        Journal.open(jpath, source=other)
    assert "differ" in info.value.why and str(source.resolve()) in str(info.value)
    with pytest.raises(JournalMismatchError, match="run"):
        Journal.open(jpath, source=source, run_id="x")
    forced = Journal.open(jpath, source=other, force=True)
    assert forced.warning is not None and "anyway" in forced.warning
    forced.close()

    write_csv(source, 2, start=3)  # grown: the same input, more rows
    grown = Journal.open(jpath, source=source)
    assert grown.warning is None and grown.previous.in_flight == 3
    grown.close()
    source.write_text("timestamp,body\n")  # shrunk
    with pytest.raises(JournalMismatchError, match="smaller"):
        Journal.open(jpath, source=source)

    by_id = tmp_path / "k.jsonl"
    with Journal.open(by_id, run_id="export-2026-01-15") as journal:
        journal.mark_sent(0)
    with pytest.raises(JournalMismatchError, match="export-2026-01-15"):
        Journal.open(by_id, run_id="export-2026-01-16")


def test_a_corrupted_line_is_an_error_and_a_torn_last_line_is_repaired(tmp_path: Path) -> None:
    jpath = tmp_path / "j.jsonl"
    with Journal.open(jpath, run_id="r") as journal:
        journal.mark_sent(0)
        journal.mark_sent(1)
    good = jpath.read_bytes()
    jpath.write_bytes(good + b'{"index":1,"sta')  # a write cut short by a kill
    journal = Journal.open(jpath, run_id="r")
    assert journal.status(1) is JournalStatus.IN_FLIGHT
    journal.mark_sent(2)
    journal.close()
    assert [e.get("index") for e in lines(jpath)] == [None, 0, 1, None, 2]

    jpath.write_bytes(good.replace(b'{"index":0', b'[1, 2]\n{"index":0'))
    with pytest.raises(JournalError, match="line 2 is corrupted"):
        Journal.open(jpath, run_id="r")


#: The example proposed for the README's "ETL jobs: the bulk API" section (when it is there,
#: as ``<!-- readme-example: etl-journal -->``, test_readme.py runs it instead).
