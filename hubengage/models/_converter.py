"""HubSpot's property strings to and from Python values and models: the one cattrs converter.

Values HubSpot stores are strings. The dedicated converter (never cattrs' global one) owns
the mapping both ways, between a typed model (:class:`PropertyModel`) and its properties
dict, with hooks generated from the model's fields (``metadata={"property": ...}``) and hooks
for the value types: aware datetimes are ISO 8601 with milliseconds and ``Z``; enums their
value; integers their decimal text; :class:`EmailHeaders` its JSON; attachment ids are
``;``-joined. It also structures :class:`CrmObject` (with the hand-written hook from
``_records``).

Validation happens once: a model checks its values as it is built, so
:func:`to_wire_properties` sends a model's properties as they are; a plain mapping's are
checked there (required properties, enum values, ``hs_timestamp``), raising
``InvalidInputError`` that names the property.
"""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Self, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import ClassValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .._errors import InvalidInputError
from .._objecttypes import ObjectType, resolve_object_type
from ._headers import EmailHeaders
from ._records import CrmObject, structure_crm_object

__all__ = [
    "PropertyModel",
    "check_extra_properties",
    "check_timestamp_text",
    "converter",
    "crm_object_hook",
    "enum_member",
    "format_datetime",
    "property_value",
    "to_ids",
    "to_timestamp",
    "to_wire_properties",
]

E = TypeVar("E", bound=enum.Enum)


# -- values -----------------------------------------------------------------------------------


def format_datetime(value: datetime) -> str:
    """``2024-01-15T10:00:00.000Z``: UTC, milliseconds, ``Z`` (as HubSpot returns dates)."""
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def to_timestamp(value: Any, *, field: str = "timestamp") -> datetime:
    """An aware UTC datetime, truncated to milliseconds, from a datetime, epoch ms or ISO text.

    A naive datetime is an error: HubSpot stores instants, and guessing the zone loses data.
    """
    return _timestamp(value, field)


def _timestamp(value: Any, field: str | None) -> datetime:
    """:func:`to_timestamp`; ``field`` None for the converter's hook (the caller names it)."""
    if isinstance(value, datetime):
        if value.tzinfo is UTC and not value.microsecond % 1000:
            return value  # already normal: what the converter's datetime hook returns
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInputError(
                "naive datetime: give a timezone (e.g. datetime.now(UTC))", field=field
            )
        utc = value.astimezone(UTC)
        return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return _EPOCH + timedelta(milliseconds=value)
        except OverflowError:
            raise InvalidInputError(
                f"{value} epoch milliseconds is outside the years 1 to 9999", field=field
            ) from None
    if isinstance(value, str):
        return _timestamp(_parse_timestamp_text(value, field=field), field)
    raise InvalidInputError(
        f"must be an aware datetime or epoch milliseconds, not {type(value).__name__}",
        field=field,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_MS = re.compile(r"-?\d{1,15}")
#: Epoch milliseconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (datetime's range).
_MIN_EPOCH_MS, _MAX_EPOCH_MS = -62_135_596_800_000, 253_402_300_799_999


def check_timestamp_text(value: str, *, field: str) -> None:
    """Raise ``InvalidInputError`` unless :func:`to_timestamp` would accept ``value``.

    The validation-only fast path (one parse, no conversion) used for every created item.
    """
    _parse_timestamp_text(value, field=field)


def _parse_timestamp_text(value: str, *, field: str | None) -> int | datetime:
    """Epoch milliseconds as an int, or the aware ISO 8601 instant (a plain date: midnight
    UTC); ``InvalidInputError`` for anything else, including a time without a zone."""
    text = value.strip()
    if _EPOCH_MS.fullmatch(text):
        ms = int(text)
        if not _MIN_EPOCH_MS <= ms <= _MAX_EPOCH_MS:
            raise InvalidInputError(
                f"{value!r} epoch milliseconds is outside the years 1 to 9999", field=field
            )
        return ms
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"{value!r} is neither epoch milliseconds nor an ISO 8601 date", field=field
        ) from None
    if parsed.tzinfo is None:
        if "T" in text:
            raise InvalidInputError(
                f"{value!r} has no time zone (add Z or an offset)", field=field
            )
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def enum_member(cls: type[E], value: Any, *, field: str | None) -> E:
    """The member of ``cls`` for ``value`` (a member or its value), else ``InvalidInputError``."""
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in cls)
        raise InvalidInputError(f"{value!r} is not one of {allowed}", field=field) from None


