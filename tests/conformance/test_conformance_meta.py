"""The emulator's properties and owners APIs, validated against HubSpot's OpenAPI specs.

A scenario drives every operation of the properties API (``specs/properties.json``: list, get,
create, update, archive, and the property groups) for each engagement type and the four CRM
record types, and every operation of the owners API (``specs/crmOwners.json``), success and
error paths; each response is validated against the spec's response schema and each request
body sent against its request schema. Where HubSpot's documented wire behaviour departs from its
spec, EXCEPTIONS names the departure and why; nothing else is relaxed.
"""

from __future__ import annotations

from typing import Any

import pytest

from hubengage.emulator import Emulator
from tests._wire import Exchange, Wire
from tests.conformance._spec import (
    SchemaPatch,
    Spec,
    SpecError,
    load_spec,
    validate_request,
    validate_response,
)

PROPS = "/crm/v3/properties"
OWNERS = "/crm/v3/owners"

#: A standard property of each type that HubSpot defines (D-OBJ, the type guides; wire notes
#: §5, §9) and its HubSpot ``type``.
STANDARD: dict[str, tuple[str, str]] = {
    "emails": ("hs_timestamp", "datetime"),
    "postal_mail": ("hs_timestamp", "datetime"),
    "communications": ("hs_timestamp", "datetime"),
    "calls": ("hs_timestamp", "datetime"),
    "meetings": ("hs_timestamp", "datetime"),
    "notes": ("hs_timestamp", "datetime"),
    "tasks": ("hs_timestamp", "datetime"),
    "contacts": ("mobilephone", "string"),
    "companies": ("domain", "string"),
    "deals": ("dealstage", "enumeration"),
    "tickets": ("hs_pipeline_stage", "enumeration"),
}

#: Where HubSpot's documented wire behaviour and its spec disagree: each departure, named,
#: with the reason. None so far for these two APIs: the emulator has to match the specs as
#: published.
PROPERTIES_EXCEPTIONS: tuple[SchemaPatch, ...] = ()
OWNERS_EXCEPTIONS: tuple[SchemaPatch, ...] = ()
#: Not validated here, and why:
#: - ``POST /crm/v3/properties/{objectType}/batch/{create,read,archive}``: neither hubengage
#:   nor the emulator's brief (issue 14) uses the batch properties API.
#: - The ``ownerId`` path parameter is declared ``int32`` while real owner ids exceed it
#:   (``11349275740`` in HubSpot's email guide); path parameters are not validated.


def _request(spec: Spec, method: str, path: str, body: Any) -> None:
    """Validate a request body before sending it (the scenario itself must follow the spec)."""
    validate_request(spec, method, path, body)


async def properties_scenario(wire: Wire, object_type: str) -> None:
    spec = load_spec("properties")
    path = f"{PROPS}/{object_type}"
    name, kind = STANDARD[object_type]

    listed = await wire("GET", path)
    assert listed.status == 200, listed.body
    assert name in {p["name"] for p in listed.body["results"]}
    await wire("GET", path, params={"archived": "true"})
    await wire("GET", path, params={"properties": name})
    got = await wire("GET", f"{path}/{name}")
    assert got.status == 200 and got.body["type"] == kind, got.body
    assert (await wire("GET", f"{path}/no_such_property")).status == 404

    groups = await wire("GET", f"{path}/groups")
    assert groups.status == 200 and groups.body["results"], groups.body
    group = groups.body["results"][0]["name"]
    assert (await wire("GET", f"{path}/groups/{group}")).status == 200
    assert (await wire("GET", f"{path}/groups/no_such_group")).status == 404
    new_group = {"name": "hubengage_group", "label": "hubengage", "displayOrder": -1}
    _request(spec, "POST", f"{path}/groups", new_group)
    assert (await wire("POST", f"{path}/groups", new_group)).status == 201
    group_update = {"label": "hubengage (renamed)"}
    _request(spec, "PATCH", f"{path}/groups/hubengage_group", group_update)
    renamed = await wire("PATCH", f"{path}/groups/hubengage_group", group_update)
    assert renamed.status == 200 and renamed.body["label"] == "hubengage (renamed)"

    create = {"name": "hubengage_source", "label": "Source", "type": "string",
              "fieldType": "text", "groupName": group, "description": "Where it came from"}
    _request(spec, "POST", path, create)
    made = await wire("POST", path, create)
    assert made.status == 201 and made.body["name"] == "hubengage_source", made.body
    again = await wire("POST", path, create)  # the name is taken
    assert again.status in (400, 409), again.body
    choice = {"name": "hubengage_tier", "label": "Tier", "type": "enumeration",
              "fieldType": "select", "groupName": "hubengage_group",
              "options": [{"label": "Gold", "value": "gold", "hidden": False, "displayOrder": 1},
                          {"label": "Silver", "value": "silver", "hidden": False}]}
    _request(spec, "POST", path, choice)
    tier = await wire("POST", path, choice)
    assert tier.status == 201 and [o["value"] for o in tier.body["options"]] == [
        "gold", "silver"], tier.body
    invalid = {"name": "hubengage_bad", "label": "Bad", "groupName": group}  # no type
    assert (await wire("POST", path, invalid)).status == 400

    update = {"label": "Origin", "description": "Where the record came from"}
    _request(spec, "PATCH", f"{path}/hubengage_source", update)
    changed = await wire("PATCH", f"{path}/hubengage_source", update)
    assert changed.status == 200 and changed.body["label"] == "Origin", changed.body
    assert (await wire("PATCH", f"{path}/no_such_property", update)).status == 404

    assert (await wire("DELETE", f"{path}/hubengage_source")).status == 204
    archived = await wire("GET", f"{path}/hubengage_source", params={"archived": "true"})
    assert archived.status == 200 and archived.body["archived"] is True, archived.body
    assert (await wire("GET", f"{path}/hubengage_source")).status == 404
    gone = await wire("GET", path, params={"archived": "true"})  # only archived ones
    assert [p["name"] for p in gone.body["results"]] == ["hubengage_source"], gone.body
    assert (await wire("DELETE", f"{path}/hubengage_tier")).status == 204
    assert (await wire("DELETE", f"{path}/groups/hubengage_group")).status == 204
    assert (await wire("GET", path, token=None)).status == 401


