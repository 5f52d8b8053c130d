"""HubSpot's own Python SDK (``hubspot-api-client`` 12) as a second, independent client.

Every call below is made by HubSpot's SDK, exactly as an application would make it, against the
in-process emulator: for each of the seven engagement types the basic API (create, get, get with
``archived=True`` after an archive, update, list), the batch API (create, read, update,
archive), search, every v4 association call (``basic_api`` create, create_default, get_page,
archive; ``batch_api`` create, create_default, get_page, archive, archive_labels), the
association labels (schema v4), the properties API (``core_api`` and ``groups_api``) and the
owners API; and once, a USER_DEFINED label and its limit through the schema API. All of them
must succeed. The expectations come from the SDK's code (the status
each method declares, the models it deserialises into, which refuse a missing required field or
an unknown enum value) and from HubSpot's specs and guides (``docs/hubspot-wire.md`` §5, §5.1,
§9), never from what the emulator happens to answer.

The SDK is synchronous (urllib3): each scenario runs in a worker thread
(:func:`asyncio.to_thread`) while the emulator serves on the test's event loop. The SDK's own
retries are off (``retry=False``), so every failure shows on the first attempt. Each call is
made through its ``*_with_http_info`` twin, the code path the plain method takes, so that the
status code can be checked against the one the SDK declares; a failure names the request
(method, URL, body) and the emulator's answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import urllib3
from hubspot import HubSpot
from hubspot.crm import companies as sdk_companies
from hubspot.crm import contacts as sdk_contacts
from hubspot.crm import owners as sdk_owners
from hubspot.crm import properties as sdk_properties
from hubspot.crm.associations import v4 as sdk_assoc
from hubspot.crm.associations.v4 import schema as sdk_schema
from hubspot.crm.objects import (
    calls,
    communications,
    emails,
    meetings,
    notes,
    postal_mail,
    tasks,
)
from hubspot.discovery.discovery_base import DiscoveryBase

from hubengage.emulator import Emulator

TOKEN = "official-sdk-token"
TS = "2026-01-15T10:00:00.000Z"
LATER = "2026-01-15T11:00:00.000Z"

#: The SDK's model package for each engagement type (``hs.crm.objects.<type>``).
PACKAGES: dict[str, Any] = {
    "emails": emails,
    "postal_mail": postal_mail,
    "communications": communications,
    "calls": calls,
    "meetings": meetings,
    "notes": notes,
    "tasks": tasks,
}

#: Valid properties to create each type with: the required ones (wire notes §5) plus the
#: type's usual ones, with values from the documented enumerations.
CREATE: dict[str, dict[str, str]] = {
    "emails": {
        "hs_timestamp": TS,
        "hs_email_direction": "EMAIL",
        "hs_email_status": "SENT",
        "hs_email_subject": "Let's talk",
        "hs_email_text": "Thanks for your interest",
    },
    "postal_mail": {"hs_timestamp": TS, "hs_postal_mail_body": "Sent the brochure"},
    "communications": {
        "hs_timestamp": TS,
        "hs_communication_channel_type": "SMS",
        "hs_communication_logged_from": "CRM",
        "hs_communication_body": "Texted about the renewal",
    },
    "calls": {
        "hs_timestamp": TS,
        "hs_call_title": "Discovery call",
        "hs_call_body": "Talked pricing",
        "hs_call_direction": "OUTBOUND",
        "hs_call_status": "COMPLETED",
        "hs_call_duration": "3800",
    },
    "meetings": {
        "hs_timestamp": TS,
        "hs_meeting_title": "Kick-off",
        "hs_meeting_body": "Agenda: scope",
        "hs_meeting_start_time": TS,
        "hs_meeting_end_time": LATER,
        "hs_meeting_outcome": "SCHEDULED",
    },
    "notes": {"hs_timestamp": TS, "hs_note_body": "Prefers email"},
    "tasks": {
        "hs_timestamp": TS,
        "hs_task_subject": "Send the proposal",
        "hs_task_body": "Include the discount",
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH",
        "hs_task_type": "TODO",
    },
}

#: One writable text property per type, changed by the updates.
TEXT: dict[str, str] = {
    "emails": "hs_email_subject",
    "postal_mail": "hs_postal_mail_body",
    "communications": "hs_communication_body",
    "calls": "hs_call_title",
    "meetings": "hs_meeting_title",
    "notes": "hs_note_body",
    "tasks": "hs_task_subject",
}

#: Object type ids (wire notes §5).
TYPE_IDS: dict[str, str] = {
    "emails": "0-49",
    "postal_mail": "0-116",
    "communications": "0-18",
    "calls": "0-48",
    "meetings": "0-47",
    "notes": "0-46",
    "tasks": "0-27",
}
CONTACT_TYPE_ID = "0-1"

#: Default HUBSPOT_DEFINED association type ids, engagement to contact and back (§5).
TO_CONTACT: dict[str, int] = {
    "emails": 198,
    "postal_mail": 453,
    "communications": 81,
    "calls": 194,
    "meetings": 200,
    "notes": 202,
    "tasks": 204,
}
FROM_CONTACT: dict[str, int] = {
    "emails": 197,
    "postal_mail": 454,
    "communications": 82,
    "calls": 193,
    "meetings": 199,
    "notes": 201,
    "tasks": 203,
}

ENGAGEMENTS = sorted(CREATE)

#: Every ApiException class of the SDK packages used here (each package has its own).
API_EXCEPTIONS: tuple[type[Exception], ...] = tuple(
    {
        pkg.ApiException
        for pkg in (
            *PACKAGES.values(),
            sdk_companies,
            sdk_contacts,
            sdk_owners,
            sdk_properties,
            sdk_assoc,
            sdk_schema,
        )
    }
)


class SdkCallFailed(AssertionError):
    """One SDK call failed: the request it sent and what the emulator answered."""


class Sdk:
    """``hubspot.HubSpot`` pointed at the emulator, with a log of the requests it sends.

    The SDK builds a fresh ``ApiClient`` (and urllib3 pool) each time an API attribute is read;
    the factory below keeps every one, so :meth:`close` can close their connections and each
    request can be named in a failure message.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.requests: list[tuple[str, str, Any]] = []  # (method, URL with query, body)
        self._clients: list[Any] = []
        # ``host`` becomes ``Configuration.host``; ``retry=False`` is urllib3's "no retries"
        # (``Configuration.retries``), so the SDK never hides a failure by trying again.
        self.hs = HubSpot(access_token=TOKEN, host=url, retry=False, api_factory=self._factory)

    def _factory(self, package: Any, api_name: str, config: dict[str, Any]) -> Any:
        api = DiscoveryBase._default_api_factory(package, api_name, config)
        rest = api.api_client.rest_client
        send = rest.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            query = urlencode(kwargs.get("query_params") or [])
            self.requests.append((method, f"{url}?{query}" if query else url, kwargs.get("body")))
            return send(method, url, *args, **kwargs)

        rest.request = request
        self._clients.append(api.api_client)
        return api

    def call(self, api: Any, method: str, *args: Any, expect: int, **kwargs: Any) -> Any:
        """Call ``api.<method>`` (via its ``_with_http_info`` twin); check the status.

        ``expect`` is the status the SDK declares for the operation's success (the key of its
        ``response_types_map``, 204 where the map is empty).
        """
        before = len(self.requests)
        try:
            data, status, _ = getattr(api, f"{method}_with_http_info")(*args, **kwargs)
        except API_EXCEPTIONS as exc:
            raise SdkCallFailed(
                f"{type(api).__module__.removeprefix('hubspot.')}.{method}: "
                f"{self._sent(before)} -> HTTP {exc.status} {exc.reason}: {exc.body!r}"
            ) from None
        except (ValueError, TypeError) as exc:
            if len(self.requests) == before:  # refused before sending: a bug in this test
                raise
            # The SDK's models refused the answer (a missing required field, a wrong enum).
            raise SdkCallFailed(
                f"{type(api).__module__.removeprefix('hubspot.')}.{method}: "
                f"{self._sent(before)} -> the SDK rejected the answer: {exc}"
            ) from None
        if status != expect:
            raise SdkCallFailed(
                f"{type(api).__module__.removeprefix('hubspot.')}.{method}: "
                f"{self._sent(before)} -> HTTP {status}, the SDK expects {expect}"
                + (" (so it returns None)" if data is None else "")
            )
        return data

    def _sent(self, before: int) -> str:
        sent = self.requests[before:]
        if not sent:
            return "(no request sent)"
        method, url, body = sent[-1]
        shown = "" if body is None else " " + json.dumps(body, default=str)[:400]
        return f"{method} {url.removeprefix(self.url)}{shown}"

    def close(self) -> None:
        for client in self._clients:
            client.rest_client.pool_manager.clear()
            client.close()


