"""The v4 association endpoints: records' associations, labels and limits (HTTP framing only).

Paths, bodies and status codes follow HubSpot's v4 specs and the official Python SDK's
``hubspot.crm.associations.v4`` (``docs/hubspot-wire.md`` §5.1): the association details API
under ``/crm/v4/objects/{t}/{id}/associations/...`` and ``/crm/v4/associations/{from}/{to}/
batch/...``, the labels API ``/crm/v4/associations/{from}/{to}/labels`` and the limits API
``/crm/v4/associations/definitions/configurations/...``. The data rules (types, labels,
limits, the one association store v3 shares) are ``_store``'s and ``_associations``'; this
module parses requests and shapes answers. Every route goes through ``_app``'s one handler
(auth, rate limits, faults, latency) under an endpoint name of :data:`ENDPOINTS`; batch
answers use ``_app``'s envelope (``startedAt`` at arrival, results shuffled). Object types are
named by name or type id on both sides, as in v3.

Where the sources are silent the least helpful reading holds (§8): a failed batch input is
named only in its error's ``message`` (``context`` is ``{}``) unless ``v4_error_context``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from .._constants import (
    MAX_ASSOCIATIONS_BATCH,
    MAX_ASSOCIATIONS_BATCH_READ,
    MAX_ASSOCIATIONS_PAGE_SIZE,
)
from ._associations import CATEGORIES, AssociationType, Spec
from ._common import ApiError, not_found, validation_error
from ._config import EmulatorConfig
from ._http import with_next_page
from ._store import Record, Store, parse_spec

__all__ = ["ENDPOINTS", "V4Api"]

Result = tuple[int, Any]
Handler = Callable[[web.Request], Awaitable[Result]]
#: The batch envelope ``_app`` stamps: (success status, results, errors) -> (status, body).
Envelope = Callable[[int, list[Any], list[Any]], Result]

#: The endpoint names v4 requests are counted under (``requests`` stats, fault matching:
#: ``@v4`` matches every one, ``@v4/batch`` the batches).
ENDPOINTS = (
    "v4/batch/create", "v4/batch/associate/default", "v4/batch/read", "v4/batch/archive",
    "v4/batch/labels/archive", "v4/associate", "v4/unassociate", "v4/associations",
    "v4/labels", "v4/limits",
)


class V4Api:
    """The v4 association handlers over one :class:`Store`."""

    def __init__(self, store: Store, config: EmulatorConfig, envelope: Envelope,
                 read_body: Callable[[web.Request], Awaitable[Any]]) -> None:
        self.store = store
        self.config = config
        self.envelope = envelope
        self.read_body = read_body

    # -- routing --------------------------------------------------------------------------

    def route(self, method: str, parts: list[str]) -> tuple[str, Handler] | None:
        """The endpoint name and handler for ``/crm/v4/...`` split into ``parts``."""
        if len(parts) < 3 or parts[:2] != ["crm", "v4"]:
            return None
        rest = parts[2:]
        if rest[0] == "objects":
            return self._route_objects(method, rest[1:])
        if rest[0] == "associations":
            if rest[1:3] == ["definitions", "configurations"]:
                return self._route_limits(method, rest[3:])
            return self._route_pair(method, rest[1:])
        return None

    def _bind(self, name: str, handler: Callable[..., Awaitable[Result]],
              *args: str) -> tuple[str, Handler]:
        return name, functools.partial(handler, *args)

    def _route_objects(self, method: str, p: list[str]) -> tuple[str, Handler] | None:
        # {t}/{id}/associations/{toT}[/{toId}] or {t}/{id}/associations/default/{toT}/{toId}
        if len(p) < 4 or p[2] != "associations":
            return None
        t, rid = p[0], p[1]
        if len(p) == 4 and method == "GET":
            return self._bind("v4/associations", self.get_page, t, rid, p[3])
        if len(p) == 6 and p[3] == "default" and method == "PUT":
            return self._bind("v4/associate", self.put_default, t, rid, p[4], p[5])
        if len(p) == 5 and method == "PUT":
            return self._bind("v4/associate", self.put_labels, t, rid, p[3], p[4])
        if len(p) == 5 and method == "DELETE":
            return self._bind("v4/unassociate", self.delete, t, rid, p[3], p[4])
        return None

    def _route_pair(self, method: str, p: list[str]) -> tuple[str, Handler] | None:
        # {from}/{to}/batch/..., {from}/{to}/labels[/{typeId}]
        if len(p) < 3:
            return None
        a, b, tail = p[0], p[1], p[2:]
        if tail[0] == "labels":
            if len(tail) == 1 and method in ("GET", "POST", "PUT"):
                handler = {"GET": self.list_labels, "POST": self.create_label,
                           "PUT": self.update_label}[method]
                return self._bind("v4/labels", handler, a, b)
            if len(tail) == 2 and method == "DELETE":
                return self._bind("v4/labels", self.delete_label, a, b, tail[1])
            return None
        if tail[0] != "batch" or method != "POST":
            return None
        op = "/".join(tail[1:])
        handlers = {"create": self.batch_create, "associate/default": self.batch_default,
                    "read": self.batch_read, "archive": self.batch_archive,
                    "labels/archive": self.batch_labels_archive}
        if op not in handlers:
            return None
        return self._bind(f"v4/batch/{op}", handlers[op], a, b)

    def _route_limits(self, method: str, p: list[str]) -> tuple[str, Handler] | None:
        # all | {from}/{to} | {from}/{to}/batch/{create,update,purge}
        if p == ["all"] and method == "GET":
            return self._bind("v4/limits", self.list_limits)
        if len(p) == 2 and method == "GET":
            return self._bind("v4/limits", self.list_limits, p[0], p[1])
        if len(p) == 4 and p[2] == "batch" and method == "POST":
            handlers = {"create": self.limits_create, "update": self.limits_update,
                        "purge": self.limits_purge}
            if p[3] in handlers:
                return self._bind("v4/limits", handlers[p[3]], p[0], p[1])
        return None

    # -- shared pieces --------------------------------------------------------------------

    def _pair(self, a: str, b: str) -> tuple[Any, Any]:
        return self.store.type(a), self.store.type(b)

    def _id(self, rid: str) -> int | str:
        """A record id as HubSpot's v4 examples write it (a number) or as the spec types it."""
        return int(rid) if self.config.v4_numeric_ids and rid.isdigit() else rid

    def _error(self, category: str, message: str, **context: list[str]) -> dict[str, Any]:
        """One entry of a v4 207 ``errors[]``; ``context`` only with ``v4_error_context``."""
        return {"status": "error", "category": category, "message": message,
                "context": dict(context) if self.config.v4_error_context else {}}

    def _missing(self, t: Any, rid: str, side: str) -> dict[str, Any]:
        return self._error("OBJECT_NOT_FOUND",
                           f"No {t.ot.singular} with id {rid} exists", **{side: [rid]})

    async def _inputs(self, request: web.Request, cap: int) -> list[dict[str, Any]]:
        body = await self.read_body(request)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise validation_error("inputs must be an array", inputs=[])
        if len(inputs) > cap:
            raise validation_error(
                f"The maximum number of inputs supported in a batch is {cap}. "
                "Please reduce the number of items and try again")
        for i, inp in enumerate(inputs):
            if not isinstance(inp, dict):
                raise validation_error(f"inputs[{i}] must be an object")
        return inputs

    @staticmethod
    def _object_id(inp: Mapping[str, Any], key: str, i: int) -> str:
        """``inputs[i].{key}.id`` as a string; 400 naming the field."""
        ref = inp.get(key)
        rid = ref.get("id") if isinstance(ref, dict) else None
        if isinstance(rid, bool) or not isinstance(rid, (str, int)) or str(rid) == "":
            raise validation_error(f"inputs[{i}].{key}.id is required",
                                   field=[f"inputs[{i}].{key}.id"])
        return str(rid)

    @staticmethod
    def _specs(raw: Any, where: str) -> list[Spec]:
        if not isinstance(raw, list) or not raw:
            raise validation_error(f"{where} must be a non-empty array of "
                                   "{associationCategory, associationTypeId}", field=[where])
        return [parse_spec(item) for item in raw]

    def _labels_between(self, rec: Record, to_name: str, to_id: str) -> list[str]:
        schema = self.store.schema
        return [label for spec in sorted(rec.assoc.get(to_name, {}).get(to_id, ()),
                                         key=lambda s: (s[0], s[1]))
                if (label := schema.label_of(spec)) is not None]

    def _pair_result(self, t: Any, rec: Record, to_t: Any, to_id: str) -> dict[str, Any]:
        """``LabelsBetweenObjectPair``."""
        return {"fromObjectTypeId": t.ot.type_id, "fromObjectId": self._id(rec.id),
                "toObjectTypeId": to_t.ot.type_id, "toObjectId": self._id(to_id),
                "labels": self._labels_between(rec, to_t.name, to_id)}

    def _link_errors(self, t: Any, rec: Record, to_t: Any, target: Record,
                     specs: list[Spec]) -> dict[str, Any] | None:
        """Validate types and limits for one association; its 207 error, or None."""
        for spec in specs:
            if self.store.schema.get(t.name, to_t.name, *spec) is None:
                return self._error(
                    "VALIDATION_ERROR",
                    f"{spec[0]} {spec[1]} is not a valid association type from "
                    f"{t.ot.type_id} to {to_t.ot.type_id}",
                    fromObjectId=[rec.id], toObjectId=[target.id],
                    associationTypeId=[str(spec[1])])
        try:
            self.store.check_limits(t, rec, rec.id, to_t.name, target, specs)
        except ApiError as exc:
            return self._error("VALIDATION_ERROR", str(exc), fromObjectId=[rec.id],
                               toObjectId=[target.id])
        return None

    def _default_spec(self, t: Any, to_t: Any) -> AssociationType:
        default = self.store.schema.default(t.name, to_t.name)
        if default is None:
            raise validation_error(
                f"There is no default association type from {t.ot.type_id} to "
                f"{to_t.ot.type_id}")
        return default

    def _default_results(self, t: Any, rec_id: str, to_t: Any, to_id: str,
                         default: AssociationType) -> list[dict[str, Any]]:
        """``PublicDefaultAssociation`` both ways (§5.1: SEC-CONST24)."""
        back = default.inverse
        return [
            {"from": {"id": rec_id}, "to": {"id": to_id},
             "associationSpec": {"associationCategory": default.category,
                                 "associationTypeId": default.type_id}},
            {"from": {"id": to_id}, "to": {"id": rec_id},
             "associationSpec": {"associationCategory": back[0],
                                 "associationTypeId": back[1]}},
        ]

    def _targets(self, rec: Record, to_name: str, after: str | None,
                 limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``MultiAssociatedObjectWithLabel`` and the next cursor (a to id)."""
        rows = self.store.associated(rec, to_name)
        if after is not None:
            start = int(after) if after.isdigit() else 0
            rows = [row for row in rows if (int(row[0]) if row[0].isdigit() else 0) >= start]
        page, rest = rows[:limit], rows[limit:]
        types = self.store.schema.types
        out = [{"toObjectId": self._id(to_id),
                "associationTypes": [
                    types[s].wire() if s in types
                    else {"category": s[0], "typeId": s[1], "label": None}
                    for s in specs]}
               for to_id, specs in page]
        return out, (rest[0][0] if rest else None)

    # -- association details: single record ----------------------------------------------

    def _live(self, t: Any, rid: str) -> Record:
        rec = self.store.live(t.name, rid)
        if rec is None:
            raise not_found(rid)
        return rec

    async def get_page(self, a: str, rid: str, b: str, request: web.Request) -> Result:
        """``GET /crm/v4/objects/{t}/{id}/associations/{toT}?limit&after``: 200."""
        t, to_t = self._pair(a, b)
        rec = self._live(t, rid)
        raw = request.query.get("limit", str(MAX_ASSOCIATIONS_PAGE_SIZE))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_ASSOCIATIONS_PAGE_SIZE:
            raise validation_error(
                f"limit must be an integer from 1 to {MAX_ASSOCIATIONS_PAGE_SIZE}",
                limit=[raw])
        results, after = self._targets(rec, to_t.name, request.query.get("after"), int(raw))
        return 200, with_next_page(request, {"results": results}, after)

    async def put_default(self, a: str, rid: str, b: str, to_id: str,
                          request: web.Request) -> Result:
        """``PUT .../associations/default/{toT}/{toId}``: 200, both directions."""
        t, to_t = self._pair(a, b)
        default = self._default_spec(t, to_t)
        rec = self._live(t, rid)
        target = self._live(to_t, to_id)
        self.store.link(t, rec, to_t.name, target, [default.spec])
        return self.envelope(200, self._default_results(t, rid, to_t, to_id, default), [])

    async def put_labels(self, a: str, rid: str, b: str, to_id: str,
                         request: web.Request) -> Result:
        """``PUT .../associations/{toT}/{toId}`` with an array of types: 201."""
        t, to_t = self._pair(a, b)
        specs = self._specs(await self.read_body(request), "body")
        rec = self._live(t, rid)
        target = self._live(to_t, to_id)
        for spec in specs:
            if self.store.schema.get(t.name, to_t.name, *spec) is None:
                raise validation_error(
                    f"{spec[0]} {spec[1]} is not a valid association type from "
                    f"{t.ot.type_id} to {to_t.ot.type_id}", associationTypeId=[str(spec[1])])
        self.store.link(t, rec, to_t.name, target, specs)
        return 201, self._pair_result(t, rec, to_t, to_id)

    async def delete(self, a: str, rid: str, b: str, to_id: str,
                     request: web.Request) -> Result:
        """``DELETE .../associations/{toT}/{toId}``: 204 (every type between the two)."""
        t, to_t = self._pair(a, b)
        rec = self._live(t, rid)
        self.store.unassociate(t, rec, to_t.name, to_id)
        return 204, None

    # -- association details: batches -----------------------------------------------------

    async def batch_create(self, a: str, b: str, request: web.Request) -> Result:
        """``batch/create``: 201, or 207 with an error per failed input."""
        t, to_t = self._pair(a, b)
        inputs = await self._inputs(request, MAX_ASSOCIATIONS_BATCH)
        planned = []
        for i, inp in enumerate(inputs):
            planned.append((self._object_id(inp, "from", i), self._object_id(inp, "to", i),
                            self._specs(inp.get("types"), f"inputs[{i}].types")))
        results, errors = [], []
        for rid, to_id, specs in planned:
            rec, target = self.store.live(t.name, rid), self.store.live(to_t.name, to_id)
            if rec is None or target is None:
                errors.append(self._missing(t, rid, "fromObjectId") if rec is None
                              else self._missing(to_t, to_id, "toObjectId"))
                continue
            error = self._link_errors(t, rec, to_t, target, specs)
            if error is not None:
                errors.append(error)
                continue
            self.store.link(t, rec, to_t.name, target, specs)
            results.append((rec, to_id))
        # Results are written after every input is stored: each shows the labels it ends with.
        return self.envelope(201, [self._pair_result(t, rec, to_t, to_id)
                                   for rec, to_id in results], errors)

    async def batch_default(self, a: str, b: str, request: web.Request) -> Result:
        """``batch/associate/default``: 200 with both directions per input; failed inputs
        in ``errors`` of the same 200."""
        t, to_t = self._pair(a, b)
        inputs = await self._inputs(request, MAX_ASSOCIATIONS_BATCH)
        pairs = [(self._object_id(inp, "from", i), self._object_id(inp, "to", i))
                 for i, inp in enumerate(inputs)]
        default = self._default_spec(t, to_t)
        results: list[Any] = []
        errors = []
        for rid, to_id in pairs:
            rec, target = self.store.live(t.name, rid), self.store.live(to_t.name, to_id)
            if rec is None or target is None:
                errors.append(self._missing(t, rid, "fromObjectId") if rec is None
                              else self._missing(to_t, to_id, "toObjectId"))
                continue
            error = self._link_errors(t, rec, to_t, target, [default.spec])
            if error is not None:
                errors.append(error)
                continue
            self.store.link(t, rec, to_t.name, target, [default.spec])
            results.extend(self._default_results(t, rid, to_t, to_id, default))
        # S-A4 declares only 200 here (its body may carry ``errors``), and the official SDK
        # decodes only 200: failed inputs come back in a 200, not a 207 (§5.1).
        return 200, self.envelope(200, results, errors)[1]

    async def batch_read(self, a: str, b: str, request: web.Request) -> Result:
        """``batch/read``: a page of 500 per input (``after`` per input); 200 or 207."""
        t, to_t = self._pair(a, b)
        inputs = await self._inputs(request, MAX_ASSOCIATIONS_BATCH_READ)
        wanted = []
        for i, inp in enumerate(inputs):
            rid, after = inp.get("id"), inp.get("after")
            if isinstance(rid, bool) or not isinstance(rid, (str, int)) or str(rid) == "":
                raise validation_error(f"inputs[{i}].id is required", field=[f"inputs[{i}].id"])
            if after is not None and not isinstance(after, str):
                raise validation_error(f"inputs[{i}].after must be a string",
                                       field=[f"inputs[{i}].after"])
            wanted.append((str(rid), after))
        results, errors = [], []
        for rid, after in wanted:
            rec = self.store.live(t.name, rid)
            if rec is None:
                errors.append(self._missing(t, rid, "fromObjectId"))
                continue
            to, cursor = self._targets(rec, to_t.name, after, MAX_ASSOCIATIONS_PAGE_SIZE)
            entry: dict[str, Any] = {"from": {"id": rid}, "to": to}
            if cursor is not None:
                entry["paging"] = {"next": {"after": cursor}}
            results.append(entry)
        return self.envelope(200, results, errors)

    async def batch_archive(self, a: str, b: str, request: web.Request) -> Result:
        """``batch/archive`` (``{from, to: [...]}``): every type between each pair; 204."""
        t, to_t = self._pair(a, b)
        inputs = await self._inputs(request, MAX_ASSOCIATIONS_BATCH)
        pairs = []
        for i, inp in enumerate(inputs):
            rid = self._object_id(inp, "from", i)
            to = inp.get("to")
            if not isinstance(to, list):
                raise validation_error(f"inputs[{i}].to must be an array of {{id}}",
                                       field=[f"inputs[{i}].to"])
            to_ids = [self._object_id({"to": ref}, "to", i) for ref in to]
            pairs.append((rid, to_ids))
        for rid, to_ids in pairs:
            rec = t.records.get(rid)
            if rec is None:
                continue  # missing records are skipped, as v3 batch archive does (§8)
            for to_id in to_ids:
                self.store.unassociate(t, rec, to_t.name, to_id)
        return 204, None

    async def batch_labels_archive(self, a: str, b: str, request: web.Request) -> Result:
        """``batch/labels/archive``: only the given types (the unlabeled one takes every
        type with it); 204."""
        t, to_t = self._pair(a, b)
        inputs = await self._inputs(request, MAX_ASSOCIATIONS_BATCH)
        planned = [(self._object_id(inp, "from", i), self._object_id(inp, "to", i),
                    self._specs(inp.get("types"), f"inputs[{i}].types"))
                   for i, inp in enumerate(inputs)]
        for rid, to_id, specs in planned:
            rec = t.records.get(rid)
            if rec is not None:
                self.store.unassociate_specs(t, rec, to_t.name, to_id, specs)
        return 204, None

    # -- labels ---------------------------------------------------------------------------

    async def list_labels(self, a: str, b: str, request: web.Request) -> Result:
        """``GET .../labels``: every type from ``a`` to ``b`` (unlabeled: ``label: null``)."""
        t, to_t = self._pair(a, b)
        return 200, {"results": [at.wire() for at in self.store.schema.pair(t.name, to_t.name)]}

    @staticmethod
    def _text(body: Mapping[str, Any], key: str, *, required: bool) -> str | None:
        value = body.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise validation_error(f"{key} must be a non-empty string", field=[key])
        return value

    async def create_label(self, a: str, b: str, request: web.Request) -> Result:
        """``POST .../labels`` ``{label, name, inverseLabel?}``: 200, the new types."""
        t, to_t = self._pair(a, b)
        body = await self.read_body(request)
        if not isinstance(body, dict):
            raise validation_error("Invalid input JSON: expected {label, name, inverseLabel?}")
        label = self._text(body, "label", required=True)
        name = self._text(body, "name", required=True)
        inverse = self._text(body, "inverseLabel", required=False)
        assert label is not None and name is not None
        created = self.store.schema.create_label(t.name, to_t.name, name, label, inverse)
        return 200, {"results": [at.wire() for at in created]}

    async def update_label(self, a: str, b: str, request: web.Request) -> Result:
        """``PUT .../labels`` ``{associationTypeId, label, inverseLabel?}``: 204."""
        t, to_t = self._pair(a, b)
        body = await self.read_body(request)
        if not isinstance(body, dict):
            raise validation_error("Invalid input JSON: expected {associationTypeId, label}")
        type_id = body.get("associationTypeId")
        if isinstance(type_id, bool) or not isinstance(type_id, int):
            raise validation_error("associationTypeId must be an integer",
                                   field=["associationTypeId"])
        label = self._text(body, "label", required=True)
        inverse = self._text(body, "inverseLabel", required=False)
        assert label is not None
        self.store.schema.update_label(t.name, to_t.name, type_id, label, inverse)
        return 204, None

    async def delete_label(self, a: str, b: str, type_id: str,
                           request: web.Request) -> Result:
        """``DELETE .../labels/{associationTypeId}``: 204; associations lose the label."""
        t, to_t = self._pair(a, b)
        if not type_id.isdigit():
            raise validation_error(f"associationTypeId must be an integer, got {type_id}")
        removed = self.store.schema.delete_label(t.name, to_t.name, int(type_id))
        self.store.drop_types(removed)
        return 204, None

    # -- limits ---------------------------------------------------------------------------

    @staticmethod
    def _limit_wire(at: AssociationType, limit: int, *, label: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"category": at.category, "typeId": at.type_id}
        if label and at.label is not None:
            out["label"] = at.label
        out["userEnforcedMaxToObjectIds"] = limit
        return out

    async def list_limits(self, *args: Any) -> Result:
        """``GET .../configurations/all`` or ``.../configurations/{from}/{to}``: 200, the
        configured limits."""
        pair = None
        if len(args) == 3:
            t, to_t = self._pair(args[0], args[1])
            pair = (t.name, to_t.name)
        return 200, {"results": [self._limit_wire(at, limit)
                                 for at, limit in self.store.schema.configured(pair)]}

    @staticmethod
    def _limit_input(inp: Mapping[str, Any], i: int) -> tuple[str, int]:
        category, type_id = inp.get("category"), inp.get("typeId")
        if category not in CATEGORIES:
            raise validation_error(f"inputs[{i}].category must be one of "
                                   f"{', '.join(CATEGORIES)}", field=[f"inputs[{i}].category"])
        if isinstance(type_id, bool) or not isinstance(type_id, int):
            raise validation_error(f"inputs[{i}].typeId must be an integer",
                                   field=[f"inputs[{i}].typeId"])
        return str(category), type_id

    async def _set_limits(self, a: str, b: str, request: web.Request, *,
                          create: bool) -> Result:
        t, to_t = self._pair(a, b)
        inputs = await self._inputs(request, MAX_ASSOCIATIONS_BATCH)
        planned = [(*self._limit_input(inp, i), inp.get("maxToObjectIds"))
                   for i, inp in enumerate(inputs)]
        results, errors = [], []
        for category, type_id, limit in planned:
            try:
                at = self.store.schema.set_limit(t.name, to_t.name, category, type_id, limit,
                                                 create=create)
            except ApiError as exc:
                errors.append(self._error(str(exc.body.get("category", "VALIDATION_ERROR")),
                                          str(exc), typeId=[str(type_id)]))
                continue
            assert isinstance(limit, int)
            results.append(self._limit_wire(at, limit, label=create))
        return self.envelope(201 if create else 200, results, errors)

    async def limits_create(self, a: str, b: str, request: web.Request) -> Result:
        """``.../configurations/{from}/{to}/batch/create``: 201 or 207."""
        return await self._set_limits(a, b, request, create=True)

    async def limits_update(self, a: str, b: str, request: web.Request) -> Result:
        """``.../configurations/{from}/{to}/batch/update``: 200 or 207."""
        return await self._set_limits(a, b, request, create=False)

    async def limits_purge(self, a: str, b: str, request: web.Request) -> Result:
        """``.../configurations/{from}/{to}/batch/purge`` ``{category, typeId}``: 204."""
        t, to_t = self._pair(a, b)
        inputs = await self._inputs(request, MAX_ASSOCIATIONS_BATCH)
        for category, type_id in [self._limit_input(inp, i) for i, inp in enumerate(inputs)]:
            self.store.schema.remove_limit(t.name, to_t.name, category, type_id)
        return 204, None
