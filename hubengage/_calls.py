"""A single-record call as a value: what to do, to which record of which object type.

Resources build :class:`Call` values from their arguments (validated once, there); the
executors (:mod:`hubengage._execution`, :mod:`hubengage._batching`) carry them out and
:mod:`hubengage._requests` turns them into HubSpot requests.
"""

from __future__ import annotations

import copy
import enum
from typing import TYPE_CHECKING, Any

from ._matching import Fingerprint
from ._objecttypes import ObjectType, resolve_object_type
from ._transport import path_segment

if TYPE_CHECKING:
    from ._pipeline import RequestOptions

__all__ = ["Call", "Link", "Op", "Target"]


class Op(enum.StrEnum):
    """What a single-record call does (the last segment of its batch endpoint)."""

    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    UPSERT = "upsert"
    ARCHIVE = "archive"
    #: Associate two records (v4: ``batch/create``, or ``batch/associate/default``).
    LINK = "associate"
    #: Remove associations between two records (v4: ``batch/archive``, or
    #: ``batch/labels/archive`` for given types only).
    UNLINK = "unassociate"


class Target:
    """An object type resolved once per resource: its path name, path and matching rules."""

    __slots__ = ("known", "name", "path", "segment", "unmatchable")

    def __init__(self, name_or_type_id: str) -> None:
        known = resolve_object_type(name_or_type_id)
        #: HubSpot's description of the type, or None for a custom object.
        self.known: ObjectType | None = known
        #: The name used in paths: the plural name of a known type, else as given.
        self.name = known.name if known is not None else name_or_type_id.strip()
        #: The name as a path segment: percent-encoded (and refused if unsafe).
        self.segment = path_segment(self.name, field="object_type")
        #: ``/crm/v3/objects/{name}``.
        self.path = f"/crm/v3/objects/{self.segment}"
        #: Properties a created record cannot be recognised by (``_matching``).
        self.unmatchable = known.unmatchable if known is not None else frozenset()

    @property
    def default_properties(self) -> tuple[str, ...]:
        """Properties HubSpot returns by default for a read that names none."""
        return self.known.default_properties if self.known is not None else ()

    def __repr__(self) -> str:
        return f"Target({self.name!r})"


class Link:
    """The other end of an association call: a record of ``to`` and the association types
    (``(category, type id)`` pairs), or None for HubSpot's default type (associate) / every
    type (unassociate)."""

    __slots__ = ("to", "to_id", "types")

    def __init__(self, to: Target, to_id: str,
                 types: tuple[tuple[str, int], ...] | None = None) -> None:
        self.to = to
        self.to_id = to_id
        self.types = types

    def __repr__(self) -> str:
        return f"Link({self.to.name} {self.to_id} {self.types})"


class Call:
    """One single-record call: an operation on one record of one object type.

    ``key`` is the record id (or the ``id_property`` value) for everything but a create;
    ``properties`` what a create, update or upsert writes; ``associations`` what a create
    associates (HubSpot's wire shape); ``read_properties``, ``archived``,
    ``with_associations`` and ``history`` (properties read with their past values) shape a
    read; ``link`` names the other record of an association call; ``options`` are the
    per-call options its requests are sent under (``hs.with_options(...)``; None: the
    client's). Calls are values: executors never change them.
    """

    __slots__ = ("archived", "associations", "history", "id_property", "key", "link", "op",
                 "options", "properties", "read_properties", "target", "with_associations")

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
        link: Link | None = None,
        history: tuple[str, ...] = (),
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
        #: For associate / unassociate calls: the other record (``key`` is this record's id).
        self.link = link
        #: For reads: the properties to return with their history (``propertiesWithHistory``).
        self.history = history
        #: Per-call options (``hs.with_options(...)``), or None for the client's.
        self.options: RequestOptions | None = None

    def with_options(self, options: RequestOptions | None) -> Call:
        """This call, to be sent under ``options`` (a copy; calls are values)."""
        if options is self.options:
            return self
        other = copy.copy(self)
        other.options = options
        return other

    @property
    def to_id(self) -> str | None:
        """The other record's id, for an association call."""
        return self.link.to_id if self.link is not None else None

    # What the multi-status decoder reads of an input it was sent with (``SentInput``): a
    # call on its own carries no trace id and no precomputed fingerprint.
    trace_id: str | None = None
    fingerprint: Fingerprint | None = None

    def __repr__(self) -> str:
        return f"Call({self.op.value} {self.target.name} {self.key or ''})"
