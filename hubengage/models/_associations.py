"""Inline associations written with a record: :class:`Association` and its category enum.

``Association.contact(601)`` leaves the association type id open until the record's own type
is known: ``to_wire("emails")`` resolves it from the default HUBSPOT_DEFINED table (wire notes
§5; ``_objecttypes.ASSOCIATION_TYPE_IDS``), so the same helper works for every engagement.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from .._errors import InvalidInputError, invalid_input
from .._objecttypes import default_association_type_id, resolve_object_type

__all__ = [
    "AssociatedRecord",
    "Association",
    "AssociationCategory",
    "AssociationLabel",
    "parse_association",
]


class AssociationCategory(enum.StrEnum):
    """Who defined an association type."""

    HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
    USER_DEFINED = "USER_DEFINED"
    INTEGRATOR_DEFINED = "INTEGRATOR_DEFINED"
    WORK = "WORK"


def _optional_label(value: Any) -> str | None:
    return None if value is None else _label(value, "associations.label")


def _record_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInputError(
            f"must be a record id (str or int), not {type(value).__name__}", field="to_id"
        )
    text = str(value).strip()
    if not text:
        raise InvalidInputError("must not be empty", field="to_id")
    return text


@attrs.frozen(kw_only=True)
class Association:
    """An association to write with a record: to ``to_id`` of ``to_type``.

    ``type_id`` defaults to HubSpot's default HUBSPOT_DEFINED type for the pair (e.g. 198 for
    email → contact); pass it (and ``category``) to use a labelled or custom association.
    ``to_type`` may be None only when ``type_id`` is given (HubSpot's own wire shape names no
    target type).
    """

    to_id: str = attrs.field(converter=_record_id)
    to_type: str | None = None
    type_id: int | None = attrs.field(
        default=None,
        validator=invalid_input(
            attrs.validators.optional(
                attrs.validators.and_(
                    attrs.validators.instance_of(int),
                    attrs.validators.not_(attrs.validators.instance_of(bool)),
                )
            ),
            message=lambda _: "must be an int",
            field="associations.type_id",
        ),
    )
    category: AssociationCategory = attrs.field(
        default=AssociationCategory.HUBSPOT_DEFINED, converter=AssociationCategory
    )
    label: str | None = attrs.field(default=None, converter=_optional_label)

    def __attrs_post_init__(self) -> None:
        if self.to_type is None and self.type_id is None:
            raise InvalidInputError("give to_type or type_id", field="associations")
        if self.label is not None and self.type_id is not None:
            raise InvalidInputError("give label or type_id, not both", field="associations")
        if self.label is not None and self.to_type is None:
            raise InvalidInputError("a label needs to_type", field="associations")

    @classmethod
    def to(
        cls,
        to_type: str,
        to_id: str | int,
        *,
        type_id: int | None = None,
        category: AssociationCategory | str = AssociationCategory.HUBSPOT_DEFINED,
        label: str | None = None,
    ) -> Association:
        """An association to any object type, by name or type id.

        ``label`` names an association label (``"Decision maker"``): the client looks up its
        type id and category once per pair of object types and caches them.
        """
        return cls(to_id=to_id, to_type=to_type, type_id=type_id, category=category,
                   label=label)

    @classmethod
    def contact(
        cls, to_id: str | int, *, type_id: int | None = None, label: str | None = None
    ) -> Association:
        """An association to a contact (default type: the engagement's ``*_to_contact``)."""
        return cls.to("contacts", to_id, type_id=type_id, label=label)

    @classmethod
    def company(
        cls, to_id: str | int, *, type_id: int | None = None, label: str | None = None
    ) -> Association:
        """An association to a company."""
        return cls.to("companies", to_id, type_id=type_id, label=label)

    @classmethod
    def deal(
        cls, to_id: str | int, *, type_id: int | None = None, label: str | None = None
    ) -> Association:
        """An association to a deal."""
        return cls.to("deals", to_id, type_id=type_id, label=label)

    @classmethod
    def ticket(
        cls, to_id: str | int, *, type_id: int | None = None, label: str | None = None
    ) -> Association:
        """An association to a ticket."""
        return cls.to("tickets", to_id, type_id=type_id, label=label)

    def resolved_type_id(self, from_type: str) -> int:
        """The association type id for a record of ``from_type``; raises if none is known."""
        if self.type_id is not None:
            return self.type_id
        if self.label is not None:
            raise InvalidInputError(
                f"the label {self.label!r} is resolved by the client (a call on a resource), "
                "not here", field="associations.label")
        assert self.to_type is not None
        found = default_association_type_id(from_type, self.to_type)
        if found is None:
            raise InvalidInputError(
                f"no default association type from {from_type!r} to {self.to_type!r}; "
                "pass type_id=",
                field="associations",
            )
        return found

    def to_wire(self, from_type: str) -> dict[str, Any]:
        """HubSpot's inline-association shape for a record of ``from_type``."""
        return {
            "to": {"id": self.to_id},
            "types": [
                {
                    "associationCategory": self.category.value,
                    "associationTypeId": self.resolved_type_id(from_type),
                }
            ],
        }


def _label(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("must be a non-empty string", field=field)
    return value.strip()


@attrs.frozen(kw_only=True)
class AssociationLabel:
    """One association type between two object types: its category, type id and label.

    HubSpot's default type between two types has no label (``label`` None); labelled types
    are HUBSPOT_DEFINED (e.g. a company's "Primary") or USER_DEFINED (your own).
    """

    category: AssociationCategory = attrs.field(converter=AssociationCategory)
    type_id: int
    label: str | None = None

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> AssociationLabel:
        """From HubSpot's v4 shape ``{"category", "typeId", "label"}`` (also
        ``associationCategory`` / ``associationTypeId``)."""
        category = raw.get("category", raw.get("associationCategory"))
        type_id = raw.get("typeId", raw.get("associationTypeId"))
        if not isinstance(category, str) or isinstance(type_id, bool) \
                or not isinstance(type_id, int | str) or not str(type_id).isdigit():
            raise InvalidInputError(f"not an association type: {dict(raw)!r}",
                                    field="associationTypes")
        label = raw.get("label")
        try:
            return cls(category=category, type_id=int(type_id),
                       label=label if isinstance(label, str) and label else None)
        except ValueError as exc:  # an unknown category
            raise InvalidInputError(str(exc), field="associationTypes") from exc


@attrs.frozen(kw_only=True)
class AssociatedRecord:
    """A record associated with another, and every association type between the two."""

    id: str
    types: tuple[AssociationLabel, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels among ``types`` (the default type has none)."""
        return tuple(t.label for t in self.types if t.label)


_SHORT_FORMS = {"contact": "contacts", "company": "companies", "deal": "deals", "ticket": "tickets"}


def parse_association(raw: Any, *, field: str = "associations") -> Association:
    """An :class:`Association` from HubSpot's shape or a short form like ``{"contact": 601}``.

    Used for input files: ``{"to": {"id": 601}, "types": [{"associationCategory": ...,
    "associationTypeId": 198}]}``, ``{"contact": 601}`` (also ``company``, ``deal``,
    ``ticket`` or any type name). Raises ``InvalidInputError`` naming ``field``.
    """
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"must be an object, not {type(raw).__name__}", field=field)
    try:
        if "to" in raw:
            to = raw["to"]
            types = raw.get("types") or []
            if not isinstance(to, Mapping) or "id" not in to:
                raise InvalidInputError('needs "to": {"id": ...}', field=field)
            if not isinstance(types, list) or len(types) != 1 or not isinstance(types[0], Mapping):
                raise InvalidInputError('needs exactly one entry in "types"', field=field)
            spec = types[0]
            type_id = spec.get("associationTypeId")
            if isinstance(type_id, str) and type_id.isdigit():
                type_id = int(type_id)
            return Association(
                to_id=to["id"],
                type_id=type_id,
                category=spec.get("associationCategory", "HUBSPOT_DEFINED"),
            )
        if len(raw) != 1:
            raise InvalidInputError(
                'use HubSpot\'s shape or one short form such as {"contact": 601}', field=field
            )
        ((name, to_id),) = raw.items()
        to_type = _SHORT_FORMS.get(str(name), str(name))
        if resolve_object_type(to_type) is None:
            raise InvalidInputError(f"unknown object type {name!r}", field=field)
        return Association.to(to_type, to_id)
    except InvalidInputError as exc:
        if exc.field == field or (exc.field or "").startswith(field):
            raise
        raise InvalidInputError(str(exc), field=field) from exc
    except ValueError as exc:  # e.g. an unknown association category
        raise InvalidInputError(str(exc), field=field) from exc
