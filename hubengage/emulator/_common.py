"""What every part of the emulator's data layer shares: HubSpot's error shapes and timestamps.

:class:`ApiError` carries an HTTP status and HubSpot's JSON error body (``docs/hubspot-wire.md``
§4); the helpers build the shapes the sources show (the property 400 of §2.4, the
single-object 404 of §3). :func:`iso_time` writes a POSIX time as HubSpot writes timestamps.
No I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "PORTAL_ID",
    "ApiError",
    "iso_time",
    "not_found",
    "property_error",
    "validation_error",
]

#: The emulated account's portal id (it appears in property error messages, as in §2.4).
PORTAL_ID = 891936587


def iso_time(seconds: float) -> str:
    """A POSIX time as HubSpot writes it: ISO 8601 UTC, exactly 3 fractional digits
    (milliseconds, truncated), ``Z``: ``2026-01-15T10:00:00.123Z``."""
    millis = math.floor(seconds * 1000)
    whole, ms = divmod(millis, 1000)
    stamp = datetime.fromtimestamp(whole, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms:03d}Z"


class ApiError(Exception):
    """A HubSpot error response: ``status`` and the JSON ``body`` (without correlationId)."""

    def __init__(
        self,
        status: int,
        category: str | None,
        message: str,
        *,
        context: Mapping[str, list[str]] | None = None,
        errors: list[dict[str, Any]] | None = None,
        sub_category: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"status": "error", "message": message}
        if category:
            self.body["category"] = category
        if sub_category:
            self.body["subCategory"] = sub_category
        if context:
            self.body["context"] = dict(context)
        if errors:
            self.body["errors"] = errors

    def as_item_error(self, context: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
        """This error as one entry of a 207 ``errors[]``, with ``context`` added (if any)."""
        out = {k: v for k, v in self.body.items() if k != "context"}
        merged = {**self.body.get("context", {}), **(context or {})}
        if merged:
            out["context"] = merged
        return out


def property_error(code: str, name: str, message: str) -> ApiError:
    """The 400 for a bad property value (``docs/hubspot-wire.md`` §2.4), naming the property."""
    detail = {
        "isValid": False,
        "message": message,
        "error": code,
        "name": name,
        "localizedErrorMessage": message,
        "portalId": PORTAL_ID,
    }
    return ApiError(
        400,
        "VALIDATION_ERROR",
        f"Property values were not valid: {json.dumps([detail], separators=(',', ':'))}",
        errors=[{"message": message, "code": code, "context": {"propertyName": [name]}}],
    )


def validation_error(message: str, **context: list[str]) -> ApiError:
    """A plain 400 VALIDATION_ERROR."""
    return ApiError(400, "VALIDATION_ERROR", message, context=context or None)


def not_found(rid: str) -> ApiError:
    """The single-object 404 (``docs/hubspot-wire.md`` §3; note the two spaces)."""
    return ApiError(
        404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.",
        context={"id": [rid]},
    )
