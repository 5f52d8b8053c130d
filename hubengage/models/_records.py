"""Records as HubSpot returns them: :class:`CrmObject` and :class:`AssociatedId`.

:func:`structure_crm_object` builds a ``CrmObject`` from one record of a response body; the
converter (``_converter``) registers it as its hook for ``CrmObject``. It is hand-written
because it runs once per returned record and sits on the SDK's hot path (see
``benchmarks/overhead.py``). This module imports nothing else from the models.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

__all__ = [
    "AssociatedId",
    "CrmObject",
    "PropertyVersion",
    "parse_datetime",
    "structure_crm_object",
]


_fromisoformat = datetime.fromisoformat
#: A record read without ``properties_with_history`` (one shared, read-only empty mapping).
_NO_HISTORY: Mapping[str, Any] = MappingProxyType({})


def parse_datetime(value: Any) -> datetime | None:
    """HubSpot's ISO 8601 timestamps (``2024-01-15T10:00:00.000Z``) as aware datetimes."""
    if not value:
        return None
    if type(value) is not str:  # strings are the hot path: three per returned record
        if isinstance(value, datetime):
            return value
        value = str(value)
    try:
        return _fromisoformat(value)
    except ValueError:
        return None


@attrs.frozen(kw_only=True)
class AssociatedId:
    """One associated record: its ``id`` and the association ``type`` HubSpot names."""

    id: str
    type: str = ""


@attrs.frozen(kw_only=True)
class PropertyVersion:
    """One value a property held (``propertiesWithHistory``): the ``value``, when it was set,
    and by what (``source_type`` such as ``API`` or ``CRM_UI``, ``source_id``,
    ``updated_by_user_id``), as HubSpot reports them."""

    value: str | None
    timestamp: datetime | None = None
    source_type: str | None = None
    source_id: str | None = None
    updated_by_user_id: int | None = None

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> PropertyVersion:
        """Build from one entry of a ``propertiesWithHistory`` list."""
        user = raw.get("updatedByUserId")
        source_id = raw.get("sourceId")
        value = raw.get("value")
        return cls(
            value=None if value is None else str(value),
            timestamp=parse_datetime(raw.get("timestamp")),
            source_type=None if raw.get("sourceType") is None else str(raw["sourceType"]),
            source_id=None if source_id is None else str(source_id),
            updated_by_user_id=user if isinstance(user, int) and not isinstance(user, bool)
            else None,
        )


@attrs.frozen(kw_only=True)
class CrmObject:
    """A CRM record as HubSpot returned it.

    ``properties`` maps property names to string values (HubSpot sends every value as a
    string, or null for a defined but empty property). ``associations`` maps a plural type
    name (``"contacts"``) to the associated ids, when they were requested. ``new`` is set by
    upserts (True when the record was created). ``properties_with_history`` maps each
    property read with ``properties_with_history=`` to its values, newest first.
    ``object_write_trace_id`` is echoed by batch writes when HubSpot sends it.
    ``possible_duplicate`` is set by the SDK, not HubSpot, on a created record whose request
    succeeded only after an earlier attempt HubSpot may also have written (a timeout, a
    dropped connection, a 5xx): a second copy may exist.
    """

    id: str
    properties: Mapping[str, str | None] = attrs.field(factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    archived: bool = False
    archived_at: datetime | None = None
    associations: Mapping[str, tuple[AssociatedId, ...]] = attrs.field(factory=dict)
    object_write_trace_id: str | None = None
    new: bool | None = None
    possible_duplicate: bool = False
    properties_with_history: Mapping[str, tuple[PropertyVersion, ...]] = attrs.field(
        default=_NO_HISTORY)

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> CrmObject:
        """Build from one record of a HubSpot response body."""
        return structure_crm_object(raw)


def structure_crm_object(raw: Mapping[str, Any], _: Any = None) -> CrmObject:
    """A :class:`CrmObject` from one record of a response body (tolerant of missing fields).

    The converter's structure hook for ``CrmObject``: the second argument (the type) is unused.
    """
    associations: dict[str, tuple[AssociatedId, ...]] = {}
    raw_assoc = raw.get("associations")
    if raw_assoc and isinstance(raw_assoc, Mapping):
        for name, coll in raw_assoc.items():
            results = coll.get("results", ()) if isinstance(coll, Mapping) else ()
            associations[str(name)] = tuple(
                AssociatedId(id=str(r.get("id")), type=str(r.get("type") or ""))
                for r in results
                if isinstance(r, Mapping)
            )
    history: Mapping[str, tuple[PropertyVersion, ...]] = _NO_HISTORY
    raw_history = raw.get("propertiesWithHistory")
    if raw_history and isinstance(raw_history, Mapping):
        history = {}
        for name, versions in raw_history.items():
            if isinstance(versions, list):
                history[str(name)] = tuple(PropertyVersion.from_wire(v) for v in versions
                                           if isinstance(v, Mapping))
    props = raw.get("properties")
    trace = raw.get("objectWriteTraceId")
    new = raw.get("new")
    return CrmObject(
        id=str(raw.get("id", "")),
        properties=dict(props) if type(props) is dict or isinstance(props, Mapping) else {},
        created_at=parse_datetime(raw.get("createdAt")),
        updated_at=parse_datetime(raw.get("updatedAt")),
        archived=bool(raw.get("archived", False)),
        archived_at=parse_datetime(raw.get("archivedAt")),
        associations=associations,
        object_write_trace_id=str(trace) if trace is not None else None,
        new=bool(new) if new is not None else None,
        properties_with_history=history,
    )