@pytest.fixture
async def sdk(hubspot_emulator: Emulator) -> AsyncIterator[Sdk]:
    client = Sdk(hubspot_emulator.url)
    yield client
    client.close()


async def run(scenario: Callable[..., None], *args: Any) -> None:
    """Run a synchronous SDK scenario off the event loop (the emulator serves on it)."""
    await asyncio.to_thread(scenario, *args)


# -- helpers -----------------------------------------------------------------------------------


def objects_api(sdk: Sdk, object_type: str, api: str) -> Any:
    return getattr(getattr(sdk.hs.crm.objects, object_type), api)


def create_contact(sdk: Sdk, email: str) -> str:
    """A contact made through the SDK's contacts API (the association target)."""
    created = sdk.call(
        sdk.hs.crm.contacts.basic_api,
        "create",
        sdk_contacts.SimplePublicObjectInputForCreate(
            properties={"email": email, "firstname": "Ada", "lastname": "Lovelace"}
        ),
        expect=201,
    )
    assert isinstance(created, sdk_contacts.SimplePublicObject)
    return str(created.id)


def create_engagement(sdk: Sdk, object_type: str, **extra: str) -> str:
    pkg = PACKAGES[object_type]
    created = sdk.call(
        objects_api(sdk, object_type, "basic_api"),
        "create",
        pkg.SimplePublicObjectInputForCreate(properties={**CREATE[object_type], **extra}),
        expect=201,
    )
    assert isinstance(created, pkg.SimplePublicObject)
    return str(created.id)


