"""Resources: the per-object-type API (``hs.emails``, ``hs.contacts``, ``hs.objects("0-3")``).

An :class:`ObjectResource` turns a caller's arguments into a :class:`~hubengage._calls.Call`
(validated once, through the models) and hands it to the client's executor, batched or
direct, without knowing which (``hubengage._execution``). List, search and associations,
which no batch endpoint serves, go through the pipeline on their own endpoints. It
re-implements nothing the executors or the pipeline do.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._bulk import NewRecord, OnProgress, OnSent, Outcome, RecordUpdate, run_bulk
from ._calls import Call, Link, Op, Target
from ._constants import (
    DEFAULT_BULK_WINDOW,
    MAX_ASSOCIATIONS_BATCH_READ,
    MAX_ASSOCIATIONS_PAGE_SIZE,
    MAX_HISTORY_BATCH_SIZE,
    MAX_LIST_PAGE_SIZE,
    MAX_SEARCH_PAGE_SIZE,
    SEARCH_RESULT_CAP,
)
from ._errors import InvalidInputError
from ._execution import OnSent as CallOnSent
from ._limiter import Bucket
from ._multistatus import next_after, page_results
from ._objecttypes import ObjectType
from ._search import Filter, Sort, build_search_body, warn_truncated
from ._transport import Request, Response, path_segment
from .models import (
    AssociatedRecord,
    Association,
    AssociationCategory,
    AssociationLabel,
    CrmObject,
)
from .models._converter import PropertyModel, to_wire_properties

if TYPE_CHECKING:
    from ._core import ClientCore

__all__ = ["ObjectResource", "RecordResource"]

#: The typed model a resource's writes accept (``Never`` for types without one: mappings).
ModelT = TypeVar("ModelT", bound=PropertyModel)
#: A bulk call's input: each outcome carries its input with its type.
T = TypeVar("T")
#: Inputs of ``create_many`` / ``upsert_many``.
WriteT = TypeVar("WriteT", bound=PropertyModel | Mapping[str, object] | NewRecord)
#: Inputs of ``update_many``.
UpdateT = TypeVar(
    "UpdateT", bound=RecordUpdate | tuple[str | int, PropertyModel | Mapping[str, object]])
#: Record ids (``archive_many``, ``read_many``).
IdT = TypeVar("IdT", bound=str | int)
#: ``(record_id, Association)`` pairs (``associate_many``).
PairT = TypeVar("PairT", bound=tuple[str | int, Association])
#: A sync or async iterable of a bulk call's inputs.
Inputs = Iterable[T] | AsyncIterable[T]


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


def _names(values: Sequence[str] | None, field: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        raise InvalidInputError("must be a list of names, not a string", field=field)
    names = tuple(values)
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"must be a property name, not {name!r}",
                                    field=f"{field}[{i}]")
    return names


def _history(values: Sequence[str] | None) -> tuple[str, ...]:
    names = _names(values, "properties_with_history")
    if len(names) > MAX_HISTORY_BATCH_SIZE:
        raise InvalidInputError(f"at most {MAX_HISTORY_BATCH_SIZE} properties",
                                field="properties_with_history")
    return names


def _csv(values: Sequence[str] | None, field: str) -> str | None:
    names = _names(values, field)
    return ",".join(names) if names else None


class ObjectResource(Generic[ModelT]):
    """Operations on one CRM object type, by name or type id (``hs.objects("0-3")``).

    Every write accepts the type's typed model (``Email(...)`` on ``hs.emails``: the type
    parameter) or a plain mapping of property names to values. Records come back as frozen
    :class:`CrmObject` values.
    """

    def __init__(self, core: ClientCore, object_type: str) -> None:
        if not isinstance(object_type, str) or not object_type.strip():
            raise InvalidInputError("must be an object type name or id", field="object_type")
        self._core = core
        self._target = Target(object_type)
        #: The known type's description, or None for custom objects.
        self.type_info: ObjectType | None = self._target.known
        #: The name used in paths: the plural name of a known type, else as given.
        self.object_type = self._target.name
        self._targets: dict[str, Target] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.object_type!r})"

    # -- building calls (validated here, once) ------------------------------------------

    def _properties(self, item: Any, *, create: bool) -> dict[str, str]:
        return to_wire_properties(self.object_type, item, create=create)

    def _associations(
        self, associations: Iterable[Association] | None
    ) -> builtins.list[dict[str, Any]] | None:
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

    def _create_call(self, item: Any, associations: Iterable[Association] | None) -> Any:
        """The create's call; or, when an association names a label, an awaitable of it
        (the label's type id is looked up first)."""
        if isinstance(item, NewRecord):
            if associations is not None:
                raise InvalidInputError("give associations in the NewRecord or the call, "
                                        "not both", field="associations")
            item, associations = item.properties, item.associations
        if associations is not None and not isinstance(associations, list | tuple):
            associations = list(associations)
        if associations and any(isinstance(a, Association) and a.label is not None
                                for a in associations):
            return self._labelled_create_call(item, associations)
        return Call(Op.CREATE, self._target, properties=self._properties(item, create=True),
                    associations=self._associations(associations))

    async def _labelled_create_call(self, item: Any, associations: Iterable[Any]) -> Call:
        resolved = [await self._resolve_label(a) if isinstance(a, Association) else a
                    for a in associations]
        return Call(Op.CREATE, self._target, properties=self._properties(item, create=True),
                    associations=self._associations(resolved))

    def _read_call(
        self,
        record_id: object,
        properties: Sequence[str] | None,
        associations: Sequence[str] | None,
        archived: bool,
        id_property: str | None,
        history: Sequence[str] | None = None,
    ) -> Call:
        return Call(Op.READ, self._target, key=check_record_id(record_id),
                    read_properties=_names(properties, "properties"), archived=archived,
                    id_property=id_property,
                    with_associations=_names(associations, "associations"),
                    history=_history(history))

    def _update_call(self, record_id: object, item: Any, id_property: str | None) -> Call:
        key = check_record_id(record_id)
        properties = self._properties(item, create=False)
        if not properties:
            raise InvalidInputError("nothing to update", field="properties")
        return Call(Op.UPDATE, self._target, key=key, properties=properties,
                    id_property=id_property)

    def _upsert_call(self, item: Any, id_property: str) -> Call:
        if not isinstance(id_property, str) or not id_property:
            raise InvalidInputError("must name a unique-value property", field="id_property")
        if isinstance(item, NewRecord):
            item = item.properties
        properties = self._properties(item, create=True)
        id_value = properties.get(id_property)
        if not id_value:
            raise InvalidInputError(
                "the upsert key property must have a value", field=id_property
            )
        return Call(Op.UPSERT, self._target, key=id_value, properties=properties,
                    id_property=id_property)

    def _archive_call(self, record_id: object) -> Call:
        return Call(Op.ARCHIVE, self._target, key=check_record_id(record_id))

    async def _run(self, call: Call) -> Any:
        self._core.check_open()
        return await self._core.executor.run(call)

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
        self,
        item: ModelT | Mapping[str, object] | NewRecord,
        *,
        associations: Iterable[Association] | None = None,
    ) -> CrmObject:
        """Create one record; returns it as HubSpot stored it.

        With batching on (the default), the call joins the next ``batch/create`` request.
        """
        call = self._create_call(item, associations)
        if not isinstance(call, Call):
            call = await call
        result: CrmObject = await self._run(call)
        return result

    async def get(
        self,
        record_id: str | int,
        *,
        properties: Sequence[str] | None = None,
        associations: Sequence[str] | None = None,
        archived: bool = False,
        id_property: str | None = None,
        properties_with_history: Sequence[str] | None = None,
    ) -> CrmObject:
        """Read one record by id (or by a unique property with ``id_property``).

        Raises :class:`NotFoundError` when it does not exist. Reads without ``associations``
        are batched into ``batch/read`` when batching is on. ``properties_with_history``
        (at most 50 names) returns those properties' past values too
        (``record.properties_with_history``); such reads ride in batches of 50.
        """
        call = self._read_call(record_id, properties, associations, archived, id_property,
                               properties_with_history)
        result: CrmObject = await self._run(call)
        return result

    async def update(
        self,
        record_id: str | int,
        item: ModelT | Mapping[str, object],
        *,
        id_property: str | None = None,
    ) -> CrmObject:
        """Update properties of one record; ``""`` clears a value. Returns the record.

        Calls on the same id complete in the order they were made.
        """
        result: CrmObject = await self._run(self._update_call(record_id, item, id_property))
        return result

    async def archive(self, record_id: str | int) -> None:
        """Archive (delete) one record. Archiving a missing id is not an error (HubSpot: 204)."""
        await self._run(self._archive_call(record_id))

    async def upsert(
        self, item: ModelT | Mapping[str, object] | NewRecord, *, id_property: str
    ) -> CrmObject:
        """Create or update one record by a unique-value property (``batch/upsert``).

        ``item`` must carry a value for ``id_property``; ``record.new`` says which happened.
        """
        result: CrmObject = await self._run(self._upsert_call(item, id_property))
        return result

    # -- bulk -------------------------------------------------------------------------------

    def create_many(
        self,
        items: Inputs[WriteT],
        *,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: asyncio.Event | None = None,
        on_progress: OnProgress | None = None,
    ) -> AsyncIterator[Outcome[WriteT]]:
        """Create a record per input; yield an :class:`Outcome` per input.

        ``items`` is a sync or async iterable of any length of typed models, property
        mappings or :class:`NewRecord` (properties with associations). At most ``window``
        inputs are read and not yet yielded, so memory stays flat. ``ordered=True`` yields in
        input order; by default outcomes come as they complete. An input that fails
        validation yields its ``InvalidInputError`` without being sent. ``on_sent(index)``
        runs right before the request carrying an input is first sent (a
        :class:`~hubengage.Journal`'s ``sent``). ``on_progress`` is called with a
        :class:`~hubengage.BulkProgress` (read, sent, succeeded, failed, unknown, withdrawn)
        right before each outcome is yielded.

        Setting ``stop`` (an ``asyncio.Event``) ends the run gracefully: no more input is
        read, inputs not yet sent are withdrawn at once (``Outcome.withdrawn``, a
        ``WithdrawnError``: nothing was written for them), even those waiting for a
        rate-limit slot, and those in flight complete. If HubSpot rejects the token (401, or
        403 for missing scopes) the run stops sending: every input not yet sent is yielded
        withdrawn with that error.
        """
        return self._bulk(items, lambda item: self._create_call(item, None), window=window,
                          ordered=ordered, stop=stop, on_sent=on_sent, on_progress=on_progress)

    def upsert_many(
        self,
        items: Inputs[WriteT],
        *,
        id_property: str,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: asyncio.Event | None = None,
        on_progress: OnProgress | None = None,
    ) -> AsyncIterator[Outcome[WriteT]]:
        """Create or update a record per input by ``id_property`` (a unique-value property).

        Inputs are as for :meth:`create_many` and each must carry a value for
        ``id_property``. Writing by a unique key is idempotent: re-running an upsert after a
        crash writes each record once.
        """
        return self._bulk(items, partial(self._upsert_call, id_property=id_property),
                          window=window, ordered=ordered, stop=stop, on_sent=on_sent,
                          on_progress=on_progress)

    def update_many(
        self,
        items: Inputs[UpdateT],
        *,
        id_property: str | None = None,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: asyncio.Event | None = None,
        on_progress: OnProgress | None = None,
    ) -> AsyncIterator[Outcome[UpdateT]]:
        """Update a record per input: :class:`RecordUpdate` values or ``(id, properties)``.

        ``window``, ``ordered``, ``on_sent``, ``stop`` and ``on_progress`` are as for
        :meth:`create_many`.
        """
        def call(value: Any) -> Call:
            if isinstance(value, RecordUpdate):
                rid, item = value.id, value.properties
            elif isinstance(value, tuple) and len(value) == 2:
                rid, item = value
            else:
                raise InvalidInputError(
                    "must be a RecordUpdate or an (id, properties) pair, "
                    f"not {type(value).__name__}", field="items",
                )
            return self._update_call(rid, item, id_property)

        return self._bulk(items, call, window=window, ordered=ordered, stop=stop,
                          on_sent=on_sent, on_progress=on_progress)

    def archive_many(
        self,
        ids: Inputs[IdT],
        *,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: asyncio.Event | None = None,
        on_progress: OnProgress | None = None,
    ) -> AsyncIterator[Outcome[IdT]]:
        """Archive a record per id; a success has ``ok`` True and no record.

        ``window``, ``ordered``, ``on_sent``, ``stop`` and ``on_progress`` are as for
        :meth:`create_many`.
        """
        return self._bulk(ids, self._archive_call, window=window, ordered=ordered, stop=stop,
                          on_sent=on_sent, on_progress=on_progress)

    def read_many(
        self,
        ids: Inputs[IdT],
        *,
        properties: Sequence[str] | None = None,
        archived: bool = False,
        id_property: str | None = None,
        properties_with_history: Sequence[str] | None = None,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        stop: asyncio.Event | None = None,
        on_progress: OnProgress | None = None,
    ) -> AsyncIterator[Outcome[IdT]]:
        """Read a record per id (``batch/read``); a missing id yields ``NotFoundError``.

        ``properties_with_history`` is as for :meth:`get`; ``window``, ``ordered``, ``stop``
        and ``on_progress`` as for :meth:`create_many`.
        """
        names = _names(properties, "properties")
        history = _history(properties_with_history)
        return self._bulk(
            ids, lambda rid: self._read_call(rid, names, None, archived, id_property, history),
            window=window, ordered=ordered, stop=stop, on_progress=on_progress,
        )

    def _bulk(
        self,
        items: Inputs[T],
        make_call: Any,
        *,
        window: int,
        ordered: bool,
        stop: asyncio.Event | None,
        on_sent: OnSent | None = None,
        on_progress: OnProgress | None = None,
    ) -> AsyncIterator[Outcome[T]]:
        """``run_bulk`` with each input turned into a call and submitted to the executor."""

        async def submit(index: int, value: Any, sent: CallOnSent) -> asyncio.Future[Any]:
            call = make_call(value)  # InvalidInputError: this input fails alone, unsent
            if not isinstance(call, Call):
                call = await call  # a call that needs a lookup first (association labels)
            self._core.check_open()
            return await self._core.executor.submit(call, sent)

        return run_bulk(items, submit, window=window, ordered=ordered, stop=stop,
                        on_sent=on_sent, on_progress=on_progress)

    # -- list and search ------------------------------------------------------------------

    async def list(
        self,
        *,
        properties: Sequence[str] | None = None,
        associations: Sequence[str] | None = None,
        archived: bool = False,
        page_size: int | None = None,
        properties_with_history: Sequence[str] | None = None,
    ) -> AsyncIterator[CrmObject]:
        """Every record of the type, page by page (``paging.next.after``), oldest id first.

        ``page_size`` is at most 100, or 50 with ``properties_with_history`` (as for
        :meth:`get`).
        """
        history = _history(properties_with_history)
        cap = MAX_HISTORY_BATCH_SIZE if history else MAX_LIST_PAGE_SIZE
        if page_size is None:
            page_size = cap
        if not 1 <= page_size <= cap:
            raise InvalidInputError(f"must be 1..{cap}", field="page_size")
        base: list[tuple[str, str]] = [
            ("limit", str(page_size)),
            ("archived", "true" if archived else "false"),
        ]
        props = _csv(properties, "properties")
        if props:
            base.append(("properties", props))
        if history:
            base.append(("propertiesWithHistory", ",".join(history)))
        assocs = _csv(associations, "associations")
        if assocs:
            base.append(("associations", assocs))
        after: str | None = None
        while True:
            self._core.check_open()
            params = [*base, ("after", after)] if after else base
            results, page = page_results(
                await self._send("GET", self._target.path, "list", params=params)
            )
            for raw in results:
                yield CrmObject.from_wire(raw)
            after = next_after(page)
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
        path = f"{self._target.path}/search"
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
            after = next_after(page)
            if after is None or not results:
                return
            offset = int(after) if after.isdigit() else offset
            if offset >= SEARCH_RESULT_CAP:
                warn_truncated(self.object_type, int(page.get("total", offset)))
                return

    # -- associations ---------------------------------------------------------------------

    def _to_target(self, to_type: str) -> Target:
        if not isinstance(to_type, str) or not to_type.strip():
            raise InvalidInputError("must be an object type name or type id", field="to_type")
        target = self._targets.get(to_type)
        if target is None:
            target = self._targets[to_type] = Target(to_type)
        return target

    async def _resolve_label(self, association: Association) -> Association:
        """``association`` with its label turned into a type id and category."""
        if association.label is None:
            return association
        assert association.to_type is not None
        found = await self._core.labels.find(self._target, self._to_target(association.to_type),
                                             association.label)
        return Association(to_id=association.to_id, to_type=association.to_type,
                           type_id=found.type_id, category=found.category)

    async def _link_call(self, op: Op, record_id: object, association: Any) -> Call:
        if not isinstance(association, Association):
            raise InvalidInputError(
                f"must be an Association, not {type(association).__name__}",
                field="association")
        if association.to_type is None:
            raise InvalidInputError("needs to_type", field="association")
        association = await self._resolve_label(association)
        types = None
        if association.type_id is not None:
            types = ((association.category.value, association.type_id),)
        link = Link(self._to_target(association.to_type), association.to_id, types)
        return Call(op, self._target, key=check_record_id(record_id), link=link)

    async def associate(
        self,
        record_id: str | int,
        to_type: str,
        to_id: str | int,
        *,
        type_id: int | None = None,
        label: str | None = None,
        category: AssociationCategory | str = AssociationCategory.HUBSPOT_DEFINED,
    ) -> None:
        """Associate a record with another: HubSpot's default type, or the type named by
        ``label`` (looked up once per pair of types) or by ``type_id`` and ``category``.

        Calls are coalesced into v4 ``batch/associate/default`` / ``batch/create`` requests
        of up to 100 pairs (batching on), each call getting its own outcome. Associating
        twice is harmless.
        """
        association = Association.to(to_type, to_id, type_id=type_id, category=category,
                                     label=label)
        await self._run(await self._link_call(Op.LINK, record_id, association))

    async def unassociate(
        self,
        record_id: str | int,
        to_type: str,
        to_id: str | int,
        *,
        type_id: int | None = None,
        label: str | None = None,
        category: AssociationCategory | str = AssociationCategory.HUBSPOT_DEFINED,
    ) -> None:
        """Remove every association between two records, or with ``label`` / ``type_id``
        only that type (v4 ``batch/archive`` / ``batch/labels/archive``, coalesced).

        Removing an association that does not exist is not an error.
        """
        association = Association.to(to_type, to_id, type_id=type_id, category=category,
                                     label=label)
        await self._run(await self._link_call(Op.UNLINK, record_id, association))

    def associate_many(
        self,
        pairs: Inputs[PairT],
        *,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: asyncio.Event | None = None,
        on_progress: OnProgress | None = None,
    ) -> AsyncIterator[Outcome[PairT]]:
        """Associate records in bulk: ``(record_id, Association)`` pairs, e.g.
        ``(email_id, Association.contact(601, label="Decision maker"))``; yield an
        :class:`Outcome` per pair (``ok`` on success; no record comes back).

        ``window``, ``ordered``, ``on_sent``, ``stop`` and ``on_progress`` are as for
        :meth:`create_many`.
        """
        def call(value: Any) -> Any:
            if not isinstance(value, tuple) or len(value) != 2:
                raise InvalidInputError(
                    f"must be a (record_id, Association) pair, not {type(value).__name__}",
                    field="pairs")
            return self._link_call(Op.LINK, value[0], value[1])

        return self._bulk(pairs, call, window=window, ordered=ordered, stop=stop,
                          on_sent=on_sent, on_progress=on_progress)

    async def associations(
        self, record_id: str | int, to_type: str
    ) -> builtins.list[AssociatedRecord]:
        """The records of ``to_type`` associated with a record, each with every association
        type between the two (labels included), all pages (v4, 500 per page)."""
        to = self._to_target(to_type)
        rid = check_record_id(record_id)
        path = (f"/crm/v4/objects/{self._target.segment}/{path_segment(rid, field='record_id')}"
                f"/associations/{to.segment}")
        found: builtins.list[AssociatedRecord] = []
        after: str | None = None
        while True:
            params = [("limit", str(MAX_ASSOCIATIONS_PAGE_SIZE))]
            if after:
                params.append(("after", after))
            results, page = page_results(
                await self._send("GET", path, "v4 associations", params=params))
            found.extend(_associated(raw) for raw in results)
            after = next_after(page)
            if after is None:
                return found

    async def associations_many(
        self, record_ids: Iterable[str | int], to_type: str
    ) -> dict[str, builtins.list[AssociatedRecord]]:
        """The records of ``to_type`` associated with each of ``record_ids``, labels
        included: v4 ``batch/read``, 1,000 ids per request, a record's further pages (over
        500 associations) asked for in later requests.

        Every id given is a key of the answer; a record with no associations, or one HubSpot
        could not read (HubSpot reports both as an error of that input), maps to ``[]``.
        """
        if isinstance(record_ids, str | bytes) or not isinstance(record_ids, Iterable):
            raise InvalidInputError("must be a list of record ids", field="record_ids")
        to = self._to_target(to_type)
        ids = [check_record_id(rid, f"record_ids[{i}]") for i, rid in enumerate(record_ids)]
        found: dict[str, builtins.list[AssociatedRecord]] = {rid: [] for rid in ids}
        by_key = {_id_key(rid): rid for rid in ids}
        path = f"/crm/v4/associations/{self._target.segment}/{to.segment}/batch/read"
        pending: builtins.list[dict[str, str]] = [{"id": rid} for rid in found]
        while pending:
            chunk = pending[:MAX_ASSOCIATIONS_BATCH_READ]
            pending = pending[MAX_ASSOCIATIONS_BATCH_READ:]
            results, _ = page_results(
                await self._send("POST", path, "v4 batch/read", json={"inputs": chunk}))
            for raw in results:
                origin = raw.get("from")
                rid = by_key.get(_id_key(str(origin.get("id")))) \
                    if isinstance(origin, Mapping) else None
                targets = raw.get("to")
                if rid is None or not isinstance(targets, list):
                    continue  # not one we asked about: nothing to attribute it to
                found[rid].extend(_associated(t) for t in targets if isinstance(t, Mapping))
                after = next_after(raw)
                if after is not None:
                    pending.append({"id": rid, "after": after})
        return found

    async def association_labels(self, to_type: str) -> builtins.list[AssociationLabel]:
        """Every association type from this object type to ``to_type``: the default one
        (no label) and the labelled ones, HUBSPOT_DEFINED and USER_DEFINED (cached)."""
        return await self._core.labels.types(self._target, self._to_target(to_type))


def _id_key(record_id: str) -> str:
    """Record ids compare as numbers when they are numeric (HubSpot may echo ``0123`` as
    ``123``, or a number for a string)."""
    return str(int(record_id)) if record_id.isdigit() else record_id


def _associated(raw: Mapping[str, Any]) -> AssociatedRecord:
    types = raw.get("associationTypes") or []
    return AssociatedRecord(
        id=str(raw.get("toObjectId", raw.get("id"))),
        types=tuple(AssociationLabel.from_wire(t) for t in types if isinstance(t, Mapping)),
    )


class RecordResource(ObjectResource[ModelT]):
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
