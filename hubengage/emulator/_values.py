"""Property values as HubSpot checks and stores them: one pure function per property kind.

HubSpot returns every property value as a string in its own normal form (``docs/hubspot-wire.md``
§0.1, §5). :func:`check_value` validates a value written to a property of a given
:class:`~hubengage._objecttypes.PropertyKind` and returns the form HubSpot stores:

- ``DATETIME``: epoch milliseconds (``-?\\d+``), ISO 8601 (``YYYY-MM-DDTHH:MM[:SS[.f…]]``
  with ``Z`` or an offset ``±HH:MM``/``±HHMM``; fractions beyond milliseconds are truncated)
  or a plain date (midnight UTC) → ISO 8601 UTC with exactly three fractional digits and
  ``Z``. A time without a zone is rejected: the documentation allows only epoch
  milliseconds or UTC (and HubSpot could not know which zone was meant).
- ``DATETIME`` of a date-only property (HubSpot type ``date``): the same forms, but the
  instant must be midnight UTC (D-PROPS) → ``YYYY-MM-DD``.
- ``NUMBER``: decimal text (sign, fraction, exponent; no NaN, no infinity, within a double's
  range) → plain decimal text without exponent or trailing zeros (``1500.0`` → ``1500``).
- ``BOOL``: ``true``/``false`` in any case → lower case.
- ``MULTI``: ``;``-separated values → the non-empty parts, sorted.
- ``ENUMERATION`` and ``STRING``: unchanged (enumerations are checked by the store).

Nothing is trimmed: surrounding whitespace makes a date, number or boolean invalid.
:func:`rich_text_html` renders plain text the way HubSpot's rich-text editor stores it.
No I/O; errors are :class:`InvalidValue` carrying HubSpot's error code.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from .._objecttypes import PropertyKind

__all__ = [
    "EMAIL_HEADERS",
    "EMAIL_HEADER_PROPERTIES",
    "RICH_TEXT_PROPERTIES",
    "InvalidValue",
    "check_value",
    "email_header_properties",
    "normalize_bool",
    "normalize_date",
    "normalize_datetime",
    "normalize_multi",
    "normalize_number",
    "rich_text_html",
]

#: The engagement body properties HubSpot edits as rich text (HTML).
RICH_TEXT_PROPERTIES = frozenset({
    "hs_note_body",
    "hs_call_body",
    "hs_meeting_body",
    "hs_task_body",
    "hs_communication_body",
    "hs_postal_mail_body",
})

#: The email property holding the headers as JSON (D-EMAIL "Set email headers").
EMAIL_HEADERS = "hs_email_headers"
#: The read-only properties HubSpot fills from ``hs_email_headers`` (D-EMAIL's table):
#: property -> (header, field). ``to`` is a list: its values are joined with ``;``.
EMAIL_HEADER_PROPERTIES: dict[str, tuple[str, str]] = {
    "hs_email_from_email": ("from", "email"),
    "hs_email_from_firstname": ("from", "firstName"),
    "hs_email_from_lastname": ("from", "lastName"),
    "hs_email_to_email": ("to", "email"),
    "hs_email_to_firstname": ("to", "firstName"),
    "hs_email_to_lastname": ("to", "lastName"),
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_MS = re.compile(r"-?\d+", re.ASCII)
_ISO = re.compile(
    r"(?P<date>(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2}))"
    r"(?:T(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"(?P<zone>Z|(?P<sign>[+-])(?P<zh>\d{2}):?(?P<zm>\d{2})))?",
    re.ASCII,
)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_BOOLS = {"true": "true", "false": "false"}


class InvalidValue(ValueError):
    """A value its property's kind does not accept; ``code`` is HubSpot's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _iso(instant: datetime) -> str:
    """``2024-05-01T10:00:00.000Z`` (UTC, milliseconds truncated)."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def normalize_datetime(value: str) -> str:
    """Epoch milliseconds, ISO 8601 with a zone, or a plain date → ISO 8601 UTC, ms, ``Z``."""
    invalid = InvalidValue("INVALID_DATE", f"{value} is not a valid timestamp")
    if _EPOCH_MS.fullmatch(value):
        try:
            return _iso(_EPOCH + timedelta(milliseconds=int(value)))
        except (OverflowError, ValueError):
            raise invalid from None
    match = _ISO.fullmatch(value)
    if match is None:
        raise invalid
    try:
        if match["h"] is None:
            return _iso(datetime(int(match["y"]), int(match["mo"]), int(match["d"]),
                                 tzinfo=UTC))
        if match["sign"] is None:
            zone: timezone = UTC
        else:
            offset = timedelta(hours=int(match["zh"]), minutes=int(match["zm"]))
            if int(match["zm"]) > 59 or offset >= timedelta(hours=24):
                raise invalid
            zone = timezone(-offset if match["sign"] == "-" else offset)
        fraction = (match["f"] or "")[:6].ljust(6, "0")
        parsed = datetime(
            int(match["y"]), int(match["mo"]), int(match["d"]), int(match["h"]),
            int(match["mi"]), int(match["s"] or 0), int(fraction), tzinfo=zone,
        )
        return _iso(parsed)
    except (OverflowError, ValueError):
        raise invalid from None


def normalize_date(value: str) -> str:
    """A date-only value (epoch milliseconds, ISO 8601 or a plain date, at midnight UTC) →
    ``YYYY-MM-DD``; any other time of day is refused (HubSpot's ``date`` type, D-PROPS)."""
    instant = normalize_datetime(value)
    if not instant.endswith("T00:00:00.000Z"):
        raise InvalidValue("INVALID_DATE", f"{value} is not a valid date: it must be midnight UTC")
    return instant[:10]


def normalize_number(value: str) -> str:
    """Decimal text → plain decimal text: no exponent, no trailing zeros, no ``-0``."""
    invalid = InvalidValue("INVALID_FLOAT", f"{value} was not a valid number")
    if not _NUMBER.fullmatch(value):
        raise invalid  # NaN, Infinity, hex, underscores, whitespace, empty parts
    try:
        number = Decimal(value)
        as_float = float(number)
    except (InvalidOperation, OverflowError):
        raise invalid from None
    if math.isinf(as_float) or (as_float == 0 and number != 0):
        raise invalid  # beyond what a double holds
    if number == 0:
        return "0"
    text = format(number, "f")  # exact: no context rounding
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def normalize_bool(value: str) -> str:
    """``true``/``false`` in any case → lower case."""
    folded = _BOOLS.get(value.lower())
    if folded is None:
        raise InvalidValue("INVALID_BOOLEAN", f"{value} is not a valid boolean: true or false")
    return folded


def normalize_multi(value: str) -> str:
    """A ``;``-list → its non-empty parts, sorted."""
    return ";".join(sorted(part for part in value.split(";") if part))


def email_header_properties(value: str) -> dict[str, str]:
    """The read-only properties HubSpot derives from an ``hs_email_headers`` value.

    The value must be a JSON object (D-EMAIL: "a JSON escaped string" with ``from``,
    ``sender``, ``to``, ``cc``, ``bcc``), else :class:`InvalidValue` (code ``INVALID_JSON``,
    UNCONFIRMED). ``from`` is an object, ``to`` a list of objects, each with ``email``,
    ``firstName``, ``lastName``; several recipients' values are joined with ``;``
    (UNCONFIRMED). An empty value clears them all.
    """
    derived = dict.fromkeys(EMAIL_HEADER_PROPERTIES, "")
    if not value:
        return derived
    try:
        headers = json.loads(value)
    except ValueError:
        headers = None
    if not isinstance(headers, dict):
        raise InvalidValue("INVALID_JSON", f"{EMAIL_HEADERS} must be a JSON object")
    for prop, (header, field) in EMAIL_HEADER_PROPERTIES.items():
        entry = headers.get(header)
        people = entry if isinstance(entry, list) else [entry]
        values = [str(p[field]) for p in people if isinstance(p, dict) and p.get(field)]
        derived[prop] = ";".join(values)
    return derived


def check_value(kind: PropertyKind, value: str, *, normalize: bool = True,
                date_only: bool = False) -> str:
    """``value`` validated for ``kind``; normalised (or, with ``normalize=False``, as sent).

    ``date_only`` marks a ``DATETIME`` property of HubSpot's ``date`` type. Empty values are
    not checked (``""`` clears a property). Raises :class:`InvalidValue`.
    """
    if not value:
        return value
    if date_only:
        normal = normalize_date(value)
    elif kind is PropertyKind.DATETIME:
        normal = normalize_datetime(value)
    elif kind is PropertyKind.NUMBER:
        normal = normalize_number(value)
    elif kind is PropertyKind.BOOL:
        normal = normalize_bool(value)
    elif kind is PropertyKind.MULTI:
        normal = normalize_multi(value)
    else:
        return value
    return normal if normalize else value


def rich_text_html(value: str) -> str:
    """Plain text as HubSpot's rich-text editor stores it; text with a ``<`` is kept as is.

    HTML-escaped, line breaks as ``<br>``, in one top-level ``<div>`` and ``<p>``.
    """
    if not value or "<" in value:
        return value
    text = html.escape(value.replace("\r\n", "\n").replace("\r", "\n"), quote=False)
    text = text.replace("\n", "<br>")
    return f'<div style="" dir="auto" data-top-level="true"><p style="margin:0;">{text}</p></div>'