def default_spec(object_type: str) -> sdk_assoc.AssociationSpec:
    return sdk_assoc.AssociationSpec(
        association_category="HUBSPOT_DEFINED", association_type_id=TO_CONTACT[object_type]
    )


def type_ids(entry: Any) -> set[tuple[str, int]]:
    """``{(category, typeId)}`` of a ``MultiAssociatedObjectWithLabel``."""
    return {(t.category, t.type_id) for t in entry.association_types}


# -- basic API ---------------------------------------------------------------------------------


def basic_scenario(sdk: Sdk, object_type: str) -> None:
    pkg = PACKAGES[object_type]
    basic = objects_api(sdk, object_type, "basic_api")
    text = TEXT[object_type]
    contact = create_contact(sdk, f"basic-{object_type}@example.com")

    created = sdk.call(basic, "create", pkg.SimplePublicObjectInputForCreate(
        properties=CREATE[object_type],
        associations=[pkg.PublicAssociationsForObject(
            to=pkg.PublicObjectId(id=contact),
            types=[pkg.AssociationSpec(association_category="HUBSPOT_DEFINED",
                                       association_type_id=TO_CONTACT[object_type])])],
    ), expect=201)
    assert isinstance(created, pkg.SimplePublicObject)
    rid = str(created.id)
    assert created.properties["hs_timestamp"] == TS
    assert created.archived is False

    got = sdk.call(basic, "get_by_id", rid, properties=[text, "hs_timestamp"],
                   associations=["contacts"], expect=200)
    assert isinstance(got, pkg.SimplePublicObjectWithAssociations)
    assert got.id == rid and got.properties[text] == CREATE[object_type][text]
    assert [a.id for a in got.associations["contacts"].results] == [contact]

    updated = sdk.call(basic, "update", rid,
                       pkg.SimplePublicObjectInput(properties={text: "changed"}), expect=200)
    assert isinstance(updated, pkg.SimplePublicObject)
    assert updated.properties[text] == "changed"

    other = create_engagement(sdk, object_type)
    page = sdk.call(basic, "get_page", limit=10, properties=[text], expect=200)
    assert isinstance(page, pkg.CollectionResponseSimplePublicObjectWithAssociationsForwardPaging)
    assert {r.id for r in page.results} == {rid, other}

    assert sdk.call(basic, "archive", other, expect=204) is None
    # The SDK sends ``archived=True`` (capitalised): it has to read as true (wire notes §9).
    archived = sdk.call(basic, "get_by_id", other, archived=True, expect=200)
    assert isinstance(archived, pkg.SimplePublicObjectWithAssociations)
    assert archived.id == other and archived.archived is True
    assert archived.archived_at is not None
    gone = sdk.call(basic, "get_page", archived=True, expect=200)
    assert [r.id for r in gone.results] == [other]
    live = sdk.call(basic, "get_page", expect=200)
    assert [r.id for r in live.results] == [rid]


