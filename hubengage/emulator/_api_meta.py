"""The emulator's properties and owners APIs: HTTP framing over ``_properties`` and ``_owners``.

``/crm/v3/properties/{objectType}`` (list, read, create, update, archive; batch read,
create, archive; property groups) for every object type the store knows, by name or type
id, and ``/crm/v3/owners`` (a page, one owner by id or user id). Paths, query parameters and
bodies follow S-PROPS and S-OWN, as HubSpot's Python SDK (``hubspot.crm.properties``,
``hubspot.crm.owners``) calls them; the rules are in ``docs/hubspot-wire.md`` §9, the open
points in §8. Requests reach these handlers through ``_app`` after auth, rate limits, faults
and latency, like every other endpoint; each route has its own endpoint name
(``properties/create``, ``owners/list``, …) for stats and fault matching. A property
created here is at once part of its type's schema: the store validates writes against it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ._caps import MAX_OWNERS_PAGE_SIZE
from ._common import ApiError, validation_error
from ._http import archived_query, with_next_page
from ._properties import PropertyDef
from ._store import Store

__all__ = ["MetaApi"]

Result = tuple[int, Any]
Handler = Callable[[web.Request], Any]

#: Owners per page when ``limit`` is not given (S-OWN's default).
DEFAULT_OWNERS_PAGE_SIZE = 100


class MetaApi:
    """Routes and handlers of the properties and owners APIs over one store.

    ``batch_envelope`` and ``read_body`` are the application's (one envelope and one body
    parser for every API the emulator serves).
    """

    def __init__(self, store: Store,
                 batch_envelope: Callable[[int, list[Any], list[Any]], Result],
                 read_body: Callable[[web.Request], Awaitable[Any]]) -> None:
        self.store = store
        self._batch = batch_envelope
        self._body = read_body

    # -- routing --------------------------------------------------------------------------

    def route(self, method: str, parts: list[str]) -> tuple[str, Handler] | None:
        """The (endpoint name, handler) for a ``/crm/v3/...`` path split into ``parts``."""
        if len(parts) < 3 or parts[:2] != ["crm", "v3"]:
            return None
        if parts[2] == "owners":
            return self._route_owners(method, parts[3:])
        if parts[2] == "properties" and len(parts) >= 4:
            return self._route_properties(method, parts[4:])
        return None

    def _route_owners(self, method: str, rest: list[str]) -> tuple[str, Handler] | None:
        if method != "GET":
            return None
        if not rest:
            return "owners/list", self.list_owners
        if len(rest) == 1:
            return "owners/get", self.get_owner
        return None

    def _route_properties(self, method: str, rest: list[str]) -> tuple[str, Handler] | None:
        n = len(rest)
        if n == 0:
            return {"GET": ("properties/list", self.list_properties),
                    "POST": ("properties/create", self.create_property)}.get(method)
        if rest[0] == "batch" and n == 2 and method == "POST":
            handlers = {"read": self.batch_read, "create": self.batch_create,
                        "archive": self.batch_archive}
            handler = handlers.get(rest[1])
            return (f"properties/batch/{rest[1]}", handler) if handler else None
        if rest[0] == "groups":
            if n == 1:
                return {"GET": ("properties/groups/list", self.list_groups),
                        "POST": ("properties/groups/create", self.create_group)}.get(method)
            if n == 2:
                return {"GET": ("properties/groups/get", self.get_group),
                        "PATCH": ("properties/groups/update", self.update_group),
                        "DELETE": ("properties/groups/archive", self.archive_group),
                        }.get(method)
            return None
        if n == 1:
            return {"GET": ("properties/get", self.get_property),
                    "PATCH": ("properties/update", self.update_property),
                    "DELETE": ("properties/archive", self.archive_property)}.get(method)
        return None

    # -- helpers --------------------------------------------------------------------------

    def _type(self, request: web.Request) -> Any:
        return self.store.type(self._segment(request, 3))

    @staticmethod
    def _segment(request: web.Request, index: int) -> str:
        return [p for p in request.path.split("/") if p][index]

    @staticmethod
    def _inputs(body: Any) -> list[Any]:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise validation_error("inputs must be an array of objects", field=["inputs"])
        return inputs

    @staticmethod
    def _item_error(exc: ApiError, name: str) -> dict[str, Any]:
        """One entry of a 207 ``errors[]`` for the input naming property ``name``.

        ``errors`` and ``links`` are present (S-PROPS' ``StandardError`` requires them and
        HubSpot's Python SDK checks required fields when it reads a response)."""
        out = exc.as_item_error({"name": [name]})
        out.setdefault("errors", [])
        out.setdefault("links", {})
        return out

    def _created(self, t: Any, prop: PropertyDef) -> None:
        if prop.has_unique_value:
            t.unique_index(prop.name)

    # -- properties -----------------------------------------------------------------------

    async def list_properties(self, request: web.Request) -> Result:
        """``GET /crm/v3/properties/{t}``: ``{"results": [Property]}`` (``archived``,
        ``properties`` = names to return)."""
        t = self._type(request)
        names = _csv(request, "properties")
        listed = t.schema.listed(archived=archived_query(request))
        return 200, {"results": [p.wire() for p in listed if names is None or p.name in names]}

    async def get_property(self, request: web.Request) -> Result:
        """``GET /crm/v3/properties/{t}/{name}``: the property, or 404."""
        t = self._type(request)
        name = self._segment(request, 4)
        prop = t.schema.get(name, archived=archived_query(request))
        if prop is None:
            raise t.schema.missing(name)
        return 200, prop.wire()

    async def create_property(self, request: web.Request) -> Result:
        """``POST /crm/v3/properties/{t}``: 201 with the property."""
        t = self._type(request)
        prop = t.schema.create(await self._body(request), self.store.now())
        self._created(t, prop)
        return 201, prop.wire()

    async def update_property(self, request: web.Request) -> Result:
        """``PATCH /crm/v3/properties/{t}/{name}``: 200 with the property."""
        t = self._type(request)
        prop = t.schema.update(self._segment(request, 4), await self._body(request),
                               self.store.now())
        return 200, prop.wire()

    async def archive_property(self, request: web.Request) -> Result:
        """``DELETE /crm/v3/properties/{t}/{name}``: 204 (404 for a missing property)."""
        t = self._type(request)
        t.schema.archive(self._segment(request, 4), self.store.now())
        return 204, None

    async def batch_read(self, request: web.Request) -> Result:
        """``POST .../batch/read``: 200, or 207 with one error naming the missing ones."""
        t = self._type(request)
        body = await self._body(request)
        inputs = self._inputs(body)
        archived = body.get("archived") is True
        results, missing = [], []
        for inp in inputs:
            name = str(inp.get("name", ""))
            prop = t.schema.get(name, archived=archived)
            if prop is None:
                missing.append(name)
            else:
                results.append(prop.wire())
        errors = []
        if missing:
            errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                           "message": f"Could not find some properties on object type "
                                      f"{t.ot.type_id}: {', '.join(missing)}",
                           "context": {"name": missing}, "errors": [], "links": {}})
        return self._batch(200, results, errors)

    async def batch_create(self, request: web.Request) -> Result:
        """``POST .../batch/create``: 201, or 207 with an error per refused input."""
        t = self._type(request)
        inputs = self._inputs(await self._body(request))
        now = self.store.now()
        results, errors = [], []
        for inp in inputs:
            try:
                prop = t.schema.create(inp, now)
            except ApiError as exc:
                errors.append(self._item_error(exc, str(inp.get("name", ""))))
                continue
            self._created(t, prop)
            results.append(prop.wire())
        return self._batch(201, results, errors)

    async def batch_archive(self, request: web.Request) -> Result:
        """``POST .../batch/archive``: 204 whatever each property's state (S-PROPS);
        HubSpot's own properties cannot be archived (400)."""
        t = self._type(request)
        inputs = self._inputs(await self._body(request))
        names = [str(inp.get("name", "")) for inp in inputs]
        for name in names:
            prop = t.schema.get(name)
            if prop is not None and prop.hubspot_defined:
                raise validation_error(
                    f"Property {name} is defined by HubSpot and cannot be archived",
                    name=[name])
        now = self.store.now()
        for name in names:
            t.schema.archive(name, now, missing_ok=True)
        return 204, None

    # -- property groups ------------------------------------------------------------------

    async def list_groups(self, request: web.Request) -> Result:
        """``GET /crm/v3/properties/{t}/groups``: ``{"results": [PropertyGroup]}``."""
        t = self._type(request)
        return 200, {"results": [g.wire() for g in t.schema.groups.values() if not g.archived]}

    async def get_group(self, request: web.Request) -> Result:
        t = self._type(request)
        return 200, t.schema.group(self._segment(request, 5)).wire()

    async def create_group(self, request: web.Request) -> Result:
        t = self._type(request)
        return 201, t.schema.create_group(await self._body(request)).wire()

    async def update_group(self, request: web.Request) -> Result:
        t = self._type(request)
        group = t.schema.update_group(self._segment(request, 5), await self._body(request))
        return 200, group.wire()

    async def archive_group(self, request: web.Request) -> Result:
        t = self._type(request)
        t.schema.archive_group(self._segment(request, 5))
        return 204, None

    # -- owners ---------------------------------------------------------------------------

    async def list_owners(self, request: web.Request) -> Result:
        """``GET /crm/v3/owners``: a page (``limit``, ``after``, ``email``, ``archived``)."""
        raw = request.query.get("limit", str(DEFAULT_OWNERS_PAGE_SIZE))
        try:
            limit = int(raw)
        except ValueError:
            raise validation_error(f"limit must be an integer, got {raw!r}",
                                   limit=[raw]) from None
        if not 0 < limit <= MAX_OWNERS_PAGE_SIZE:
            raise validation_error(f"limit must be between 1 and {MAX_OWNERS_PAGE_SIZE}",
                                   limit=[raw])
        page, next_after = self.store.owners.page(
            email=request.query.get("email") or None, archived=archived_query(request),
            after=request.query.get("after") or None, limit=limit)
        return 200, with_next_page(request, {"results": [o.wire() for o in page]}, next_after)

    async def get_owner(self, request: web.Request) -> Result:
        """``GET /crm/v3/owners/{ownerId}?idProperty=id|userId&archived=``: 200 or 404."""
        key = self._segment(request, 3)
        id_property = request.query.get("idProperty", "id")
        if id_property not in ("id", "userId"):
            raise validation_error(
                f"idProperty must be one of id, userId; got {id_property!r}",
                idProperty=[id_property])
        if not key.isdigit():
            raise validation_error(f"ownerId must be an integer, got {key!r}", ownerId=[key])
        owner = self.store.owners.find(key, by_user_id=id_property == "userId",
                                       archived=archived_query(request))
        if owner is None:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"Owner {key} not found",
                           context={"id": [key]})
        return 200, owner.wire()


def _csv(request: web.Request, name: str) -> set[str] | None:
    values = request.query.getall(name, [])
    if not values:
        return None
    return {v for value in values for v in value.split(",") if v}
