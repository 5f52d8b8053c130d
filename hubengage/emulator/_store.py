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
    ASSOCIATION_TYPE_IDS,
    OBJECT_TYPES,
    ObjectType,
    PropertyKind,
    resolve_object_type,
)
from ._common import ApiError, iso_time, property_error, validation_error
from ._config import EmulatorConfig
from ._values import RICH_TEXT_PROPERTIES, InvalidValue, check_value, rich_text_html

__all__ = ["Record", "Store"]

#: First id handed out; HubSpot ids are large numeric strings.
FIRST_ID = 10_000_001

# (from type, association type id) -> to type, for every default association type.
_TYPE_ID_TARGET: dict[tuple[str, int], str] = {
    (a, tid): b for (a, b), tid in ASSOCIATION_TYPE_IDS.items()
}


class Record:
    """One stored record."""

    __slots__ = ("archived", "archived_at", "assoc", "created", "id", "props", "updated")

    def __init__(self, rid: str, props: dict[str, str], now: str) -> None:
        self.id = rid
        self.props = props
        self.created = now
        self.updated = now
        self.archived = False
        self.archived_at: str | None = None
        #: to type name -> to id -> association type ids
        self.assoc: dict[str, dict[str, set[int]]] = {}


class _Type:
    """One object type as the emulator serves it (known or custom)."""

    def __init__(self, ot: ObjectType, config: EmulatorConfig) -> None:
        self.ot = ot
        self.name = ot.name
        custom = set(config.custom_properties.get(ot.name, ()))
        self.unique = tuple(ot.unique_properties) + tuple(
            p for p in config.unique_properties.get(ot.name, ()) if p not in ot.unique_properties
        )
        custom.update(self.unique)
        self.writable = frozenset(ot.properties | custom)
        #: Declared custom properties (not HubSpot's own) hold plain strings.
        self.custom = frozenset(custom - ot.properties)
        self.ignored = frozenset(ot.read_only | set(ot.system_properties))
        self.records: dict[str, Record] = {}
        #: Record ids, ascending (list pages come in id order and start with a bisection
        #: instead of a scan from the first record).
        self.ids: list[int] = []
        #: unique property -> value -> record id (live records only)
        self.index: dict[str, dict[str, str]] = {p: {} for p in self.unique}

    def kind(self, name: str) -> PropertyKind:
        """The kind of property ``name`` (custom properties are ``STRING``)."""
        return PropertyKind.STRING if name in self.custom else self.ot.kind(name)

    def add(self, rec: Record) -> None:
        """Hold a new record (its id is not taken) and index its unique properties."""
        self.records[rec.id] = rec
        bisect.insort(self.ids, int(rec.id))  # an append for ids from the counter
        for prop in self.unique:
            value = rec.props.get(prop)
            if value:
                self.index[prop][value] = rec.id


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
        self.types: dict[str, _Type] = {ot.name: _Type(ot, self.config) for ot in OBJECT_TYPES}
        self._ids = itertools.count(FIRST_ID)

    # -- lookup ---------------------------------------------------------------------------

    def type(self, name: str) -> _Type:
        """The type for a path segment (name, singular or type id)."""
        ot = resolve_object_type(name)
        if ot is None:
            raise validation_error(f"Unable to infer object type from: {name}")
        return self.types[ot.name]

    def find(self, t: _Type, rid: str, *, id_property: str | None = None,
             archived: bool = False) -> Record | None:
        """A record by id (or unique property value); archived ones only when asked."""
        if id_property and id_property != "hs_object_id":
            self._check_unique(t, id_property)
            found = t.index[id_property].get(rid)
            rec = t.records.get(found) if found else None
        else:
            rec = t.records.get(rid)
        if rec is None or rec.archived != archived:
            return None
        return rec

    def _check_unique(self, t: _Type, prop: str) -> None:
        if prop not in t.index:
            raise validation_error(
                f"Unable to perform update/upsert by non-unique {t.ot.type_id} property {prop}"
            )

    def next_id(self) -> str:
        """A fresh record id."""
        return str(next(self._ids))

    # -- validation -----------------------------------------------------------------------

    def clean_properties(
        self, t: _Type, props: Any, *, create: bool, strict: bool = True
    ) -> dict[str, str]:
        """Validated properties; raises ``ApiError`` (400) naming the property.

        Values are checked for their property's kind (``_values``) and stored in HubSpot's
        normal form (as sent when ``normalize_values`` is off); with ``rich_text_html``,
        plain-text engagement bodies are stored as the rich-text editor's HTML.
        """
        if not isinstance(props, Mapping):
            raise validation_error("properties must be an object")
        out: dict[str, str] = {}
        ot = t.ot
        normalize = self.config.normalize_values
        rich_text = self.config.rich_text_html
        for name, value in props.items():
            if name in t.ignored:
                continue  # read-only: HubSpot ignores the value
            if name not in t.writable:
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
            allowed = ot.enums.get(name)
            if allowed is not None and value and value not in allowed:
                options = ", ".join(sorted(allowed))
                raise property_error(
                    "INVALID_OPTION", name,
                    f"{value} was not one of the allowed options: [{options}]",
                )
            if value:
                try:
                    value = check_value(t.kind(name), value, normalize=normalize)
                except InvalidValue as exc:
                    raise property_error(exc.code, name, exc.message) from None
                if rich_text and name in RICH_TEXT_PROPERTIES:
                    value = rich_text_html(value)
            out[name] = value
        if create:
            for name in ot.required:
                if not out.get(name):
                    raise property_error(
                        "REQUIRED_PROPERTY", name, f"{name} is required but was not set"
                    )
        return out

    def clean_associations(self, t: _Type, raw: Any) -> list[tuple[str, str, int]]:
        """Inline associations as (to type, to id, type id); raises ``ApiError`` (400)."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise validation_error("associations must be an array")
        out = []
        for assoc in raw:
            try:
                to_id = str(assoc["to"]["id"])
                types = assoc["types"]
                if not types:
                    raise KeyError("types")
            except (KeyError, TypeError):
                raise validation_error(
                    "Invalid association: expected {to: {id}, types: [...]}"
                ) from None
            for spec in types:
                try:
                    type_id = int(spec["associationTypeId"])
                except (KeyError, TypeError, ValueError):
                    raise validation_error("Invalid associationTypeId") from None
                to_name = _TYPE_ID_TARGET.get((t.name, type_id))
                if to_name is None:
                    raise validation_error(
                        f"{type_id} is not a valid association type id from {t.ot.type_id}"
                    )
                target = self.types[to_name].records.get(to_id)
                if target is None or target.archived:
                    raise validation_error(
                        f"Could not find a {self.types[to_name].ot.singular} with id {to_id} "
                        "to associate", ids=[to_id],
                    )
                out.append((to_name, to_id, type_id))
        return out

    # -- writes ---------------------------------------------------------------------------

    def create(self, t: _Type, props: dict[str, str], assocs: Iterable[tuple[str, str, int]],
               now: str) -> Record:
        """Store a new record (properties and associations already validated)."""
        for prop in t.unique:
            value = props.get(prop)
            if value and value in t.index[prop]:
                existing = t.index[prop][value]
                raise ApiError(
                    409, "CONFLICT",
                    f"{t.ot.singular.title()} already exists. Existing ID: {existing}",
                    context={"existingId": [existing]},
                )
        rid = self.next_id()
        stored = {**props}
        rec = Record(rid, stored, now)
        t.add(rec)
        for to_name, to_id, type_id in assocs:
            self.associate(t, rec, to_name, to_id, type_id)
        return rec

    def update(self, t: _Type, rec: Record, props: dict[str, str], now: str) -> Record:
        """Apply validated properties; ``""`` clears a value."""
        for prop in t.unique:
            new = props.get(prop)
            if new is not None and new != rec.props.get(prop):
                if new and new in t.index[prop]:
                    raise ApiError(409, "CONFLICT", f"{prop} value {new} already exists")
                old = rec.props.get(prop)
                if old:
                    t.index[prop].pop(old, None)
                if new:
                    t.index[prop][new] = rec.id
        if props.get("hs_pinned_engagement_id"):
            self._check_pin(rec, props["hs_pinned_engagement_id"])
        for name, value in props.items():
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
            if value and t.index[prop].get(value) == rec.id:
                del t.index[prop][value]

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

    def associate(self, t: _Type, rec: Record, to_name: str, to_id: str, type_id: int) -> None:
        """Associate both ways (the reverse with its default type id when one exists)."""
        rec.assoc.setdefault(to_name, {}).setdefault(to_id, set()).add(type_id)
        target = self.types[to_name].records.get(to_id)
        if target is not None:
            reverse = ASSOCIATION_TYPE_IDS.get((to_name, t.name), type_id)
            target.assoc.setdefault(t.name, {}).setdefault(rec.id, set()).add(reverse)

    def unassociate(self, t: _Type, rec: Record, to_name: str, to_id: str) -> None:
        """Remove every association between the two records."""
        rec.assoc.get(to_name, {}).pop(to_id, None)
        target = self.types[to_name].records.get(to_id)
        if target is not None:
            target.assoc.get(t.name, {}).pop(rec.id, None)

    def association_rows(self, t: _Type, rec: Record, to_name: str) -> list[dict[str, str]]:
        """``[{"id", "type"}]`` for the v3 associations shape (one row per type)."""
        to_ot = self.types[to_name].ot
        label = f"{t.ot.singular.lower()}_to_{to_ot.singular.lower()}"
        rows = []
        for to_id, type_ids in rec.assoc.get(to_name, {}).items():
            target = self.types[to_name].records.get(to_id)
            if target is not None and target.archived:
                continue
            for type_id in sorted(type_ids):
                default = ASSOCIATION_TYPE_IDS.get((t.name, to_name)) == type_id
                rows.append({"id": to_id, "type": label if default else str(type_id)})
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
    ) -> dict[str, Any]:
        """A record as HubSpot returns it."""
        ot = t.ot
        created_prop, modified_prop, id_prop = ot.system_properties
        if all_properties:
            props: dict[str, str | None] = dict(rec.props)
        else:
            wanted = list(properties) if properties is not None else list(ot.default_properties)
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