@pytest.mark.parametrize("object_type", ENGAGEMENTS)
async def test_basic_api(sdk: Sdk, object_type: str) -> None:
    await run(basic_scenario, sdk, object_type)


# -- batch API and search ----------------------------------------------------------------------


def batch_scenario(sdk: Sdk, object_type: str) -> None:
    pkg = PACKAGES[object_type]
    batch = objects_api(sdk, object_type, "batch_api")
    text = TEXT[object_type]
    contact = create_contact(sdk, f"batch-{object_type}@example.com")

    created = sdk.call(batch, "create", pkg.BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[
            pkg.SimplePublicObjectBatchInputForCreate(
                properties={**CREATE[object_type], text: "first"},
                associations=[pkg.PublicAssociationsForObject(
                    to=pkg.PublicObjectId(id=contact), types=[pkg.AssociationSpec(
                        association_category="HUBSPOT_DEFINED",
                        association_type_id=TO_CONTACT[object_type])])]),
            pkg.SimplePublicObjectBatchInputForCreate(
                properties={**CREATE[object_type], text: "second"}, associations=[]),
        ]), expect=201)
    assert isinstance(created, pkg.BatchResponseSimplePublicObject)
    assert created.status == "COMPLETE"
    ids = {r.properties[text]: str(r.id) for r in created.results}
    assert sorted(ids) == ["first", "second"]

    read = sdk.call(batch, "read", pkg.BatchReadInputSimplePublicObjectId(
        inputs=[pkg.SimplePublicObjectId(id=i) for i in ids.values()],
        properties=[text], properties_with_history=[]), archived=False, expect=200)
    assert isinstance(read, pkg.BatchResponseSimplePublicObject)
    assert {r.id: r.properties[text] for r in read.results} == {v: k for k, v in ids.items()}

    updated = sdk.call(batch, "update", pkg.BatchInputSimplePublicObjectBatchInput(inputs=[
        pkg.SimplePublicObjectBatchInput(id=ids["first"], properties={text: "first, changed"}),
    ]), expect=200)
    assert isinstance(updated, pkg.BatchResponseSimplePublicObject)
    assert [(r.id, r.properties[text]) for r in updated.results] == [
        (ids["first"], "first, changed")]

    found = sdk.call(objects_api(sdk, object_type, "search_api"), "do_search",
                     pkg.PublicObjectSearchRequest(
                         filter_groups=[pkg.FilterGroup(filters=[pkg.Filter(
                             property_name="hs_object_id", operator="EQ", value=ids["first"])])],
                         properties=[text], sorts=[], limit=10, after="0"),
                     expect=200)
    assert isinstance(found, pkg.CollectionResponseWithTotalSimplePublicObjectForwardPaging)
    assert found.total == 1
    assert [(r.id, r.properties[text]) for r in found.results] == [
        (ids["first"], "first, changed")]

    assert sdk.call(batch, "archive", pkg.BatchInputSimplePublicObjectId(
        inputs=[pkg.SimplePublicObjectId(id=ids["second"])]), expect=204) is None
    left = sdk.call(batch, "read", pkg.BatchReadInputSimplePublicObjectId(
        inputs=[pkg.SimplePublicObjectId(id=ids["second"])], properties=[text],
        properties_with_history=[]), archived=True, expect=200)
    assert [(r.id, r.archived) for r in left.results] == [(ids["second"], True)]


@pytest.mark.parametrize("object_type", ENGAGEMENTS)
async def test_batch_api_and_search(sdk: Sdk, object_type: str) -> None:
    await run(batch_scenario, sdk, object_type)


# -- v4 associations ---------------------------------------------------------------------------


