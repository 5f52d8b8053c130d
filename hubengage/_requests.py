"""What goes on the wire for a call: the HubSpot request of one call, or of a batch of calls.

Pure functions from :class:`~hubengage._calls.Call` values to
:class:`~hubengage._transport.Request` values, in the shapes of HubSpot's CRM v3 object API
(``docs/hubspot-wire.md`` §2.1 batch bodies, §3 single-object endpoints). Both executors
build their requests here; the multi-status decoder reads the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ._calls import Call, Op
from ._transport import Request, path_segment

__all__ = ["BatchInput", "batch_request", "link_endpoint", "single_request"]


class BatchInput(Protocol):
    """One input of a batch: its call, and the ``objectWriteTraceId`` it is sent with."""

    @property
    def call(self) -> Call:
        """The call this input carries."""
        ...

    @property
    def trace_id(self) -> str | None:
        """The trace id sent with it (creates, updates, upserts)."""
        ...


def _record_path(call: Call) -> str:
    assert call.key is not None
    return f"{call.target.path}/{path_segment(call.key, field='record_id')}"


def link_endpoint(op: Op, typed: bool) -> str:
    """The v4 batch endpoint of an association call (``docs/hubspot-wire.md`` §5.1):
    associate with given types / HubSpot's default type, remove given types / everything."""
    if op is Op.LINK:
        return "batch/create" if typed else "batch/associate/default"
    return "batch/labels/archive" if typed else "batch/archive"


def _types_wire(types: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    return [{"associationCategory": category, "associationTypeId": type_id}
            for category, type_id in types]


def _link_batch(op: Op, inputs: Sequence[BatchInput]) -> Request:
    first = inputs[0].call
    link = first.link
    assert link is not None
    entries: list[dict[str, Any]] = []
    for inp in inputs:
        call = inp.call
        other = call.link
        assert other is not None
        if op is Op.UNLINK and other.types is None:
            entries.append({"from": {"id": call.key}, "to": [{"id": other.to_id}]})
            continue
        entry: dict[str, Any] = {"from": {"id": call.key}, "to": {"id": other.to_id}}
        if other.types is not None:
            entry["types"] = _types_wire(other.types)
        entries.append(entry)
    endpoint = link_endpoint(op, link.types is not None)
    path = f"/crm/v4/associations/{first.target.segment}/{link.to.segment}/{endpoint}"
    return Request(method="POST", path=path, json={"inputs": entries}, endpoint=f"v4 {endpoint}")


def single_request(call: Call) -> Request:
    """The request for one call on HubSpot's single-record endpoints."""
    op = call.op
    if op is Op.LINK or op is Op.UNLINK:
        link = call.link
        assert link is not None and call.key is not None
        path = (f"/crm/v4/objects/{call.target.segment}/"
                f"{path_segment(call.key, field='record_id')}/associations/")
        to = f"{link.to.segment}/{path_segment(link.to_id, field='to_id')}"
        if op is Op.LINK and link.types is None:
            return Request(method="PUT", path=f"{path}default/{to}", endpoint="v4 associate")
        if op is Op.LINK:
            return Request(method="PUT", path=f"{path}{to}", json=_types_wire(link.types or ()),
                           endpoint="v4 associate")
        if link.types is None:
            return Request(method="DELETE", path=f"{path}{to}", endpoint="v4 unassociate")
        # No single-record endpoint removes some types only: a batch of one.
        return _link_batch(op, [_Alone(call)])
    if op is Op.CREATE:
        body: dict[str, Any] = {"properties": call.properties}
        if call.associations:
            body["associations"] = call.associations
        return Request(method="POST", path=call.target.path, json=body, endpoint="create")
    if op is Op.READ:
        params = [("archived", "true" if call.archived else "false")]
        if call.read_properties:
            params.append(("properties", ",".join(call.read_properties)))
        if call.with_associations:
            params.append(("associations", ",".join(call.with_associations)))
        if call.history:
            params.append(("propertiesWithHistory", ",".join(call.history)))
        if call.id_property:
            params.append(("idProperty", call.id_property))
        return Request(method="GET", path=_record_path(call), params=params, endpoint="get")
    if op is Op.UPDATE:
        return Request(
            method="PATCH", path=_record_path(call), json={"properties": call.properties},
            params=[("idProperty", call.id_property)] if call.id_property else (),
            endpoint="update",
        )
    if op is Op.ARCHIVE:
        return Request(method="DELETE", path=_record_path(call), endpoint="archive")
    # HubSpot has no single-record upsert: a batch of one.
    return batch_request(Op.UPSERT, [_Alone(call)])


class _Alone:
    """A call sent on its own in a batch body (no trace id)."""

    __slots__ = ("call",)
    trace_id = None

    def __init__(self, call: Call) -> None:
        self.call = call


def batch_request(op: Op, inputs: Sequence[BatchInput]) -> Request:
    """The ``batch/{op}`` request for ``inputs``: calls of one type, one ``id_property`` and,
    for reads, the same properties and archived flag (the batcher's queues group them so).
    Association calls share their types too, and go to the v4 association endpoints."""
    if op is Op.LINK or op is Op.UNLINK:
        return _link_batch(op, inputs)
    first = inputs[0].call
    target = first.target
    params: tuple[tuple[str, str], ...] = ()
    body: dict[str, Any]
    if op is Op.CREATE:
        entries: list[dict[str, Any]] = []
        for inp in inputs:
            call = inp.call
            entry: dict[str, Any] = {"properties": call.properties,
                                     "objectWriteTraceId": inp.trace_id}
            if call.associations:
                entry["associations"] = call.associations
            entries.append(entry)
        body = {"inputs": entries}
    elif op is Op.UPDATE or op is Op.UPSERT:
        idp = first.id_property
        entries = []
        for inp in inputs:
            entry = {"id": inp.call.key, "properties": inp.call.properties}
            if idp:
                entry["idProperty"] = idp
            if inp.trace_id is not None:
                entry["objectWriteTraceId"] = inp.trace_id
            entries.append(entry)
        body = {"inputs": entries}
    elif op is Op.READ:
        props = list(first.read_properties)
        idp = first.id_property
        if idp:
            # The decoder maps results back by this property's value: ask for it.
            if not props:
                props = list(target.default_properties)
            if idp not in props:
                props.append(idp)
        body = {"inputs": [{"id": inp.call.key} for inp in inputs], "properties": props,
                "propertiesWithHistory": list(first.history)}
        if idp:
            body["idProperty"] = idp
        params = (("archived", "true" if first.archived else "false"),)
    else:
        body = {"inputs": [{"id": inp.call.key} for inp in inputs]}
    return Request(method="POST", path=f"{target.path}/batch/{op.value}", params=params,
                   json=body, endpoint=f"batch/{op.value}")
