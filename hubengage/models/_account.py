"""What an account defines around its records: property definitions and owners.

:class:`Property` is HubSpot's property definition (``GET /crm/v3/properties/{type}``):
which properties exist on an object type, of which type, whether values must be unique
(usable as an upsert's ``id_property``) and which options an enumeration takes.
:class:`Owner` is a HubSpot user who can own records (``GET /crm/v3/owners``): the value of
``hubspot_owner_id`` is an owner's ``id``. Both are built from HubSpot's JSON with
``from_wire`` and tolerate fields HubSpot adds or leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._records import parse_datetime

__all__ = ["Owner", "Property", "PropertyOption"]


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else str(value)


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    return raw.get(key) is True


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@attrs.frozen(kw_only=True)
class PropertyOption:
    """One value an enumeration property takes: the stored ``value`` and its ``label``."""

    label: str
    value: str
    description: str = ""
    display_order: int | None = None
    hidden: bool = False

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> PropertyOption:
        """Build from one entry of a property's ``options``."""
        return cls(label=_text(raw, "label"), value=_text(raw, "value"),
                   description=_text(raw, "description"),
                   display_order=_int(raw.get("displayOrder")), hidden=_flag(raw, "hidden"))

    def to_wire(self, index: int) -> dict[str, Any]:
        """The option as a property create sends it."""
        out: dict[str, Any] = {"label": self.label, "value": self.value,
                               "displayOrder": index if self.display_order is None
                               else self.display_order, "hidden": self.hidden}
        if self.description:
            out["description"] = self.description
        return out


@attrs.frozen(kw_only=True)
class Property:
    """A property definition of one object type.

    ``type`` is HubSpot's data type (``string``, ``number``, ``bool``, ``enumeration``,
    ``date``, ``datetime``, ``phone_number``), ``field_type`` how forms show it.
    ``has_unique_value`` marks a property whose values identify a record (an upsert's
    ``id_property``). ``hubspot_defined`` is True for HubSpot's own properties,
    ``read_only_value`` for those only HubSpot writes.
    """

    name: str
    label: str = ""
    type: str = ""
    field_type: str = ""
    group_name: str = ""
    description: str = ""
    options: tuple[PropertyOption, ...] = ()
    has_unique_value: bool = False
    hidden: bool = False
    hubspot_defined: bool = False
    calculated: bool = False
    read_only_value: bool = False
    archived: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> Property:
        """Build from HubSpot's ``Property`` JSON."""
        options = raw.get("options")
        meta = raw.get("modificationMetadata")
        return cls(
            name=_text(raw, "name"),
            label=_text(raw, "label"),
            type=_text(raw, "type"),
            field_type=_text(raw, "fieldType"),
            group_name=_text(raw, "groupName"),
            description=_text(raw, "description"),
            options=tuple(PropertyOption.from_wire(o) for o in options
                          if isinstance(o, Mapping)) if isinstance(options, list) else (),
            has_unique_value=_flag(raw, "hasUniqueValue"),
            hidden=_flag(raw, "hidden"),
            hubspot_defined=_flag(raw, "hubspotDefined"),
            calculated=_flag(raw, "calculated"),
            read_only_value=isinstance(meta, Mapping) and _flag(meta, "readOnlyValue"),
            archived=_flag(raw, "archived"),
            created_at=parse_datetime(raw.get("createdAt")),
            updated_at=parse_datetime(raw.get("updatedAt")),
        )

    @property
    def values(self) -> tuple[str, ...]:
        """The values an enumeration takes (empty for other types)."""
        return tuple(option.value for option in self.options)


@attrs.frozen(kw_only=True)
class Owner:
    """A HubSpot user who can own records; ``id`` is what ``hubspot_owner_id`` holds."""

    id: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    user_id: int | None = None
    archived: bool = False
    teams: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> Owner:
        """Build from HubSpot's ``PublicOwner`` JSON."""
        teams = raw.get("teams")
        return cls(
            id=_text(raw, "id"),
            email=_text(raw, "email"),
            first_name=_text(raw, "firstName"),
            last_name=_text(raw, "lastName"),
            user_id=_int(raw.get("userId")),
            archived=_flag(raw, "archived"),
            teams=tuple(_text(t, "name") for t in teams if isinstance(t, Mapping))
            if isinstance(teams, list) else (),
            created_at=parse_datetime(raw.get("createdAt")),
            updated_at=parse_datetime(raw.get("updatedAt")),
        )

    @property
    def name(self) -> str:
        """First and last name, as HubSpot shows the owner."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)
