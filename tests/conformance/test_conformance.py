"""The emulator's responses, for every endpoint, validated against HubSpot's OpenAPI specs.

A scenario drives every endpoint the emulator serves (success and error paths) for every
engagement type and for contacts; each exchange is validated against the response schema of
the type's own spec (``specs/``). Where HubSpot's real behaviour (the wire notes) and its
spec disagree, EXCEPTIONS names the departure and why; nothing else is relaxed.
"""

from __future__ import annotations

import pytest

from hubengage.emulator import Emulator
from tests._wire import TS, Exchange, Wire
from tests.conformance._spec import (
    DropRequired,
    SpecError,
    spec_for_object_type,
    validate_request,
    validate_response,
)

BASE = "/crm/v3/objects"

REQUIRED = {
    "emails": {"hs_timestamp": TS, "hs_email_direction": "EMAIL"},
    "postal_mail": {"hs_timestamp": TS},
    "communications": {"hs_timestamp": TS, "hs_communication_channel_type": "SMS"},
    "calls": {"hs_timestamp": TS},
    "meetings": {"hs_timestamp": TS},
    "notes": {"hs_timestamp": TS},
    "tasks": {"hs_timestamp": TS},
    "contacts": {"firstname": "Ada"},
}

#: Where the wire notes and the spec disagree: each departure, named, with the reason.
EXCEPTIONS = (
    # Wire notes §2.3: StandardError lists ``errors`` and ``links`` as required, but every
    # real 207 error (the official docs' own example included) omits them.
    DropRequired("StandardError", ("errors", "links")),
)
#: Not validated at all (the scenario does not exercise them here), and why:
#: - HTML 5xx bodies from the edge (wire notes §4): the spec declares only JSON errors; the
#:   fault tests in ``test_emulator.py`` check them.
#: - v3 per-record association paths (``.../associations/{toType}/...``): absent from the
#:   copied v3 specs (HubSpot moved them to the v4 associations API); ``test_emulator.py``
#:   checks their shape against the wire notes.


async def scenario(wire: Wire, emu: Emulator, object_type: str) -> None:
    props = REQUIRED[object_type]
    path = f"{BASE}/{object_type}"
    created = await wire("POST", path, {"properties": props})
    rid = created.body["id"]
    await wire("GET", f"{path}/{rid}")
    await wire("GET", f"{path}/{rid}", params={"properties": "hs_timestamp"})
    await wire("GET", f"{path}/999999999")  # 404
    await wire("PATCH", f"{path}/{rid}", {"properties": props})
    await wire("PATCH", f"{path}/999999999", {"properties": props})  # 404
    await wire("GET", path, params={"limit": "1"})
    await wire("POST", f"{path}/search", {"filterGroups": [{"filters": [
        {"propertyName": "hs_object_id", "operator": "EQ", "value": rid}]}], "limit": 1})
    await wire("POST", f"{path}/batch/create", {"inputs": [
        {"properties": props, "objectWriteTraceId": "a"},
        {"properties": {**props, "no_such": "x"}, "objectWriteTraceId": "b"}]})  # 207
    ok = await wire("POST", f"{path}/batch/create", {"inputs": [
        {"properties": props, "objectWriteTraceId": "c"}]})  # 201
    other = ok.body["results"][0]["id"]
    await wire("POST", f"{path}/batch/create", {"inputs": [{"properties": {"no_such": "x"}}]})
    await wire("POST", f"{path}/batch/read", {"inputs": [{"id": rid}], "properties": []})
    await wire("POST", f"{path}/batch/read", {"inputs": [{"id": rid}, {"id": "1"}],
                                              "properties": []})  # 207
    await wire("POST", f"{path}/batch/update", {"inputs": [
        {"id": rid, "properties": props, "objectWriteTraceId": "u"}]})
    await wire("POST", f"{path}/batch/update", {"inputs": [
        {"id": rid, "properties": props}, {"id": rid, "properties": props}]})  # 400 dupes
    await wire("POST", f"{path}/batch/archive", {"inputs": [{"id": other}]})
    await wire("DELETE", f"{path}/{rid}")
    await wire("GET", path, token=None)  # 401


@pytest.mark.hubspot_emulator(search_limit=0, unique_properties={})
@pytest.mark.parametrize("object_type", sorted(REQUIRED))
async def test_emulator_responses_match_the_spec(
    hubspot_emulator: Emulator, object_type: str
) -> None:
    wire = Wire(hubspot_emulator.url)
    try:
        await scenario(wire, hubspot_emulator, object_type)
    finally:
        await wire.close()
    spec = spec_for_object_type(object_type).patched(*EXCEPTIONS)
    checked = 0
    problems: list[str] = []
    for ex in wire.exchanges:
        try:
            check(spec, ex)
            checked += 1
        except SpecError as err:
            problems.append(str(err))
    assert not problems, "\n".join(problems)
    assert checked == len(wire.exchanges)
    statuses = {ex.status for ex in wire.exchanges}
    assert {200, 201, 204, 207, 400, 401, 404} <= statuses


def check(spec: object, ex: Exchange) -> None:
    validate_response(spec, ex.method, ex.path, ex.status, ex.raw,  # type: ignore[arg-type]
                      ex.headers.get("content-type"))


@pytest.mark.parametrize("object_type", sorted(REQUIRED))
def test_the_sdks_batch_request_bodies_match_the_spec(object_type: str) -> None:
    """The bodies the batcher builds (see ``_batcher._request``) validate as requests."""
    spec = spec_for_object_type(object_type)
    path = f"{BASE}/{object_type}"
    props = REQUIRED[object_type]
    validate_request(spec, "POST", f"{path}/batch/create", {"inputs": [
        {"properties": props, "associations": [], "objectWriteTraceId": "t1"}]})
    validate_request(spec, "POST", f"{path}/batch/update", {"inputs": [
        {"id": "1", "properties": props, "objectWriteTraceId": "t2"}]})
    validate_request(spec, "POST", f"{path}/batch/read", {
        "inputs": [{"id": "1"}], "properties": ["hs_timestamp"], "propertiesWithHistory": []})
    validate_request(spec, "POST", f"{path}/batch/archive", {"inputs": [{"id": "1"}]})
    validate_request(spec, "POST", f"{path}/search", {
        "filterGroups": [{"filters": [{"propertyName": "a", "operator": "EQ", "value": "1"}]}],
        "sorts": ["hs_timestamp"], "properties": ["a"], "limit": 200, "after": "0",
        "query": "x"})
