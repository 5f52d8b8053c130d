"""The emulator's response faults on the wire: a successful batch response corrupted after
its writes are stored (garbled bodies, duplicated, missing, mislabelled and extra results),
only on 2xx batch responses, counted when applied, seeded, and composed with shuffling."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from hubengage.emulator import RESPONSE_FAULT_KINDS, Emulator, EmulatorConfig, Fault
from tests._wire import TS, Exchange, Wire, email_props

BASE = "/crm/v3/objects"
EMAILS = f"{BASE}/emails"


async def start(*faults: Fault, **config: Any) -> tuple[Emulator, Wire]:
    config.setdefault("seed", 11)
    emu = Emulator(EmulatorConfig(faults=faults, burst_limit=0, **config))
    await emu.start()
    return emu, Wire(emu.url)


async def stop(emu: Emulator, w: Wire) -> None:
    await w.close()
    await emu.stop()


def inputs(n: int, *, prefix: str = "s", traced: bool = True) -> list[dict[str, Any]]:
    return [{"properties": email_props(f"{prefix}{i}"),
             **({"objectWriteTraceId": f"t{i}"} if traced else {})} for i in range(n)]


def subjects(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["properties"]["hs_email_subject"] for r in records)


def garbled_variant(ex: Exchange) -> str:
    """Which of the five garbled bodies ``ex`` carries (asserting it is one of them)."""
    if ex.content_type.startswith("text/html"):
        assert ex.raw.startswith(b"<!DOCTYPE html>")
        return "html"
    assert ex.content_type.startswith("application/json")
    if ex.raw == b"":
        return "empty"
    if ex.raw == b"[]":
        return "array"
    if ex.raw == b'"ok"':
        return "string"
    assert ex.raw.startswith(b'{"status":"COMPLETE","results":[')
    with pytest.raises(ValueError):
        json.loads(ex.raw)
    return "truncated"


# -- garbled-2xx -----------------------------------------------------------------------------


async def test_garbled_2xx_keeps_the_status_stores_the_write_and_varies_the_body() -> None:
    emu, w = await start(Fault("garbled-2xx", 1.0, "batch"))
    try:
        seen: Counter[str] = Counter()
        for n in range(40):
            ex = await w("POST", f"{EMAILS}/batch/create",
                         {"inputs": [{"properties": email_props(f"s{n}")}]})
            assert ex.status == 201
            assert ex.headers["x-hubspot-correlation-id"]
            assert "x-hubspot-ratelimit-daily" in ex.headers
            seen[garbled_variant(ex)] += 1
        assert set(seen) == {"empty", "truncated", "html", "array", "string"}
        assert subjects(emu.records("emails")) == Counter(f"s{n}" for n in range(40))
        # a 207 stays a 207, an update stays a 200 (and is stored)
        partial = await w("POST", f"{EMAILS}/batch/create", {"inputs": [
            {"properties": email_props("ok"), "objectWriteTraceId": "a"},
            {"properties": email_props("bad", nope="x"), "objectWriteTraceId": "b"}]})
        assert partial.status == 207
        garbled_variant(partial)
        rid = emu.records("emails")[0]["id"]
        update = await w("POST", f"{EMAILS}/batch/update", {"inputs": [
            {"id": rid, "properties": {"hs_email_subject": "changed"}}]})
        assert update.status == 200
        garbled_variant(update)
        stored = emu.get_record("emails", rid)
        assert stored is not None and stored["properties"]["hs_email_subject"] == "changed"
        assert emu.stats()["faults"] == {"garbled-2xx": 42}
        assert emu.stats()["requests"] == {"batch/create 201": 40, "batch/create 207": 1,
                                           "batch/update 200": 1}
    finally:
        await stop(emu, w)


async def test_response_faults_leave_errors_and_other_endpoints_alone() -> None:
    emu, w = await start(*(Fault(kind, 1.0) for kind in RESPONSE_FAULT_KINDS))
    try:
        bad = await w("POST", f"{EMAILS}/batch/create",
                      {"inputs": [{"properties": email_props(nope="x")}]})
        assert bad.status == 400 and bad.body["category"] == "VALIDATION_ERROR"
        dup = await w("POST", f"{EMAILS}/batch/update", {"inputs": [
            {"id": "1", "properties": {}}, {"id": "1", "properties": {}}]})
        assert dup.status == 400
        single = await w("POST", EMAILS, {"properties": email_props()})
        assert single.status == 201 and single.body["properties"]["hs_email_subject"] == "hello"
        rid = single.body["id"]
        assert (await w("PATCH", f"{EMAILS}/{rid}", {"properties": {}})).body["id"] == rid
        assert (await w("GET", EMAILS)).body["results"][0]["id"] == rid
        assert (await w("POST", f"{EMAILS}/search", {})).body["total"] == 1
        archive = await w("POST", f"{EMAILS}/batch/archive", {"inputs": [{"id": "404"}]})
        assert archive.status == 204 and archive.raw == b""
        assert emu.stats()["faults"] == {}
    finally:
        await stop(emu, w)


# -- dup-result and drop-result --------------------------------------------------------------


@pytest.mark.parametrize("shuffle", [True, False])
async def test_dup_result_repeats_one_result(shuffle: bool) -> None:
    emu, w = await start(Fault("dup-result", 1.0, "batch/create"), shuffle_results=shuffle)
    try:
        ex = await w("POST", f"{EMAILS}/batch/create", {"inputs": inputs(5)})
        assert ex.status == 201
        results = ex.body["results"]
        ids = Counter(r["id"] for r in results)
        assert len(results) == 6 and sorted(ids.values()) == [1, 1, 1, 1, 2]
        (twice,) = [rid for rid, n in ids.items() if n == 2]
        first, second = (r for r in results if r["id"] == twice)
        assert first == second
        stored = emu.records("emails")
        assert sorted(r["id"] for r in stored) == sorted(ids)  # five records, each once
        assert subjects(stored) == Counter(f"s{i}" for i in range(5))
        assert emu.stats()["faults"] == {"dup-result": 1}
    finally:
        await stop(emu, w)


async def test_drop_result_leaves_one_stored_record_unreported() -> None:
    emu, w = await start(Fault("drop-result", 1.0, "batch/create"))
    try:
        ex = await w("POST", f"{EMAILS}/batch/create", {"inputs": inputs(5)})
        assert ex.status == 201
        reported = {r["id"] for r in ex.body["results"]}
        stored = {r["id"]: r for r in emu.records("emails")}
        assert len(reported) == 4 and reported < set(stored) and len(stored) == 5
        (missing,) = set(stored) - reported
        assert stored[missing]["properties"]["hs_email_subject"] in {f"s{i}" for i in range(5)}
        # the only result of a batch: an empty results list, still a 201
        one = await w("POST", f"{EMAILS}/batch/create", {"inputs": inputs(1, prefix="only")})
        assert one.status == 201 and one.body["results"] == []
        assert subjects(emu.records("emails"))["only0"] == 1
        assert emu.stats()["faults"] == {"drop-result": 2}
    finally:
        await stop(emu, w)


async def test_dup_and_drop_need_a_result() -> None:
    emu, w = await start(Fault("dup-result", 1.0), Fault("drop-result", 1.0))
    try:
        ex = await w("POST", f"{EMAILS}/batch/read", {"inputs": [{"id": "1"}]})
        assert ex.status == 207 and ex.body["results"] == []
        assert emu.stats()["faults"] == {}
    finally:
        await stop(emu, w)


# -- foreign-trace and unknown-trace ---------------------------------------------------------


def own_trace(result: dict[str, Any]) -> str:
    """The trace id ``inputs()`` sent with the input this result was made from."""
    subject: str = result["properties"]["hs_email_subject"]
    return "t" + subject[1:]


@pytest.mark.parametrize("echo", [True, False])
async def test_foreign_trace_labels_a_result_with_another_inputs_trace(echo: bool) -> None:
    emu, w = await start(Fault("foreign-trace", 1.0, "batch"), echo_trace_ids=echo)
    try:
        ex = await w("POST", f"{EMAILS}/batch/create", {"inputs": inputs(5)})
        assert ex.status == 201
        results = ex.body["results"]
        labelled = [r for r in results if "objectWriteTraceId" in r]
        wrong = [r for r in labelled if r["objectWriteTraceId"] != own_trace(r)]
        assert len(wrong) == 1 and len(labelled) == (5 if echo else 1)
        assert wrong[0]["objectWriteTraceId"] in {f"t{i}" for i in range(5)}
        assert subjects(emu.records("emails")) == Counter(f"s{i}" for i in range(5))
        # one traced input: no other input to borrow from, so a trace id naming none
        single = await w("POST", f"{EMAILS}/batch/create",
                         {"inputs": inputs(1, prefix="s")})
        (result,) = single.body["results"]
        assert result["objectWriteTraceId"] not in ("t0", None)
        # an update: the same, by record id
        rid = results[0]["id"]
        upd = await w("POST", f"{EMAILS}/batch/update", {"inputs": [
            {"id": rid, "properties": {"hs_email_subject": "u"}, "objectWriteTraceId": "u1"},
            {"id": results[1]["id"], "properties": {}, "objectWriteTraceId": "u2"}]})
        traces = {r["id"]: r.get("objectWriteTraceId") for r in upd.body["results"]}
        own = {rid: "u1", results[1]["id"]: "u2"}
        wrong_ids = [i for i, trace in traces.items() if trace is not None and trace != own[i]]
        assert len(wrong_ids) == 1 and len(traces) == 2
        (wrong_id,) = wrong_ids
        assert traces[wrong_id] == ({"u1", "u2"} - {own[wrong_id]}).pop()
        assert sum(trace is not None for trace in traces.values()) == (2 if echo else 1)
        assert emu.stats()["faults"] == {"foreign-trace": 3}
    finally:
        await stop(emu, w)


@pytest.mark.parametrize("echo", [True, False])
async def test_unknown_trace_names_no_input(echo: bool) -> None:
    emu, w = await start(Fault("unknown-trace", 1.0, "batch"), echo_trace_ids=echo)
    try:
        ex = await w("POST", f"{EMAILS}/batch/create", {"inputs": inputs(4)})
        sent = {f"t{i}" for i in range(4)}
        labelled = [r for r in ex.body["results"] if "objectWriteTraceId" in r]
        strangers = [r for r in labelled if r["objectWriteTraceId"] not in sent]
        assert len(strangers) == 1 and len(labelled) == (4 if echo else 1)
        assert all(r["objectWriteTraceId"] == own_trace(r) for r in labelled
                   if r is not strangers[0])
        assert len(emu.records("emails")) == 4
        # a read has no trace ids at all: its result gets one anyway
        read = await w("POST", f"{EMAILS}/batch/read",
                       {"inputs": [{"id": strangers[0]["id"]}]})
        assert read.status == 200 and read.body["results"][0]["objectWriteTraceId"]
    finally:
        await stop(emu, w)


# -- extra-result ----------------------------------------------------------------------------


@pytest.mark.parametrize("echo", [True, False])
async def test_extra_result_on_create_stores_an_input_twice(echo: bool) -> None:
    emu, w = await start(Fault("extra-result", 1.0, "batch/create"), echo_trace_ids=echo)
    try:
        ex = await w("POST", f"{EMAILS}/batch/create", {"inputs": inputs(3)})
        assert ex.status == 201
        results = ex.body["results"]
        stored = emu.records("emails")
        assert len(results) == 4 and len(stored) == 4
        assert {r["id"] for r in results} == {r["id"] for r in stored}  # 4 distinct records
        counts = subjects(stored)
        (twice,) = [s for s, n in counts.items() if n == 2]
        assert sorted(counts.values()) == [1, 1, 2]
        twins = [r for r in results if r["properties"]["hs_email_subject"] == twice]
        props = [{k: v for k, v in r["properties"].items()
                  if k not in ("hs_object_id", "hs_createdate", "hs_lastmodifieddate")}
                 for r in twins]
        assert props[0] == props[1]
        if echo:
            assert twins[0]["objectWriteTraceId"] == twins[1]["objectWriteTraceId"] == \
                own_trace(twins[0])
        assert emu.stats()["faults"] == {"extra-result": 1}
        assert emu.stats()["objects"] == {"emails": {"live": 4, "archived": 0}}
    finally:
        await stop(emu, w)


async def test_extra_result_on_update_read_and_upsert_is_another_record_unchanged() -> None:
    emu, w = await start(Fault("extra-result", 1.0, "batch"),
                         unique_properties={"notes": ("ext",)})
    try:
        others = {emu.put_record("notes", {"hs_timestamp": TS, "hs_note_body": f"o{i}",
                                           "ext": f"e{i}"}) for i in range(3)}
        target = emu.put_record("notes", {"hs_timestamp": TS, "ext": "mine"})
        before = {rid: emu.get_record("notes", rid) for rid in others}

        upd = await w("POST", f"{BASE}/notes/batch/update", {"inputs": [
            {"id": target, "properties": {"hs_note_body": "new"}, "objectWriteTraceId": "a"}]})
        assert upd.status == 200
        (mine,) = [r for r in upd.body["results"] if r["id"] == target]
        assert mine["properties"]["hs_note_body"] == "new"
        (extra,) = [r for r in upd.body["results"] if r["id"] != target]
        assert extra["id"] in others and "objectWriteTraceId" not in extra
        assert extra["properties"] == before[extra["id"]]["properties"]  # type: ignore[index]
        assert extra["updatedAt"] == before[extra["id"]]["updatedAt"]  # type: ignore[index]

        read = await w("POST", f"{BASE}/notes/batch/read",
                       {"inputs": [{"id": target}], "properties": ["hs_note_body"]})
        assert read.status == 200 and len(read.body["results"]) == 2
        (extra,) = [r for r in read.body["results"] if r["id"] != target]
        assert extra["id"] in others
        assert set(extra["properties"]) == {"hs_note_body", "hs_createdate",
                                            "hs_lastmodifieddate", "hs_object_id"}

        ups = await w("POST", f"{BASE}/notes/batch/upsert", {"inputs": [
            {"id": "mine", "idProperty": "ext", "properties": {"hs_note_body": "again"}}]})
        assert ups.status == 200 and len(ups.body["results"]) == 2
        (extra,) = [r for r in ups.body["results"] if r["id"] != target]
        assert extra["id"] in others and extra["new"] is False
        assert {r["id"]: r for r in emu.records("notes")}.keys() == others | {target}
        for rid in others:
            assert emu.get_record("notes", rid) == before[rid]  # never touched
        assert emu.stats()["faults"] == {"extra-result": 3}
    finally:
        await stop(emu, w)


async def test_extra_result_does_nothing_when_nothing_can_be_added() -> None:
    emu, w = await start()
    try:
        emu.inject("extra-result", endpoint="batch")
        # every input of this create has a unique value: storing one twice would conflict
        created = await w("POST", f"{BASE}/contacts/batch/create", {"inputs": [
            {"properties": {"email": "a@x.com"}}, {"properties": {"email": "b@x.com"}}]})
        assert created.status == 201 and len(created.body["results"]) == 2
        only = created.body["results"][0]["id"]
        # an update naming every contact there is: no other record to add
        ids = [r["id"] for r in created.body["results"]]
        upd = await w("POST", f"{BASE}/contacts/batch/update", {"inputs": [
            {"id": rid, "properties": {"firstname": "x"}} for rid in ids]})
        assert upd.status == 200 and len(upd.body["results"]) == 2
        assert len(emu.records("contacts")) == 2 and emu.stats()["faults"] == {}
        # the injected fault is still pending: the next batch it can apply to gets it
        read = await w("POST", f"{BASE}/contacts/batch/read", {"inputs": [{"id": only}]})
        assert len(read.body["results"]) == 2
        assert emu.stats()["faults"] == {"extra-result": 1}
        again = await w("POST", f"{BASE}/contacts/batch/read", {"inputs": [{"id": only}]})
        assert len(again.body["results"]) == 1
    finally:
        await stop(emu, w)


# -- injection, seeding and composition ------------------------------------------------------


async def test_injected_response_faults_wait_for_a_response_they_can_corrupt() -> None:
    emu, w = await start()
    try:
        emu.inject("drop-result", count=2, endpoint="batch/update")
        created = await w("POST", f"{EMAILS}/batch/create", {"inputs": inputs(2)})
        assert len(created.body["results"]) == 2  # another endpoint: untouched
        ids = [r["id"] for r in created.body["results"]]
        ignored = await w("POST", f"{EMAILS}/batch/update", {"inputs": [
            {"id": ids[0], "properties": {"nope": "x"}}]})  # an ignored property: a 200
        assert ignored.status == 200 and ignored.body["results"] == []  # dropped (1 of 2)
        rejected = await w("POST", f"{EMAILS}/batch/update", {"inputs": [
            {"id": ids[0], "properties": {}}, {"id": ids[0], "properties": {}}]})
        assert rejected.status == 400  # an error: the fault waits
        ok = await w("POST", f"{EMAILS}/batch/update", {"inputs": [
            {"id": rid, "properties": {"hs_email_subject": "u"}} for rid in ids]})
        assert ok.status == 200 and len(ok.body["results"]) == 1  # dropped (2 of 2)
        assert subjects(emu.records("emails")) == Counter({"u": 2})
        last = await w("POST", f"{EMAILS}/batch/update", {"inputs": [
            {"id": rid, "properties": {}} for rid in ids]})
        assert len(last.body["results"]) == 2
        assert emu.stats()["faults"] == {"drop-result": 2}
    finally:
        await stop(emu, w)


async def run_mixed(seed: int) -> tuple[list[Any], dict[str, int], Counter[str]]:
    """Thirty shuffled batches under every response fault at once; what a client saw."""
    faults = [Fault(kind, 0.3, "batch") for kind in RESPONSE_FAULT_KINDS]
    emu, w = await start(*faults, seed=seed, shuffle_results=True, echo_trace_ids=False)
    seen: list[Any] = []
    try:
        for n in range(30):
            ex = await w("POST", f"{EMAILS}/batch/create",
                         {"inputs": inputs(4, prefix=f"r{n}-")})
            assert ex.status == 201
            try:
                body = json.loads(ex.raw)
            except ValueError:
                seen.append(("unparsable", ex.content_type))
                continue
            if not isinstance(body, dict):
                seen.append(body)
                continue
            seen.append([(r["id"], r.get("objectWriteTraceId")) for r in body["results"]])
        return seen, emu.stats()["faults"], subjects(emu.records("emails"))
    finally:
        await stop(emu, w)


async def test_response_faults_are_seeded_and_compose_with_shuffling() -> None:
    first, faults, stored = await run_mixed(5)
    again, faults_again, stored_again = await run_mixed(5)
    assert first == again and faults == faults_again and stored == stored_again
    assert set(faults) == set(RESPONSE_FAULT_KINDS)  # each kind hit at least once
    assert sum(faults.values()) <= 30  # at most one response fault per response
    # every input was stored once, plus one more record per applied extra-result
    sent = Counter(f"r{n}-{i}" for n in range(30) for i in range(4))
    assert set(stored) == set(sent)
    assert sum(stored.values()) == 120 + faults["extra-result"]
    other, _, _ = await run_mixed(6)
    assert other != first