def v4_basic_scenario(sdk: Sdk, object_type: str) -> None:
    basic = sdk.hs.crm.associations.v4.basic_api
    rid = create_engagement(sdk, object_type)
    first = create_contact(sdk, f"v4-{object_type}-1@example.com")
    second = create_contact(sdk, f"v4-{object_type}-2@example.com")

    pair = sdk.call(basic, "create", object_type, rid, "contacts", first,
                    [default_spec(object_type)], expect=201)
    assert isinstance(pair, sdk_assoc.LabelsBetweenObjectPair)
    assert (pair.from_object_type_id, str(pair.from_object_id)) == (TYPE_IDS[object_type], rid)
    assert (pair.to_object_type_id, str(pair.to_object_id)) == (CONTACT_TYPE_ID, first)

    default = sdk.call(basic, "create_default", object_type, rid, "contacts", second,
                       expect=200)
    assert isinstance(default, sdk_assoc.BatchResponsePublicDefaultAssociation)
    assert default.status == "COMPLETE"
    specs = {(r._from.id, r.to.id, r.association_spec.association_category,
              r.association_spec.association_type_id) for r in default.results}
    assert (rid, second, "HUBSPOT_DEFINED", TO_CONTACT[object_type]) in specs

    page = sdk.call(basic, "get_page", object_type, rid, "contacts", limit=500, expect=200)
    assert isinstance(page, sdk_assoc.CollectionResponseMultiAssociatedObjectWithLabelForwardPaging)
    found = {str(r.to_object_id): type_ids(r) for r in page.results}
    assert found == {
        first: {("HUBSPOT_DEFINED", TO_CONTACT[object_type])},
        second: {("HUBSPOT_DEFINED", TO_CONTACT[object_type])},
    }
    # And the other way round, from the contact.
    back = sdk.call(basic, "get_page", "contacts", first, object_type, expect=200)
    assert [(str(r.to_object_id), type_ids(r)) for r in back.results] == [
        (rid, {("HUBSPOT_DEFINED", FROM_CONTACT[object_type])})]

    assert sdk.call(basic, "archive", object_type, rid, "contacts", second, expect=204) is None
    page = sdk.call(basic, "get_page", object_type, rid, "contacts", expect=200)
    assert [str(r.to_object_id) for r in page.results] == [first]


@pytest.mark.parametrize("object_type", ENGAGEMENTS)
async def test_v4_associations_basic_api(sdk: Sdk, object_type: str) -> None:
    await run(v4_basic_scenario, sdk, object_type)


def v4_batch_scenario(sdk: Sdk, object_type: str) -> None:
    batch = sdk.hs.crm.associations.v4.batch_api
    engagements = [create_engagement(sdk, object_type) for _ in range(2)]
    contacts = [create_contact(sdk, f"v4b-{object_type}-{i}@example.com") for i in range(2)]

    created = sdk.call(batch, "create", object_type, "contacts",
                       sdk_assoc.BatchInputPublicAssociationMultiPost(inputs=[
                           sdk_assoc.PublicAssociationMultiPost(
                               _from=sdk_assoc.PublicObjectId(id=engagements[0]),
                               to=sdk_assoc.PublicObjectId(id=contacts[0]),
                               types=[default_spec(object_type)])]),
                       expect=201)
    assert isinstance(created, sdk_assoc.BatchResponseLabelsBetweenObjectPair)
    assert created.status == "COMPLETE"
    assert [(str(r.from_object_id), str(r.to_object_id), r.from_object_type_id,
             r.to_object_type_id) for r in created.results] == [
        (engagements[0], contacts[0], TYPE_IDS[object_type], CONTACT_TYPE_ID)]

    default = sdk.call(batch, "create_default", object_type, "contacts",
                       sdk_assoc.BatchInputPublicDefaultAssociationMultiPost(inputs=[
                           sdk_assoc.PublicDefaultAssociationMultiPost(
                               _from=sdk_assoc.PublicObjectId(id=engagements[1]),
                               to=sdk_assoc.PublicObjectId(id=contacts[1]))]),
                       expect=200)
    assert isinstance(default, sdk_assoc.BatchResponsePublicDefaultAssociation)
    specs = {(r._from.id, r.to.id, r.association_spec.association_type_id)
             for r in default.results}
    assert (engagements[1], contacts[1], TO_CONTACT[object_type]) in specs

    read = sdk.call(batch, "get_page", object_type, "contacts",
                    sdk_assoc.BatchInputPublicFetchAssociationsBatchRequest(inputs=[
                        sdk_assoc.PublicFetchAssociationsBatchRequest(id=e)
                        for e in engagements]),
                    expect=200)
    assert isinstance(read, sdk_assoc.BatchResponsePublicAssociationMultiWithLabel)
    assert {r._from.id: [(str(t.to_object_id), type_ids(t)) for t in r.to]
            for r in read.results} == {
        engagements[0]: [(contacts[0], {("HUBSPOT_DEFINED", TO_CONTACT[object_type])})],
        engagements[1]: [(contacts[1], {("HUBSPOT_DEFINED", TO_CONTACT[object_type])})],
    }

    # Removing the only label of a pair leaves nothing between them.
    assert sdk.call(batch, "archive_labels", object_type, "contacts",
                    sdk_assoc.BatchInputPublicAssociationMultiPost(inputs=[
                        sdk_assoc.PublicAssociationMultiPost(
                            _from=sdk_assoc.PublicObjectId(id=engagements[0]),
                            to=sdk_assoc.PublicObjectId(id=contacts[0]),
                            types=[default_spec(object_type)])]),
                    expect=204) is None
    assert sdk.call(batch, "archive", object_type, "contacts",
                    sdk_assoc.BatchInputPublicAssociationMultiArchive(inputs=[
                        sdk_assoc.PublicAssociationMultiArchive(
                            _from=sdk_assoc.PublicObjectId(id=engagements[1]),
                            to=[sdk_assoc.PublicObjectId(id=contacts[1])])]),
                    expect=204) is None
    basic = sdk.hs.crm.associations.v4.basic_api
    for engagement in engagements:
        page = sdk.call(basic, "get_page", object_type, engagement, "contacts", expect=200)
        assert page.results == []


