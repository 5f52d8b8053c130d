"""The emulator's time on the wire: ``latency`` (server time after a request is counted),
batch ``startedAt``/``completedAt`` (counted, then done), ``clock_skew`` (its wall clock, not
its windows), and the arrivals record (``Emulator.arrivals``, ``GET /__emulator__/arrivals``).
Raw HTTP through ``tests/_wire.py``; no SDK client."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from datetime import datetime
from typing import Any

import pytest

from hubengage.emulator import Emulator, EmulatorConfig, Fault, max_in_window
from hubengage.emulator._cli import build_parser, config_from_args
from tests._wire import TS, Exchange, Wire, email_props

BASE = "/crm/v3/objects"
#: HubSpot's timestamps: ISO 8601 UTC, exactly 3 fractional digits, ``Z``.
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MS = 0.002  # two milliseconds: both ends of a difference are truncated to the millisecond


async def make_wire(**config: Any) -> tuple[Emulator, Wire]:
    emu = Emulator(EmulatorConfig(**config))
    await emu.start()
    return emu, Wire(emu.url)


async def done(emu: Emulator, w: Wire) -> None:
    await w.close()
    await emu.stop()


def seconds(stamp: str) -> float:
    """A HubSpot timestamp as POSIX seconds (checking its format)."""
    assert STAMP.match(stamp), stamp
    return datetime.fromisoformat(stamp).timestamp()


def notes(n: int, **extra: str) -> dict[str, Any]:
    return {"inputs": [{"properties": {"hs_timestamp": TS, "hs_note_body": f"n{i}", **extra}}
                       for i in range(n)]}


# -- latency ---------------------------------------------------------------------------------


async def test_latency_comes_after_the_request_is_counted() -> None:
    latency = 0.2
    emu, w = await make_wire(burst_limit=2, burst_interval=10.0, latency=latency)
    try:
        loop = asyncio.get_running_loop()  # its clock is time.monotonic, the emulator's
        sent = loop.time()
        first = asyncio.create_task(w("GET", f"{BASE}/notes"))
        await asyncio.sleep(0.03)
        second = asyncio.create_task(w("GET", f"{BASE}/notes"))
        await asyncio.sleep(0.03)
        # Both are still in their latency, yet both are in the window already: a third
        # request is refused at once, and sees no room left.
        third = await w("GET", f"{BASE}/notes")
        refused_at = loop.time()
        assert third.status == 429
        assert third.body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert third.headers["x-hubspot-ratelimit-remaining"] == "0"
        assert not first.done() and not second.done()  # the 429 did not wait
        a, b = await first, await second
        answered = loop.time()
        assert (a.status, b.status) == (200, 200)
        assert answered - sent >= latency
        assert a.headers["x-hubspot-ratelimit-remaining"] == "0"
        arrivals = emu.arrivals(w.token)
        counted = arrivals["counted"]
        assert len(counted) == 2
        assert sent <= counted[0] < counted[1] < refused_at  # counted on arrival, not after
        assert [r["policy"] for r in arrivals["rejected"]] == ["TEN_SECONDLY_ROLLING"]
        assert counted[1] <= arrivals["rejected"][0]["t"] <= refused_at
    finally:
        await done(emu, w)


async def test_latency_delays_every_crm_endpoint_but_no_refusal() -> None:
    latency = 0.1
    emu, w = await make_wire(latency=latency, faults=(Fault("502", 1.0, "batch/archive"),))
    try:
        loop = asyncio.get_running_loop()

        async def timed(method: str, path: str, body: Any = None,
                        token: str | bool | None = True) -> tuple[Exchange, float]:
            start = loop.time()
            ex = await w(method, path, body, token=token)
            return ex, loop.time() - start

        created, took = await timed("POST", f"{BASE}/notes",
                                    {"properties": {"hs_timestamp": TS}})
        assert created.status == 201 and took >= latency
        rid = created.body["id"]
        for method, path, body in [
            ("GET", f"{BASE}/notes/{rid}", None),
            ("GET", f"{BASE}/notes", None),
            ("PATCH", f"{BASE}/notes/{rid}", {"properties": {"hs_note_body": "x"}}),
            ("POST", f"{BASE}/notes/search", {}),
            ("POST", f"{BASE}/notes/batch/read", {"inputs": [{"id": rid}]}),
            ("DELETE", f"{BASE}/notes/{rid}", None),
        ]:
            ex, took = await timed(method, path, body)
            assert ex.status < 300 and took >= latency, (method, path, ex.status, took)
        # A 401 and an injected edge 502 answer at once, as before.
        unauthorized, took = await timed("GET", f"{BASE}/notes", token=None)
        assert unauthorized.status == 401 and took < latency
        edge, took = await timed("POST", f"{BASE}/notes/batch/archive", {"inputs": []})
        assert edge.status == 502 and took < latency
    finally:
        await done(emu, w)


async def test_a_slow_fault_waits_on_top_of_the_latency() -> None:
    emu, w = await make_wire(latency=0.05, faults=(Fault("slow", 1.0),), slow_delay=0.1)
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert (await w("GET", f"{BASE}/notes")).status == 200
        assert loop.time() - start >= 0.15
    finally:
        await done(emu, w)


# -- startedAt and completedAt ---------------------------------------------------------------


async def test_batch_started_at_is_the_count_completed_at_the_end() -> None:
    latency = 0.1
    emu, w = await make_wire(latency=latency, burst_limit=0, shuffle_results=False)
    try:
        before = time.time()
        created = await w("POST", f"{BASE}/notes/batch/create", notes(3))
        after = time.time()
        assert created.status == 201
        started, completed = (seconds(created.body[k]) for k in ("startedAt", "completedAt"))
        assert before - MS <= started <= completed <= after
        assert completed - started >= latency - MS
        for result in created.body["results"]:  # written while the request was processed
            assert started <= seconds(result["createdAt"]) <= completed
            assert result["createdAt"] == result["properties"]["hs_createdate"]
        ids = [r["id"] for r in created.body["results"]]
        for op, body in [
            ("read", {"inputs": [{"id": i} for i in ids]}),
            ("update", {"inputs": [{"id": i, "properties": {"hs_note_body": "u"}} for i in ids]}),
        ]:
            ex = await w("POST", f"{BASE}/notes/batch/{op}", body)
            assert ex.status == 200, (op, ex.body)
            started, completed = (seconds(ex.body[k]) for k in ("startedAt", "completedAt"))
            assert completed - started >= latency - MS, op
    finally:
        await done(emu, w)


async def test_concurrent_batches_each_carry_their_own_start() -> None:
    latency, gap = 0.15, 0.06
    emu, w = await make_wire(latency=latency)
    try:
        first = asyncio.create_task(w("POST", f"{BASE}/notes/batch/create", notes(1)))
        await asyncio.sleep(gap)
        second = await w("POST", f"{BASE}/notes/batch/create", notes(1))
        a, b = (await first).body, second.body
        a_started, b_started = seconds(a["startedAt"]), seconds(b["startedAt"])
        # Each start is its own request's count: the two are as far apart as the arrivals
        # (on the monotonic clock) say, up to the millisecond truncation.
        counted = emu.arrivals(w.token)["counted"]
        assert len(counted) == 2 and counted[1] > counted[0]
        assert abs((b_started - a_started) - (counted[1] - counted[0])) <= MS + 0.001
        assert a_started < b_started < seconds(a["completedAt"])  # it came while A waited
        for body in (a, b):
            assert seconds(body["completedAt"]) - seconds(body["startedAt"]) >= latency - MS
    finally:
        await done(emu, w)


async def test_batch_stamps_without_latency_are_ordered() -> None:
    emu, w = await make_wire()
    try:
        ex = await w("POST", f"{BASE}/notes/batch/create", notes(2))
        assert seconds(ex.body["startedAt"]) <= seconds(ex.body["completedAt"])
        missing = await w("POST", f"{BASE}/notes/batch/read", {"inputs": [{"id": "1"}]})
        assert missing.status == 207  # a 207 carries the envelope too
        assert seconds(missing.body["startedAt"]) <= seconds(missing.body["completedAt"])
    finally:
        await done(emu, w)


async def test_upsert_envelope_spans_the_latency() -> None:
    latency = 0.05
    emu, w = await make_wire(latency=latency, unique_properties={"notes": ("ext_id",)},
                             custom_properties={"notes": ("ext_id",)})
    try:
        ex = await w("POST", f"{BASE}/notes/batch/upsert", {"inputs": [
            {"id": "e1", "idProperty": "ext_id", "properties": {"hs_timestamp": TS}}]})
        assert ex.status == 200, ex.body
        started, completed = (seconds(ex.body[k]) for k in ("startedAt", "completedAt"))
        assert completed - started >= latency - MS
    finally:
        await done(emu, w)


# -- clock skew ------------------------------------------------------------------------------


@pytest.mark.parametrize("skew", [3600.0, -5400.5])
async def test_clock_skew_shifts_every_server_timestamp(skew: float) -> None:
    emu, w = await make_wire(clock_skew=skew, burst_limit=0)
    try:

        def near_now(stamp: str) -> None:
            assert abs(seconds(stamp) - (time.time() + skew)) < 1.0, stamp

        batch = await w("POST", f"{BASE}/emails/batch/create",
                        {"inputs": [{"properties": email_props()}]})
        near_now(batch.body["startedAt"])
        near_now(batch.body["completedAt"])
        result = batch.body["results"][0]
        for stamp in (result["createdAt"], result["updatedAt"],
                      result["properties"]["hs_createdate"],
                      result["properties"]["hs_lastmodifieddate"]):
            near_now(stamp)
        single = await w("POST", f"{BASE}/notes", {"properties": {"hs_timestamp": TS}})
        near_now(single.body["createdAt"])
        rid = single.body["id"]
        patched = await w("PATCH", f"{BASE}/notes/{rid}", {"properties": {"hs_note_body": "b"}})
        near_now(patched.body["updatedAt"])
        assert (await w("DELETE", f"{BASE}/notes/{rid}")).status == 204
        archived = await w("GET", f"{BASE}/notes/{rid}", params={"archived": "true"})
        near_now(archived.body["archivedAt"])
        contact = emu.put_record("contacts", {"email": "skew@example.com"})
        record = emu.get_record("contacts", contact)
        assert record is not None
        near_now(record["createdAt"])
        near_now(record["properties"]["createdate"])
        near_now(record["properties"]["lastmodifieddate"])
    finally:
        await done(emu, w)


@pytest.mark.parametrize("skew", [0.0, 3600.0, -3600.0])
async def test_clock_skew_does_not_change_what_is_admitted(skew: float) -> None:
    interval = 0.2
    emu, w = await make_wire(clock_skew=skew, burst_limit=2, burst_interval=interval)
    try:
        loop = asyncio.get_running_loop()
        first = await w("GET", f"{BASE}/notes")
        first_answered = loop.time()
        rest = [await w("GET", f"{BASE}/notes") for _ in range(2)]
        assert [first.status, *(ex.status for ex in rest)] == [200, 200, 429]
        assert [ex.headers["x-hubspot-ratelimit-remaining"] for ex in (first, *rest)] == [
            "1", "0", "0"]
        await asyncio.sleep(first_answered + interval - loop.time())  # the first one expires
        assert (await w("GET", f"{BASE}/notes")).status == 200
    finally:
        await done(emu, w)


# -- arrivals --------------------------------------------------------------------------------


def short_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


async def test_arrivals_per_token_and_the_hashed_endpoint() -> None:
    alpha, beta = "alpha-secret-token", "beta-secret-token"
    emu, w = await make_wire(burst_limit=2, burst_interval=10.0)
    try:
        t0 = time.monotonic()
        statuses = [(await w("GET", f"{BASE}/notes", token=alpha)).status for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert (await w("GET", f"{BASE}/notes", token=beta)).status == 200
        assert (await w("POST", f"{BASE}/notes/search", {}, token=beta)).status == 200
        assert (await w("GET", f"{BASE}/notes", token=None)).status == 401
        emu.inject("429", endpoint="list")
        assert (await w("GET", f"{BASE}/notes", token=beta)).status == 429
        t1 = time.monotonic()

        a = emu.arrivals(alpha)
        assert len(a["counted"]) == 2 and t0 <= a["counted"][0] <= a["counted"][1] <= t1
        assert len(a["rejected"]) == 1
        assert a["rejected"][0]["policy"] == "TEN_SECONDLY_ROLLING"
        assert a["counted"][1] <= a["rejected"][0]["t"] <= t1
        b = emu.arrivals(beta)
        assert len(b["counted"]) == 2  # the list and the injected 429; not the search
        assert [r["policy"] for r in b["rejected"]] == ["TEN_SECONDLY_ROLLING (injected)"]
        assert b["counted"][1] <= b["rejected"][0]["t"]
        assert emu.arrivals() == {alpha: a, beta: b}
        assert emu.arrivals("never-seen") == {"counted": [], "rejected": []}

        ex = await w("GET", "/__emulator__/arrivals")
        assert ex.status == 200 and ex.content_type.startswith("application/json")
        assert b"secret" not in ex.raw  # tokens never leave the emulator
        body = ex.body
        assert body["burst_limit"] == 2 and body["burst_interval"] == 10.0
        assert t1 <= body["now"] <= time.monotonic()
        assert body["tokens"] == {short_hash(alpha): a, short_hash(beta): b}

        assert (await w("POST", "/__emulator__/reset")).status == 200
        assert emu.arrivals() == {}
        assert (await w("GET", "/__emulator__/arrivals")).body["tokens"] == {}
        assert (await w("GET", f"{BASE}/notes", token=alpha)).status == 200  # window reset
        assert len(emu.arrivals(alpha)["counted"]) == 1
        emu.reset()
        assert emu.arrivals() == {}
    finally:
        await done(emu, w)


async def test_arrivals_are_recorded_without_a_burst_limit_and_capped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hubengage.emulator import _app

    monkeypatch.setattr(_app, "ARRIVALS_CAP", 3)
    emu, w = await make_wire(burst_limit=0)
    try:
        for _ in range(2):
            await w("GET", f"{BASE}/notes")
        later = time.monotonic()
        for _ in range(3):
            await w("GET", f"{BASE}/notes")
        counted = emu.arrivals(w.token)["counted"]
        assert len(counted) == 3 and all(t >= later for t in counted)  # the oldest dropped
        assert counted == sorted(counted)
    finally:
        await done(emu, w)


async def test_arrivals_never_hold_more_than_the_limit_in_a_window() -> None:
    interval = 0.1
    emu, w = await make_wire(burst_limit=3, burst_interval=interval)
    try:
        loop = asyncio.get_running_loop()
        stop = loop.time() + 0.35
        statuses = []
        while loop.time() < stop:
            statuses += [ex.status for ex in await asyncio.gather(
                *(w("GET", f"{BASE}/notes") for _ in range(4)))]
        arrivals = emu.arrivals(w.token)
        assert 429 in statuses and len(arrivals["counted"]) == statuses.count(200)
        assert len(arrivals["rejected"]) == statuses.count(429)
        # The helper counts windows exactly as the emulator's own do.
        assert max_in_window(arrivals["counted"], interval) == 3
    finally:
        await done(emu, w)


# -- configuration and command line ----------------------------------------------------------


def test_latency_and_clock_skew_options() -> None:
    parser = build_parser()
    default = config_from_args(parser.parse_args([]))
    assert default.latency == 0.0 and default.clock_skew == 0.0
    config = config_from_args(parser.parse_args(["--latency", "0.05", "--clock-skew", "-3.5"]))
    assert config.latency == 0.05 and config.clock_skew == -3.5
    assert config_from_args(parser.parse_args(["--clock-skew=7200"])).clock_skew == 7200.0
    help_text = parser.format_help()
    assert "--latency" in help_text and "--clock-skew" in help_text
    for bad in (["--latency", "-1"], ["--latency", "soon"], ["--clock-skew", "nan"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)
    with pytest.raises(ValueError):
        EmulatorConfig(latency=-0.1)
    with pytest.raises(ValueError):
        EmulatorConfig(clock_skew=float("inf"))
