"""The property definitions of each object type: what may be written, of which type, and the
properties API's data (HubSpot's ``Property`` and ``PropertyGroup`` shapes).

A :class:`TypeSchema` holds one object type's properties: HubSpot's own (the engagement
properties of ``hubengage._objecttypes``, the CRM records' standard properties of
``_stdprops``), those the configuration declares (``custom_properties``,
``unique_properties``, ``properties``) and those created through the properties API. The
store validates every written value against it: a property's HubSpot ``type`` decides how a
value is checked and normalised (``_values``), an enumeration's options which values it
takes, ``hasUniqueValue`` whether it can be an ``idProperty``. The rules for creating and
changing properties (names, type and field type pairs, options, groups, the unique-property
cap) follow ``docs/hubspot-wire.md`` §9 (D-PROPS, S-PROPS, CL-UNIQUE); what no source
settles (the error bodies, HubSpot's own properties being read-only here) is in §8.
Errors are ``ApiError``. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .._objecttypes import ObjectType, PropertyKind
from ._caps import MAX_UNIQUE_PROPERTIES
from ._common import ApiError, validation_error
from ._stdprops import DEFAULT_GROUPS, STANDARD_PROPERTIES, StdProp

__all__ = [
    "FIELD_TYPES",
    "PROPERTY_TYPES",
    "PropertyDef",
    "PropertyGroup",
    "PropertySpec",
    "TypeSchema",
    "parse_property",
]

#: HubSpot property types and the field types each may use (D-PROPS; S-PROPS enums).
FIELD_TYPES: Mapping[str, frozenset[str]] = {
    "bool": frozenset({"booleancheckbox", "calculation_equation"}),
    "enumeration": frozenset({"booleancheckbox", "checkbox", "radio", "select",
                              "calculation_equation"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "string": frozenset({"file", "text", "textarea", "calculation_equation", "html",
                         "phonenumber"}),
    "number": frozenset({"number", "calculation_equation"}),
    "phone_number": frozenset({"phonenumber"}),
}
PROPERTY_TYPES = tuple(FIELD_TYPES)
#: The field type a property declared by configuration gets for each type.
_DEFAULT_FIELD = {"bool": "booleancheckbox", "enumeration": "select", "date": "date",
                  "datetime": "date", "string": "text", "number": "number",
                  "phone_number": "phonenumber"}
#: How the store checks values of each HubSpot type (``_values``).
_KINDS = {"bool": PropertyKind.BOOL, "enumeration": PropertyKind.ENUMERATION,
          "date": PropertyKind.DATETIME, "datetime": PropertyKind.DATETIME,
          "string": PropertyKind.STRING, "number": PropertyKind.NUMBER,
          "phone_number": PropertyKind.STRING}
#: A property's internal name: lower case letters, digits and underscores, from a letter.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}\Z")
_SPEC = re.compile(r"(?P<t>[^.\s]+)\.(?P<n>[^:\s]+)(?::(?P<k>[a-z_]+)(?:=(?P<o>.*))?)?\Z")


@attrs.frozen
class PropertySpec:
    """A property declared by configuration: ``EmulatorConfig(properties=[...])``."""

    object_type: str
    name: str
    type: str = attrs.field(default="string", validator=attrs.validators.in_(PROPERTY_TYPES))
    options: tuple[str, ...] = ()


def parse_property(text: str | PropertySpec) -> PropertySpec:
    """``TYPE.NAME[:KIND[=OPT;OPT…]]``, e.g. ``emails.external_id``, ``deals.score:number``,
    ``contacts.tier:enumeration=gold;silver``; KIND is a HubSpot property type (default
    ``string``)."""
    if isinstance(text, PropertySpec):
        return text
    match = _SPEC.match(text.strip())
    if match is None:
        raise ValueError(f"expected TYPE.NAME[:KIND[=OPT;OPT...]], got {text!r}")
    kind = match["k"] or "string"
    if kind not in FIELD_TYPES:
        raise ValueError(f"unknown property type {kind!r} in {text!r}; "
                         f"one of {', '.join(PROPERTY_TYPES)}")
    options = tuple(o for o in (match["o"] or "").split(";") if o)
    if kind == "enumeration" and not options:
        raise ValueError(f"an enumeration needs options: TYPE.NAME:enumeration=A;B ({text!r})")
    return PropertySpec(match["t"], match["n"], kind, options)


def _label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize() or name


def _options_wire(values: Iterable[str]) -> list[dict[str, Any]]:
    return [{"label": v, "value": v, "displayOrder": i, "hidden": False, "description": ""}
            for i, v in enumerate(values)]


@attrs.define(kw_only=True)
class PropertyDef:
    """One property of an object type (HubSpot's ``Property``), and how values are checked."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    created_at: str
    updated_at: str
    description: str = ""
    options: list[dict[str, Any]] = attrs.Factory(list)
    display_order: int = -1
    has_unique_value: bool = False
    hidden: bool = False
    form_field: bool = False
    hubspot_defined: bool = False
    #: Set by HubSpot only: writes are ignored (``modificationMetadata.readOnlyValue``).
    read_only: bool = False
    referenced_object_type: str | None = None
    archived: bool = False
    archived_at: str | None = None
    #: How values are checked: a kind (``_values``) that may differ from ``type`` (a
    #: ``;``-list stored as text), and whether a datetime is a date only.
    kind: PropertyKind = PropertyKind.STRING
    date_only: bool = False

    @property
    def allowed(self) -> frozenset[str] | None:
        """The values an enumeration takes (None: any value of the kind)."""
        if self.type != "enumeration" or self.referenced_object_type:
            return None
        return frozenset(str(o["value"]) for o in self.options)

    def wire(self) -> dict[str, Any]:
        """HubSpot's ``Property``."""
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [dict(o) for o in self.options],
            "displayOrder": self.display_order,
            "calculated": False,
            "externalOptions": self.referenced_object_type is not None,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "formField": self.form_field,
            "dataSensitivity": "non_sensitive",
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": self.archived,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyOptions": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
        }
        if self.hubspot_defined:
            out["hubspotDefined"] = True
        if self.referenced_object_type:
            out["referencedObjectType"] = self.referenced_object_type
        if self.archived_at:
            out["archivedAt"] = self.archived_at
        return out