async def owners_scenario(wire: Wire) -> None:
    listed = await wire("GET", OWNERS)
    assert listed.status == 200 and listed.body["results"], listed.body
    owner = listed.body["results"][0]
    await wire("GET", f"{OWNERS}/")  # the path HubSpot's Python SDK requests
    await wire("GET", OWNERS, params={"limit": "1"})
    await wire("GET", OWNERS, params={"email": owner["email"]})
    await wire("GET", OWNERS, params={"archived": "true"})
    got = await wire("GET", f"{OWNERS}/{owner['id']}")
    assert got.status == 200 and got.body["id"] == owner["id"], got.body
    if "userId" in owner:
        by_user = await wire("GET", f"{OWNERS}/{owner['userId']}",
                             params={"idProperty": "userId"})
        assert by_user.status == 200 and by_user.body["id"] == owner["id"], by_user.body
    assert (await wire("GET", f"{OWNERS}/999999999")).status == 404
    assert (await wire("GET", OWNERS, token=None)).status == 401


def check_all(spec: Spec, exchanges: list[Exchange]) -> list[str]:
    problems: list[str] = []
    for ex in exchanges:
        # HubSpot's Python SDK lists owners at ``/crm/v3/owners/`` (trailing slash); the spec
        # writes ``/crm/v3/owners``. The same operation: validate it as that one.
        path = ex.path.rstrip("/") if ex.path != "/" else ex.path
        try:
            validate_response(spec, ex.method, path, ex.status, ex.raw,
                              ex.headers.get("content-type"))
        except SpecError as err:
            problems.append(str(err))
    return problems


@pytest.mark.parametrize("object_type", sorted(STANDARD))
async def test_properties_responses_match_the_spec(
    hubspot_emulator: Emulator, object_type: str
) -> None:
    wire = Wire(hubspot_emulator.url)
    try:
        await properties_scenario(wire, object_type)
    finally:
        await wire.close()
    spec = load_spec("properties").patched(*PROPERTIES_EXCEPTIONS)
    problems = check_all(spec, wire.exchanges)
    assert not problems, "\n".join(problems)
    assert {ex.status for ex in wire.exchanges} >= {200, 201, 204, 400, 401, 404}


async def test_owners_responses_match_the_spec(hubspot_emulator: Emulator) -> None:
    wire = Wire(hubspot_emulator.url)
    try:
        await owners_scenario(wire)
    finally:
        await wire.close()
    spec = load_spec("owners").patched(*OWNERS_EXCEPTIONS)
    problems = check_all(spec, wire.exchanges)
    assert not problems, "\n".join(problems)
    assert {ex.status for ex in wire.exchanges} >= {200, 401, 404}


def test_the_specs_are_registered_and_cover_the_operations() -> None:
    """The copied specs load, and hold the operations the scenarios exercise."""
    properties, owners = load_spec("properties"), load_spec("owners")
    for method, path in [
        ("GET", f"{PROPS}/emails"), ("POST", f"{PROPS}/emails"),
        ("GET", f"{PROPS}/emails/hs_timestamp"), ("PATCH", f"{PROPS}/emails/hs_timestamp"),
        ("DELETE", f"{PROPS}/emails/hs_timestamp"), ("GET", f"{PROPS}/emails/groups"),
        ("POST", f"{PROPS}/emails/groups"), ("GET", f"{PROPS}/emails/groups/g"),
        ("PATCH", f"{PROPS}/emails/groups/g"), ("DELETE", f"{PROPS}/emails/groups/g"),
    ]:
        assert properties.operation(method, path).method == method
    # ``.../groups`` is a literal segment: it must win over ``{propertyName}``.
    assert properties.operation("GET", f"{PROPS}/emails/groups").template.endswith("/groups")
    assert owners.operation("GET", OWNERS).template == OWNERS
    assert owners.operation("GET", f"{OWNERS}/123").template == f"{OWNERS}/{{ownerId}}"
    schema = load_spec("associations_schema")
    assert schema.operation(
        "GET", "/crm/associations/v4/emails/contacts/labels"
    ).template.endswith("/labels")
