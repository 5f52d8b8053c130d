"""Associations through the v4 batch endpoints, labels by name, and association reads.

A scripted v4 server (``V4``) answers as HubSpot's v4 documentation allows at its least
helpful: results shuffled, ``batch/associate/default`` answering both directions, ids as
numbers where the docs show numbers, a 207 error naming its pair only inside ``message``.
Every call must get its own outcome.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from hubengage import (
    APIError,
    Association,
    AssociationCategory,
    HubSpot,
    InvalidInputError,
    NotFoundError,
    Request,
    Response,
)
from hubengage.testing import MockTransport, json_response

NOW = "2026-01-15T10:00:00.000Z"
LABELS = [
    {"category": "HUBSPOT_DEFINED", "typeId": 198, "label": None},
    {"category": "USER_DEFINED", "typeId": 7, "label": "Decision maker"},
    {"category": "USER_DEFINED", "typeId": 9, "label": "Billing contact"},
]


class V4:
    """An in-memory v4 association server for emails → contacts."""

    def __init__(self, *, missing: frozenset[str] = frozenset(), seed: int = 7) -> None:
        #: (email id, contact id) -> {(category, type id)}
        self.links: dict[tuple[str, str], set[tuple[str, int]]] = {}
        self.missing = missing
        self.rng = random.Random(seed)
        self.label_reads = 0

    def _envelope(self, status: int, results: list[Any], errors: list[Any]) -> Response:
        self.rng.shuffle(results)
        body: dict[str, Any] = {"status": "COMPLETE", "results": results,
                                "startedAt": NOW, "completedAt": NOW}
        if errors:
            body.update(errors=errors, numErrors=len(errors))
            status = 207
        return json_response(status, body)

    def _error(self, to_id: str) -> dict[str, Any]:
        return {"status": "error", "category": "OBJECT_NOT_FOUND",
                "message": f"No contact with id {to_id} exists"}

    async def __call__(self, request: Request) -> Response:
        await asyncio.sleep(0)
        path = request.path
        if path.endswith("/labels"):
            self.label_reads += 1
            return json_response(200, {"results": LABELS})
        endpoint = path.split("/crm/v4/associations/emails/contacts/", 1)[-1]
        inputs = request.json["inputs"] if request.json else []
        results: list[Any] = []
        errors: list[Any] = []
        if endpoint in ("batch/create", "batch/associate/default"):
            for inp in inputs:
                a, b = inp["from"]["id"], inp["to"]["id"]
                if b in self.missing:
                    errors.append(self._error(b))
                    continue
                types = {(t["associationCategory"], t["associationTypeId"])
                         for t in inp.get("types", [{"associationCategory": "HUBSPOT_DEFINED",
                                                     "associationTypeId": 198}])}
                self.links.setdefault((a, b), set()).update(types)
                if endpoint == "batch/create":
                    results.append({"fromObjectTypeId": "0-49", "fromObjectId": int(a),
                                    "toObjectTypeId": "0-1", "toObjectId": int(b),
                                    "labels": []})
                else:
                    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 198}
                    results.append({"from": {"id": a}, "to": {"id": b},
                                    "associationSpec": spec})
                    results.append({"from": {"id": b}, "to": {"id": a},
                                    "associationSpec": {**spec, "associationTypeId": 197}})
            return self._envelope(201 if endpoint == "batch/create" else 200, results, errors)
        if endpoint == "batch/archive":
            for inp in inputs:
                for to in inp["to"]:
                    self.links.pop((inp["from"]["id"], to["id"]), None)
            return Response(status=204, headers={}, body=b"")
        if endpoint == "batch/labels/archive":
            for inp in inputs:
                kept = self.links.get((inp["from"]["id"], inp["to"]["id"]), set())
                kept -= {(t["associationCategory"], t["associationTypeId"])
                         for t in inp["types"]}
            return Response(status=204, headers={}, body=b"")
        if endpoint == "batch/read":
            for inp in inputs:
                a = inp["id"]
                targets = sorted(b for (x, b) in self.links if x == a)
                if not targets:
                    errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                                   "message": f"No contacts are associated with email {a}"})
                    continue
                start = int(inp.get("after", "0"))
                page = targets[start:start + 2]  # tiny pages: paging is exercised
                entry: dict[str, Any] = {"from": {"id": a}, "to": [
                    {"toObjectId": int(b), "associationTypes": [
                        {"category": c, "typeId": t, "label": None}
                        for c, t in sorted(self.links[(a, b)])]} for b in page]}
                if start + 2 < len(targets):
                    entry["paging"] = {"next": {"after": str(start + 2)}}
                results.append(entry)
            return self._envelope(200, results, errors)
        return json_response(404, {"status": "error", "message": "resource not found"})


def client(server: V4) -> tuple[HubSpot, MockTransport]:
    transport = MockTransport(server)
    return HubSpot(transport=transport), transport


async def test_concurrent_associations_coalesce_into_v4_batches() -> None:
    server = V4()
    hs, transport = client(server)
    async with hs:
        await asyncio.gather(*(hs.emails.associate(str(1000 + i), "contacts", 600 + i)
                               for i in range(250)))
    sent = transport.requests_to("v4 batch/associate/default")
    assert sorted(len(r.json["inputs"]) for r in sent) == [50, 100, 100]
    assert len(transport.requests) == 3
    assert len(server.links) == 250
    assert all(types == {("HUBSPOT_DEFINED", 198)} for types in server.links.values())


async def test_a_label_is_looked_up_once_and_sent_as_its_type() -> None:
    server = V4()
    hs, transport = client(server)
    async with hs:
        await asyncio.gather(*(hs.emails.associate(str(1000 + i), "contacts", 600 + i,
                                                   label="decision MAKER")
                               for i in range(40)))
        assert server.label_reads == 1
        (request,) = transport.requests_to("v4 batch/create")
        assert request.json["inputs"][0]["types"] == [
            {"associationCategory": "USER_DEFINED", "associationTypeId": 7}]
        with pytest.raises(InvalidInputError, match="'Billing contact', 'Decision maker'"):
            await hs.emails.associate("1", "contacts", 2, label="Champion")
        labels = await hs.emails.association_labels("contacts")
        assert [(label.category, label.type_id) for label in labels][1] == (
            AssociationCategory.USER_DEFINED, 7)
    assert server.label_reads == 1


async def test_a_failed_pair_gets_its_own_error_and_its_neighbours_succeed() -> None:
    server = V4(missing=frozenset({"602"}))
    hs, transport = client(server)
    async with hs:
        outcomes = await asyncio.gather(
            *(hs.emails.associate(str(1000 + i), "contacts", 600 + i) for i in range(5)),
            return_exceptions=True)
        assert hs.stats.link_resends == 1
    assert [o is None for o in outcomes] == [True, True, False, True, True]
    failed = outcomes[2]
    assert isinstance(failed, NotFoundError) and "602" in str(failed)
    # the batch of five, then the one pair the 207 left open, alone
    assert [len(r.json["inputs"]) for r in transport.requests] == [5, 1]


async def test_unassociate_all_types_or_one_label() -> None:
    server = V4()
    hs, transport = client(server)
    async with hs:
        await hs.emails.associate("1", "contacts", 601, label="Decision maker")
        await hs.emails.associate("1", "contacts", 601)
        await hs.emails.unassociate("1", "contacts", 601, label="Decision maker")
        assert server.links[("1", "601")] == {("HUBSPOT_DEFINED", 198)}
        await hs.emails.unassociate("1", "contacts", 601)
        assert ("1", "601") not in server.links
    endpoints = [r.endpoint for r in transport.requests if r.endpoint != "v4 labels"]
    assert endpoints == ["v4 batch/create", "v4 batch/associate/default",
                         "v4 batch/labels/archive", "v4 batch/archive"]
    assert transport.requests_to("v4 batch/archive")[0].json == {
        "inputs": [{"from": {"id": "1"}, "to": [{"id": "601"}]}]}


async def test_associate_many_yields_an_outcome_per_pair_and_bad_pairs_fail_alone() -> None:
    server = V4(missing=frozenset({"605"}))
    hs, _ = client(server)
    pairs: list[Any] = [(str(i), Association.contact(600 + i, label="Billing contact"))
                        for i in range(10)]
    pairs.insert(3, ("x", "not an association"))
    async with hs:
        outcomes = [o async for o in hs.emails.associate_many(pairs, ordered=True)]
    assert [o.ok for o in outcomes] == [True] * 3 + [False] + [True] * 2 + [False] + [True] * 4
    assert isinstance(outcomes[3].error, InvalidInputError)
    assert outcomes[3].error.field == "association"
    assert isinstance(outcomes[6].error, APIError)
    assert len(server.links) == 9


async def test_associations_many_reads_every_page_of_every_record() -> None:
    server = V4()
    hs, transport = client(server)
    async with hs:
        await asyncio.gather(*(hs.emails.associate("1", "contacts", c) for c in range(601, 606)),
                             hs.emails.associate("2", "contacts", 700))
        found = await hs.emails.associations_many(["1", 2, "3"], "contacts")
        with pytest.raises(InvalidInputError) as err:
            await hs.emails.associations_many(["1", ""], "contacts")
    assert err.value.field == "record_ids[1]"
    assert {k: [r.id for r in v] for k, v in found.items()} == {
        "1": ["601", "602", "603", "604", "605"], "2": ["700"], "3": []}
    assert found["2"][0].types[0].type_id == 198
    reads = transport.requests_to("v4 batch/read")
    assert [len(r.json["inputs"]) for r in reads] == [3, 1, 1]