def property_value(value: Any, *, field: str) -> str:
    """One property value as the string HubSpot stores."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidInputError(f"{value!r} is not a number HubSpot can store", field=field)
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidInputError(f"{value!r} is not a number HubSpot can store", field=field)
        return repr(value)
    if isinstance(value, datetime):
        return format_datetime(to_timestamp(value, field=field))
    if value is None:
        return ""  # HubSpot clears a property written as ""
    raise InvalidInputError(
        f"must be a string, number, bool, datetime or None, not {type(value).__name__}",
        field=field,
    )


# -- the converter ----------------------------------------------------------------------------

#: The SDK's dedicated converter (never cattrs' global one).
converter = cattrs.Converter()


class PropertyModel:
    """A typed model the converter maps to and from HubSpot properties.

    Subclasses are attrs classes whose fields name the property they map to
    (``metadata={"property": ...}``); a field named ``extra`` holds every other property
    (custom ones included), and ``OBJECT_TYPE`` names the object type the model is written to.
    """

    __slots__ = ()

    OBJECT_TYPE: ClassVar[str]

    def to_properties(self) -> dict[str, str]:
        """The properties to send for this model (fields left at None are not sent)."""
        props: dict[str, str] = converter.unstructure(self)
        return props

    @classmethod
    def from_record(cls, record: CrmObject | Mapping[str, Any]) -> Self:
        """The typed view of a record (a :class:`CrmObject` or its properties mapping).

        Properties the model has no field for, other than HubSpot's system and read-only
        ones, go to ``extra``. Raises ``InvalidInputError`` naming the property when one the
        model requires is missing (a record read with ``properties=[...]`` that left it out),
        or naming the field when a value is not one the model accepts.
        """
        model: Self = converter.structure(record, cls)
        return model


def crm_object_hook() -> Callable[[Any, Any], CrmObject]:
    """The converter's structure hook for :class:`CrmObject`, looked up once per batch.

    ``converter.structure(raw, CrmObject)`` dispatches on every call; the decoder, which
    structures up to 100 records per response, fetches the hook once instead.
    """
    hook: Callable[[Any, Any], CrmObject] = converter.get_structure_hook(CrmObject)
    return hook


def _enum_value(value: enum.Enum) -> str:
    return str(value.value)


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    return enum_member(cls, value, field=None)


def _structure_datetime(value: Any, _: Any) -> datetime:
    return _timestamp(value, None)


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{value!r} is not an integer") from None


def _number_text(value: Any) -> str:
    # A model checked at construction that ``property_value`` accepts the value (it cannot
    # raise here); ints are the common case.
    return str(value) if type(value) is int else property_value(value, field="")


def _structure_str(value: Any, _: Any) -> str:
    return value if type(value) is str else str(value)


def _structure_headers(value: Any, _: Any) -> EmailHeaders:
    return value if isinstance(value, EmailHeaders) else EmailHeaders.from_json(value)


def _is_ids(t: Any) -> bool:
    return bool(t == tuple[str, ...])


def _join_ids(value: tuple[str, ...]) -> str:
    return ";".join(value)


def to_ids(value: Iterable[str | int] | str) -> tuple[str, ...]:
    """Ids as a tuple of strings, from an iterable or HubSpot's ``;``-joined text."""
    if isinstance(value, str):
        return tuple(v for v in value.split(";") if v)
    return tuple(str(v) for v in value)


def _split_ids(value: Any, _: Any) -> tuple[str, ...]:
    return to_ids(value)


