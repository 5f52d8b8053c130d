"""The emulator's data: records per object type, validation, associations, search. No HTTP.

Every rule here follows ``docs/hubspot-wire.md`` (§2 batch semantics, §3 single-object endpoints,
§5 object types) and the §8 defaults; HTTP framing, auth, rate limits and faults live in
``_app``. Written values are checked for their property's kind and stored in HubSpot's normal
form (``_values``; the ``normalize_values`` and ``rich_text_html`` switches). Errors are
raised as :class:`ApiError` carrying HubSpot's status and body. Every server timestamp
(``createdAt``, ``updatedAt``, ``archivedAt``, the create/modified date properties, a batch's
``startedAt``/``completedAt``) comes from :meth:`Store.now`: the machine's clock shifted by
``clock_skew``.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .._constants import (
    MAX_FILTER_GROUPS,
    MAX_FILTERS,
    MAX_SEARCH_PAGE_SIZE,
    SEARCH_RESULT_CAP,
)
from .._objecttypes import (
    OBJECT_TYPES,
    ObjectType,
    PropertyKind,
    resolve_object_type,
)
from ._associations import CATEGORIES, HUBSPOT_DEFINED, AssociationSchema, Spec
from ._common import PORTAL_ID, ApiError, iso_time, property_error, validation_error
from ._config import EmulatorConfig
from ._owners import DEFAULT_OWNERS, OwnerBook
from ._properties import TypeSchema
from ._seed import sandbox_records
from ._stdprops import REQUIRED_ALL, REQUIRED_ANY
from ._values import (
    EMAIL_HEADERS,
    RICH_TEXT_PROPERTIES,
    InvalidValue,
    check_value,
    email_header_properties,
    rich_text_html,
)

__all__ = ["Record", "Store", "parse_spec"]

#: First id handed out; HubSpot ids are large numeric strings.
FIRST_ID = 10_000_001


class Record:
    """One stored record."""

    __slots__ = ("archived", "archived_at", "assoc", "created", "history", "id", "props",
                 "updated")

    def __init__(self, rid: str, props: dict[str, str], now: str) -> None:
        self.id = rid
        self.props = props
        #: property -> its values as written, oldest first: (value, timestamp); ``""`` is a
        #: cleared value (``propertiesWithHistory``).
        self.history: dict[str, list[tuple[str, str]]] = {
            name: [(value, now)] for name, value in props.items() if value}
        self.created = now
        self.updated = now
        self.archived = False
        self.archived_at: str | None = None
        #: to type name -> to id -> association types, (category, type id) pairs (a USER_DEFINED
        #: id may equal a HUBSPOT_DEFINED one: §5.1)
        self.assoc: dict[str, dict[str, set[Spec]]] = {}


class _Type:
    """One object type as the emulator serves it: its property schema and its records."""

    def __init__(self, ot: ObjectType, config: EmulatorConfig, now: str) -> None:
        self.ot = ot
        self.name = ot.name
        specs = []
        for spec in config.properties:
            spec_ot = resolve_object_type(spec.object_type)
            if spec_ot is None:
                raise ValueError(f"unknown object type {spec.object_type!r} in property "
                                 f"{spec.object_type}.{spec.name}")
            if spec_ot.name == ot.name:
                specs.append(spec)
        #: The type's properties (HubSpot's, configured, created through the properties API).
        self.schema = TypeSchema(
            ot, now=now, custom=config.custom_properties.get(ot.name, ()),
            unique=config.unique_properties.get(ot.name, ()), specs=specs)
        self.records: dict[str, Record] = {}
        #: Record ids, ascending (list pages come in id order and start with a bisection
        #: instead of a scan from the first record).
        self.ids: list[int] = []
        #: unique property -> value -> record id (live records only)
        self.index: dict[str, dict[str, str]] = {p: {} for p in self.schema.unique}

    @property
    def unique(self) -> tuple[str, ...]:
        """The live unique-value properties (usable as ``idProperty``)."""
        return self.schema.unique

    @property
    def writable(self) -> frozenset[str]:
        return self.schema.writable

    @property
    def ignored(self) -> frozenset[str]:
        """Read-only properties: HubSpot ignores values written to them."""
        return self.schema.ignored

    def kind(self, name: str) -> PropertyKind:
        """The kind of property ``name`` (``STRING`` when it is not defined)."""
        found = self.schema.kinds.get(name)
        return found[0] if found is not None else PropertyKind.STRING

    def unique_index(self, prop: str) -> dict[str, str]:
        """The value → record id index of a unique property (created with the property)."""
        return self.index.setdefault(prop, {})

    def add(self, rec: Record) -> None:
        """Hold a new record (its id is not taken) and index its unique properties."""
        self.records[rec.id] = rec
        bisect.insort(self.ids, int(rec.id))  # an append for ids from the counter
        for prop in self.unique:
            value = rec.props.get(prop)
            if value:
                self.unique_index(prop)[value] = rec.id


class Store:
    """Every record the emulator holds, and the operations on them."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.reset()

    # -- the emulator's wall clock ---------------------------------------------------------

    def wall(self) -> float:
        """The emulator's wall clock (POSIX seconds): the machine's plus ``clock_skew``.

        Every server timestamp the emulator writes comes from here (rate-limit windows use
        ``time.monotonic()`` instead, so the skew never changes what is admitted).
        """
        return time.time() + self.config.clock_skew

    def now(self) -> str:
        """:meth:`wall` as HubSpot writes timestamps (:func:`iso_time`)."""
        return iso_time(self.wall())

    def reset(self) -> None:
        """Forget every record."""
        now = self.now()
        self.types: dict[str, _Type] = {
            ot.name: _Type(ot, self.config, now) for ot in OBJECT_TYPES}
        #: The account's owners (what ``hubspot_owner_id`` takes; ``GET /crm/v3/owners``).
        self.owners = OwnerBook(
            DEFAULT_OWNERS if self.config.owners is None else self.config.owners)
        if self.config.seed_records or self.config.seed_contacts is not None:
            for type_name, rid, props in sandbox_records(self.config.seed_contacts):
                self.types[type_name].add(Record(rid, props, now))
        self._ids = itertools.count(FIRST_ID)
        #: Association types, labels and limits (labels and limits are forgotten too).
        self.schema = AssociationSchema(
            self.config.association_limits,
            labels_on_engagements=self.config.labels_on_engagements)

    # -- lookup ---------------------------------------------------------------------------

    def type(self, name: str) -> _Type:
        """The type for a path segment (name, singular or type id)."""
        ot = resolve_object_type(name)
        if ot is None:
            raise validation_error(f"Unable to infer object type from: {name}")
        return self.types[ot.name]

    def find(self, t: _Type, rid: str, *, id_property: str | None = None,
             archived: bool = False, write: bool = False) -> Record | None:
        """A record by id (or unique property value); archived ones only when asked.

        ``idProperty=hs_object_id`` reads by record id, but a write (batch update or
        upsert, ``write=True``) by it is a 400: the record id is not a unique-value
        property there (§2.1, I-SEG).
        """
        if id_property and (id_property != "hs_object_id" or write):
            self._check_unique(t, id_property)
            found = t.unique_index(id_property).get(rid)
            rec = t.records.get(found) if found else None
        else:
            rec = t.records.get(rid)
        if rec is None or rec.archived != archived:
            return None
        return rec

    def _check_unique(self, t: _Type, prop: str) -> None:
        if prop not in t.unique:
            raise validation_error(
                f"Unable to perform update/upsert by non-unique {t.ot.type_id} property {prop} "
                f"in portal ID {PORTAL_ID}"
            )

    def next_id(self) -> str:
        """A fresh record id."""
        return str(next(self._ids))

    # -- validation -----------------------------------------------------------------------

    def clean_properties(
        self, t: _Type, props: Any, *, create: bool, strict: bool = True
    ) -> dict[str, str]:
        """Validated properties; raises ``ApiError`` (400) naming the property.

        Every property must exist in the type's schema (HubSpot's, configured, or created
        through the properties API; archived ones do not exist); read-only ones are
        dropped. Values are checked for their property's type (``_values``), enumeration
        options and owner ids, and stored in HubSpot's normal form (as sent when
        ``normalize_values`` is off); with ``rich_text_html``, plain-text engagement
        bodies are stored as the rich-text editor's HTML. ``hs_email_headers`` must be
        JSON; the read-only ``hs_email_from_*`` / ``hs_email_to_*`` are derived from it.
        On create the required properties must be set (§5; §9 for contacts, companies,
        deals and tickets unless ``required_crm_properties`` is off).
        """
        if not isinstance(props, Mapping):
            raise validation_error("properties must be an object")
        out: dict[str, str] = {}
        schema = t.schema
        normalize = self.config.normalize_values
        rich_text = self.config.rich_text_html
        for name, value in props.items():
            if name in schema.ignored:
                continue  # read-only: HubSpot ignores the value
            if name not in schema.writable:
                if not strict:
                    continue
                raise property_error(
                    "PROPERTY_DOESNT_EXIST", name, f'Property "{name}" does not exist'
                )
            if value is None:
                value = ""
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif not isinstance(value, str):
                value = str(value)
            if value:
                kind, date_only = schema.kinds[name]
                allowed = schema.allowed.get(name)
                if allowed is not None:
                    parts = value.split(";") if kind is PropertyKind.MULTI else [value]
                    for part in parts:
                        if part not in allowed:
                            options = ", ".join(sorted(allowed))
                            raise property_error(
                                "INVALID_OPTION", name,
                                f"{part} was not one of the allowed options: [{options}]",
                            )
                if name in schema.owner_properties:
                    self._check_owner(name, value)
                try:
                    value = check_value(kind, value, normalize=normalize, date_only=date_only)
                except InvalidValue as exc:
                    raise property_error(exc.code, name, exc.message) from None
                if rich_text and name in RICH_TEXT_PROPERTIES:
                    value = rich_text_html(value)
            out[name] = value
        if EMAIL_HEADERS in out and t.name == "emails":
            try:
                derived = email_header_properties(out[EMAIL_HEADERS])
            except InvalidValue as exc:
                raise property_error(exc.code, EMAIL_HEADERS, exc.message) from None
            out.update((k, v) for k, v in derived.items() if v or not create)
        if create:
            self._check_required(t, out)
        return out

    def _check_owner(self, name: str, value: str) -> None:
        """An owner property takes an owner's id: numeric, and with ``strict_owner_ids``
        the id of a live owner (UNCONFIRMED which HubSpot does: §8)."""
        if not value.isdigit() or (
                self.config.strict_owner_ids and value not in self.owners.live_ids):
            raise property_error("INVALID_OWNER_ID", name,
                                 f"{value} is not a valid owner id")

    def _check_required(self, t: _Type, props: Mapping[str, str]) -> None:
        required = list(t.ot.required)
        any_of: tuple[str, ...] = ()
        if self.config.required_crm_properties:
            required.extend(REQUIRED_ALL.get(t.name, ()))
            any_of = REQUIRED_ANY.get(t.name, ())
        for name in required:
            if not props.get(name):
                raise property_error(
                    "REQUIRED_PROPERTY", name, f"{name} is required but was not set"
                )
        if any_of and not any(props.get(name) for name in any_of):
            raise property_error(
                "REQUIRED_PROPERTY", any_of[0],
                f"At least one of {', '.join(any_of)} is required but none was set",
            )

    def clean_associations(self, t: _Type, raw: Any) -> list[tuple[str, str, Spec]]:
        """Inline associations on create as (to type, to id, type); raises ``ApiError`` (400).

        Any type defined from ``t`` is accepted, labelled and ``USER_DEFINED`` ones included
        (the same rule as the per-record PUT); the to type is the type's own. A missing
        target, an unknown type or a configured association limit fails the create.
        """
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise validation_error("associations must be an array")
        out: list[tuple[str, str, Spec]] = []
        for assoc in raw:
            try:
                to_id = str(assoc["to"]["id"])
                types = assoc["types"]
                if not types or not isinstance(types, list):
                    raise KeyError("types")
            except (KeyError, TypeError):
                raise validation_error(
                    "Invalid association: expected {to: {id}, types: [...]}"
                ) from None
            specs: list[Spec] = []
            to_name: str | None = None
            for raw_spec in types:
                spec = parse_spec(raw_spec)
                at = self.schema.from_type(t.name, spec)
                if at is None or (to_name is not None and at.to_name != to_name):
                    raise validation_error(
                        f"{spec[0]} {spec[1]} is not a valid association type from "
                        f"{t.ot.type_id}", associationTypeId=[str(spec[1])])
                to_name = at.to_name
                specs.append(spec)
            assert to_name is not None
            target = self.types[to_name].records.get(to_id)
            if target is None or target.archived:
                raise validation_error(
                    f"Could not find a {self.types[to_name].ot.singular} with id {to_id} "
                    "to associate", ids=[to_id],
                )
            self.check_limits(t, None, "", to_name, target, specs)
            out.extend((to_name, to_id, spec) for spec in specs)
        return out

    # -- writes ---------------------------------------------------------------------------

    def create(self, t: _Type, props: dict[str, str], assocs: Iterable[tuple[str, str, Spec]],
               now: str) -> Record:
        """Store a new record (properties and associations already validated)."""
        for prop in t.unique:
            value = props.get(prop)
            if value and value in t.unique_index(prop):
                existing = t.unique_index(prop)[value]
                raise ApiError(
                    409, "CONFLICT",
                    f"{t.ot.singular.title()} already exists. Existing ID: {existing}",
                    context={"existingId": [existing]},
                )
        rid = self.next_id()
        stored = {**props}
        rec = Record(rid, stored, now)
        t.add(rec)
        for to_name, to_id, spec in assocs:
            self.associate(t, rec, to_name, to_id, spec)
        return rec

    def update(self, t: _Type, rec: Record, props: dict[str, str], now: str) -> Record:
        """Apply validated properties; ``""`` clears a value."""
        for prop in t.unique:
            new = props.get(prop)
            if new is not None and new != rec.props.get(prop):
                index = t.unique_index(prop)
                if new and new in index:
                    raise ApiError(409, "CONFLICT", f"{prop} value {new} already exists")
                old = rec.props.get(prop)
                if old:
                    index.pop(old, None)
                if new:
                    index[new] = rec.id
        if props.get("hs_pinned_engagement_id"):
            self._check_pin(rec, props["hs_pinned_engagement_id"])
        for name, value in props.items():
            if value == rec.props.get(name, ""):
                continue  # unchanged: no new history entry
            rec.history.setdefault(name, []).append((value, now))
            if value == "":
                rec.props.pop(name, None)
            else:
                rec.props[name] = value
        rec.updated = now
        return rec

    def archive(self, t: _Type, rec: Record, now: str) -> None:
        """Move a record to the recycle bin."""
        rec.archived = True
        rec.archived_at = now
        for prop in t.unique:
            value = rec.props.get(prop)
            index = t.unique_index(prop)
            if value and index.get(value) == rec.id:
                del index[value]

    def _check_pin(self, rec: Record, engagement_id: str) -> None:
        for name, targets in rec.assoc.items():
            ot = resolve_object_type(name)
            if ot is not None and ot.engagement and engagement_id in targets:
                return
        raise validation_error(
            f"Engagement {engagement_id} cannot be pinned: it is not associated with "
            f"record {rec.id}", ids=[engagement_id],
        )

    # -- associations ---------------------------------------------------------------------

    def live(self, to_name: str, to_id: str) -> Record | None:
        """A live record of type ``to_name`` by id, or None."""
        rec = self.types[to_name].records.get(to_id)
        return rec if rec is not None and not rec.archived else None

    def _with_default(self, a: str, b: str, specs: Iterable[Spec]) -> list[Spec]:
        """``specs`` and, when one of them is a label, the pair's unlabeled type: a labelled
        association is also an unlabeled one (§5.1: D-ASSOC batch read, D-A4-LABELS)."""
        out = list(dict.fromkeys(specs))
        default = self.schema.default(a, b)
        if default is not None and out and default.spec not in out:
            out.append(default.spec)
        return out

    def _over_limit(self, from_name: str, holder: Record, to_name: str, other_id: str,
                    spec: Spec) -> int | None:
        """The limit ``holder`` would exceed by holding ``spec`` toward one more record."""
        limit = self.schema.limit(from_name, to_name, spec)
        if limit is None:
            return None
        held = sum(
            1 for oid, specs in holder.assoc.get(to_name, {}).items()
            if oid != other_id and spec in specs and self.live(to_name, oid) is not None
        )
        return limit if held + 1 > limit else None

    def check_limits(self, t: _Type, rec: Record | None, rec_id: str, to_name: str,
                     target: Record, specs: Iterable[Spec]) -> None:
        """Raise ``ApiError`` (400) if associating would exceed a configured limit, either
        way (limits are per direction: §5.1, CL-ALIMITS). ``rec`` is None for a record being
        created (it holds nothing yet)."""
        for spec in self._with_default(t.name, to_name, specs):
            checks: list[tuple[str, Record, str, str, Spec]] = [
                (to_name, target, t.name, rec_id, self.schema.inverse(spec))]
            if rec is not None:
                checks.insert(0, (t.name, rec, to_name, target.id, spec))
            for a, holder, b, other, s in checks:
                limit = self._over_limit(a, holder, b, other, s)
                if limit is not None:
                    at = self.schema.types.get(s)
                    what = "records" if at is None or at.label is None else (
                        f"records labelled '{at.label}'")
                    raise validation_error(
                        f"Association limit exceeded: {self.types[a].ot.singular} {holder.id} "
                        f"may be associated with at most {limit} {self.types[b].ot.singular} "
                        f"{what} ({s[0]} {s[1]})")

    def associate(self, t: _Type, rec: Record, to_name: str, to_id: str,
                  spec: Spec | int) -> None:
        """Associate both ways with ``spec`` (an int: HUBSPOT_DEFINED) and its inverse; a label
        brings the unlabeled type along. No checks: the callers validate."""
        if isinstance(spec, int):
            spec = (HUBSPOT_DEFINED, spec)
        target = self.types[to_name].records.get(to_id)
        for s in self._with_default(t.name, to_name, [spec]):
            rec.assoc.setdefault(to_name, {}).setdefault(to_id, set()).add(s)
            if target is not None:
                back = self.schema.inverse(s)
                target.assoc.setdefault(t.name, {}).setdefault(rec.id, set()).add(back)

    def link(self, t: _Type, rec: Record, to_name: str, target: Record,
             specs: Iterable[Spec]) -> None:
        """Associate two live records with ``specs`` after the limit checks."""
        specs = list(specs)
        self.check_limits(t, rec, rec.id, to_name, target, specs)
        for spec in specs:
            self.associate(t, rec, to_name, target.id, spec)

    def unassociate(self, t: _Type, rec: Record, to_name: str, to_id: str) -> None:
        """Remove every association between the two records."""
        rec.assoc.get(to_name, {}).pop(to_id, None)
        target = self.types[to_name].records.get(to_id)
        if target is not None:
            target.assoc.get(t.name, {}).pop(rec.id, None)

    def unassociate_specs(self, t: _Type, rec: Record, to_name: str, to_id: str,
                          specs: Iterable[Spec]) -> None:
        """Remove some types between the two records (both ways); removing the unlabeled
        type removes every type (§5.1: D-A4-LABELS)."""
        specs = set(specs)
        default = self.schema.default(t.name, to_name)
        held = rec.assoc.get(to_name, {}).get(to_id)
        if held is None:
            return
        if default is not None and default.spec in specs:
            self.unassociate(t, rec, to_name, to_id)
            return
        held -= specs
        target = self.types[to_name].records.get(to_id)
        back = target.assoc.get(t.name, {}).get(rec.id) if target is not None else None
        if back is not None:
            back -= {self.schema.inverse(s) for s in specs}
        if not held:
            self.unassociate(t, rec, to_name, to_id)

    def drop_types(self, specs: Iterable[Spec]) -> None:
        """Forget ``specs`` (a deleted label) on every record; the records stay associated
        with whatever else they hold."""
        gone = set(specs)
        for t in self.types.values():
            for rec in t.records.values():
                for targets in rec.assoc.values():
                    for held in targets.values():
                        held -= gone

    def associated(self, rec: Record, to_name: str) -> list[tuple[str, list[Spec]]]:
        """The live records of ``to_name`` associated with ``rec``, ascending by id, each
        with its types sorted (HubSpot's category first, then id)."""
        out = []
        for to_id, specs in rec.assoc.get(to_name, {}).items():
            if specs and self.live(to_name, to_id) is not None:
                out.append((to_id, sorted(specs, key=_spec_order)))
        out.sort(key=lambda item: int(item[0]) if item[0].isdigit() else 0)
        return out

    def association_rows(self, t: _Type, rec: Record, to_name: str) -> list[dict[str, str]]:
        """``[{"id", "type"}]`` for the v3 associations shape (one row per type, §3)."""
        singular_to = self.types[to_name].ot.singular
        rows = []
        for to_id, specs in self.associated(rec, to_name):
            for spec in specs:
                at = self.schema.types.get(spec)
                name = (self.schema.v3_name(at, t.ot.singular, singular_to) if at is not None
                        else str(spec[1]))
                rows.append({"id": to_id, "type": name})
        return rows

    # -- output ---------------------------------------------------------------------------

    def to_wire(
        self,
        t: _Type,
        rec: Record,
        *,
        properties: Iterable[str] | None = None,
        associations: Iterable[str] = (),
        all_properties: bool = False,
        properties_with_history: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """A record as HubSpot returns it (with ``propertiesWithHistory`` when asked)."""
        ot = t.ot
        created_prop, modified_prop, id_prop = ot.system_properties
        if all_properties:
            props: dict[str, str | None] = dict(rec.props)
        else:
            wanted = list(properties) if properties is not None else list(ot.default_properties)
            wanted.extend(properties_with_history or ())  # returned as values too (I-NODE154)
            props = {p: rec.props[p] for p in wanted if p in rec.props}
        props[created_prop] = rec.created
        props[modified_prop] = rec.updated
        props[id_prop] = rec.id
        out: dict[str, Any] = {
            "id": rec.id,
            "properties": props,
            "createdAt": rec.created,
            "updatedAt": rec.updated,
            "archived": rec.archived,
        }
        if rec.archived_at:
            out["archivedAt"] = rec.archived_at
        if properties_with_history is not None:
            out["propertiesWithHistory"] = self.history_wire(t, rec, properties_with_history)
        assoc_out = {}
        for name in associations:
            to_ot = resolve_object_type(name)
            if to_ot is None:
                continue
            rows = self.association_rows(t, rec, to_ot.name)
            if rows:
                assoc_out[to_ot.name] = {"results": rows}
        if assoc_out:
            out["associations"] = assoc_out
        return out

    def history_wire(self, t: _Type, rec: Record,
                     names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """``{name: [{value, timestamp, sourceType}, …]}``, newest first, for each asked
        property the record has a history for (others are left out, as the spec says);
        the system properties' history is their current value (I-NODE154's shape)."""
        created_prop, modified_prop, id_prop = t.ot.system_properties
        system = {created_prop: [(rec.created, rec.created)],
                  modified_prop: [(rec.updated, rec.updated)],
                  id_prop: [(rec.id, rec.created)]}
        out: dict[str, list[dict[str, Any]]] = {}
        for name in names:
            entries = system.get(name) or rec.history.get(name)
            if entries:
                out[name] = [{"value": value, "timestamp": stamp, "sourceType": "API"}
                             for value, stamp in reversed(entries)]
        return out

    def shuffled(self, items: list[Any]) -> list[Any]:
        """``items`` in random order when the config says results are unordered."""
        if self.config.shuffle_results and len(items) > 1:
            self.rng.shuffle(items)
        return items

    # -- search ---------------------------------------------------------------------------

    def search(self, t: _Type, body: Any) -> dict[str, Any]:
        """Run a search request body; raises ``ApiError`` for invalid requests."""
        if not isinstance(body, Mapping):
            raise validation_error("Invalid search request body")
        limit = int(body.get("limit") or 10)
        if not 0 < limit <= MAX_SEARCH_PAGE_SIZE:
            raise validation_error(f"limit must be between 1 and {MAX_SEARCH_PAGE_SIZE}")
        try:
            after = int(body.get("after") or 0)
        except (TypeError, ValueError):
            raise validation_error("after must be an integer") from None
        if after + limit > SEARCH_RESULT_CAP:
            raise validation_error(
                f"Search results are limited to {SEARCH_RESULT_CAP}: after + limit exceeds it"
            )
        groups = body.get("filterGroups") or []
        if len(groups) > MAX_FILTER_GROUPS:
            raise validation_error(f"At most {MAX_FILTER_GROUPS} filterGroups are allowed")
        if sum(len(g.get("filters") or []) for g in groups) > MAX_FILTERS:
            raise validation_error(f"At most {MAX_FILTERS} filters are allowed")
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            raise validation_error("Only one sort is allowed")
        query = str(body.get("query") or "").strip().lower()
        matches = [
            rec for rec in t.records.values()
            if not rec.archived
            and (not groups or any(_group_matches(rec, g) for g in groups))
            and (not query or _query_matches(rec, query))
        ]
        if sorts:
            sort = sorts[0]
            if isinstance(sort, str):
                prop, descending = sort.lstrip("-"), sort.startswith("-")
            else:
                prop = str(sort.get("propertyName"))
                descending = sort.get("direction") == "DESCENDING"
            matches.sort(key=lambda r: _sort_key(_value(r, prop)), reverse=descending)
        page = matches[after : after + limit]
        properties = body.get("properties") or None
        out: dict[str, Any] = {
            "total": len(matches),
            "results": [self.to_wire(t, r, properties=properties) for r in page],
        }
        if after + limit < len(matches):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return out


def parse_spec(raw: Any) -> Spec:
    """``{associationCategory, associationTypeId}`` as a :data:`Spec`; 400 naming the field."""
    if not isinstance(raw, Mapping):
        raise validation_error("Invalid association type: expected "
                               "{associationCategory, associationTypeId}")
    category = raw.get("associationCategory")
    if category not in CATEGORIES:
        raise validation_error(
            f"associationCategory must be one of {', '.join(CATEGORIES)}, got {category!r}",
            associationCategory=[str(category)])
    type_id = raw.get("associationTypeId")
    if isinstance(type_id, str) and type_id.isdigit():
        type_id = int(type_id)
    if isinstance(type_id, bool) or not isinstance(type_id, int):
        raise validation_error(f"associationTypeId must be an integer, got {type_id!r}",
                               associationTypeId=[str(type_id)])
    return (str(category), type_id)


def _spec_order(spec: Spec) -> tuple[int, int]:
    return (0 if spec[0] == HUBSPOT_DEFINED else 1, spec[1])


def _value(rec: Record, prop: str) -> str | None:
    if prop in ("hs_object_id",):
        return rec.id
    if prop in ("createdate", "hs_createdate"):
        return rec.created
    if prop in ("lastmodifieddate", "hs_lastmodifieddate"):
        return rec.updated
    return rec.props.get(prop)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).timestamp() * 1000
    except ValueError:
        return None


def _sort_key(value: str | None) -> tuple[int, float, str]:
    if value is None:
        return (1, 0.0, "")
    number = _number(value)
    return (0, number, "") if number is not None else (0, 0.0, value.lower())


def _compare(actual: str, wanted: str) -> int:
    a, b = _number(actual), _number(wanted)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    x, y = actual.lower(), wanted.lower()
    return (x > y) - (x < y)


def _group_matches(rec: Record, group: Mapping[str, Any]) -> bool:
    return all(_filter_matches(rec, f) for f in group.get("filters") or [])


def _filter_matches(rec: Record, f: Mapping[str, Any]) -> bool:
    prop = str(f.get("propertyName"))
    op = f.get("operator", "EQ")
    if prop.startswith("associations."):
        to_ot = resolve_object_type(prop.split(".", 1)[1])
        ids = rec.assoc.get(to_ot.name, {}) if to_ot else {}
        return bool(str(f.get("value")) in ids)
    value = _value(rec, prop)
    if op == "HAS_PROPERTY":
        return value is not None
    if op == "NOT_HAS_PROPERTY":
        return value is None
    if op == "IN":
        return value is not None and value.lower() in {str(v).lower() for v in f.get("values", [])}
    if op == "NOT_IN":
        return value is None or value.lower() not in {
            str(v).lower() for v in f.get("values", [])
        }
    if value is None:
        return bool(op == "NEQ")
    wanted = str(f.get("value", ""))
    if op == "EQ":
        return _compare(value, wanted) == 0
    if op == "NEQ":
        return _compare(value, wanted) != 0
    if op == "LT":
        return _compare(value, wanted) < 0
    if op == "LTE":
        return _compare(value, wanted) <= 0
    if op == "GT":
        return _compare(value, wanted) > 0
    if op == "GTE":
        return _compare(value, wanted) >= 0
    if op == "BETWEEN":
        high = str(f.get("highValue", ""))
        return _compare(value, wanted) >= 0 and _compare(value, high) <= 0
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = wanted.lower().strip("*")
        found = token in value.lower()
        return found if op == "CONTAINS_TOKEN" else not found
    raise validation_error(f"Unknown operator {op}")


def _query_matches(rec: Record, query: str) -> bool:
    return any(query in v.lower() for v in rec.props.values())
