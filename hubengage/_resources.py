"""Resources: the per-object-type API (``hs.emails``, ``hs.contacts``, ``hs.objects("0-3")``).

An :class:`ObjectResource` turns a caller's arguments into wire values (through the models'
validation) and hands them to the client's core: writes and reads by id go to the batcher when
batching is on, to the single-record endpoints otherwise; list, search and associations always
use their own endpoints. It re-implements nothing the pipeline or the batcher do.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from ._batcher import ARCHIVE, CREATE, READ, UPDATE, UPSERT
from ._bulk import NewRecord, OnSent, Outcome, RecordUpdate, run_bulk
from ._errors import InvalidInputError
from ._limiter import Bucket
from ._matching import Fingerprint
from ._multistatus import decode, decode_record, page_results
from ._objecttypes import ObjectType, resolve_object_type
from ._search import (
    MAX_SEARCH_PAGE_SIZE,
    SEARCH_RESULT_CAP,
    Filter,
    Sort,
    build_search_body,
    warn_truncated,
)
from ._transport import Request, Response, path_segment
from .models import AssociatedId, Association, CrmObject, to_wire_properties

if TYPE_CHECKING:
    from ._core import ClientCore

__all__ = ["EngagementResource", "ObjectResource", "RecordResource"]

#: HubSpot's page-size cap for list.
MAX_LIST_PAGE_SIZE = 100
#: Inputs a bulk call keeps read but not yet yielded, by default (memory stays flat).
DEFAULT_BULK_WINDOW = 5_000

Inputs = Iterable[Any] | AsyncIterable[Any]

Properties = Mapping[str, object]


def check_record_id(value: object, field: str = "record_id") -> str:
    """A record id (or unique-property value) as HubSpot wants it: a non-empty string (ints
    are converted) that is safe in a URL path (see :func:`path_segment`), whichever endpoint
    the call ends up on."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInputError(f"must be a str or int id, not {type(value).__name__}", field=field)
    text = str(value).strip()
    if not text:
        raise InvalidInputError("must not be empty", field=field)
    path_segment(text, field=field)
    return text


def _csv(values: Sequence[str] | None, field: str) -> str | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise InvalidInputError("must be a list of names, not a string", field=field)
    return ",".join(values)