converter.register_structure_hook(CrmObject, structure_crm_object)
converter.register_unstructure_hook(datetime, format_datetime)
converter.register_structure_hook(datetime, _structure_datetime)
# StrEnum too: for it, single dispatch would otherwise pick ``str``'s hooks.
for _enum_type in (enum.Enum, enum.StrEnum):
    converter.register_unstructure_hook(_enum_type, _enum_value)
    converter.register_structure_hook(_enum_type, _structure_enum)
converter.register_unstructure_hook(int, _number_text)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(str, _structure_str)
converter.register_unstructure_hook(EmailHeaders, EmailHeaders.to_json)
converter.register_structure_hook(EmailHeaders, _structure_headers)
converter.register_unstructure_hook_func(_is_ids, _join_ids)
converter.register_structure_hook_func(_is_ids, _split_ids)


# -- model hooks, generated from the fields ---------------------------------------------------

#: The key that carries ``extra`` into the generated structure function (no property is
#: named so: property names are identifiers).
_EXTRA = "<extra>"


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, PropertyModel) and attrs.has(t)


def _property_fields(cls: type[Any]) -> list[tuple[attrs.Attribute[Any], str | None]]:
    attrs.resolve_types(cls)
    return [(a, a.metadata.get("property")) for a in attrs.fields(cls)]