@attrs.define(kw_only=True)
class PropertyGroup:
    """HubSpot's ``PropertyGroup``."""

    name: str
    label: str
    display_order: int = -1
    archived: bool = False

    def wire(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "displayOrder": self.display_order,
                "archived": self.archived}


def _kind_of(ptype: str, field_type: str) -> PropertyKind:
    if ptype == "enumeration" and field_type == "checkbox":
        return PropertyKind.MULTI  # a multi-select: ;-separated values
    return _KINDS[ptype]


def _type_of(kind: PropertyKind) -> tuple[str, str]:
    """The HubSpot type and field type that show a kind of ``_objecttypes``."""
    return {
        PropertyKind.DATETIME: ("datetime", "date"),
        PropertyKind.NUMBER: ("number", "number"),
        PropertyKind.BOOL: ("bool", "booleancheckbox"),
        PropertyKind.ENUMERATION: ("enumeration", "select"),
        PropertyKind.MULTI: ("string", "text"),  # ;-lists of ids (attachments, reminders)
    }.get(kind, ("string", "text"))


class TypeSchema:
    """One object type's properties and property groups, and the sets the store checks."""

    def __init__(self, ot: ObjectType, *, now: str,
                 custom: Iterable[str] = (), unique: Iterable[str] = (),
                 specs: Iterable[PropertySpec] = ()) -> None:
        self.ot = ot
        self.now = now
        group, group_label = DEFAULT_GROUPS.get(
            ot.name, (f"{ot.singular.lower()}information", f"{ot.singular.title()} information"))
        self.default_group = group
        self.groups: dict[str, PropertyGroup] = {
            group: PropertyGroup(name=group, label=group_label, display_order=0)}
        self.defs: dict[str, PropertyDef] = {}
        self._from_object_type(ot)
        for prop in STANDARD_PROPERTIES.get(ot.name, ()):
            self._standard(prop)
        unique = tuple(unique)
        for name in (*custom, *unique):
            if name not in self.defs:
                self.defs[name] = self._custom(name, "string", "text")
        for spec in specs:
            if not _NAME.match(spec.name):
                raise ValueError(f"property name {spec.name!r} is invalid: use lower-case "
                                 "letters, digits and underscores, starting with a letter")
            known = self.defs.get(spec.name)
            if known is not None and known.hubspot_defined:
                raise ValueError(f"{spec.name} is one of HubSpot's own {ot.name} properties; "
                                 "it cannot be redefined")
            self.defs[spec.name] = self._custom(spec.name, spec.type, _DEFAULT_FIELD[spec.type],
                                                spec.options)
        for name in (*ot.unique_properties, *unique):
            self.defs[name].has_unique_value = True
        self.refresh()

    # -- building -------------------------------------------------------------------------

    def _from_object_type(self, ot: ObjectType) -> None:
        system = set(ot.system_properties)
        for name in sorted(ot.properties | ot.read_only | system):
            kind = ot.kind(name)
            ptype, field = _type_of(kind)
            if name == "hs_object_id":
                ptype, field = "number", "number"
            options = _options_wire(sorted(ot.enums.get(name, ())))
            self.defs[name] = PropertyDef(
                name=name, label=_label(name), type=ptype, field_type=field,
                group_name=self.default_group, options=options, hubspot_defined=True,
                read_only=name in ot.read_only or name in system, kind=kind,
                referenced_object_type="OWNER" if name == "hubspot_owner_id" else None,
                created_at=self.now, updated_at=self.now,
            )

    def _standard(self, prop: StdProp) -> None:
        self.defs[prop.name] = PropertyDef(
            name=prop.name, label=_label(prop.name), type=prop.type, field_type=prop.field_type,
            group_name=self.default_group, options=_options_wire(prop.options or ()),
            hubspot_defined=True, read_only=prop.read_only,
            referenced_object_type=prop.referenced_object_type,
            kind=_kind_of(prop.type, prop.field_type), date_only=prop.type == "date",
            created_at=self.now, updated_at=self.now,
        )

    def _custom(self, name: str, ptype: str, field: str,
                options: Iterable[str] = ()) -> PropertyDef:
        return PropertyDef(
            name=name, label=_label(name), type=ptype, field_type=field,
            group_name=self.default_group, options=_options_wire(options),
            kind=_kind_of(ptype, field), date_only=ptype == "date",
            created_at=self.now, updated_at=self.now,
        )

    def refresh(self) -> None:
        """Recompute the sets the store checks writes against (after any change)."""
        live = [d for d in self.defs.values() if not d.archived]
        self.writable = frozenset(d.name for d in live if not d.read_only)
        self.ignored = frozenset(d.name for d in live if d.read_only)
        self.kinds = {d.name: (d.kind, d.date_only) for d in live}
        self.allowed = {d.name: a for d in live if (a := d.allowed) is not None}
        self.owner_properties = frozenset(
            d.name for d in live if d.referenced_object_type == "OWNER")
        self.unique = tuple(d.name for d in live if d.has_unique_value)

    # -- reading --------------------------------------------------------------------------

    def get(self, name: str, *, archived: bool = False) -> PropertyDef | None:
        """A property by name (an archived one only when asked)."""
        found = self.defs.get(name)
        if found is None or found.archived != archived:
            return None
        return found

    def listed(self, *, archived: bool = False) -> list[PropertyDef]:
        return [d for d in self.defs.values() if d.archived == archived]

    # -- the properties API ---------------------------------------------------------------

    def create(self, body: Any, now: str) -> PropertyDef:
        """A property from a ``PropertyCreate`` body; raises ``ApiError`` naming the field."""
        if not isinstance(body, Mapping):
            raise validation_error("Invalid input JSON: expected a PropertyCreate object")
        for field in ("name", "label", "type", "fieldType", "groupName"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise validation_error(f"{field} is required and must be a non-empty string",
                                       field=[field])
        name = body["name"]
        if not _NAME.match(name):
            raise validation_error(
                f"Property name {name!r} is invalid: use lower-case letters, digits and "
                "underscores, starting with a letter (at most 100 characters)", field=["name"])
        if name in self.defs:
            raise ApiError(409, "OBJECT_ALREADY_EXISTS",
                           f"Property named '{name}' already exists.", context={"name": [name]})
        ptype, field = self._check_type(body["type"], body["fieldType"])
        group = self._check_group(body["groupName"])
        options = self._check_options(ptype, body.get("options"))
        unique = body.get("hasUniqueValue", False)
        if not isinstance(unique, bool):
            raise validation_error("hasUniqueValue must be a boolean", field=["hasUniqueValue"])
        if unique and len(self.unique) >= MAX_UNIQUE_PROPERTIES:
            raise validation_error(
                f"Cannot create property {name}: an object type can have at most "
                f"{MAX_UNIQUE_PROPERTIES} unique value properties", field=["hasUniqueValue"])
        prop = PropertyDef(
            name=name, label=body["label"], type=ptype, field_type=field, group_name=group,
            description=str(body.get("description") or ""), options=options,
            display_order=_int(body.get("displayOrder", -1), "displayOrder"),
            has_unique_value=unique, hidden=bool(body.get("hidden", False)),
            form_field=bool(body.get("formField", False)),
            referenced_object_type=(
                "OWNER" if body.get("externalOptions") and
                body.get("referencedObjectType") == "OWNER" else None),
            kind=_kind_of(ptype, field), date_only=ptype == "date",
            created_at=now, updated_at=now,
        )
        self.defs[name] = prop
        self.refresh()
        return prop

    def update(self, name: str, body: Any, now: str) -> PropertyDef:
        """Apply a ``PropertyUpdate``; HubSpot's own properties cannot be changed."""
        prop = self.get(name)
        if prop is None:
            raise self.missing(name)
        if not isinstance(body, Mapping):
            raise validation_error("Invalid input JSON: expected a PropertyUpdate object")
        if prop.hubspot_defined:
            raise validation_error(
                f"Property {name} is defined by HubSpot; its definition is read-only",
                field=["name"])
        ptype = body.get("type", prop.type)
        field = body.get("fieldType", prop.field_type if ptype == prop.type
                         else _DEFAULT_FIELD.get(str(ptype), ""))
        ptype, field = self._check_type(ptype, field)
        if "groupName" in body:
            prop.group_name = self._check_group(body["groupName"])
        if "options" in body or ptype != prop.type:
            prop.options = self._check_options(ptype, body.get("options", prop.options))
        prop.type, prop.field_type = ptype, field
        prop.kind, prop.date_only = _kind_of(ptype, field), ptype == "date"
        for key, attr in (("label", "label"), ("description", "description")):
            if key in body:
                if not isinstance(body[key], str):
                    raise validation_error(f"{key} must be a string", field=[key])
                setattr(prop, attr, body[key])
        if "displayOrder" in body:
            prop.display_order = _int(body["displayOrder"], "displayOrder")
        for key, attr in (("hidden", "hidden"), ("formField", "form_field")):
            if key in body:
                setattr(prop, attr, bool(body[key]))
        prop.updated_at = now
        self.refresh()
        return prop

    def archive(self, name: str, now: str, *, missing_ok: bool = False) -> None:
        """Move a custom property to the recycle bin (HubSpot's own cannot be archived)."""
        prop = self.get(name)
        if prop is None:
            if missing_ok:
                return
            raise self.missing(name)
        if prop.hubspot_defined:
            raise validation_error(
                f"Property {name} is defined by HubSpot and cannot be archived", field=["name"])
        prop.archived, prop.archived_at, prop.updated_at = True, now, now
        self.refresh()

    def missing(self, name: str) -> ApiError:
        return ApiError(404, "OBJECT_NOT_FOUND",
                        f"Property {name} does not exist on object type {self.ot.type_id}",
                        context={"name": [name]})

    def _check_type(self, ptype: Any, field: Any) -> tuple[str, str]:
        if ptype not in FIELD_TYPES:
            raise validation_error(
                f"type {ptype!r} is not one of {', '.join(PROPERTY_TYPES)}", field=["type"])
        if field not in FIELD_TYPES[ptype]:
            raise validation_error(
                f"fieldType {field!r} is not valid for type {ptype}: use one of "
                f"{', '.join(sorted(FIELD_TYPES[ptype]))}", field=["fieldType"])
        return str(ptype), str(field)

    def _check_group(self, name: Any) -> str:
        group = self.groups.get(name) if isinstance(name, str) else None
        if group is None or group.archived:
            raise validation_error(f"Property group {name!r} does not exist",
                                   field=["groupName"])
        return group.name

    @staticmethod
    def _check_options(ptype: str, raw: Any) -> list[dict[str, Any]]:
        if ptype != "enumeration":
            return []
        if not isinstance(raw, list) or not raw:
            raise validation_error("options are required for an enumeration property",
                                   field=["options"])
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for i, option in enumerate(raw):
            if not isinstance(option, Mapping) or not isinstance(option.get("value"), str) \
                    or not isinstance(option.get("label"), str):
                raise validation_error(
                    f"options[{i}] needs a string label and value", field=["options"])
            if option["value"] in seen:
                raise validation_error(f"Duplicate option value {option['value']!r}",
                                       field=["options"])
            seen.add(option["value"])
            out.append({"label": option["label"], "value": option["value"],
                        "displayOrder": _int(option.get("displayOrder", i), "displayOrder"),
                        "hidden": bool(option.get("hidden", False)),
                        "description": str(option.get("description") or "")})
        return out

    # -- property groups ------------------------------------------------------------------

    def group(self, name: str) -> PropertyGroup:
        found = self.groups.get(name)
        if found is None or found.archived:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"Property group {name} does not exist",
                           context={"name": [name]})
        return found

    def create_group(self, body: Any) -> PropertyGroup:
        if not isinstance(body, Mapping):
            raise validation_error("Invalid input JSON: expected a PropertyGroupCreate object")
        for field in ("name", "label"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise validation_error(f"{field} is required and must be a non-empty string",
                                       field=[field])
        name = body["name"]
        if not _NAME.match(name):
            raise validation_error(f"Property group name {name!r} is invalid", field=["name"])
        if name in self.groups and not self.groups[name].archived:
            raise ApiError(409, "OBJECT_ALREADY_EXISTS",
                           f"Property group named '{name}' already exists.",
                           context={"name": [name]})
        group = PropertyGroup(name=name, label=body["label"],
                              display_order=_int(body.get("displayOrder", -1), "displayOrder"))
        self.groups[name] = group
        return group

    def update_group(self, name: str, body: Any) -> PropertyGroup:
        group = self.group(name)
        if not isinstance(body, Mapping):
            raise validation_error("Invalid input JSON: expected a PropertyGroupUpdate object")
        if "label" in body:
            if not isinstance(body["label"], str) or not body["label"]:
                raise validation_error("label must be a non-empty string", field=["label"])
            group.label = body["label"]
        if "displayOrder" in body:
            group.display_order = _int(body["displayOrder"], "displayOrder")
        return group

    def archive_group(self, name: str) -> None:
        group = self.group(name)
        if name == self.default_group:
            raise validation_error(f"Property group {name} is defined by HubSpot",
                                   field=["groupName"])
        group.archived = True


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation_error(f"{field} must be an integer", field=[field])
    return value
