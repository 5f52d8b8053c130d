"""The emulator's v4 associations on the wire: the association details endpoints (single and
batch), labels and limits, their failures, one store shared with v3, and the request path
they share with v3 (rate window, faults, stats). ``docs/hubspot-wire.md`` §5.1 and §8."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hubengage.emulator import Emulator, EmulatorConfig
from hubengage.emulator._cli import build_parser, config_from_args
from tests._wire import TS, Wire, email_props

V3 = "/crm/v3/objects"
V4 = "/crm/v4/associations"
OBJ4 = "/crm/v4/objects"
LIMITS = "/crm/v4/associations/definitions/configurations"


@pytest.fixture
async def wire(hubspot_emulator: Emulator) -> AsyncIterator[Wire]:
    w = Wire(hubspot_emulator.url)
    yield w
    await w.close()


async def started(**config: Any) -> tuple[Emulator, Wire]:
    emu = Emulator(EmulatorConfig(**config))
    await emu.start()
    return emu, Wire(emu.url)


async def stop(emu: Emulator, w: Wire) -> None:
    await w.close()
    await emu.stop()


def email(emu: Emulator, subject: str = "hello") -> str:
    return emu.put_record("emails", email_props(subject))


def contact(emu: Emulator, n: int) -> str:
    return emu.put_record("contacts", {"email": f"c{n}@x.com"}, id=600 + n)


def spec(type_id: int, category: str = "HUBSPOT_DEFINED") -> dict[str, Any]:
    return {"associationCategory": category, "associationTypeId": type_id}


def pair(a: str, b: str, *types: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"from": {"id": a}, "to": {"id": b}}
    if types:
        out["types"] = list(types)
    return out


async def v3_ids(w: Wire, t: str, rid: str, to: str) -> list[tuple[str, str]]:
    got = await w("GET", f"{V3}/{t}/{rid}/associations/{to}")
    assert got.status == 200
    return [(row["id"], row["type"]) for row in got.body["results"]]


async def v4_page(w: Wire, t: str, rid: str, to: str, **params: str) -> Any:
    got = await w("GET", f"{OBJ4}/{t}/{rid}/associations/{to}", params=params or None)
    assert got.status == 200, got.body
    return got.body


# -- batch/create ----------------------------------------------------------------------------


async def test_batch_create_associates_and_v3_reads_it(wire: Wire,
                                                       hubspot_emulator: Emulator) -> None:
    emu = hubspot_emulator
    e, c = email(emu), contact(emu, 1)
    ex = await wire("POST", f"{V4}/emails/contacts/batch/create",
                    {"inputs": [pair(e, c, spec(198))]})
    assert ex.status == 201
    body = ex.body
    assert body["status"] == "COMPLETE" and "startedAt" in body and "completedAt" in body
    assert "objectWriteTraceId" not in body["results"][0]
    assert body["results"] == [{"fromObjectTypeId": "0-49", "fromObjectId": int(e),
                                "toObjectTypeId": "0-1", "toObjectId": int(c), "labels": []}]
    # one store: v3 reads both ways, and the record read with ?associations=
    assert await v3_ids(wire, "emails", e, "contacts") == [(c, "email_to_contact")]
    assert await v3_ids(wire, "contacts", c, "emails") == [(e, "contact_to_email")]
    got = await wire("GET", f"{V3}/emails/{e}", params={"associations": "contacts"})
    assert got.body["associations"]["contacts"]["results"] == [
        {"id": c, "type": "email_to_contact"}]
    # type ids work on both sides of the path, as v3 accepts them
    again = await wire("POST", f"{V4}/0-49/0-1/batch/create",
                       {"inputs": [pair(e, c, spec(198))]})
    assert again.status == 201


async def test_batch_create_207_names_each_failed_input(wire: Wire,
                                                        hubspot_emulator: Emulator) -> None:
    emu = hubspot_emulator
    e, c = email(emu), contact(emu, 1)
    ex = await wire("POST", f"{V4}/emails/contacts/batch/create", {"inputs": [
        pair(e, c, spec(198)),
        pair("999", c, spec(198)),           # no such email
        pair(e, "998", spec(198)),           # no such contact
        pair(e, c, spec(197)),               # contact -> email: the wrong direction
        pair(e, c, spec(198, "USER_DEFINED")),  # no such user label
    ]})
    assert ex.status == 207
    body = ex.body
    assert body["numErrors"] == 4 and len(body["errors"]) == 4
    assert [r["toObjectId"] for r in body["results"]] == [int(c)]
    messages = sorted(err["message"] for err in body["errors"])
    assert any("999" in m for m in messages) and any("998" in m for m in messages)
    assert sum("not a valid association type" in m for m in messages) == 2
    # the least helpful reading: no structured context (§8)
    assert all(err["context"] == {} for err in body["errors"])
    assert {err["category"] for err in body["errors"]} == {"OBJECT_NOT_FOUND",
                                                           "VALIDATION_ERROR"}


async def test_error_context_switch_names_the_ids() -> None:
    emu, w = await started(v4_error_context=True)
    try:
        e, c = email(emu), contact(emu, 1)
        ex = await w("POST", f"{V4}/emails/contacts/batch/create", {"inputs": [
            pair("999", c, spec(198)), pair(e, "998", spec(198)), pair(e, c, spec(1))]})
        contexts = [err["context"] for err in ex.body["errors"]]
        assert {"fromObjectId": ["999"]} in contexts
        assert {"toObjectId": ["998"]} in contexts
        assert {"fromObjectId": [e], "toObjectId": [c], "associationTypeId": ["1"]} in contexts
    finally:
        await stop(emu, w)


async def test_string_ids_switch() -> None:
    emu, w = await started(v4_numeric_ids=False)
    try:
        e, c = email(emu), contact(emu, 1)
        ex = await w("POST", f"{V4}/emails/contacts/batch/create",
                     {"inputs": [pair(e, c, spec(198))]})
        assert ex.body["results"][0]["fromObjectId"] == e
        page = await v4_page(w, "emails", e, "contacts")
        assert page["results"][0]["toObjectId"] == c
    finally:
        await stop(emu, w)


@pytest.mark.parametrize(("endpoint", "cap"), [
    ("batch/create", 2000), ("batch/associate/default", 2000), ("batch/archive", 2000),
    ("batch/labels/archive", 2000), ("batch/read", 1000)])
async def test_too_many_inputs_is_a_400(wire: Wire, endpoint: str, cap: int) -> None:
    one: dict[str, Any] = {"batch/read": {"id": "1"},
                           "batch/archive": {"from": {"id": "1"}, "to": [{"id": "2"}]},
                           "batch/associate/default": pair("1", "2")}.get(
        endpoint, pair("1", "2", spec(198)))
    ex = await wire("POST", f"{V4}/emails/contacts/{endpoint}", {"inputs": [one] * (cap + 1)})
    assert ex.status == 400
    assert ex.body["category"] == "VALIDATION_ERROR"
    assert str(cap) in ex.body["message"]
    ok = await wire("POST", f"{V4}/emails/contacts/{endpoint}", {"inputs": [one] * cap})
    assert ok.status in (200, 204, 207)


@pytest.mark.parametrize("body", [
    None, {"inputs": "x"}, {"inputs": ["x"]}, {"inputs": [{"from": {"id": "1"}}]},
    {"inputs": [pair("1", "2")]},  # no types
    {"inputs": [pair("1", "2", {"associationCategory": "NOPE", "associationTypeId": 198})]},
    {"inputs": [pair("1", "2", {"associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": "x"})]},
])
async def test_malformed_batch_create_is_a_400_naming_the_field(wire: Wire, body: Any) -> None:
    ex = await wire("POST", f"{V4}/emails/contacts/batch/create", body)
    assert ex.status == 400
    assert ex.body["category"] == "VALIDATION_ERROR" and ex.body["message"]


async def test_unknown_object_type_is_a_400(wire: Wire) -> None:
    ex = await wire("POST", f"{V4}/emails/nothings/batch/create",
                    {"inputs": [pair("1", "2", spec(198))]})
    assert ex.status == 400 and "nothings" in ex.body["message"]


# -- associate/default, read, archive --------------------------------------------------------


async def test_associate_default_answers_both_directions(wire: Wire,
                                                         hubspot_emulator: Emulator) -> None:
    emu = hubspot_emulator
    e, c = email(emu), contact(emu, 1)
    ex = await wire("POST", f"{V4}/emails/contacts/batch/associate/default",
                    {"inputs": [pair(e, c), pair("999", c)]})
    assert ex.status == 200 and ex.body["numErrors"] == 1  # S-A4 declares only 200 here
    results = sorted(ex.body["results"], key=lambda r: r["from"]["id"] != e)
    assert results == [
        {"from": {"id": e}, "to": {"id": c},
         "associationSpec": {"associationCategory": "HUBSPOT_DEFINED",
                             "associationTypeId": 198}},
        {"from": {"id": c}, "to": {"id": e},
         "associationSpec": {"associationCategory": "HUBSPOT_DEFINED",
                             "associationTypeId": 197}}]
    ok = await wire("POST", f"{V4}/emails/contacts/batch/associate/default",
                    {"inputs": [pair(e, c)]})
    assert ok.status == 200
    assert await v3_ids(wire, "emails", e, "contacts") == [(c, "email_to_contact")]


async def test_batch_read_pages_each_input(hubspot_emulator: Emulator, wire: Wire) -> None:
    emu = hubspot_emulator
    e = email(emu)
    contacts = [contact(emu, n) for n in range(1, 4)]
    await wire("POST", f"{V4}/emails/contacts/batch/associate/default",
               {"inputs": [pair(e, c) for c in contacts]})
    lonely = email(emu, "alone")
    ex = await wire("POST", f"{V4}/emails/contacts/batch/read",
                    {"inputs": [{"id": e}, {"id": lonely}, {"id": "999"}]})
    assert ex.status == 207 and ex.body["numErrors"] == 1
    assert "999" in ex.body["errors"][0]["message"]
    by_id = {r["from"]["id"]: r for r in ex.body["results"]}
    assert by_id[lonely]["to"] == []
    assert [t["toObjectId"] for t in by_id[e]["to"]] == [int(c) for c in contacts]
    assert by_id[e]["to"][0]["associationTypes"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 198, "label": None}]
    # paging within an input: HubSpot pages 500 per input; ``after`` resumes
    resumed = await wire("POST", f"{V4}/emails/contacts/batch/read",
                         {"inputs": [{"id": e, "after": contacts[1]}]})
    assert resumed.status == 200
    assert [t["toObjectId"] for t in resumed.body["results"][0]["to"]] == [
        int(c) for c in contacts[1:]]


async def test_batch_read_pages_at_500(hubspot_emulator: Emulator, wire: Wire) -> None:
    emu = hubspot_emulator
    e = email(emu)
    ids = [emu.put_record("contacts", {"email": f"p{n}@x.com"}) for n in range(501)]
    created = await wire("POST", f"{V4}/emails/contacts/batch/associate/default",
                         {"inputs": [pair(e, c) for c in ids]})
    assert created.status == 200
    ex = await wire("POST", f"{V4}/emails/contacts/batch/read", {"inputs": [{"id": e}]})
    entry = ex.body["results"][0]
    assert len(entry["to"]) == 500 and entry["paging"]["next"]["after"] == ids[500]
    page = await v4_page(wire, "emails", e, "contacts")
    assert len(page["results"]) == 500 and page["paging"]["next"]["after"] == ids[500]
    rest = await v4_page(wire, "emails", e, "contacts", after=ids[500])
    assert [r["toObjectId"] for r in rest["results"]] == [int(ids[500])]
    assert "paging" not in rest


async def test_batch_archive_removes_every_type_and_labels_archive_only_some(
        hubspot_emulator: Emulator) -> None:
    emu, w = await started(labels_on_engagements=False)
    try:
        c = contact(emu, 1)
        company = emu.put_record("companies", {"name": "Acme"})
        other = emu.put_record("companies", {"name": "Other"})
        made = await w("POST", f"{V4}/contacts/companies/batch/create", {"inputs": [
            pair(c, company, spec(1)), pair(c, other, spec(279))]})
        assert made.status == 201
        labels = {r["toObjectId"]: r["labels"] for r in made.body["results"]}
        assert labels == {int(company): ["Primary"], int(other): []}
        # a label comes with the unlabeled type (§5.1)
        assert await v3_ids(w, "contacts", c, "companies") == [
            (company, "contact_to_company"), (company, "contact_to_company_unlabeled"),
            (other, "contact_to_company_unlabeled")]
        # labels/archive: only Primary goes; the records stay associated
        ex = await w("POST", f"{V4}/contacts/companies/batch/labels/archive",
                     {"inputs": [pair(c, company, spec(1))]})
        assert ex.status == 204 and ex.raw == b""
        assert await v3_ids(w, "contacts", c, "companies") == [
            (company, "contact_to_company_unlabeled"), (other, "contact_to_company_unlabeled")]
        # removing the unlabeled type removes everything between the two
        await w("POST", f"{V4}/contacts/companies/batch/create",
                {"inputs": [pair(c, company, spec(1))]})
        await w("POST", f"{V4}/contacts/companies/batch/labels/archive",
                {"inputs": [pair(c, company, spec(279))]})
        assert await v3_ids(w, "contacts", c, "companies") == [
            (other, "contact_to_company_unlabeled")]
        # batch/archive: every type between the pairs; missing records are skipped
        ex = await w("POST", f"{V4}/contacts/companies/batch/archive", {"inputs": [
            {"from": {"id": c}, "to": [{"id": other}, {"id": "999"}]},
            {"from": {"id": "998"}, "to": [{"id": other}]}]})
        assert ex.status == 204
        assert await v3_ids(w, "contacts", c, "companies") == []
        assert await v3_ids(w, "companies", other, "contacts") == []
        bad = await w("POST", f"{V4}/contacts/companies/batch/archive",
                      {"inputs": [{"from": {"id": c}, "to": {"id": other}}]})
        assert bad.status == 400 and "inputs[0].to" in bad.body["message"]
    finally:
        await stop(emu, w)


# -- single-record endpoints -----------------------------------------------------------------


async def test_single_record_put_default_put_labels_delete_and_get(
        wire: Wire, hubspot_emulator: Emulator) -> None:
    emu = hubspot_emulator
    d = emu.put_record("deals", {"dealname": "D"})
    company = emu.put_record("companies", {"name": "Acme"})
    ex = await wire("PUT", f"{OBJ4}/deals/{d}/associations/default/companies/{company}")
    assert ex.status == 200 and ex.body["status"] == "COMPLETE"
    specs = sorted(r["associationSpec"]["associationTypeId"] for r in ex.body["results"])
    assert specs == [341, 342]
    ex = await wire("PUT", f"{OBJ4}/0-3/{d}/associations/0-2/{company}", [spec(5)])
    assert ex.status == 201
    assert ex.body == {"fromObjectTypeId": "0-3", "fromObjectId": int(d),
                       "toObjectTypeId": "0-2", "toObjectId": int(company),
                       "labels": ["Primary"]}
    page = await v4_page(wire, "deals", d, "companies")
    assert page == {"results": [{"toObjectId": int(company), "associationTypes": [
        {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
        {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}]}]}
    back = await v4_page(wire, "companies", company, "deals")
    assert [t["typeId"] for t in back["results"][0]["associationTypes"]] == [6, 342]
    bad = await wire("PUT", f"{OBJ4}/deals/{d}/associations/companies/{company}", [spec(198)])
    assert bad.status == 400 and "198" in bad.body["message"]
    assert (await wire("PUT", f"{OBJ4}/deals/{d}/associations/companies/{company}",
                       [])).status == 400
    missing = await wire("PUT", f"{OBJ4}/deals/{d}/associations/companies/999", [spec(341)])
    assert missing.status == 404 and missing.body["category"] == "OBJECT_NOT_FOUND"
    assert (await wire("DELETE", f"{OBJ4}/deals/{d}/associations/companies/{company}")
            ).status == 204
    assert (await v4_page(wire, "deals", d, "companies")) == {"results": []}
    assert (await wire("GET", f"{OBJ4}/deals/999/associations/companies")).status == 404


async def test_get_page_limit_and_link(wire: Wire, hubspot_emulator: Emulator) -> None:
    emu = hubspot_emulator
    e = email(emu)
    contacts = [contact(emu, n) for n in range(1, 4)]
    await wire("POST", f"{V4}/emails/contacts/batch/associate/default",
               {"inputs": [pair(e, c) for c in contacts]})
    page = await v4_page(wire, "emails", e, "contacts", limit="2")
    assert [r["toObjectId"] for r in page["results"]] == [int(c) for c in contacts[:2]]
    nxt = page["paging"]["next"]
    assert nxt["after"] == contacts[2] and nxt["link"].startswith("http")
    assert "after=" in nxt["link"] and "limit=2" in nxt["link"]
    for limit in ("0", "501", "x"):
        ex = await wire("GET", f"{OBJ4}/emails/{e}/associations/contacts",
                        params={"limit": limit})
        assert ex.status == 400


# -- v3 and v4 are one store -----------------------------------------------------------------


async def test_v3_writes_show_in_v4_and_archived_records_disappear(
        wire: Wire, hubspot_emulator: Emulator) -> None:
    emu = hubspot_emulator
    c = contact(emu, 1)
    note = (await wire("POST", f"{V3}/notes", {
        "properties": {"hs_timestamp": TS},
        "associations": [{"to": {"id": c}, "types": [spec(202)]}]})).body["id"]
    mail = (await wire("POST", f"{V3}/postal_mail", {"properties": {"hs_timestamp": TS}})
            ).body["id"]
    up = await wire("PUT", f"{V3}/postal_mail/{mail}/associations/contacts/{c}/"
                           "POSTAL_MAIL_TO_CONTACT")
    assert up.status == 200
    page = await v4_page(wire, "contacts", c, "notes")
    assert page["results"][0]["toObjectId"] == int(note)
    assert (await v4_page(wire, "contacts", c, "postal_mail"))["results"][0][
        "associationTypes"] == [{"category": "HUBSPOT_DEFINED", "typeId": 454, "label": None}]
    assert (await wire("PUT", f"{V3}/postal_mail/{mail}/associations/contacts/{c}/"
                              "Postal_Mail_To_Contact")).status == 200
    assert (await wire("PUT", f"{V3}/postal_mail/{mail}/associations/contacts/{c}/"
                              "mail_to_contact")).status == 400
    # archiving a record hides it from the other side's reads, v3 and v4
    assert (await wire("DELETE", f"{V3}/notes/{note}")).status == 204
    assert (await v4_page(wire, "contacts", c, "notes")) == {"results": []}
    assert await v3_ids(wire, "contacts", c, "notes") == []


async def test_v3_inline_create_takes_labels_and_user_defined_types() -> None:
    emu, w = await started(labels_on_engagements=False)
    try:
        c = contact(emu, 1)
        made = await w("POST", f"{V4}/deals/contacts/labels",
                       {"name": "decision_maker", "label": "Decision maker",
                        "inverseLabel": "Decides on"})
        forward = made.body["results"][0]
        assert forward["category"] == "USER_DEFINED"
        deal = await w("POST", f"{V3}/deals", {
            "properties": {"dealname": "D", "dealstage": "appointmentscheduled",
                           "pipeline": "default"},
            "associations": [{"to": {"id": c}, "types": [
                spec(forward["typeId"], "USER_DEFINED")]}]})
        assert deal.status == 201, deal.body
        page = await v4_page(w, "deals", deal.body["id"], "contacts")
        assert page["results"][0]["associationTypes"] == [
            {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None},
            {"category": "USER_DEFINED", "typeId": forward["typeId"],
             "label": "Decision maker"}]
        back = await v4_page(w, "contacts", c, "deals")
        assert {"category": "USER_DEFINED", "typeId": made.body["results"][1]["typeId"],
                "label": "Decides on"} in back["results"][0]["associationTypes"]
        wrong = await w("POST", f"{V3}/deals", {
            "properties": {"dealname": "E", "dealstage": "appointmentscheduled",
                           "pipeline": "default"},
            "associations": [{"to": {"id": c}, "types": [spec(999, "USER_DEFINED")]}]})
        assert wrong.status == 400
    finally:
        await stop(emu, w)


# -- labels ----------------------------------------------------------------------------------


async def test_label_lifecycle(hubspot_emulator: Emulator, wire: Wire) -> None:
    emu = hubspot_emulator
    c = contact(emu, 1)
    company = emu.put_record("companies", {"name": "Acme"})
    listed = await wire("GET", f"{V4}/contacts/companies/labels")
    assert listed.status == 200
    assert listed.body["results"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"}]
    made = await wire("POST", f"{V4}/contacts/companies/labels",
                      {"name": "manager", "label": "Manager", "inverseLabel": "Employer"})
    assert made.status == 200
    forward, back = made.body["results"]
    assert forward["category"] == back["category"] == "USER_DEFINED"
    assert (forward["label"], back["label"]) == ("Manager", "Employer")
    # user ids start at 1: the same number as HubSpot's Primary, another category
    assert forward["typeId"] == 1
    used = await wire("POST", f"{V4}/contacts/companies/batch/create", {"inputs": [
        pair(c, company, spec(forward["typeId"], "USER_DEFINED"))]})
    assert used.status == 201 and used.body["results"][0]["labels"] == ["Manager"]
    page = await v4_page(wire, "contacts", c, "companies")
    assert page["results"][0]["associationTypes"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
        {"category": "USER_DEFINED", "typeId": 1, "label": "Manager"}]
    assert {"category": "USER_DEFINED", "typeId": back["typeId"], "label": "Employer"} in (
        (await wire("GET", f"{V4}/companies/contacts/labels")).body["results"])
    renamed = await wire("PUT", f"{V4}/contacts/companies/labels",
                         {"associationTypeId": forward["typeId"], "label": "Boss",
                          "inverseLabel": "Firm"})
    assert renamed.status == 204
    labels = [r["label"] for r in (await wire("GET", f"{V4}/contacts/companies/labels")
                                   ).body["results"]]
    assert "Boss" in labels and "Manager" not in labels
    assert (await wire("PUT", f"{V4}/contacts/companies/labels",
                       {"associationTypeId": 279, "label": "x"})).status == 400
    assert (await wire("POST", f"{V4}/contacts/companies/labels",
                       {"name": "manager", "label": "Again"})).status == 409
    assert (await wire("POST", f"{V4}/contacts/companies/labels",
                       {"label": "No name"})).status == 400
    gone = await wire("DELETE", f"{V4}/contacts/companies/labels/{forward['typeId']}")
    assert gone.status == 204
    page = await v4_page(wire, "contacts", c, "companies")
    assert page["results"][0]["associationTypes"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}]
    # the id is free again in USER_DEFINED; HubSpot's own type 1 (Primary) cannot go
    again = await wire("DELETE", f"{V4}/contacts/companies/labels/{forward['typeId']}")
    assert again.status == 400 and "defined by HubSpot" in again.body["message"]
    assert (await wire("DELETE", f"{V4}/contacts/companies/labels/77")).status == 404


async def test_labels_on_engagements_only_with_the_switch(wire: Wire) -> None:
    listed = await wire("GET", f"{V4}/emails/contacts/labels")
    assert listed.body["results"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 198, "label": None}]
    refused = await wire("POST", f"{V4}/emails/contacts/labels",
                         {"name": "cc", "label": "CC"})
    assert refused.status == 400 and "emails" in refused.body["message"]
    emu, w = await started(labels_on_engagements=True)
    try:
        e, c = email(emu), contact(emu, 1)
        made = await w("POST", f"{V4}/emails/contacts/labels", {"name": "cc", "label": "CC"})
        assert made.status == 200
        type_id = made.body["results"][0]["typeId"]
        ex = await w("POST", f"{V4}/emails/contacts/batch/create",
                     {"inputs": [pair(e, c, spec(type_id, "USER_DEFINED"))]})
        assert ex.status == 201 and ex.body["results"][0]["labels"] == ["CC"]
    finally:
        await stop(emu, w)


# -- limits ----------------------------------------------------------------------------------


async def test_limits_api_and_enforcement(wire: Wire, hubspot_emulator: Emulator) -> None:
    emu = hubspot_emulator
    d = emu.put_record("deals", {"dealname": "D"})
    c1, c2 = contact(emu, 1), contact(emu, 2)
    made = await wire("POST", f"{LIMITS}/deals/contacts/batch/create", {"inputs": [
        {"category": "HUBSPOT_DEFINED", "typeId": 3, "maxToObjectIds": 1},
        {"category": "HUBSPOT_DEFINED", "typeId": 198, "maxToObjectIds": 1}]})
    assert made.status == 207 and made.body["numErrors"] == 1
    assert made.body["results"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 3, "userEnforcedMaxToObjectIds": 1}]
    for path in (f"{LIMITS}/deals/contacts", f"{LIMITS}/all"):
        assert (await wire("GET", path)).body["results"] == made.body["results"]
    ex = await wire("POST", f"{V4}/deals/contacts/batch/associate/default",
                    {"inputs": [pair(d, c1)]})
    assert ex.status == 200
    over = await wire("POST", f"{V4}/deals/contacts/batch/create",
                      {"inputs": [pair(d, c2, spec(3)), pair(d, c1, spec(3))]})
    assert over.status == 207 and over.body["numErrors"] == 1
    assert "limit" in over.body["errors"][0]["message"]
    assert [r["toObjectId"] for r in over.body["results"]] == [int(c1)]  # already there
    single = await wire("PUT", f"{OBJ4}/deals/{d}/associations/default/contacts/{c2}")
    assert single.status == 400
    updated = await wire("POST", f"{LIMITS}/deals/contacts/batch/update", {"inputs": [
        {"category": "HUBSPOT_DEFINED", "typeId": 3, "maxToObjectIds": 2}]})
    assert updated.status == 200
    assert updated.body["results"][0]["userEnforcedMaxToObjectIds"] == 2
    assert (await wire("PUT", f"{OBJ4}/deals/{d}/associations/default/contacts/{c2}")
            ).status == 200
    purged = await wire("POST", f"{LIMITS}/deals/contacts/batch/purge",
                        {"inputs": [{"category": "HUBSPOT_DEFINED", "typeId": 3}]})
    assert purged.status == 204
    assert (await wire("GET", f"{LIMITS}/all")).body["results"] == []


async def test_label_limit_below_object_limit_and_configured_limits() -> None:
    emu, w = await started(association_limits={"contacts.companies": 2,
                                               "emails.contacts": 1})
    try:
        listed = await w("GET", f"{LIMITS}/all")
        assert {(r["typeId"], r["userEnforcedMaxToObjectIds"])
                for r in listed.body["results"]} == {(279, 2), (198, 1)}
        too_high = await w("POST", f"{LIMITS}/contacts/companies/batch/create", {"inputs": [
            {"category": "HUBSPOT_DEFINED", "typeId": 1, "maxToObjectIds": 2}]})
        assert too_high.status == 207 and "1-1" in too_high.body["errors"][0]["message"]
        e, c1, c2 = email(emu), contact(emu, 1), contact(emu, 2)
        ex = await w("POST", f"{V4}/emails/contacts/batch/associate/default",
                     {"inputs": [pair(e, c1), pair(e, c2)]})
        assert ex.status == 200 and ex.body["numErrors"] == 1
        inline = await w("POST", f"{V3}/emails", {"properties": email_props(),
                                                  "associations": [{"to": {"id": c1},
                                                                    "types": [spec(198)]}]})
        assert inline.status == 201  # a new email holds nothing yet
    finally:
        await stop(emu, w)
    with pytest.raises(ValueError, match="no such association type"):
        EmulatorConfig(association_limits={"emails.emails": 1}) and Emulator(
            association_limits={"emails.emails": 1})


# -- the request path: shuffling, faults, rate window, stats ---------------------------------


async def test_results_are_shuffled_unless_switched_off() -> None:
    for shuffle in (True, False):
        emu, w = await started(shuffle_results=shuffle, seed=7)
        try:
            e = email(emu)
            contacts = [contact(emu, n) for n in range(1, 9)]
            orders = []
            for _ in range(3):
                ex = await w("POST", f"{V4}/emails/contacts/batch/create",
                             {"inputs": [pair(e, c, spec(198)) for c in contacts]})
                orders.append([r["toObjectId"] for r in ex.body["results"]])
            in_order = [int(c) for c in contacts]
            if shuffle:
                assert any(order != in_order for order in orders)
                assert all(sorted(order) == in_order for order in orders)
            else:
                assert all(order == in_order for order in orders)
        finally:
            await stop(emu, w)


async def test_faults_hit_v4_endpoints_by_name(wire: Wire, hubspot_emulator: Emulator) -> None:
    emu = hubspot_emulator
    e, c = email(emu), contact(emu, 1)
    emu.inject("502", 1, "v4/batch")
    ex = await wire("POST", f"{V4}/emails/contacts/batch/create",
                    {"inputs": [pair(e, c, spec(198))]})
    assert ex.status == 502 and ex.content_type.startswith("text/html")
    assert await v3_ids(wire, "emails", e, "contacts") == []  # nothing processed
    emu.inject("commit-then-502", 1, "v4/associate")
    ex = await wire("PUT", f"{OBJ4}/emails/{e}/associations/default/contacts/{c}")
    assert ex.status == 502  # ... after the write was stored
    assert await v3_ids(wire, "emails", e, "contacts") == [(c, "email_to_contact")]
    stats = emu.stats()["requests"]
    assert stats["v4/batch/create 502"] == 1
    assert stats["v4/associate 502"] == 1


async def test_v4_requests_count_against_the_burst_window() -> None:
    emu, w = await started(burst_limit=3, burst_interval=60)
    try:
        e, c = email(emu), contact(emu, 1)
        for _ in range(3):
            ex = await w("GET", f"{OBJ4}/emails/{e}/associations/contacts")
            assert ex.status == 200
        assert ex.headers["x-hubspot-ratelimit-remaining"] == "0"
        limited = await w("POST", f"{V4}/emails/contacts/batch/create",
                          {"inputs": [pair(e, c, spec(198))]})
        assert limited.status == 429
        assert limited.body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert len(emu.arrivals("test-token")["counted"]) == 3
        assert emu.stats()["requests"]["v4/batch/create 429"] == 1
        assert (await w("GET", f"{V4}/emails/contacts/labels", token=None)).status == 401
    finally:
        await stop(emu, w)


async def test_unknown_v4_paths_are_404(wire: Wire) -> None:
    for method, path in (("GET", f"{V4}/emails/contacts/batch/create"),
                         ("POST", f"{V4}/emails/contacts/batch/nothing"),
                         ("GET", "/crm/v4/nothing"), ("PATCH", f"{V4}/emails/contacts/labels")):
        ex = await wire(method, path)
        assert ex.status == 404 and ex.body["message"] == "resource not found"


def test_cli_flags() -> None:
    parser = build_parser()
    config = config_from_args(parser.parse_args([
        "--association-limit", "emails.contacts=1", "--association-limit",
        "contacts.companies.1=2", "--v4-error-context", "--v4-string-ids",
        "--labels-on-engagements"]))
    assert config.association_limits == {"emails.contacts": 1, "contacts.companies.1": 2}
    assert config.v4_error_context and not config.v4_numeric_ids
    assert config.labels_on_engagements
    default = config_from_args(parser.parse_args([]))
    assert default.association_limits == {} and not default.v4_error_context
    assert default.v4_numeric_ids and not default.labels_on_engagements
    with pytest.raises(SystemExit):
        parser.parse_args(["--association-limit", "emails=1"])
