"""The emulator's properties and owners APIs, and the validation that follows them: custom
properties created through the API (or configured) drive what a write accepts, HubSpot's
standard CRM properties, enumeration options, required CRM properties, ``idProperty`` rules,
``hs_email_headers``, ``archived`` in any case, ``propertiesWithHistory``, the 423/477/524
faults and the sandbox seed (``docs/hubspot-wire.md`` §8, §9)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hubengage.emulator import (
    DEFAULT_OWNERS,
    REQUEST_FAULT_KINDS,
    SANDBOX_SEED,
    Emulator,
    EmulatorConfig,
    PropertySpec,
)
from hubengage.emulator._caps import (
    MAX_HISTORY_BATCH_READ,
    MAX_HISTORY_PAGE_SIZE,
    MAX_HISTORY_PROPERTIES,
    MAX_UNIQUE_PROPERTIES,
)
from hubengage.emulator._cli import build_parser, config_from_args
from hubengage.emulator._properties import parse_property
from hubengage.emulator._values import email_header_properties
from tests._wire import TS, Wire, email_props

BASE = "/crm/v3/objects"
PROPS = "/crm/v3/properties"
DEAL = {"dealname": "Renewal", "dealstage": "appointmentscheduled", "pipeline": "default"}


async def start(**config: Any) -> tuple[Emulator, Wire]:
    config.setdefault("seed", 1)
    config.setdefault("shuffle_results", False)
    emu = Emulator(EmulatorConfig(**config))
    await emu.start()
    return emu, Wire(emu.url)


@pytest.fixture
async def emu_wire() -> AsyncIterator[tuple[Emulator, Wire]]:
    emu, w = await start()
    yield emu, w
    await w.close()
    await emu.stop()


def custom(name: str, ptype: str = "string", field: str = "text", **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": name.title(), "type": ptype, "fieldType": field,
            "groupName": extra.pop("groupName", "emailinformation"), **extra}


def codes(body: Any) -> list[str]:
    return [e.get("code") for e in body.get("errors", [])]


# -- the properties API: lifecycle -------------------------------------------------------------


@pytest.mark.parametrize(("object_type", "group", "required"), [
    ("emails", "emailinformation", email_props()),
    ("0-3", "dealinformation", DEAL),
])
async def test_custom_property_lifecycle(object_type: str, group: str,
                                         required: dict[str, str]) -> None:
    emu, w = await start()
    try:
        path = f"{PROPS}/{object_type}"
        before = await w("POST", f"{BASE}/{object_type}",
                         {"properties": {**required, "ext_id": "a-1"}})
        assert before.status == 400 and codes(before.body) == ["PROPERTY_DOESNT_EXIST"]
        created = await w("POST", path, custom("ext_id", groupName=group, hasUniqueValue=True))
        assert created.status == 201
        assert created.body["hasUniqueValue"] is True and created.body["groupName"] == group
        assert created.body["modificationMetadata"]["archivable"] is True
        assert "hubspotDefined" not in created.body
        score = await w("POST", path, custom("score", "number", "number", groupName=group))
        assert score.status == 201
        assert (await w("POST", path, custom("score", groupName=group))).status == 409
        # written and read back normalised by its type
        rec = await w("POST", f"{BASE}/{object_type}",
                      {"properties": {**required, "ext_id": "a-1", "score": "1.50"}})
        assert rec.status == 201, rec.body
        assert rec.body["properties"]["score"] == "1.5"
        bad = await w("POST", f"{BASE}/{object_type}",
                      {"properties": {**required, "score": "lots"}})
        assert bad.status == 400 and codes(bad.body) == ["INVALID_FLOAT"]
        # unique: usable as idProperty, taken values conflict
        got = await w("GET", f"{BASE}/{object_type}/a-1",
                      params={"idProperty": "ext_id", "properties": "score"})
        assert got.status == 200 and got.body["id"] == rec.body["id"]
        upsert = await w("POST", f"{BASE}/{object_type}/batch/upsert", {"inputs": [
            {"id": "a-1", "idProperty": "ext_id", "properties": {"score": "2"}},
            {"id": "a-2", "idProperty": "ext_id", "properties": required}]})
        assert upsert.status == 200, upsert.body
        assert sorted(r["new"] for r in upsert.body["results"]) == [False, True]
        dup = await w("POST", f"{BASE}/{object_type}",
                      {"properties": {**required, "ext_id": "a-1"}})
        assert dup.status == 409
        listed = await w("GET", path)
        names = {p["name"] for p in listed.body["results"]}
        assert {"ext_id", "score"} <= names
        # archive: gone from the list and from writes; listed among the archived
        assert (await w("DELETE", f"{path}/score")).status == 204
        assert (await w("GET", f"{path}/score")).status == 404
        archived = await w("GET", f"{path}/score", params={"archived": "True"})
        assert archived.status == 200 and archived.body["archived"] is True
        assert "archivedAt" in archived.body
        assert "score" in {p["name"] for p in
                           (await w("GET", path, params={"archived": "true"})).body["results"]}
        refused = await w("PATCH", f"{BASE}/{object_type}/{rec.body['id']}",
                          {"properties": {"score": "3"}})
        assert refused.status == 200  # an archived property's value is not written:
        assert refused.body["properties"]["score"] == "2"  # the earlier value stays
        created_again = await w("POST", f"{BASE}/{object_type}",
                                {"properties": {**required, "score": "3"}})
        assert created_again.status == 400
        assert codes(created_again.body) == ["PROPERTY_DOESNT_EXIST"]
        stats = emu.stats()["requests"]
        assert stats["properties/create 201"] == 2 and stats["properties/archive 204"] == 1
    finally:
        await w.close()
        await emu.stop()


async def test_property_create_update_and_errors_name_the_field(
    emu_wire: tuple[Emulator, Wire],
) -> None:
    _, w = emu_wire
    path = f"{PROPS}/emails"
    for body, field in [
        ({"label": "x", "type": "string", "fieldType": "text", "groupName": "emailinformation"},
         "name"),
        (custom("Bad Name"), "name"),
        (custom("x1", "text"), "type"),
        (custom("x2", "number", "select"), "fieldType"),
        (custom("x3", groupName="nowhere"), "groupName"),
        (custom("x4", "enumeration", "select"), "options"),
        (custom("x5", hasUniqueValue="yes"), "hasUniqueValue"),
    ]:
        ex = await w("POST", path, body)
        assert ex.status == 400 and ex.body["category"] == "VALIDATION_ERROR", body
        assert ex.body["context"]["field"] == [field]
    tier = custom("tier", "enumeration", "select", options=[
        {"label": "Gold", "value": "gold", "hidden": False},
        {"label": "Silver", "value": "silver", "hidden": False}])
    assert (await w("POST", path, tier)).status == 201
    patched = await w("PATCH", f"{path}/tier", {"label": "Tier", "options": [
        {"label": "Gold", "value": "gold", "hidden": False},
        {"label": "Bronze", "value": "bronze", "hidden": False}]})
    assert patched.status == 200 and patched.body["label"] == "Tier"
    assert [o["value"] for o in patched.body["options"]] == ["gold", "bronze"]
    silver = await w("POST", f"{BASE}/emails", {"properties": email_props(tier="silver")})
    assert silver.status == 400 and codes(silver.body) == ["INVALID_OPTION"]
    assert (await w("POST", f"{BASE}/emails",
                    {"properties": email_props(tier="bronze")})).status == 201
    own = await w("PATCH", f"{path}/hs_email_subject", {"label": "Mine"})
    assert own.status == 400  # HubSpot's own definitions are read-only here (§8)
    assert (await w("DELETE", f"{path}/hs_email_subject")).status == 400
    assert (await w("GET", f"{path}/nope")).status == 404
    assert (await w("PATCH", f"{path}/nope", {"label": "x"})).status == 404
    assert (await w("GET", f"{PROPS}/widgets")).status == 400


async def test_unique_property_cap(emu_wire: tuple[Emulator, Wire]) -> None:
    _, w = emu_wire
    for i in range(MAX_UNIQUE_PROPERTIES):
        assert (await w("POST", f"{PROPS}/deals", custom(
            f"u{i}", groupName="dealinformation", hasUniqueValue=True))).status == 201
    over = await w("POST", f"{PROPS}/deals", custom("u_over", groupName="dealinformation",
                                                    hasUniqueValue=True))
    assert over.status == 400 and over.body["context"]["field"] == ["hasUniqueValue"]


async def test_batch_properties_and_groups(emu_wire: tuple[Emulator, Wire]) -> None:
    _, w = emu_wire
    path = f"{PROPS}/contacts"
    created = await w("POST", f"{path}/batch/create", {"inputs": [
        custom("a_one", groupName="contactinformation"),
        custom("Bad", groupName="contactinformation")]})
    assert created.status == 207
    assert [r["name"] for r in created.body["results"]] == ["a_one"]
    (error,) = created.body["errors"]
    assert error["context"]["name"] == ["Bad"] and {"errors", "links"} <= set(error)
    assert {"startedAt", "completedAt"} <= set(created.body)
    read = await w("POST", f"{path}/batch/read", {
        "archived": False, "dataSensitivity": "non_sensitive",
        "inputs": [{"name": "a_one"}, {"name": "email"}, {"name": "missing"}]})
    assert read.status == 207
    assert sorted(r["name"] for r in read.body["results"]) == ["a_one", "email"]
    assert read.body["errors"][0]["context"]["name"] == ["missing"]
    assert (await w("POST", f"{path}/batch/archive", {"inputs": [
        {"name": "a_one"}, {"name": "missing"}]})).status == 204
    assert (await w("GET", f"{path}/a_one")).status == 404
    assert (await w("POST", f"{path}/batch/archive",
                    {"inputs": [{"name": "email"}]})).status == 400
    # groups
    groups = await w("GET", f"{path}/groups")
    assert [g["name"] for g in groups.body["results"]] == ["contactinformation"]
    made = await w("POST", f"{path}/groups", {"name": "integration", "label": "Integration"})
    assert made.status == 201 and made.body == {
        "name": "integration", "label": "Integration", "displayOrder": -1, "archived": False}
    assert (await w("PATCH", f"{path}/groups/integration",
                    {"label": "Ours"})).body["label"] == "Ours"
    assert (await w("POST", path, custom("in_group", groupName="integration"))).status == 201
    assert (await w("DELETE", f"{path}/groups/integration")).status == 204
    assert (await w("GET", f"{path}/groups/integration")).status == 404


# -- standard properties and configuration -----------------------------------------------------


@pytest.mark.parametrize(("object_type", "props"), [
    ("contacts", {"email": "m@x.com", "mobilephone": "+1 555", "jobtitle": "CTO",
                  "lifecyclestage": "lead", "hubspot_owner_id": DEFAULT_OWNERS[0].id}),
    ("companies", {"name": "Acme", "domain": "acme.example"}),
    ("deals", {**DEAL, "amount": "1500.0", "closedate": "1714557600000"}),
    ("tickets", {"subject": "Help", "hs_pipeline": "0", "hs_pipeline_stage": "1",
                 "hs_ticket_priority": "HIGH"}),
])
async def test_standard_crm_properties_are_accepted(
    emu_wire: tuple[Emulator, Wire], object_type: str, props: dict[str, str],
) -> None:
    _, w = emu_wire
    ex = await w("POST", f"{BASE}/{object_type}", {"properties": props})
    assert ex.status == 201, ex.body
    for name in props:
        assert name in ex.body["properties"]
    described = await w("GET", f"{PROPS}/{object_type}/{next(iter(props))}")
    assert described.status == 200 and described.body["hubspotDefined"] is True


async def test_enumeration_options_are_enforced(emu_wire: tuple[Emulator, Wire]) -> None:
    _, w = emu_wire
    stage = await w("POST", f"{BASE}/deals", {"properties": {**DEAL, "dealstage": "won"}})
    assert stage.status == 400 and codes(stage.body) == ["INVALID_OPTION"]
    assert "appointmentscheduled" in stage.body["message"]
    life = await w("POST", f"{BASE}/contacts",
                   {"properties": {"email": "l@x.com", "lifecyclestage": "LEAD"}})
    assert life.status == 400 and codes(life.body) == ["INVALID_OPTION"]
    multi = await w("POST", f"{BASE}/tickets", {"properties": {
        "subject": "s", "hs_pipeline": "0", "hs_pipeline_stage": "1",
        "hs_ticket_category": "BILLING_ISSUE;NOPE"}})
    assert multi.status == 400 and "NOPE" in multi.body["message"]
    described = await w("GET", f"{PROPS}/contacts/lifecyclestage")
    assert [o["value"] for o in described.body["options"]][:2] == ["subscriber", "lead"]


async def test_configured_properties_and_cli() -> None:
    emu, w = await start(
        properties=["deals.score:number", PropertySpec("0-49", "tier", "enumeration", ("a",)),
                    "contacts.renewal:date"],
        custom_properties={"notes": ("legacy",)}, unique_properties={"calls": ("ext",)})
    try:
        deal = await w("POST", f"{BASE}/deals", {"properties": {**DEAL, "score": "1e3"}})
        assert deal.body["properties"]["score"] == "1000"
        bad = await w("POST", f"{BASE}/emails", {"properties": email_props(tier="b")})
        assert codes(bad.body) == ["INVALID_OPTION"]
        date = await w("POST", f"{BASE}/contacts",
                       {"properties": {"email": "d@x.com", "renewal": "1714521600000"}})
        assert date.body["properties"]["renewal"] == "2024-05-01"
        noon = await w("POST", f"{BASE}/contacts",
                       {"properties": {"email": "e@x.com", "renewal": "2024-05-01T12:00:00Z"}})
        assert noon.status == 400 and codes(noon.body) == ["INVALID_DATE"]
        legacy = await w("GET", f"{PROPS}/notes/legacy")
        assert legacy.body["type"] == "string"
        ext = await w("GET", f"{PROPS}/calls/ext")
        assert ext.body["hasUniqueValue"] is True
    finally:
        await w.close()
        await emu.stop()
    parser = build_parser()
    config = config_from_args(parser.parse_args([
        "--property", "deals.score:number", "--property", "contacts.tier:enumeration=a;b",
        "--owner", "new@example.com:New:Owner", "--strict-owner-ids",
        "--no-required-crm-properties", "--seed-contacts", "3"]))
    assert config.properties == (PropertySpec("deals", "score", "number"),
                                 PropertySpec("contacts", "tier", "enumeration", ("a", "b")))
    assert config.owners is not None and config.owners[-1].email == "new@example.com"
    assert config.owners[: len(DEFAULT_OWNERS)] == DEFAULT_OWNERS
    assert config.strict_owner_ids and not config.required_crm_properties
    assert config.seed_records and config.seed_contacts == 3
    default = config_from_args(parser.parse_args([]))
    assert default.seed_records and default.owners is None and default.required_crm_properties
    assert not config_from_args(parser.parse_args(["--no-seed"])).seed_records
    for bad_args in (["--property", "deals.x:wat"], ["--owner", "nobody"],
                     ["--seed-contacts", "-1"], ["--no-seed", "--seed-contacts", "2"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad_args)
    with pytest.raises(ValueError):
        parse_property("contacts.tier:enumeration")
    with pytest.raises(ValueError):
        Emulator(EmulatorConfig(properties=["contacts.email:number"]))  # HubSpot's own
    with pytest.raises(ValueError):
        Emulator(EmulatorConfig(properties=["widgets.x"]))


# -- owners ------------------------------------------------------------------------------------


async def test_owners_list_paging_email_and_archived(emu_wire: tuple[Emulator, Wire]) -> None:
    _, w = emu_wire
    live = [o for o in DEFAULT_OWNERS if not o.archived]
    first = await w("GET", "/crm/v3/owners/", params={"limit": "2"})  # the SDK's trailing /
    assert first.status == 200
    assert [o["id"] for o in first.body["results"]] == [o.id for o in live[:2]]
    nxt = first.body["paging"]["next"]
    rest = await w("GET", "/crm/v3/owners", params={"limit": "2", "after": nxt["after"]})
    assert [o["id"] for o in rest.body["results"]] == [o.id for o in live[2:4]]
    assert "paging" not in rest.body
    assert nxt["link"].startswith("http://") and f"after={nxt['after']}" in nxt["link"]
    by_email = await w("GET", "/crm/v3/owners", params={"email": "GRACE@example.com"})
    assert [o["email"] for o in by_email.body["results"]] == ["grace@example.com"]
    archived = await w("GET", "/crm/v3/owners", params={"archived": "TRUE"})
    (gone,) = archived.body["results"]
    assert gone["archived"] is True and "userId" not in gone
    assert gone["userIdIncludingInactive"] == DEFAULT_OWNERS[-1].user_id
    for limit in ("0", "501", "x"):
        assert (await w("GET", "/crm/v3/owners", params={"limit": limit})).status == 400
    assert set(first.body["results"][0]) >= {"id", "email", "firstName", "lastName", "type",
                                              "createdAt", "updatedAt", "archived", "userId"}


async def test_owner_by_id_and_user_id(emu_wire: tuple[Emulator, Wire]) -> None:
    _, w = emu_wire
    ada = DEFAULT_OWNERS[0]
    by_id = await w("GET", f"/crm/v3/owners/{ada.id}")
    assert by_id.status == 200 and by_id.body["email"] == ada.email
    by_user = await w("GET", f"/crm/v3/owners/{ada.user_id}", params={"idProperty": "userId"})
    assert by_user.body["id"] == ada.id
    assert (await w("GET", f"/crm/v3/owners/{ada.user_id}")).status == 404
    former = DEFAULT_OWNERS[-1]
    assert (await w("GET", f"/crm/v3/owners/{former.id}")).status == 404
    assert (await w("GET", f"/crm/v3/owners/{former.id}",
                    params={"archived": "True"})).status == 200
    assert (await w("GET", f"/crm/v3/owners/{ada.id}",
                    params={"idProperty": "email"})).status == 400
    assert (await w("GET", "/crm/v3/owners/abc")).status == 400
    assert (await w("POST", "/crm/v3/owners", {})).status == 404  # no such route


async def test_owner_ids_on_writes() -> None:
    emu, w = await start(owners=["solo@example.com:Solo:Owner"])
    try:
        (solo,) = (await w("GET", "/crm/v3/owners")).body["results"]
        assert solo["email"] == "solo@example.com" and solo["firstName"] == "Solo"
        lenient = await w("POST", f"{BASE}/emails",
                          {"properties": email_props(hubspot_owner_id="12345")})
        assert lenient.status == 201  # any numeric id (default, §8)
        word = await w("POST", f"{BASE}/emails",
                       {"properties": email_props(hubspot_owner_id="ada")})
        assert word.status == 400 and codes(word.body) == ["INVALID_OWNER_ID"]
    finally:
        await w.close()
        await emu.stop()
    emu, w = await start(strict_owner_ids=True)
    try:
        unknown = await w("POST", f"{BASE}/emails",
                          {"properties": email_props(hubspot_owner_id="12345")})
        assert unknown.status == 400 and codes(unknown.body) == ["INVALID_OWNER_ID"]
        former = await w("POST", f"{BASE}/emails",
                         {"properties": email_props(hubspot_owner_id=DEFAULT_OWNERS[-1].id)})
        assert former.status == 400
        known = await w("POST", f"{BASE}/emails", {"properties": email_props(
            hubspot_owner_id=DEFAULT_OWNERS[0].id)})
        assert known.status == 201
    finally:
        await w.close()
        await emu.stop()


# -- fixes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "True", "TRUE"])
async def test_archived_in_any_case(emu_wire: tuple[Emulator, Wire], value: str) -> None:
    emu, w = emu_wire
    live = emu.put_record("notes", {"hs_timestamp": TS})
    gone = emu.put_record("notes", {"hs_timestamp": TS})
    assert (await w("DELETE", f"{BASE}/notes/{gone}")).status == 204
    got = await w("GET", f"{BASE}/notes/{gone}", params={"archived": value})
    assert got.status == 200 and got.body["archived"] is True
    listed = await w("GET", f"{BASE}/notes", params={"archived": value})
    assert [r["id"] for r in listed.body["results"]] == [gone]
    read = await w("POST", f"{BASE}/notes/batch/read", {"inputs": [{"id": gone}, {"id": live}]},
                   params={"archived": value})
    assert [r["id"] for r in read.body["results"]] == [gone]
    assert read.body["errors"][0]["context"]["ids"] == [live]
    assert [r["id"] for r in (await w("GET", f"{BASE}/notes", params={
        "archived": "False"})).body["results"]] == [live]


@pytest.mark.parametrize(("object_type", "props", "missing"), [
    ("deals", {"dealname": "x", "dealstage": "closedwon"}, "pipeline"),
    ("deals", {"dealstage": "closedwon", "pipeline": "default"}, "dealname"),
    ("tickets", {"subject": "x", "hs_pipeline": "0"}, "hs_pipeline_stage"),
    ("contacts", {"phone": "1"}, "email"),
    ("companies", {"industry": "x"}, "domain"),
])
async def test_required_crm_properties(
    emu_wire: tuple[Emulator, Wire], object_type: str, props: dict[str, str], missing: str,
) -> None:
    emu, w = emu_wire
    for ex in (await w("POST", f"{BASE}/{object_type}", {"properties": props}),
               await w("POST", f"{BASE}/{object_type}/batch/create",
                       {"inputs": [{"properties": props}]})):
        assert ex.status == 400 and codes(ex.body) == ["REQUIRED_PROPERTY"]
        assert ex.body["errors"][0]["context"] == {"propertyName": [missing]}
    assert emu.records(object_type) == []
    for ok in ({"lastname": "Only"}, {"firstname": "F"}):
        assert (await w("POST", f"{BASE}/contacts", {"properties": ok})).status == 201
    assert (await w("POST", f"{BASE}/companies", {"properties": {"name": "N"}})).status == 201
    rid = emu.put_record(object_type, {})
    assert (await w("PATCH", f"{BASE}/{object_type}/{rid}",
                    {"properties": props})).status == 200  # only creates are checked


async def test_required_crm_properties_switch() -> None:
    emu, w = await start(required_crm_properties=False)
    try:
        assert (await w("POST", f"{BASE}/deals", {"properties": {"amount": "1"}})).status == 201
        assert (await w("POST", f"{BASE}/emails",
                        {"properties": {"hs_timestamp": TS}})).status == 400  # engagements'
    finally:
        await w.close()
        await emu.stop()


async def test_id_property_hs_object_id_on_writes_is_a_400(
    emu_wire: tuple[Emulator, Wire],
) -> None:
    emu, w = emu_wire
    rid = emu.put_record("contacts", {"email": "o@x.com"})
    for endpoint in ("batch/update", "batch/upsert"):
        for traced in ({}, {"objectWriteTraceId": "t1"}):
            ex = await w("POST", f"{BASE}/contacts/{endpoint}", {"inputs": [
                {"id": rid, "idProperty": "hs_object_id", "properties": {"firstname": "A"},
                 **traced}]})
            assert ex.status == 400, (endpoint, ex.body)
            assert "non-unique 0-1 property hs_object_id" in ex.body["message"]
    assert "firstname" not in (emu.get_record("contacts", rid) or {})["properties"]
    read = await w("GET", f"{BASE}/contacts/{rid}", params={"idProperty": "hs_object_id"})
    assert read.status == 200  # a read by it is a read by record id


async def test_email_headers(emu_wire: tuple[Emulator, Wire]) -> None:
    _, w = emu_wire
    headers = {"from": {"email": "from@domain.com", "firstName": "FromFirst",
                        "lastName": "FromLast"},
               "sender": {"email": "sender@domain.com"},
               "to": [{"email": "to@test.com", "firstName": "ToFirst", "lastName": "ToLast"}],
               "cc": [], "bcc": []}
    created = await w("POST", f"{BASE}/emails", {"properties": email_props(
        hs_email_headers=json.dumps(headers), hs_email_from_email="ignored@x.com")})
    assert created.status == 201
    props = created.body["properties"]
    assert {k: props[k] for k in props if k.startswith(("hs_email_from", "hs_email_to"))} == {
        "hs_email_from_email": "from@domain.com", "hs_email_from_firstname": "FromFirst",
        "hs_email_from_lastname": "FromLast", "hs_email_to_email": "to@test.com",
        "hs_email_to_firstname": "ToFirst", "hs_email_to_lastname": "ToLast"}
    for bad in ("{not json", "[1, 2]", '"a string"'):
        ex = await w("POST", f"{BASE}/emails", {"properties": email_props(hs_email_headers=bad)})
        assert ex.status == 400, bad
        assert ex.body["errors"][0]["context"] == {"propertyName": ["hs_email_headers"]}
    direct = await w("POST", f"{BASE}/emails",
                     {"properties": email_props(hs_email_to_email="direct@x.com")})
    assert direct.status == 201 and "hs_email_to_email" not in direct.body["properties"]
    cleared = await w("PATCH", f"{BASE}/emails/{created.body['id']}",
                      {"properties": {"hs_email_headers": ""}})
    assert not any(k.startswith("hs_email_from") for k in cleared.body["properties"])
    assert email_header_properties(json.dumps({"to": [{"email": "a@x"}, {"email": "b@x"}]}))[
        "hs_email_to_email"] == "a@x;b@x"


# -- faults ------------------------------------------------------------------------------------


async def test_423_477_524_faults(emu_wire: tuple[Emulator, Wire]) -> None:
    emu, w = emu_wire
    assert {"423", "477", "524"} <= set(REQUEST_FAULT_KINDS)
    emu.inject("423", endpoint="batch/create")
    locked = await w("POST", f"{BASE}/notes/batch/create",
                     {"inputs": [{"properties": {"hs_timestamp": TS}}]})
    assert locked.status == 423 and locked.body["category"] == "LOCKED"
    assert locked.body["correlationId"] == locked.headers["x-hubspot-correlation-id"]
    assert "x-hubspot-ratelimit-remaining" in locked.headers
    emu.inject("477")
    moving = await w("GET", f"{BASE}/notes")
    assert moving.status == 477 and moving.headers["retry-after"] == "1"
    assert moving.body["category"] == "MIGRATION_IN_PROGRESS"
    emu.inject("524", endpoint="properties")
    edge = await w("GET", f"{PROPS}/notes")
    assert edge.status == 524 and edge.content_type.startswith("text/html")
    assert b"524 Origin Time-out" in edge.raw
    assert emu.records("notes") == []  # nothing processed
    assert emu.stats()["faults"] == {"423": 1, "477": 1, "524": 1}
    assert emu.stats()["requests"]["properties/list 524"] == 1
    emu.inject("423", endpoint="owners")
    assert (await w("GET", "/crm/v3/owners")).status == 423


# -- propertiesWithHistory ---------------------------------------------------------------------


async def test_properties_with_history(emu_wire: tuple[Emulator, Wire]) -> None:
    emu, w = emu_wire
    created = await w("POST", f"{BASE}/notes",
                      {"properties": {"hs_timestamp": TS, "hs_note_body": "one"}})
    rid = created.body["id"]
    for body in ("two", "", "three"):
        await w("PATCH", f"{BASE}/notes/{rid}", {"properties": {"hs_note_body": body}})
    got = await w("GET", f"{BASE}/notes/{rid}",
                  params={"propertiesWithHistory": "hs_note_body,hs_createdate,unknown"})
    history = got.body["propertiesWithHistory"]
    assert [e["value"] for e in history["hs_note_body"]] == ["three", "", "two", "one"]
    assert all(set(e) == {"value", "timestamp", "sourceType"} for e in history["hs_note_body"])
    stamps = [e["timestamp"] for e in history["hs_note_body"]]
    assert stamps == sorted(stamps, reverse=True)
    assert history["hs_createdate"][0]["value"] == created.body["createdAt"]
    assert "unknown" not in history
    assert got.body["properties"]["hs_note_body"] == "three"  # also returned as a value
    plain = await w("GET", f"{BASE}/notes/{rid}")
    assert "propertiesWithHistory" not in plain.body
    listed = await w("GET", f"{BASE}/notes",
                     params={"propertiesWithHistory": "hs_note_body", "limit": "50"})
    assert listed.body["results"][0]["propertiesWithHistory"]["hs_note_body"][0]["value"] == (
        "three")
    read = await w("POST", f"{BASE}/notes/batch/read", {
        "inputs": [{"id": rid}], "properties": [], "propertiesWithHistory": ["hs_note_body"]})
    assert len(read.body["results"][0]["propertiesWithHistory"]["hs_note_body"]) == 4
    seeded = emu.put_record("notes", {"hs_timestamp": TS, "hs_note_body": "seeded"})
    seeded_history = await w("GET", f"{BASE}/notes/{seeded}",
                             params={"propertiesWithHistory": "hs_note_body"})
    assert [e["value"] for e in
            seeded_history.body["propertiesWithHistory"]["hs_note_body"]] == ["seeded"]


async def test_properties_with_history_caps(emu_wire: tuple[Emulator, Wire]) -> None:
    emu, w = emu_wire
    rid = emu.put_record("notes", {"hs_timestamp": TS})
    many = ",".join(f"p{i}" for i in range(MAX_HISTORY_PROPERTIES + 1))
    assert (await w("GET", f"{BASE}/notes/{rid}",
                    params={"propertiesWithHistory": many})).status == 400
    too_big_page = await w("GET", f"{BASE}/notes", params={
        "propertiesWithHistory": "hs_note_body", "limit": str(MAX_HISTORY_PAGE_SIZE + 1)})
    assert too_big_page.status == 400
    assert (await w("GET", f"{BASE}/notes", params={"limit": "100"})).status == 200
    inputs = [{"id": str(i)} for i in range(MAX_HISTORY_BATCH_READ + 1)]
    over = await w("POST", f"{BASE}/notes/batch/read",
                   {"inputs": inputs, "propertiesWithHistory": ["hs_note_body"]})
    assert over.status == 400
    assert "property histories is 50" in over.body["message"]
    assert (await w("POST", f"{BASE}/notes/batch/read",
                    {"inputs": inputs})).status == 207  # without history: 100 allowed


# -- seeding -----------------------------------------------------------------------------------


async def test_seeded_records_survive_reset_and_an_empty_default() -> None:
    emu, w = await start(seed_records=True)
    try:
        contact = await w("GET", f"{BASE}/contacts/601", params={"properties": "email"})
        assert contact.status == 200 and contact.body["properties"]["email"]
        for type_name, ids in SANDBOX_SEED.items():
            assert [r["id"] for r in emu.records(type_name)] == [str(i) for i in ids]
        deal = emu.get_record("deals", 1201)
        assert deal is not None and deal["properties"]["dealstage"] == "appointmentscheduled"
        note = await w("POST", f"{BASE}/notes", {"properties": {"hs_timestamp": TS},
            "associations": [{"to": {"id": 601}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]})
        assert note.status == 201
        emu.reset()
        assert len(emu.records("contacts")) == 30 and emu.records("notes") == []
    finally:
        await w.close()
        await emu.stop()
    emu, w = await start(seed_contacts=3)
    try:
        assert [r["id"] for r in emu.records("contacts")] == ["601", "602", "603"]
        assert len(emu.records("companies")) == len(SANDBOX_SEED["companies"])
    finally:
        await w.close()
        await emu.stop()
    assert EmulatorConfig().seed_records is False and EmulatorConfig().seed_contacts is None
    with pytest.raises(ValueError):
        EmulatorConfig(seed_contacts=-1)


@pytest.mark.hubspot_emulator(seed_records=True)
async def test_the_fixture_seeds_when_asked(hubspot_emulator: Emulator) -> None:
    assert hubspot_emulator.get_record("contacts", 601) is not None
    assert hubspot_emulator.get_record("tickets", 1505) is not None


async def test_the_fixture_starts_empty(hubspot_emulator: Emulator) -> None:
    assert hubspot_emulator.records("contacts") == []


def test_the_cli_sandbox_uses_the_emulators_seed() -> None:
    from hubengage import _cli

    assert _cli.SANDBOX_SEED is SANDBOX_SEED