def _without_none(t: Any) -> Any:
    """``X`` for ``X | None``; else ``t``."""
    if get_origin(t) in (Union, types.UnionType):
        rest = [a for a in get_args(t) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return t


def _unstructure_model(cls: type[Any]) -> Callable[[PropertyModel], dict[str, str]]:
    """The properties of a model: its fields renamed to their properties, then ``extra``.

    A field whose default sends nothing (None, an empty tuple) is omitted at its default;
    a field with another default (``logged_from="CRM"``) is sent unless set to None.
    """
    overrides: dict[str, Any] = {}
    nullable: list[str] = []
    for a, prop in _property_fields(cls):
        if prop is None:
            overrides[a.name] = override(omit=True)
        elif a.default is None or a.default == ():
            # Never None when sent: the value type's own hook, not the optional wrapper.
            hook = converter.get_unstructure_hook(_without_none(a.type))
            overrides[a.name] = override(rename=prop, omit_if_default=True, unstruct_hook=hook)
        else:
            overrides[a.name] = override(rename=prop)
            if _without_none(a.type) is not a.type:
                nullable.append(prop)
    fields_fn = make_dict_unstructure_fn(cls, converter, **overrides)
    has_extra = "extra" in attrs.fields_dict(cls)

    def unstructure(model: PropertyModel) -> dict[str, str]:
        props: dict[str, Any] = fields_fn(model)
        for prop in nullable:
            if props[prop] is None:
                del props[prop]
        if has_extra:
            extra: Mapping[str, str] = model.extra  # type: ignore[attr-defined]
            if extra:
                props.update(extra)
        return props

    return unstructure


def _structure_model(cls: type[Any]) -> Callable[[Any, Any], PropertyModel]:
    """A model from a record or its properties: mapped properties to their fields (a missing
    or empty one keeps its default), every other one to ``extra`` but HubSpot's system and
    read-only properties."""
    known = resolve_object_type(cls.OBJECT_TYPE)
    skip = frozenset(known.system_properties) | known.read_only if known else frozenset()
    overrides: dict[str, Any] = {}
    mapped: set[str] = set()
    required: list[str] = []
    for a, prop in _property_fields(cls):
        if prop is None:
            keep = a.name == "extra"
            overrides[a.name] = (
                override(rename=_EXTRA, struct_hook=_as_is) if keep else override(omit=True)
            )
            continue
        mapped.add(prop)
        overrides[a.name] = override(rename=prop)
        if a.default is attrs.NOTHING:
            required.append(prop)
    fields_fn = make_dict_structure_fn(
        cls, converter, _cattrs_detailed_validation=True, **overrides
    )
    has_extra = "extra" in attrs.fields_dict(cls)

    def structure(record: CrmObject | Mapping[str, Any], _: Any = None) -> PropertyModel:
        props = record.properties if isinstance(record, CrmObject) else record
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in props.items():
            if value is None:
                continue
            if key in mapped:
                if value != "":
                    values[key] = value
            elif key not in skip:
                extra[key] = value
        for prop in required:
            if prop not in values:
                raise InvalidInputError(
                    f"the record has no {prop} (a typed view needs it: read the record with "
                    "it among properties=[...])",
                    field=prop,
                )
        if has_extra:
            values[_EXTRA] = extra
        try:
            model: PropertyModel = fields_fn(values, cls)
        except ClassValidationError as exc:
            raise _first_error(exc) from None
        return model

    return structure


def _as_is(value: Any, _: Any) -> Any:
    return value


def _first_error(exc: ClassValidationError) -> InvalidInputError:
    """The first failure of a generated structure function, as ``InvalidInputError`` naming
    the field it failed on (cattrs notes the attribute)."""
    with_notes, others = exc.group_exceptions()
    for error, note in with_notes:
        text = str(error)
        if isinstance(error, InvalidInputError) and error.field:
            text = text.removeprefix(f"{error.field}: ")
        return InvalidInputError(text, field=note.name)
    for error in others:  # raised building the model: already names its field
        if isinstance(error, InvalidInputError):
            return error
    return InvalidInputError(str(others[0] if others else exc))


converter.register_unstructure_hook_factory(_is_model, _unstructure_model)
converter.register_structure_hook_factory(_is_model, _structure_model)


# -- checks -----------------------------------------------------------------------------------


def to_wire_properties(object_type: str, item: Any, *, create: bool) -> dict[str, str]:
    """The properties dict to send for ``item`` (a model or a mapping).

    A model was checked as it was built: its properties are sent as they are, but a model
    written to the wrong resource (an ``Email`` to ``calls``) is an error. A mapping's values
    become strings (:func:`property_value`) and, for a known type, are checked: a create must
    carry every required property, enumerated properties must hold an allowed value, and
    ``hs_timestamp`` must be epoch milliseconds or ISO 8601.
    """
    known = resolve_object_type(object_type)
    if type(item) is not dict:  # dicts are the hot path
        if isinstance(item, PropertyModel):
            if known is not None and known.name != item.OBJECT_TYPE:
                raise InvalidInputError(
                    f"a {type(item).__name__} cannot be written to {known.name}", field="item"
                )
            return item.to_properties()
        if not isinstance(item, Mapping):
            raise InvalidInputError(
                f"expected a model or a mapping of properties, not {type(item).__name__}",
                field="item",
            )
    props: dict[str, str] = {}
    for key, value in item.items():
        if not key or (type(key) is not str and not isinstance(key, str)):
            raise InvalidInputError(
                f"property names must be non-empty strings, got {key!r}", field="properties"
            )
        # Most values are already strings: skip the call on the hot path.
        props[key] = value if type(value) is str else property_value(value, field=key)
    if known is not None:
        if create:
            for name in known.required:
                if not props.get(name, "").strip():
                    raise InvalidInputError(
                        f"required to create {known.name} (missing or empty)", field=name
                    )
        _check_values(known, props)
    return props


def check_extra_properties(object_type: str, extra: Mapping[str, str]) -> None:
    """Check a model's ``extra`` properties as :func:`to_wire_properties` checks a mapping's
    (a required property may not be blank), when the model is built."""
    known = resolve_object_type(object_type)
    if known is None or not extra:
        return
    for name in known.required:
        value = extra.get(name)
        if value is not None and not value.strip():
            raise InvalidInputError(
                f"required to create {known.name} (missing or empty)", field=name
            )
    _check_values(known, extra)


def _check_values(known: ObjectType, props: Mapping[str, str]) -> None:
    """Enumerated properties hold an allowed value; ``hs_timestamp`` is a timestamp."""
    for name, allowed in known.enums.items():
        value = props.get(name)
        if value and value not in allowed:
            raise InvalidInputError(
                f"{value!r} is not one of {', '.join(sorted(allowed))}", field=name
            )
    stamp = props.get("hs_timestamp")
    if stamp:
        check_timestamp_text(stamp, field="hs_timestamp")
