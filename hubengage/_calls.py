"""A single-record call as a value: what to do, to which record of which object type.

Resources build :class:`Call` values from their arguments (validated once, there); the
executors (:mod:`hubengage._execution`, :mod:`hubengage._batching`) carry them out and
:mod:`hubengage._requests` turns them into HubSpot requests.
"""

from __future__ import annotations

import enum
from typing import Any

from ._matching import Fingerprint
from ._objecttypes import ObjectType, resolve_object_type
from ._transport import path_segment

__all__ = ["Call", "Op", "Target"]


class Op(enum.StrEnum):
    """What a single-record call does (the last segment of its batch endpoint)."""

    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    UPSERT = "upsert"
    ARCHIVE = "archive"


class Target:
    """An object type resolved once per resource: its path name, path and matching rules."""

    __slots__ = ("known", "name", "path", "unmatchable")

    def __init__(self, name_or_type_id: str) -> None:
        known = resolve_object_type(name_or_type_id)
        #: HubSpot's description of the type, or None for a custom object.
        self.known: ObjectType | None = known
        #: The name used in paths: the plural name of a known type, else as given.
        self.name = known.name if known is not None else name_or_type_id.strip()
        #: ``/crm/v3/objects/{name}``, the name percent-encoded (and refused if unsafe).
        self.path = f"/crm/v3/objects/{path_segment(self.name, field='object_type')}"
        #: Properties a created record cannot be recognised by (``_matching``).
        self.unmatchable = known.unmatchable if known is not None else frozenset()

    @property
    def default_properties(self) -> tuple[str, ...]:
        """Properties HubSpot returns by default for a read that names none."""
        return self.known.default_properties if self.known is not None else ()

    def __repr__(self) -> str:
        return f"Target({self.name!r})"


class Call:
    """One single-record call: an operation on one record of one object type.

    ``key`` is the record id (or the ``id_property`` value) for everything but a create;
    ``properties`` what a create, update or upsert writes; ``associations`` what a create
    associates (HubSpot's wire shape); ``read_properties``, ``archived`` and
    ``with_associations`` shape a read. Calls are values: executors never change them.
    """

    __slots__ = ("archived", "associations", "id_property", "key", "op", "properties",
                 "read_properties", "target", "with_associations")

    def __init__(
        self,
        op: Op,
        target: Target,
        *,
        key: str | None = None,
        properties: dict[str, str] | None = None,
        associations: list[dict[str, Any]] | None = None,
        id_property: str | None = None,
        read_properties: tuple[str, ...] = (),
        archived: bool = False,
        with_associations: tuple[str, ...] = (),
    ) -> None:
        self.op = op
        self.target = target
        self.key = key
        self.properties = properties
        self.associations = associations
        self.id_property = id_property
        self.read_properties = read_properties
        self.archived = archived
        self.with_associations = with_associations

    # What the multi-status decoder reads of an input it was sent with (``SentInput``): a
    # call on its own carries no trace id and no precomputed fingerprint.
    trace_id: str | None = None
    fingerprint: Fingerprint | None = None

    def __repr__(self) -> str:
        return f"Call({self.op.value} {self.target.name} {self.key or ''})"
