"""The one cattrs converter, and the property codec every model and write path shares.

Values HubSpot stores are strings. This module owns the mapping both ways: aware datetimes
become ISO 8601 with milliseconds and ``Z``; enums their value; numbers their decimal text;
booleans ``true``/``false``; lists are ``;``-joined. ``to_wire_properties`` is the single
place a write's properties are checked before anything is sent (required properties, enum
values, value types), raising ``InvalidInputError`` that names the field.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import cattrs

from .._errors import InvalidInputError
from .._objecttypes import resolve_object_type
from ._records import CrmObject, structure_crm_object

__all__ = [
    "check_timestamp_text",
    "converter",
    "crm_object_hook",
    "format_datetime",
    "property_value",
    "to_timestamp",
    "to_wire_properties",
]

#: The SDK's dedicated converter (never cattrs' global one).
converter = cattrs.Converter()
converter.register_structure_hook(CrmObject, structure_crm_object)


def crm_object_hook() -> Callable[[Any, Any], CrmObject]:
    """The converter's structure hook for :class:`CrmObject`, looked up once per batch.

    ``converter.structure(raw, CrmObject)`` dispatches on every call; the decoder, which
    structures up to 100 records per response, fetches the hook once instead.
    """
    hook: Callable[[Any, Any], CrmObject] = converter.get_structure_hook(CrmObject)
    return hook


def format_datetime(value: datetime) -> str:
    """``2024-01-15T10:00:00.000Z``: UTC, milliseconds, ``Z`` (as HubSpot returns dates)."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def to_timestamp(value: Any, *, field: str = "timestamp") -> datetime:
    """An aware UTC datetime, truncated to milliseconds, from a datetime, epoch ms or ISO text.

    A naive datetime is an error: HubSpot stores instants, and guessing the zone loses data.
    """
    if isinstance(value, datetime):
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
        return to_timestamp(_parse_timestamp_text(value, field=field), field=field)
    raise InvalidInputError(
        f"must be an aware datetime or epoch milliseconds, not {type(value).__name__}",
        field=field,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_MS = re.compile(r"-?\d{1,15}")
#: Epoch milliseconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (datetime's range).
_MIN_EPOCH_MS, _MAX_EPOCH_MS = -62_135_596_800_000, 253_402_300_799_999


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


def to_wire_properties(object_type: str, item: Any, *, create: bool) -> dict[str, str]:
    """The properties dict to send for ``item`` (a model or a mapping), checked.

    For a known type, a create must carry every required property, enumerated properties
    must hold an allowed value, and ``hs_timestamp`` must be epoch milliseconds or ISO 8601.
    A model written to the wrong resource (an ``Email`` to ``calls``) is an error.
    """
    known = resolve_object_type(object_type)
    to_properties = getattr(item, "to_properties", None)
    if to_properties is not None:
        model_type = getattr(item, "OBJECT_TYPE", None)
        if known is not None and model_type is not None and model_type != known.name:
            raise InvalidInputError(
                f"a {type(item).__name__} cannot be written to {known.name}", field="item"
            )
        props: dict[str, str] = to_properties()
    elif type(item) is dict or isinstance(item, Mapping):
        props = {}
        for key, value in item.items():
            if not key or (type(key) is not str and not isinstance(key, str)):
                raise InvalidInputError(
                    f"property names must be non-empty strings, got {key!r}", field="properties"
                )
            # Most values are already strings: skip the call on the hot path.
            props[key] = value if type(value) is str else property_value(value, field=key)
    else:
        raise InvalidInputError(
            f"expected a model or a mapping of properties, not {type(item).__name__}",
            field="item",
        )
    if known is None:
        return props
    if create:
        for name in known.required:
            if not props.get(name, "").strip():
                raise InvalidInputError(
                    f"required to create {known.name} (missing or empty)", field=name
                )
    for name, allowed in known.enums.items():
        value = props.get(name)
        if value and value not in allowed:
            raise InvalidInputError(
                f"{value!r} is not one of {', '.join(sorted(allowed))}", field=name
            )
    stamp = props.get("hs_timestamp")
    if stamp:
        check_timestamp_text(stamp, field="hs_timestamp")
    return props


def check_timestamp_text(value: str, *, field: str) -> None:
    """Raise ``InvalidInputError`` unless :func:`to_timestamp` would accept ``value``.

    The validation-only fast path (one parse, no conversion) used for every created item.
    """
    _parse_timestamp_text(value, field=field)


def _parse_timestamp_text(value: str, *, field: str) -> int | datetime:
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