@pytest.mark.parametrize("object_type", ENGAGEMENTS)
async def test_v4_associations_batch_api(sdk: Sdk, object_type: str) -> None:
    await run(v4_batch_scenario, sdk, object_type)


def labels_scenario(sdk: Sdk, object_type: str) -> None:
    """The association schema's labels (``GET /crm/v4/associations/{from}/{to}/labels``)."""
    definitions = sdk.hs.crm.associations.v4.schema.definitions_api
    labels = sdk.call(definitions, "get_all", object_type, "contacts", expect=200)
    assert isinstance(labels, sdk_schema.CollectionResponseAssociationSpecWithLabelNoPaging)
    assert ("HUBSPOT_DEFINED", TO_CONTACT[object_type]) in {
        (r.category, r.type_id) for r in labels.results}
    back = sdk.call(definitions, "get_all", "contacts", object_type, expect=200)
    assert ("HUBSPOT_DEFINED", FROM_CONTACT[object_type]) in {
        (r.category, r.type_id) for r in back.results}


@pytest.mark.parametrize("object_type", ENGAGEMENTS)
async def test_v4_association_labels(sdk: Sdk, object_type: str) -> None:
    await run(labels_scenario, sdk, object_type)


def labels_and_limits_scenario(sdk: Sdk) -> None:
    """A USER_DEFINED label (contact to company) through its whole life, and its limit."""
    definitions = sdk.hs.crm.associations.v4.schema.definitions_api
    configurations = sdk.hs.crm.associations.v4.schema.definition_configurations_api
    basic = sdk.hs.crm.associations.v4.basic_api
    batch = sdk.hs.crm.associations.v4.batch_api
    contact = create_contact(sdk, "labels@example.com")
    company = sdk.call(sdk.hs.crm.companies.basic_api, "create",
                       sdk_companies.SimplePublicObjectInputForCreate(
                           properties={"name": "Acme", "domain": "acme.example"}),
                       expect=201)
    assert isinstance(company, sdk_companies.SimplePublicObject)

    made = sdk.call(definitions, "create", "contacts", "companies",
                    sdk_schema.PublicAssociationDefinitionCreateRequest(
                        name="decision_maker", label="Decision maker"), expect=200)
    assert isinstance(made, sdk_schema.CollectionResponseAssociationSpecWithLabelNoPaging)
    listed = sdk.call(definitions, "get_all", "contacts", "companies", expect=200)
    by_label = {r.label: (r.category, r.type_id) for r in listed.results}
    category, type_id = by_label["Decision maker"]
    assert category == "USER_DEFINED"
    assert by_label.get("Primary") == ("HUBSPOT_DEFINED", 1)  # wire notes §5
    assert sdk.call(definitions, "update", "contacts", "companies",
                    sdk_schema.PublicAssociationDefinitionUpdateRequest(
                        association_type_id=type_id, label="Buyer"), expect=204) is None
    relisted = sdk.call(definitions, "get_all", "contacts", "companies", expect=200)
    assert ("USER_DEFINED", type_id, "Buyer") in {
        (r.category, r.type_id, r.label) for r in relisted.results}

    label = sdk_assoc.AssociationSpec(association_category="USER_DEFINED",
                                      association_type_id=type_id)
    pair = sdk.call(basic, "create", "contacts", contact, "companies", str(company.id),
                    [label], expect=201)
    assert isinstance(pair, sdk_assoc.LabelsBetweenObjectPair)
    assert "Buyer" in pair.labels
    page = sdk.call(basic, "get_page", "contacts", contact, "companies", expect=200)
    assert [str(r.to_object_id) for r in page.results] == [str(company.id)]
    assert ("USER_DEFINED", type_id, "Buyer") in {
        (t.category, t.type_id, t.label) for t in page.results[0].association_types}
    assert sdk.call(batch, "archive_labels", "contacts", "companies",
                    sdk_assoc.BatchInputPublicAssociationMultiPost(inputs=[
                        sdk_assoc.PublicAssociationMultiPost(
                            _from=sdk_assoc.PublicObjectId(id=contact),
                            to=sdk_assoc.PublicObjectId(id=str(company.id)),
                            types=[label])]),
                    expect=204) is None
    page = sdk.call(basic, "get_page", "contacts", contact, "companies", expect=200)
    assert ("USER_DEFINED", type_id) not in {
        (t.category, t.type_id) for r in page.results for t in r.association_types}

    # Association limits (definition configurations).
    every = sdk.call(configurations, "get_all", expect=200)
    assert isinstance(
        every, sdk_schema.CollectionResponsePublicAssociationDefinitionUserConfigurationNoPaging)
    limited = sdk.call(configurations, "batch_create", "contacts", "companies",
                       sdk_schema.BatchInputPublicAssociationDefinitionConfigurationCreateRequest(
                           inputs=[sdk_schema.PublicAssociationDefinitionConfigurationCreateRequest(
                               category="USER_DEFINED", type_id=type_id,
                               max_to_object_ids=5)]),
                       expect=201)
    assert isinstance(limited, sdk_schema.BatchResponsePublicAssociationDefinitionUserConfiguration)
    assert [(r.type_id, r.user_enforced_max_to_object_ids) for r in limited.results] == [
        (type_id, 5)]
    raised = sdk.call(configurations, "batch_update", "contacts", "companies",
                      sdk_schema.BatchInputPublicAssociationDefinitionConfigurationUpdateRequest(
                          inputs=[sdk_schema.PublicAssociationDefinitionConfigurationUpdateRequest(
                              category="USER_DEFINED", type_id=type_id,
                              max_to_object_ids=10)]),
                      expect=200)
    assert [(r.type_id, r.user_enforced_max_to_object_ids) for r in raised.results] == [
        (type_id, 10)]
    pair_limits = sdk.call(configurations, "get_all_between_two_object_types",
                           "contacts", "companies", expect=200)
    assert (type_id, 10) in {
        (r.type_id, r.user_enforced_max_to_object_ids) for r in pair_limits.results}
    assert sdk.call(configurations, "batch_remove", "contacts", "companies",
                    sdk_schema.BatchInputPublicAssociationSpec(inputs=[
                        sdk_schema.PublicAssociationSpec(category="USER_DEFINED",
                                                         type_id=type_id)]),
                    expect=204) is None

    assert sdk.call(definitions, "remove", "contacts", "companies", type_id,
                    expect=204) is None
    final = sdk.call(definitions, "get_all", "contacts", "companies", expect=200)
    # Type ids are unique within a category only (S-A4 ``AssociationSpecWithLabel.typeId``).
    assert ("USER_DEFINED", type_id) not in {(r.category, r.type_id) for r in final.results}