class ObjectResource:
    """Operations on one CRM object type, by name or type id (``hs.objects("0-3")``).

    Every write accepts a typed model (``Email(...)``) or a plain mapping of property names
    to values. Records come back as frozen :class:`CrmObject` values.
    """

    def __init__(self, core: ClientCore, object_type: str) -> None:
        if not isinstance(object_type, str) or not object_type.strip():
            raise InvalidInputError("must be an object type name or id", field="object_type")
        self._core = core
        known: ObjectType | None = resolve_object_type(object_type)
        #: The known type's description, or None for custom objects.
        self.type_info = known
        #: The name used in paths: the plural name of a known type, else as given.
        self.object_type = known.name if known else object_type.strip()
        self._path = f"/crm/v3/objects/{path_segment(self.object_type, field='object_type')}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.object_type!r})"

    # -- wire helpers -------------------------------------------------------------------

    def _record_path(self, record_id: str) -> str:
        return f"{self._path}/{path_segment(record_id, field='record_id')}"

    def _properties(self, item: Any, *, create: bool) -> dict[str, str]:
        return to_wire_properties(self.object_type, item, create=create)

    def _associations(
        self, associations: Iterable[Association] | None
    ) -> list[dict[str, Any]] | None:
        if associations is None:
            return None
        out = []
        for i, assoc in enumerate(associations):
            if not isinstance(assoc, Association):
                raise InvalidInputError(
                    f"must be an Association, not {type(assoc).__name__}",
                    field=f"associations[{i}]",
                )
            out.append(assoc.to_wire(self.object_type))
        return out

    async def _send(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        json: Any = None,
        params: Sequence[tuple[str, str]] = (),
        bucket: Bucket = Bucket.BURST,
    ) -> Response:
        request = Request(method=method, path=path, params=params, json=json, endpoint=endpoint)
        return await self._core.send(request, bucket=bucket)

    # -- single-record operations -------------------------------------------------------

    async def create(
        self, item: Any, *, associations: Iterable[Association] | None = None
    ) -> CrmObject:
        """Create one record; returns it as HubSpot stored it.

        With batching on (the default), the call joins the next ``batch/create`` request.
        """
        properties = self._properties(item, create=True)
        wire_assocs = self._associations(associations)
        self._core.check_open()
        if self._core.batcher is not None:
            return await self._core.batcher.create(self.object_type, properties, wire_assocs)
        return await self._create_single(properties, wire_assocs)

    async def _create_single(
        self, properties: dict[str, str], associations: builtins.list[dict[str, Any]] | None
    ) -> CrmObject:
        body: dict[str, Any] = {"properties": properties}
        if associations:
            body["associations"] = associations
        return decode_record(CREATE, await self._send("POST", self._path, "create", json=body))

    async def get(
        self,
        record_id: str | int,
        *,
        properties: Sequence[str] | None = None,
        associations: Sequence[str] | None = None,
        archived: bool = False,
        id_property: str | None = None,
    ) -> CrmObject:
        """Read one record by id (or by a unique property with ``id_property``).

        Raises :class:`NotFoundError` when it does not exist. Reads without ``associations``
        are batched into ``batch/read`` when batching is on.
        """
        rid = check_record_id(record_id)
        self._core.check_open()
        if self._core.batcher is not None and not associations:
            return await self._core.batcher.read(
                self.object_type, rid, tuple(properties or ()), archived, id_property
            )
        return await self._get_single(
            rid, tuple(properties or ()), tuple(associations or ()), archived, id_property
        )

    async def _get_single(
        self,
        rid: str,
        properties: Sequence[str],
        associations: Sequence[str],
        archived: bool,
        id_property: str | None,
    ) -> CrmObject:
        params: builtins.list[tuple[str, str]] = [("archived", "true" if archived else "false")]
        props = _csv(properties, "properties")
        if props:
            params.append(("properties", props))
        assocs = _csv(associations, "associations")
        if assocs:
            params.append(("associations", assocs))
        if id_property:
            params.append(("idProperty", id_property))
        path = self._record_path(rid)
        return decode_record(READ, await self._send("GET", path, "get", params=params))

    async def update(
        self, record_id: str | int, item: Any, *, id_property: str | None = None
    ) -> CrmObject:
        """Update properties of one record; ``""`` clears a value. Returns the record.

        Calls on the same id complete in the order they were made.
        """
        rid = check_record_id(record_id)
        properties = self._properties(item, create=False)
        if not properties:
            raise InvalidInputError("nothing to update", field="properties")
        self._core.check_open()
        if self._core.batcher is not None:
            return await self._core.batcher.update(self.object_type, rid, properties, id_property)
        return await self._update_single(rid, properties, id_property)

    async def _update_single(
        self, rid: str, properties: dict[str, str], id_property: str | None
    ) -> CrmObject:
        params = [("idProperty", id_property)] if id_property else []
        path = self._record_path(rid)
        body = {"properties": properties}
        return decode_record(
            UPDATE, await self._send("PATCH", path, "update", json=body, params=params)
        )

    async def archive(self, record_id: str | int) -> None:
        """Archive (delete) one record. Archiving a missing id is not an error (HubSpot: 204)."""
        rid = check_record_id(record_id)
        self._core.check_open()
        if self._core.batcher is not None:
            await self._core.batcher.archive(self.object_type, rid)
            return
        await self._archive_single(rid)

    async def _archive_single(self, rid: str) -> None:
        await self._send("DELETE", self._record_path(rid), "archive")

    async def upsert(self, item: Any, *, id_property: str) -> CrmObject:
        """Create or update one record by a unique-value property (``batch/upsert``).

        ``item`` must carry a value for ``id_property``; ``record.new`` says which happened.
        """
        properties, id_value = self._upsert_input(item, id_property)
        self._core.check_open()
        batcher = self._core.batcher
        if batcher is not None:
            return await batcher.upsert(self.object_type, id_value, properties, id_property)
        return await self._upsert_single(id_value, properties, id_property)

    def _upsert_input(self, item: Any, id_property: str) -> tuple[dict[str, str], str]:
        if not isinstance(id_property, str) or not id_property:
            raise InvalidInputError("must name a unique-value property", field="id_property")
        properties = self._properties(item, create=True)
        id_value = properties.get(id_property)
        if not id_value:
            raise InvalidInputError(
                "the upsert key property must have a value", field=id_property
            )
        return properties, id_value

    async def _upsert_single(
        self, id_value: str, properties: dict[str, str], id_property: str
    ) -> CrmObject:
        """Without the batcher: a one-input ``batch/upsert`` (HubSpot has no single upsert)."""
        body = {"inputs": [{"id": id_value, "idProperty": id_property, "properties": properties}]}
        request = Request(method="POST", path=f"{self._path}/batch/upsert", json=body,
                          endpoint="batch/upsert")
        response = await self._core.send(request)
        decoded = decode(UPSERT, [_Sent(id_value, properties)], response,
                         id_property=id_property)
        outcome = decoded.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome

    # -- bulk -------------------------------------------------------------------------------

    def create_many(
        self,
        items: Inputs,
        *,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: asyncio.Event | None = None,
    ) -> AsyncIterator[Outcome[Any]]:
        """Create a record per input; yield an :class:`Outcome` per input.

        ``items`` is a sync or async iterable of any length of typed models, property
        mappings or :class:`NewRecord` (properties with associations). At most ``window``
        inputs are read and not yet yielded, so memory stays flat. ``ordered=True`` yields in
        input order; by default outcomes come as they complete. An input that fails
        validation yields its ``InvalidInputError`` without being sent. ``on_sent(index)``
        runs right before the request carrying an input is first sent (for journals).
        Setting ``stop`` (an ``asyncio.Event``) ends the run gracefully: no more input is
        read, inputs not yet sent are withdrawn at once (``Outcome.withdrawn``), and those
        in flight complete. If HubSpot rejects the token (401, or 403 for missing scopes)
        the run stops sending: every input not yet sent is yielded withdrawn with that error.
        """
        return run_bulk(items, self._submit_create, window=window, ordered=ordered,
                        stop=stop, on_sent=on_sent)

    def upsert_many(
        self,
        items: Inputs,
        *,
        id_property: str,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: asyncio.Event | None = None,
    ) -> AsyncIterator[Outcome[Any]]:
        """Create or update a record per input by ``id_property`` (a unique-value property).

        Inputs are as for :meth:`create_many` and each must carry a value for
        ``id_property``. Writing by a unique key is idempotent: re-running an upsert after a
        crash writes each record once.
        """
        return run_bulk(items, partial(self._submit_upsert, id_property=id_property),
                        window=window, ordered=ordered, stop=stop, on_sent=on_sent)

    def update_many(
        self,
        items: Inputs,
        *,
        id_property: str | None = None,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: asyncio.Event | None = None,
    ) -> AsyncIterator[Outcome[Any]]:
        """Update a record per input: :class:`RecordUpdate` values or ``(id, properties)``.

        ``window``, ``ordered``, ``on_sent`` and ``stop`` are as for :meth:`create_many`.
        """
        return run_bulk(items, partial(self._submit_update, id_property=id_property),
                        window=window, ordered=ordered, stop=stop, on_sent=on_sent)

    def archive_many(
        self,
        ids: Inputs,
        *,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: asyncio.Event | None = None,
    ) -> AsyncIterator[Outcome[Any]]:
        """Archive a record per id; a success has ``ok`` True and no record.

        ``window``, ``ordered``, ``on_sent`` and ``stop`` are as for :meth:`create_many`.
        """
        return run_bulk(ids, self._submit_archive, window=window, ordered=ordered,
                        stop=stop, on_sent=on_sent)

    def read_many(
        self,
        ids: Inputs,
        *,
        properties: Sequence[str] | None = None,
        archived: bool = False,
        id_property: str | None = None,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        stop: asyncio.Event | None = None,
    ) -> AsyncIterator[Outcome[Any]]:
        """Read a record per id (``batch/read``); a missing id yields ``NotFoundError``."""
        submit = partial(self._submit_read, properties=tuple(properties or ()),
                         archived=archived, id_property=id_property)
        return run_bulk(ids, submit, window=window, ordered=ordered, stop=stop)

    def _new_record(self, value: Any) -> tuple[dict[str, str], list[dict[str, Any]] | None]:
        if isinstance(value, NewRecord):
            return (self._properties(value.properties, create=True),
                    self._associations(value.associations))
        return self._properties(value, create=True), None

    async def _submit(
        self, op: str, on_sent: Callable[[], None], single: Any, **fields: Any
    ) -> asyncio.Future[Any]:
        """Queue one bulk input on the batcher, or run it as a single call without one."""
        self._core.check_open()
        batcher = self._core.batcher
        if batcher is not None:
            future: asyncio.Future[Any] = await batcher.submit(
                self.object_type, op, on_sent=on_sent, **fields
            )
            return future
        on_sent()
        task: asyncio.Future[Any] = asyncio.ensure_future(single())
        return task

    async def _submit_create(
        self, index: int, value: Any, on_sent: Callable[[], None]
    ) -> asyncio.Future[Any]:
        properties, assocs = self._new_record(value)
        return await self._submit(
            CREATE, on_sent, partial(self._create_single, properties, assocs),
            properties=properties, associations=assocs,
        )

    async def _submit_upsert(
        self, index: int, value: Any, on_sent: Callable[[], None], *, id_property: str
    ) -> asyncio.Future[Any]:
        properties, id_value = self._upsert_input(
            value.properties if isinstance(value, NewRecord) else value, id_property
        )
        return await self._submit(
            UPSERT, on_sent, partial(self._upsert_single, id_value, properties, id_property),
            key=id_value, properties=properties, id_property=id_property,
        )

    async def _submit_update(
        self, index: int, value: Any, on_sent: Callable[[], None], *, id_property: str | None
    ) -> asyncio.Future[Any]:
        if isinstance(value, RecordUpdate):
            rid, item = value.id, value.properties
        elif isinstance(value, tuple) and len(value) == 2:
            rid, item = value
        else:
            raise InvalidInputError(
                f"must be a RecordUpdate or an (id, properties) pair, not {type(value).__name__}",
                field="items",
            )
        key = check_record_id(rid)
        properties = self._properties(item, create=False)
        if not properties:
            raise InvalidInputError("nothing to update", field="properties")
        return await self._submit(
            UPDATE, on_sent, partial(self._update_single, key, properties, id_property),
            key=key, properties=properties, id_property=id_property,
        )

    async def _submit_archive(
        self, index: int, value: Any, on_sent: Callable[[], None]
    ) -> asyncio.Future[Any]:
        key = check_record_id(value)
        return await self._submit(
            ARCHIVE, on_sent, partial(self._archive_single, key), key=key
        )

    async def _submit_read(
        self,
        index: int,
        value: Any,
        on_sent: Callable[[], None],
        *,
        properties: tuple[str, ...],
        archived: bool,
        id_property: str | None,
    ) -> asyncio.Future[Any]:
        key = check_record_id(value)
        return await self._submit(
            READ, on_sent, partial(self._get_single, key, properties, (), archived, id_property),
            key=key, read_properties=properties, archived=archived, id_property=id_property,
        )

    # -- list and search ------------------------------------------------------------------

    async def list(
        self,
        *,
        properties: Sequence[str] | None = None,
        associations: Sequence[str] | None = None,
        archived: bool = False,
        page_size: int = MAX_LIST_PAGE_SIZE,
    ) -> AsyncIterator[CrmObject]:
        """Every record of the type, page by page (``paging.next.after``), oldest id first."""
        if not 1 <= page_size <= MAX_LIST_PAGE_SIZE:
            raise InvalidInputError(f"must be 1..{MAX_LIST_PAGE_SIZE}", field="page_size")
        base: list[tuple[str, str]] = [
            ("limit", str(page_size)),
            ("archived", "true" if archived else "false"),
        ]
        props = _csv(properties, "properties")
        if props:
            base.append(("properties", props))
        assocs = _csv(associations, "associations")
        if assocs:
            base.append(("associations", assocs))
        after: str | None = None
        while True:
            self._core.check_open()
            params = [*base, ("after", after)] if after else base
            results, page = page_results(
                await self._send("GET", self._path, "list", params=params)
            )
            for raw in results:
                yield CrmObject.from_wire(raw)
            after = _next_after(page)
            if after is None:
                return

    async def search(
        self,
        *,
        filters: Sequence[Filter] | None = None,
        filter_groups: Sequence[Sequence[Filter]] | None = None,
        sorts: Sequence[Sort] | None = None,
        query: str | None = None,
        properties: Sequence[str] | None = None,
        page_size: int = MAX_SEARCH_PAGE_SIZE,
    ) -> AsyncIterator[CrmObject]:
        """Records matching a search, page by page, under the search rate limit.

        ``filters`` are ANDed; ``filter_groups`` (lists of filters) are ORed. HubSpot returns
        at most 10,000 results per query: past that the iterator stops and warns
        (:class:`SearchResultsTruncatedWarning`). Search is eventually consistent in HubSpot:
        a record written a moment ago may not be found yet.
        """
        if not 1 <= page_size <= MAX_SEARCH_PAGE_SIZE:
            raise InvalidInputError(f"must be 1..{MAX_SEARCH_PAGE_SIZE}", field="page_size")
        body = build_search_body(
            filters=filters,
            filter_groups=filter_groups,
            sorts=sorts,
            query=query,
            properties=properties,
            limit=page_size,
        )
        path = f"{self._path}/search"
        offset = 0
        while True:
            self._core.check_open()
            limit = min(page_size, SEARCH_RESULT_CAP - offset)
            page_body = {**body, "limit": limit}
            if offset:
                page_body["after"] = str(offset)
            results, page = page_results(
                await self._send("POST", path, "search", json=page_body, bucket=Bucket.SEARCH)
            )
            for raw in results:
                yield CrmObject.from_wire(raw)
            offset += len(results)
            after = _next_after(page)
            if after is None or not results:
                return
            offset = int(after) if after.isdigit() else offset
            if offset >= SEARCH_RESULT_CAP:
                warn_truncated(self.object_type, int(page.get("total", offset)))
                return

    # -- associations ---------------------------------------------------------------------

    def _association_path(
        self, record_id: str | int, to_type: str, to_id: str | int | None = None
    ) -> tuple[str, str]:
        rid = check_record_id(record_id)
        target = resolve_object_type(to_type)
        to_name = target.name if target else to_type
        path = f"{self._record_path(rid)}/associations/{path_segment(to_name, field='to_type')}"
        if to_id is not None:
            path += f"/{path_segment(check_record_id(to_id, 'to_id'), field='to_id')}"
        return path, to_name

    def _association_type(self, to_name: str, to_id: str | int, type_id: int | None) -> int:
        return int(
            Association.to(to_name, to_id, type_id=type_id).to_wire(self.object_type)["types"][0][
                "associationTypeId"
            ]
        )

    async def associate(
        self, record_id: str | int, to_type: str, to_id: str | int, *, type_id: int | None = None
    ) -> None:
        """Associate a record with another (default HUBSPOT_DEFINED type unless ``type_id``)."""
        path, to_name = self._association_path(record_id, to_type, to_id)
        tid = self._association_type(to_name, to_id, type_id)
        await self._send("PUT", f"{path}/{tid}", "associations")

    async def unassociate(
        self, record_id: str | int, to_type: str, to_id: str | int, *, type_id: int | None = None
    ) -> None:
        """Remove an association (the default type unless ``type_id``)."""
        path, to_name = self._association_path(record_id, to_type, to_id)
        tid = self._association_type(to_name, to_id, type_id)
        await self._send("DELETE", f"{path}/{tid}", "associations")

    async def associations(
        self, record_id: str | int, to_type: str
    ) -> builtins.list[AssociatedId]:
        """The records of ``to_type`` associated with a record (all pages)."""
        path, _ = self._association_path(record_id, to_type)
        found: builtins.list[AssociatedId] = []
        after: str | None = None
        while True:
            params = [("after", after)] if after else []
            results, page = page_results(
                await self._send("GET", path, "associations", params=params)
            )
            found.extend(
                AssociatedId(id=str(r.get("id")), type=str(r.get("type", "")))
                for r in results
            )
            after = _next_after(page)
            if after is None:
                return found


