"""The emulator on the wire: every endpoint, every error shape, each §8 switch and each request
fault kind, the control endpoints and the command line. Property values are tested in
``test_emulator_values.py``, response faults in ``test_emulator_faults.py``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from hubengage.emulator import (
    FAULT_KINDS,
    REQUEST_FAULT_KINDS,
    RESPONSE_FAULT_KINDS,
    Emulator,
    EmulatorConfig,
    Fault,
    parse_fault,
    parse_rate,
)
from hubengage.emulator._cli import build_parser, config_from_args
from tests._wire import TS, Wire, email_props

BASE = "/crm/v3/objects"


@pytest.fixture
async def wire(hubspot_emulator: Emulator) -> AsyncIterator[Wire]:
    w = Wire(hubspot_emulator.url)
    yield w
    await w.close()


async def make_wire(**config: object) -> tuple[Emulator, Wire]:
    emu = Emulator(EmulatorConfig(**config))  # type: ignore[arg-type]
    await emu.start()
    return emu, Wire(emu.url)


async def done(emu: Emulator, w: Wire) -> None:
    await w.close()
    await emu.stop()


# -- auth and framing ------------------------------------------------------------------------


async def test_missing_token_gets_the_401_body(wire: Wire) -> None:
    ex = await wire("GET", f"{BASE}/emails", token=None)
    assert ex.status == 401
    assert ex.body["category"] == "INVALID_AUTHENTICATION"
    assert ex.body["correlationId"] == ex.headers["x-hubspot-correlation-id"]
    assert ex.headers["x-hubspot-auth-failure"] == "401 Unauthorized"


async def test_configured_tokens_only() -> None:
    emu, w = await make_wire(tokens=("good",))
    try:
        assert (await w("GET", f"{BASE}/emails", token="bad")).status == 401
        assert (await w("GET", f"{BASE}/emails", token="good")).status == 200
    finally:
        await done(emu, w)


async def test_every_response_has_a_correlation_id_and_limit_headers(wire: Wire) -> None:
    ex = await wire("POST", f"{BASE}/emails", {"properties": email_props()})
    assert ex.status == 201
    for header in ("x-hubspot-correlation-id", "x-hubspot-ratelimit-max",
                   "x-hubspot-ratelimit-remaining", "x-hubspot-ratelimit-interval-milliseconds",
                   "x-hubspot-ratelimit-daily", "x-hubspot-ratelimit-daily-remaining"):
        assert header in ex.headers
    assert ex.headers["x-hubspot-ratelimit-max"] == "100"
    assert ex.headers["x-hubspot-ratelimit-remaining"] == "99"


async def test_unknown_path_and_unknown_type(wire: Wire) -> None:
    assert (await wire("GET", "/crm/v3/nothing")).status == 404
    ex = await wire("GET", f"{BASE}/widgets")
    assert ex.status == 400 and "Unable to infer object type" in ex.body["message"]


# -- single-object endpoints -----------------------------------------------------------------


async def test_create_get_update_archive(wire: Wire, hubspot_emulator: Emulator) -> None:
    contact = hubspot_emulator.put_record("contacts", {"email": "a@x.com"}, id=601)
    created = await wire("POST", f"{BASE}/0-49", {
        "properties": {**email_props(), "hs_timestamp": "1768471200123"},
        "associations": [{"to": {"id": 601}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 198}]}],
    })
    assert created.status == 201
    rec = created.body
    assert rec["properties"]["hs_timestamp"] == "2026-01-15T10:00:00.123Z"  # §8: ms -> ISO
    assert rec["properties"]["hs_object_id"] == rec["id"]
    got = await wire("GET", f"{BASE}/emails/{rec['id']}",
                     params={"properties": "hs_email_subject", "associations": "contacts"})
    assert got.body["properties"]["hs_email_subject"] == "hello"
    assert got.body["associations"]["contacts"]["results"] == [
        {"id": contact, "type": "email_to_contact"}]
    patched = await wire("PATCH", f"{BASE}/emails/{rec['id']}",
                         {"properties": {"hs_email_subject": "changed", "nope": "ignored"}})
    assert patched.status == 200 and patched.body["properties"]["hs_email_subject"] == "changed"
    assert (await wire("DELETE", f"{BASE}/emails/{rec['id']}")).status == 204
    assert (await wire("DELETE", f"{BASE}/emails/{rec['id']}")).status == 204  # missing: 204
    gone = await wire("GET", f"{BASE}/emails/{rec['id']}")
    assert gone.status == 404
    assert gone.body["message"] == "Object not found.  objectId are usually numeric."
    archived = await wire("GET", f"{BASE}/emails/{rec['id']}", params={"archived": "true"})
    assert archived.status == 200 and archived.body["archived"] is True


async def test_create_validation_errors(wire: Wire) -> None:
    missing = await wire("POST", f"{BASE}/emails", {"properties": {"hs_timestamp": TS}})
    assert missing.status == 400 and "hs_email_direction" in missing.body["message"]
    bad_enum = await wire("POST", f"{BASE}/communications", {"properties": {
        "hs_timestamp": TS, "hs_communication_channel_type": "PIGEON"}})
    assert bad_enum.status == 400 and "INVALID_OPTION" in bad_enum.body["message"]
    unknown = await wire("POST", f"{BASE}/emails",
                         {"properties": email_props(testproperty="x")})
    assert unknown.body["category"] == "VALIDATION_ERROR"
    assert unknown.body["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    bad_assoc = await wire("POST", f"{BASE}/emails", {"properties": email_props(),
        "associations": [{"to": {"id": "999"}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 198}]}]})
    assert bad_assoc.status == 400


async def test_strict_update_properties_switch() -> None:
    emu, w = await make_wire(strict_update_properties=True)
    try:
        rid = emu.put_record("notes", {"hs_timestamp": TS})
        ex = await w("PATCH", f"{BASE}/notes/{rid}", {"properties": {"nope": "x"}})
        assert ex.status == 400 and "PROPERTY_DOESNT_EXIST" in ex.body["message"]
    finally:
        await done(emu, w)


async def test_list_paging_with_absolute_link(wire: Wire, hubspot_emulator: Emulator) -> None:
    ids = [hubspot_emulator.put_record("notes", {"hs_timestamp": TS}) for _ in range(5)]
    page = await wire("GET", f"{BASE}/notes", params={"limit": "2"})
    assert [r["id"] for r in page.body["results"]] == ids[:2]
    nxt = page.body["paging"]["next"]
    assert nxt["after"] == ids[2] and nxt["link"].startswith("http://")
    assert f"after={ids[2]}" in nxt["link"]
    seen = []
    after = None
    while True:
        params = {"limit": "2", **({"after": after} if after else {})}
        body = (await wire("GET", f"{BASE}/notes", params=params)).body
        seen += [r["id"] for r in body["results"]]
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    assert seen == ids
    assert (await wire("GET", f"{BASE}/notes", params={"limit": "101"})).status == 400


async def test_get_by_unique_id_property(wire: Wire, hubspot_emulator: Emulator) -> None:
    rid = hubspot_emulator.put_record("contacts", {"email": "z@x.com"})
    got = await wire("GET", f"{BASE}/contacts/z@x.com", params={"idProperty": "email"})
    assert got.status == 200 and got.body["id"] == rid
    bad = await wire("GET", f"{BASE}/contacts/x", params={"idProperty": "firstname"})
    assert bad.status == 400 and "non-unique" in bad.body["message"]


# -- batch endpoints -------------------------------------------------------------------------


async def test_batch_create_201_shuffled_without_trace_ids_by_default(wire: Wire) -> None:
    inputs = [{"properties": email_props(f"s{i}"), "objectWriteTraceId": f"t{i}"}
              for i in range(20)]
    ex = await wire("POST", f"{BASE}/emails/batch/create", {"inputs": inputs})
    assert ex.status == 201 and ex.body["status"] == "COMPLETE"
    results = ex.body["results"]
    assert all("objectWriteTraceId" not in r for r in results)  # as HubSpot's 207 example
    assert [r["properties"]["hs_email_subject"] for r in results] != [f"s{i}" for i in range(20)]


async def test_batch_create_echoes_trace_ids_when_switched_on() -> None:
    emu, w = await make_wire(echo_trace_ids=True)
    try:
        inputs = [{"properties": email_props(f"s{i}"), "objectWriteTraceId": f"t{i}"}
                  for i in range(20)]
        ex = await w("POST", f"{BASE}/emails/batch/create", {"inputs": inputs})
        assert {r["objectWriteTraceId"] for r in ex.body["results"]} == {
            f"t{i}" for i in range(20)}
    finally:
        await done(emu, w)


async def test_batch_create_207_names_the_bad_input_by_trace_id(wire: Wire) -> None:
    inputs = [{"properties": email_props("good"), "objectWriteTraceId": "a"},
              {"properties": email_props("bad", missing="x"), "objectWriteTraceId": "b"}]
    ex = await wire("POST", f"{BASE}/emails/batch/create", {"inputs": inputs})
    assert ex.status == 207
    assert ex.body["numErrors"] == 1
    assert ex.body["errors"][0]["context"]["objectWriteTraceId"] == ["b"]
    assert len(ex.body["results"]) == 1


async def test_batch_create_without_trace_ids_fails_whole(wire: Wire,
                                                          hubspot_emulator: Emulator) -> None:
    inputs = [{"properties": email_props("good")}, {"properties": email_props(missing="x")}]
    ex = await wire("POST", f"{BASE}/emails/batch/create", {"inputs": inputs})
    assert ex.status == 400 and ex.body["category"] == "VALIDATION_ERROR"
    assert hubspot_emulator.records("emails") == []


async def test_batch_over_100_inputs_is_a_400(wire: Wire) -> None:
    inputs = [{"properties": email_props(f"{i}")} for i in range(101)]
    ex = await wire("POST", f"{BASE}/emails/batch/create", {"inputs": inputs})
    assert ex.status == 400 and "maximum number of inputs" in ex.body["message"]


async def test_echo_trace_ids_off() -> None:
    emu, w = await make_wire(echo_trace_ids=False, shuffle_results=False)
    try:
        inputs = [{"properties": email_props(f"s{i}"), "objectWriteTraceId": f"t{i}"}
                  for i in range(3)]
        ex = await w("POST", f"{BASE}/emails/batch/create", {"inputs": inputs})
        assert all("objectWriteTraceId" not in r for r in ex.body["results"])
        assert [r["properties"]["hs_email_subject"] for r in ex.body["results"]] == [
            "s0", "s1", "s2"]
    finally:
        await done(emu, w)


async def test_batch_read_missing_ids_aggregate_into_one_error(
    wire: Wire, hubspot_emulator: Emulator
) -> None:
    rid = hubspot_emulator.put_record("communications", {"hs_timestamp": TS})
    ex = await wire("POST", f"{BASE}/communications/batch/read",
                    {"inputs": [{"id": rid}, {"id": "1"}, {"id": "2"}], "properties": []})
    assert ex.status == 207
    (err,) = ex.body["errors"]
    assert err["category"] == "OBJECT_NOT_FOUND" and sorted(err["context"]["ids"]) == ["1", "2"]
    assert "COMMUNICATION" in err["message"]
    all_missing = await wire("POST", f"{BASE}/communications/batch/read",
                             {"inputs": [{"id": "3"}]})
    assert all_missing.status == 207 and all_missing.body["results"] == []


async def test_batch_update_duplicates_missing_and_success(
    wire: Wire, hubspot_emulator: Emulator
) -> None:
    rid = hubspot_emulator.put_record("notes", {"hs_timestamp": TS})
    dup = await wire("POST", f"{BASE}/notes/batch/update", {"inputs": [
        {"id": rid, "properties": {}}, {"id": rid, "properties": {}}]})
    assert dup.status == 400 and dup.body["context"]["ids"] == [rid]
    ex = await wire("POST", f"{BASE}/notes/batch/update", {"inputs": [
        {"id": rid, "properties": {"hs_note_body": "x"}, "objectWriteTraceId": "a"},
        {"id": "404", "properties": {"hs_note_body": "y"}, "objectWriteTraceId": "b"}]})
    assert ex.status == 207
    assert ex.body["results"][0]["properties"]["hs_note_body"] == "x"
    assert ex.body["errors"][0]["context"] == {"ids": ["404"], "objectWriteTraceId": ["b"]}
    ok = await wire("POST", f"{BASE}/notes/batch/update",
                    {"inputs": [{"id": rid, "properties": {"hs_note_body": "z"}}]})
    assert ok.status == 200


async def test_batch_upsert_by_unique_property() -> None:
    emu, w = await make_wire(unique_properties={"emails": ("external_id",)})
    try:
        body = {"inputs": [{"id": "e1", "idProperty": "external_id",
                            "properties": email_props("one"), "objectWriteTraceId": "t"}]}
        first = await w("POST", f"{BASE}/emails/batch/upsert", body)
        assert first.status == 200 and first.body["results"][0]["new"] is True
        again = await w("POST", f"{BASE}/emails/batch/upsert", body)
        assert again.body["results"][0]["new"] is False
        assert again.body["results"][0]["id"] == first.body["results"][0]["id"]
        assert len(emu.records("emails")) == 1
        bad = await w("POST", f"{BASE}/emails/batch/upsert", {"inputs": [
            {"id": "x", "idProperty": "hs_email_subject", "properties": {}}]})
        assert bad.status == 400 and "non-unique 0-49 property" in bad.body["message"]
    finally:
        await done(emu, w)


async def test_batch_archive_is_204_even_for_missing_ids(
    wire: Wire, hubspot_emulator: Emulator
) -> None:
    rid = hubspot_emulator.put_record("tasks", {"hs_timestamp": TS})
    ex = await wire("POST", f"{BASE}/tasks/batch/archive", {"inputs": [{"id": rid}, {"id": "9"}]})
    assert ex.status == 204 and ex.raw == b""
    assert hubspot_emulator.get_record("tasks", rid)["archived"] is True


async def test_contact_conflict_on_unique_email(wire: Wire, hubspot_emulator: Emulator) -> None:
    hubspot_emulator.put_record("contacts", {"email": "dup@x.com"})
    single = await wire("POST", f"{BASE}/contacts", {"properties": {"email": "dup@x.com"}})
    assert single.status == 409 and single.body["category"] == "CONFLICT"
    batch = await wire("POST", f"{BASE}/contacts/batch/create", {"inputs": [
        {"properties": {"email": "dup@x.com"}, "objectWriteTraceId": "0"}]})
    assert batch.status == 207 and batch.body["errors"][0]["category"] == "CONFLICT"


# -- search ----------------------------------------------------------------------------------


@pytest.mark.hubspot_emulator(search_limit=0)
async def test_search_filters_sorts_paging_and_no_limit_headers(
    wire: Wire, hubspot_emulator: Emulator
) -> None:
    for i in range(6):
        hubspot_emulator.put_record("calls", {"hs_timestamp": f"2026-01-0{i + 1}T00:00:00.000Z",
                                              "hs_call_title": f"call {i}",
                                              "hs_call_duration": str(i * 1000)})
    body = {"filterGroups": [{"filters": [
                {"propertyName": "hs_call_duration", "operator": "GTE", "value": "2000"}]},
                {"filters": [{"propertyName": "hs_call_title", "operator": "EQ",
                              "value": "CALL 0"}]}],
            "sorts": [{"propertyName": "hs_timestamp", "direction": "DESCENDING"}],
            "properties": ["hs_call_title"], "limit": 2}
    ex = await wire("POST", f"{BASE}/calls/search", body)
    assert ex.status == 200 and ex.body["total"] == 5
    assert [r["properties"]["hs_call_title"] for r in ex.body["results"]] == ["call 5", "call 4"]
    assert ex.body["paging"]["next"] == {"after": "2"}
    assert not any(h.startswith("x-hubspot-ratelimit") for h in ex.headers)
    for op, extra, count in [("BETWEEN", {"value": "1000", "highValue": "3000"}, 3),
                             ("IN", {"values": ["call 1", "call 2"]}, 2),
                             ("NOT_IN", {"values": ["call 1"]}, 5),
                             ("HAS_PROPERTY", {}, 6), ("NOT_HAS_PROPERTY", {}, 0),
                             ("CONTAINS_TOKEN", {"value": "call"}, 6),
                             ("NOT_CONTAINS_TOKEN", {"value": "3"}, 5),
                             ("LT", {"value": "1000"}, 1), ("LTE", {"value": "1000"}, 2),
                             ("GT", {"value": "4000"}, 1), ("NEQ", {"value": "0"}, 5)]:
        prop = "hs_call_title" if op in ("IN", "NOT_IN", "CONTAINS_TOKEN",
                                         "NOT_CONTAINS_TOKEN") else "hs_call_duration"
        res = await wire("POST", f"{BASE}/calls/search", {"filterGroups": [{"filters": [
            {"propertyName": prop, "operator": op, **extra}]}], "limit": 100})
        assert res.body["total"] == count, op
    text = await wire("POST", f"{BASE}/calls/search", {"query": "call 3"})
    assert text.body["total"] == 1


async def test_search_limits_and_cap(wire: Wire) -> None:
    assert (await wire("POST", f"{BASE}/notes/search", {"limit": 201})).status == 400
    capped = await wire("POST", f"{BASE}/notes/search", {"limit": 200, "after": "9900"})
    assert capped.status == 400 and "10000" in capped.body["message"]
    two_sorts = await wire("POST", f"{BASE}/notes/search", {"sorts": ["a", "b"]})
    assert two_sorts.status == 400


async def test_search_bucket_429_body() -> None:
    emu, w = await make_wire(search_limit=2, search_interval=10.0)
    try:
        statuses = [(await w("POST", f"{BASE}/notes/search", {})).status for _ in range(3)]
        assert statuses == [200, 200, 429]
        last = w.exchanges[-1]
        assert last.body["category"] == "RATE_LIMITS" and "policyName" not in last.body
        assert last.body["message"] == "You have reached your secondly limit."
        assert (await w("GET", f"{BASE}/notes")).status == 200  # the burst bucket is separate
    finally:
        await done(emu, w)


# -- associations and pinning ----------------------------------------------------------------


async def test_associations_and_pinning(wire: Wire, hubspot_emulator: Emulator) -> None:
    contact = hubspot_emulator.put_record("contacts", {"email": "p@x.com"})
    note = (await wire("POST", f"{BASE}/notes", {"properties": {"hs_timestamp": TS}})).body["id"]
    pin = await wire("PATCH", f"{BASE}/contacts/{contact}",
                     {"properties": {"hs_pinned_engagement_id": note}})
    assert pin.status == 400  # not associated yet
    put = await wire("PUT", f"{BASE}/notes/{note}/associations/contacts/{contact}/202")
    assert put.status == 200
    rows = await wire("GET", f"{BASE}/notes/{note}/associations/contacts")
    assert rows.body["results"] == [{"id": contact, "type": "note_to_contact"}]
    back = await wire("GET", f"{BASE}/contacts/{contact}/associations/notes")
    assert back.body["results"][0]["id"] == note
    pin = await wire("PATCH", f"{BASE}/contacts/{contact}",
                     {"properties": {"hs_pinned_engagement_id": note}})
    assert pin.status == 200
    by_name = await wire("PUT", f"{BASE}/notes/{note}/associations/contacts/{contact}/"
                                "note_to_contact")
    assert by_name.status == 200
    assert (await wire("DELETE",
                       f"{BASE}/notes/{note}/associations/contacts/{contact}/202")).status == 204
    rows = await wire("GET", f"{BASE}/notes/{note}/associations/contacts")
    assert rows.body["results"] == []


# -- rate limits -----------------------------------------------------------------------------


async def test_burst_window_429_body_and_headers() -> None:
    interval = 0.2
    emu, w = await make_wire(burst_limit=3, burst_interval=interval, retry_after_on_429=True)
    try:
        loop = asyncio.get_running_loop()  # its clock is the emulator's (time.monotonic)
        statuses = [(await w("GET", f"{BASE}/notes")).status]
        first_answered = loop.time()  # the first request arrived before this
        statuses += [(await w("GET", f"{BASE}/notes")).status for _ in range(3)]
        assert statuses == [200, 200, 200, 429]
        last = w.exchanges[-1]
        assert last.body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert last.body["errorType"] == "RATE_LIMIT"
        assert last.headers["x-hubspot-ratelimit-remaining"] == "0"
        assert last.headers["retry-after"] == "1"
        await asyncio.sleep(first_answered + interval - loop.time())  # the first one expires
        assert (await w("GET", f"{BASE}/notes")).status == 200
        assert emu.stats()["rate_limited"] == {"TEN_SECONDLY_ROLLING": 1}
    finally:
        await done(emu, w)


async def test_no_retry_after_by_default_and_unlimited_burst() -> None:
    emu, w = await make_wire(burst_limit=1, burst_interval=10.0)
    try:
        await w("GET", f"{BASE}/notes")
        limited = await w("GET", f"{BASE}/notes")
        assert limited.status == 429 and "retry-after" not in limited.headers
    finally:
        await done(emu, w)
    emu, w = await make_wire(burst_limit=0)
    try:
        assert all([(await w("GET", f"{BASE}/notes")).status == 200 for _ in range(150)])
    finally:
        await done(emu, w)


async def test_daily_limit_body() -> None:
    emu, w = await make_wire(daily_limit=2)
    try:
        statuses = [(await w("GET", f"{BASE}/notes")).status for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert w.exchanges[-1].body["policyName"] == "DAILY"
        assert w.exchanges[-1].headers["x-hubspot-ratelimit-daily-remaining"] == "0"
    finally:
        await done(emu, w)


# -- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["502", "503", "504"])
async def test_html_5xx_faults(kind: str) -> None:
    emu, w = await make_wire(faults=(Fault(kind, 1.0, "list"),))
    try:
        ex = await w("GET", f"{BASE}/notes")
        assert ex.status == int(kind) and ex.content_type.startswith("text/html")
        assert b"<title>" in ex.raw
        assert (await w("POST", f"{BASE}/notes", {"properties": {"hs_timestamp": TS}})).status \
            == 201  # only the list endpoint is faulty
    finally:
        await done(emu, w)


async def test_429_fault_and_drop_fault() -> None:
    import aiohttp

    emu, w = await make_wire(faults=(Fault("429", 1.0, "batch/read"),
                                     Fault("drop", 1.0, "batch/create")))
    try:
        ex = await w("POST", f"{BASE}/notes/batch/read", {"inputs": []})
        assert ex.status == 429 and ex.body["policyName"] == "TEN_SECONDLY_ROLLING"
        with pytest.raises(aiohttp.ClientError):
            await w("POST", f"{BASE}/notes/batch/create", {"inputs": [
                {"properties": {"hs_timestamp": TS}}]})
        assert emu.records("notes") == []  # dropped before processing
        assert emu.stats()["faults"] == {"429": 1, "drop": 1}
    finally:
        await done(emu, w)


@pytest.mark.parametrize("kind", ["commit-then-502", "commit-then-drop"])
async def test_commit_then_fail_stores_the_write(kind: str) -> None:
    import aiohttp

    emu, w = await make_wire(faults=(Fault(kind, 1.0, "create"),))
    try:
        if kind == "commit-then-502":
            assert (await w("POST", f"{BASE}/notes",
                            {"properties": {"hs_timestamp": TS}})).status == 502
        else:
            with pytest.raises(aiohttp.ClientError):
                await w("POST", f"{BASE}/notes", {"properties": {"hs_timestamp": TS}})
        assert len(emu.records("notes")) == 1
    finally:
        await done(emu, w)


async def test_slow_fault_delays_the_response() -> None:
    emu, w = await make_wire(faults=(Fault("slow", 1.0),), slow_delay=0.1)
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert (await w("GET", f"{BASE}/notes")).status == 200
        assert loop.time() - start >= 0.1
    finally:
        await done(emu, w)


async def test_inject_the_next_requests(wire: Wire, hubspot_emulator: Emulator) -> None:
    hubspot_emulator.inject("503", count=2, endpoint="list")
    statuses = [(await wire("GET", f"{BASE}/notes")).status for _ in range(3)]
    assert statuses == [503, 503, 200]


# -- control endpoints, stats, reset ---------------------------------------------------------


async def test_stats_and_reset_endpoints(wire: Wire, hubspot_emulator: Emulator) -> None:
    await wire("POST", f"{BASE}/notes", {"properties": {"hs_timestamp": TS}})
    stats = (await wire("GET", "/__emulator__/stats")).body
    assert stats["requests"] == {"create 201": 1}
    assert stats["objects"] == {"notes": {"live": 1, "archived": 0}}
    assert (await wire("POST", "/__emulator__/reset")).status == 200
    assert hubspot_emulator.records("notes") == []
    assert hubspot_emulator.stats()["total_requests"] == 0


# -- configuration and command line ----------------------------------------------------------


def test_parse_rate_and_fault() -> None:
    assert parse_rate("100/10s") == (100, 10.0)
    assert parse_rate("20/200ms") == (20, 0.2)
    assert parse_rate("0") == (0, 1.0)
    assert parse_fault("drop=0.01@batch/create") == Fault("drop", 0.01, "batch/create")
    for bad in ("fast", "100/0s"):
        with pytest.raises(ValueError):
            parse_rate(bad)
    with pytest.raises(ValueError):
        parse_fault("melt=0.5")
    with pytest.raises(ValueError):
        parse_fault("502=2")


def test_response_fault_kinds_parse() -> None:
    for kind in RESPONSE_FAULT_KINDS:
        assert kind in FAULT_KINDS
        assert parse_fault(f"{kind}=0.25@batch/create") == Fault(kind, 0.25, "batch/create")
    assert set(FAULT_KINDS) == set(REQUEST_FAULT_KINDS) | set(RESPONSE_FAULT_KINDS)
    with pytest.raises(ValueError):
        parse_fault("dup-results=0.5")


def test_config_from_args_value_and_trace_switches() -> None:
    parser = build_parser()
    default = config_from_args(parser.parse_args([]))
    assert default.normalize_values is True and default.rich_text_html is False
    assert default.echo_trace_ids == EmulatorConfig().echo_trace_ids
    config = config_from_args(parser.parse_args([
        "--no-normalize-values", "--rich-text-html", "--echo-trace-ids",
        "--fault", "garbled-2xx=0.1@batch", "--fault", "extra-result=1"]))
    assert config.normalize_values is False and config.rich_text_html is True
    assert config.echo_trace_ids is True
    assert config.faults == (Fault("garbled-2xx", 0.1, "batch"), Fault("extra-result", 1.0))
    assert config_from_args(parser.parse_args(["--no-echo-trace-ids"])).echo_trace_ids is False
    help_text = parser.format_help()
    for kind in FAULT_KINDS:
        assert kind in help_text
    for flag in ("--echo-trace-ids", "--no-echo-trace-ids", "--no-normalize-values",
                 "--rich-text-html"):
        assert flag in help_text


def test_echo_trace_id_flags_are_mutually_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--echo-trace-ids", "--no-echo-trace-ids"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_fault_endpoint_matching() -> None:
    assert Fault("502", 1.0, "batch").matches("batch/create")
    assert not Fault("502", 1.0, "batch/create").matches("batch/read")
    assert Fault("502", 1.0).matches("search")


def test_command_line_prints_listening_first_and_stops_on_sigint() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubengage.emulator", "--port", "0", "--burst", "20/200ms",
         "--search", "5/1s", "--daily", "1000", "--fault", "502=0.1@batch", "--seed", "3",
         "--no-echo-trace-ids", "--no-shuffle", "--retry-after-on-429",
         "--no-normalize-values", "--rich-text-html", "--fault", "dup-result=0.5@batch/create",
         "--strict-update-properties", "--token", "a", "--token", "b",
         "--latency", "0.01", "--clock-skew", "-1.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        proc.send_signal(subprocess.signal.SIGINT)  # type: ignore[attr-defined]
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.communicate()


def test_command_line_rejects_bad_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hubengage.emulator", "--burst", "lots"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2 and "--burst" in result.stderr