async def test_v4_association_labels_and_limits(sdk: Sdk) -> None:
    await run(labels_and_limits_scenario, sdk)


# -- properties and owners ---------------------------------------------------------------------


def properties_scenario(sdk: Sdk, object_type: str) -> None:
    core = sdk.hs.crm.properties.core_api
    groups = sdk.hs.crm.properties.groups_api

    listed = sdk.call(core, "get_all", object_type, expect=200)
    assert isinstance(listed, sdk_properties.CollectionResponsePropertyNoPaging)
    names = {p.name for p in listed.results}
    assert {"hs_timestamp", TEXT[object_type], "hs_object_id"} <= names

    timestamp = sdk.call(core, "get_by_name", object_type, "hs_timestamp", expect=200)
    assert isinstance(timestamp, sdk_properties.ModelProperty)
    assert (timestamp.name, timestamp.type) == ("hs_timestamp", "datetime")

    group_list = sdk.call(groups, "get_all", object_type, expect=200)
    assert isinstance(group_list, sdk_properties.CollectionResponsePropertyGroupNoPaging)
    assert group_list.results, "every object type has at least one property group"
    group = group_list.results[0].name
    assert sdk.call(groups, "get_by_name", object_type, group, expect=200).name == group

    made = sdk.call(core, "create", object_type, sdk_properties.PropertyCreate(
        name="hubengage_source", label="Source", type="string", field_type="text",
        group_name=group, description="Where the activity came from"), expect=201)
    assert isinstance(made, sdk_properties.ModelProperty)
    assert (made.name, made.type, made.field_type, made.group_name) == (
        "hubengage_source", "string", "text", group)
    got = sdk.call(core, "get_by_name", object_type, "hubengage_source", expect=200)
    assert got.label == "Source"
    changed = sdk.call(core, "update", object_type, "hubengage_source",
                       sdk_properties.PropertyUpdate(label="Origin"), expect=200)
    assert changed.label == "Origin"

    # A custom property, once defined, can be written and read back on a record.
    rid = create_engagement(sdk, object_type, hubengage_source="import")
    record = sdk.call(objects_api(sdk, object_type, "basic_api"), "get_by_id", rid,
                      properties=["hubengage_source"], expect=200)
    assert record.properties["hubengage_source"] == "import"

    assert sdk.call(core, "archive", object_type, "hubengage_source", expect=204) is None
    archived = sdk.call(core, "get_by_name", object_type, "hubengage_source", archived=True,
                        expect=200)
    assert archived.name == "hubengage_source" and archived.archived is True


