"""Property definitions, owners and property history, against a scripted HubSpot."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hubengage import HubSpot, InvalidInputError, PropertyOption, Request, Response
from hubengage.testing import MockTransport, json_response

NOW = "2026-01-15T10:00:00.000Z"
PROPS = [
    {"name": "hs_timestamp", "label": "Activity date", "type": "datetime", "fieldType": "date",
     "groupName": "email", "hasUniqueValue": False, "hubspotDefined": True,
     "modificationMetadata": {"archivable": False, "readOnlyDefinition": True,
                              "readOnlyValue": False}},
    {"name": "ticket_ref", "label": "Ticket ref", "type": "string", "fieldType": "text",
     "groupName": "emailinformation", "hasUniqueValue": True, "options": []},
]
OWNERS = [{"id": str(100 + i), "email": f"rep{i}@example.com", "firstName": f"Rep{i}",
           "lastName": "Smith", "userId": 9000 + i, "archived": False,
           "createdAt": NOW, "updatedAt": NOW, "teams": [{"id": "1", "name": "Sales"}]}
          for i in range(5)]


def owners_page(request: Request) -> Response:
    params = dict(request.params)
    found = [o for o in OWNERS if params.get("email") in (None, o["email"])]
    start = int(params.get("after", "0"))
    page: dict[str, Any] = {"results": found[start:start + 2]}
    if start + 2 < len(found):
        page["paging"] = {"next": {"after": str(start + 2)}}
    return json_response(200, page)


def handler(request: Request) -> Response:
    path = request.path
    if path == "/crm/v3/properties/emails" and request.method == "GET":
        return json_response(200, {"results": PROPS})
    if path == "/crm/v3/properties/emails" and request.method == "POST":
        return json_response(201, {**request.json, "createdAt": NOW, "hubspotDefined": False})
    if path.startswith("/crm/v3/properties/emails/"):
        name = path.rsplit("/", 1)[-1]
        for prop in PROPS:
            if prop["name"] == name:
                return json_response(200, prop)
        return json_response(404, {"status": "error", "category": "OBJECT_NOT_FOUND",
                                   "message": f"Unable to find property {name}"})
    if path == "/crm/v3/owners":
        return owners_page(request)
    if path.startswith("/crm/v3/owners/"):
        key = path.rsplit("/", 1)[-1]
        field = "userId" if dict(request.params)["idProperty"] == "userId" else "id"
        for owner in OWNERS:
            if str(owner[field]) == key:
                return json_response(200, owner)
        return json_response(404, {"status": "error", "category": "OBJECT_NOT_FOUND",
                                   "message": "not found"})
    if path == "/crm/v3/objects/emails/batch/read":
        body = request.json
        return json_response(200, {"status": "COMPLETE", "startedAt": NOW, "completedAt": NOW,
                                   "results": [history_record(i["id"], body)
                                               for i in body["inputs"]]})
    if path.startswith("/crm/v3/objects/emails") and request.method == "GET":
        return json_response(200, {"results": [history_record("5", {
            "propertiesWithHistory": dict(request.params)["propertiesWithHistory"].split(",")})]})
    return json_response(404, {"status": "error", "message": "resource not found"})


def history_record(rid: str, body: dict[str, Any]) -> dict[str, Any]:
    history = {name: [{"value": "new", "timestamp": NOW, "sourceType": "API",
                       "updatedByUserId": 9001},
                      {"value": "old", "timestamp": "2025-01-01T00:00:00.000Z",
                       "sourceType": "CRM_UI", "sourceId": "userId:9001"}]
               for name in body["propertiesWithHistory"]}
    return {"id": rid, "properties": {"hs_object_id": rid}, "createdAt": NOW,
            "updatedAt": NOW, "archived": False, "propertiesWithHistory": history}


async def test_properties_list_get_unique_and_create() -> None:
    transport = MockTransport(handler)
    async with HubSpot(transport=transport) as hs:
        props = hs.properties("0-49")
        listed = await props.list()
        assert [p.name for p in listed] == ["hs_timestamp", "ticket_ref"]
        assert listed[0].hubspot_defined and not listed[0].read_only_value
        assert [p.name for p in await props.unique()] == ["ticket_ref"]
        assert (await props.get("ticket_ref")) == listed[1]
        assert await props.get("nosuch") is None
        made = await props.create("tier", label="Tier", type="enumeration",
                                  group_name="emailinformation",
                                  options=["gold", PropertyOption(label="Silver", value="s")])
        assert made.values == ("gold", "s") and made.field_type == "select"
    sent = transport.requests_to("property create")[0].json
    assert sent["options"][1] == {"label": "Silver", "value": "s", "displayOrder": 1,
                                  "hidden": False}
    assert sent["hasUniqueValue"] is False


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"name": "Tier"}, "name"),
    ({"type": "money"}, "type"),
    ({"type": "enumeration"}, "options"),
    ({"group_name": " "}, "group_name"),
    ({"label": ""}, "label"),
    ({"type": "enumeration", "options": "gold;silver"}, "options"),
])
async def test_a_bad_property_definition_names_its_field(kwargs: dict[str, Any],
                                                          field: str) -> None:
    transport = MockTransport(handler)
    args: dict[str, Any] = {"name": "tier", "label": "Tier", "type": "string",
                            "group_name": "g", **kwargs}
    async with HubSpot(transport=transport) as hs:
        with pytest.raises(InvalidInputError) as err:
            await hs.properties("emails").create(**args)
    assert err.value.field == field
    assert transport.requests == []


async def test_owners_page_find_and_get() -> None:
    transport = MockTransport(handler)
    async with HubSpot(transport=transport) as hs:
        everyone = [o async for o in hs.owners.list()]
        assert [o.id for o in everyone] == ["100", "101", "102", "103", "104"]
        assert everyone[1].name == "Rep1 Smith" and everyone[1].teams == ("Sales",)
        found = await hs.owners.find("REP3@example.com ")
        assert found is None  # HubSpot's filter is exact: the SDK does not guess
        found = await hs.owners.find("rep3@example.com")
        assert found is not None and found.id == "103"
        assert (await hs.owners.get(9002, by_user_id=True)) == everyone[2]
        assert await hs.owners.get("999") is None
    assert len(transport.requests_to("owners")) == 3 + 1 + 1


async def test_properties_with_history_ride_in_batches_of_fifty() -> None:
    transport = MockTransport(handler)
    async with HubSpot(transport=transport) as hs:
        records = await asyncio.gather(*(
            hs.emails.get(i, properties_with_history=["hs_email_subject"])
            for i in range(1, 61)))
        listed = [r async for r in hs.emails.list(properties_with_history=["hs_timestamp"])]
        with pytest.raises(InvalidInputError) as err:
            await hs.emails.get(1, properties_with_history=[f"p{i}" for i in range(51)])
        assert err.value.field == "properties_with_history"
        with pytest.raises(InvalidInputError):
            [r async for r in hs.emails.list(properties_with_history=["a"], page_size=100)]
    reads = transport.requests_to("batch/read")
    assert sorted(len(r.json["inputs"]) for r in reads) == [10, 50]
    assert reads[0].json["propertiesWithHistory"] == ["hs_email_subject"]
    versions = records[0].properties_with_history["hs_email_subject"]
    assert [v.value for v in versions] == ["new", "old"]
    assert versions[0].updated_by_user_id == 9001 and versions[1].source_id == "userId:9001"
    assert versions[1].timestamp is not None and versions[1].timestamp.year == 2025
    assert listed[0].properties_with_history["hs_timestamp"][0].source_type == "API"
    (listing,) = transport.requests_to("list")
    assert dict(listing.params)["limit"] == "50"