class _Sent:
    """One input as the multi-status decoder sees it (for calls made without the batcher)."""

    __slots__ = ("fingerprint", "key", "properties", "trace_id")

    def __init__(self, key: str, properties: dict[str, str]) -> None:
        self.key: str | None = key
        self.properties: Mapping[str, str] | None = properties
        self.trace_id: str | None = None
        self.fingerprint: Fingerprint | None = None


def _next_after(page: Mapping[str, Any]) -> str | None:
    paging = page.get("paging") or {}
    nxt = paging.get("next") or {}
    after = nxt.get("after")
    return str(after) if after not in (None, "") else None


class EngagementResource(ObjectResource):
    """An engagement type (emails, calls, ...): the same operations, typed models accepted."""


class RecordResource(ObjectResource):
    """A CRM record type that engagements attach to (contacts, companies, deals, tickets)."""

    async def pin(self, record_id: str | int, engagement_id: str | int) -> CrmObject:
        """Pin an engagement to the top of a record's timeline (``hs_pinned_engagement_id``).

        The engagement must already be associated with the record.
        """
        eid = check_record_id(engagement_id, "engagement_id")
        return await self.update(record_id, {"hs_pinned_engagement_id": eid})

    async def unpin(self, record_id: str | int) -> CrmObject:
        """Clear the pinned engagement of a record."""
        return await self.update(record_id, {"hs_pinned_engagement_id": ""})