@pytest.mark.parametrize("object_type", ENGAGEMENTS)
async def test_properties_api(sdk: Sdk, object_type: str) -> None:
    await run(properties_scenario, sdk, object_type)


def owners_scenario(sdk: Sdk, object_type: str) -> None:
    owners = sdk.hs.crm.owners.owners_api
    page = sdk.call(owners, "get_page", limit=100, expect=200)
    assert isinstance(page, sdk_owners.CollectionResponsePublicOwnerForwardPaging)
    assert page.results, "an account has at least one owner (the user behind the token)"
    owner = page.results[0]
    got = sdk.call(owners, "get_by_id", int(owner.id), expect=200)
    assert isinstance(got, sdk_owners.PublicOwner)
    assert (got.id, got.email) == (owner.id, owner.email)
    by_email = sdk.call(owners, "get_page", email=owner.email, expect=200)
    assert [o.id for o in by_email.results] == [owner.id]

    # What the owners API is for: the owner's id is what ``hubspot_owner_id`` takes.
    rid = create_engagement(sdk, object_type, hubspot_owner_id=owner.id)
    record = sdk.call(objects_api(sdk, object_type, "basic_api"), "get_by_id", rid,
                      properties=["hubspot_owner_id"], expect=200)
    assert record.properties["hubspot_owner_id"] == owner.id


@pytest.mark.parametrize("object_type", ENGAGEMENTS)
async def test_owners_api(sdk: Sdk, object_type: str) -> None:
    await run(owners_scenario, sdk, object_type)


# -- the harness itself --------------------------------------------------------------------------


async def test_the_sdk_talks_to_the_emulator_and_never_retries(
    sdk: Sdk, hubspot_emulator: Emulator
) -> None:
    """Requests reach the emulator (not api.hubapi.com), and a failure is not retried.

    urllib3's default would retry a dropped GET up to three times; with ``retry=False`` the
    first failure surfaces, so no call above can pass on a second attempt.
    """
    notes_api = sdk.hs.crm.objects.notes.basic_api

    def missing() -> None:
        with pytest.raises(SdkCallFailed, match="HTTP 404"):
            sdk.call(notes_api, "get_by_id", "999999999", expect=200)

    def dropped() -> None:
        with pytest.raises(urllib3.exceptions.HTTPError):
            sdk.call(notes_api, "get_by_id", "999999999", expect=200)

    await run(missing)
    hubspot_emulator.inject("drop", 1)  # on the emulator's own loop
    await run(dropped)
    assert [(m, u.removeprefix(sdk.url)) for m, u, _ in sdk.requests] == [
        ("GET", "/crm/v3/objects/notes/999999999")] * 2
    assert hubspot_emulator.stats()["faults"] == {"drop": 1}
