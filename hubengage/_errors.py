"""The exception hierarchy, and the one factory that turns an HTTP error response into it.

Everything the SDK raises derives from :class:`HubEngageError`. Errors are translated once, at
the edge where they arise: the transport maps aiohttp failures to :class:`TransportError`, the
request pipeline maps a non-2xx response through :func:`error_from_response`, and the models
raise :class:`InvalidInputError` for bad arguments before anything is sent.

HubSpot's error bodies are treated as all-optional (wire notes §4): 5xx bodies are often HTML
from the edge, 429 bodies carry ``policyName``/``errorType`` instead of ``category``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "ClientClosedError",
    "ConflictError",
    "DailyLimitError",
    "HubEngageError",
    "InvalidInputError",
    "NotFoundError",
    "OutcomeUnknownError",
    "RateLimitError",
    "ScopeError",
    "ServerError",
    "TransportError",
    "TransportTimeoutError",
    "ValidationError",
    "error_from_response",
]


class HubEngageError(Exception):
    """The root of every exception hubengage raises."""


class InvalidInputError(HubEngageError, ValueError):
    """A programmer error caught before anything was sent: a bad argument or property.

    ``field`` names the offending field (a property name, argument name or path such as
    ``associations[0].to_id``) when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class ClientClosedError(HubEngageError, RuntimeError):
    """The client was used after ``aclose()`` (or outside its ``async with`` block)."""


class TransportError(HubEngageError):
    """The request did not complete: connection refused, reset or dropped, DNS failure.

    Whether HubSpot processed the request is unknown when the connection dropped after the
    request was written; the retry policy still retries it, and a create that then succeeds
    is marked ``possible_duplicate`` (see "Duplicates" in the README). ``may_have_reached``
    is False only when the connection was never made (refused, DNS): nothing was sent.
    """

    def __init__(
        self, message: str, *, method: str = "", path: str = "", may_have_reached: bool = True
    ) -> None:
        self.method = method
        self.path = path
        self.may_have_reached = may_have_reached
        where = f" ({method} {path})" if method else ""
        super().__init__(f"{message}{where}")


class TransportTimeoutError(TransportError, TimeoutError):
    """No response arrived within the configured timeout."""


class OutcomeUnknownError(HubEngageError):
    """HubSpot answered, but nothing in its answer could be matched to this input.

    The batch request succeeded as a whole, yet its results and errors name no record that
    can be tied to this input (HubSpot did not echo the trace id and no sent property
    identifies it, or the input is missing from the response). A create may or may not have
    been written: check before writing it again. The SDK never guesses a mapping.
    """


class APIError(HubEngageError):
    """HubSpot answered with an error status.

    Attributes: ``status`` (HTTP status), ``category`` (e.g. ``VALIDATION_ERROR``; None when
    the body has none), ``message``, ``correlation_id`` (quote it to HubSpot support),
    ``context`` (HubSpot's ``context`` map), ``errors`` (HubSpot's ``errors[]`` details),
    ``sub_category`` and ``body`` (the parsed JSON body, or None for non-JSON bodies).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        category: str | None = None,
        correlation_id: str | None = None,
        context: Mapping[str, Sequence[str]] | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        sub_category: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        #: The ``Retry-After`` header in seconds, when the response had one.
        self.retry_after = retry_after
        self.category = category
        self.message = message
        self.correlation_id = correlation_id
        self.context: Mapping[str, Sequence[str]] = context or {}
        self.errors: Sequence[Mapping[str, Any]] = errors
        self.sub_category = sub_category
        self.body = body
        super().__init__(message)

    def __str__(self) -> str:
        parts = [f"HTTP {self.status}"]
        if self.category:
            parts.append(self.category)
        text = " ".join(parts) + f": {self.message}"
        if self.correlation_id:
            text += f" (correlation id {self.correlation_id})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, category={self.category!r}, "
            f"message={self.message!r}, correlation_id={self.correlation_id!r})"
        )


class ValidationError(APIError):
    """HTTP 400: HubSpot rejected the input (``VALIDATION_ERROR`` and friends)."""


class AuthenticationError(APIError):
    """HTTP 401: the access token is missing, invalid or expired."""


class ScopeError(APIError):
    """HTTP 403: the app lacks a required scope (``MISSING_SCOPES``)."""


class NotFoundError(APIError):
    """HTTP 404, or a batch item HubSpot reports as ``OBJECT_NOT_FOUND``."""


class ConflictError(APIError):
    """HTTP 409 (``CONFLICT``): e.g. a unique property value already exists."""


class RateLimitError(APIError):
    """HTTP 429. ``policy_name`` is ``TEN_SECONDLY_ROLLING``, ``DAILY``, ``SECONDLY`` or None.

    A search-bucket 429 has no policy name and category ``RATE_LIMITS`` (wire notes §1.5);
    ``is_search_limit`` tells it apart. ``retry_after`` is the ``Retry-After`` header in
    seconds when HubSpot sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        policy_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.policy_name = policy_name
        super().__init__(message, **kwargs)

    @property
    def is_search_limit(self) -> bool:
        """True for the search API's per-second limit."""
        return self.policy_name is None and (
            self.category == "RATE_LIMITS" or "secondly limit" in self.message
        )

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} [policy {self.policy_name}]" if self.policy_name else text


class DailyLimitError(RateLimitError):
    """The account's daily request quota is spent (``policyName: DAILY``).

    Not retried: HubSpot resets the quota at midnight in the account's time zone.
    """


class ServerError(APIError):
    """HTTP 5xx (and other statuses HubSpot's edge returns: 423, 477, 52x)."""


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: ScopeError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}

_TITLE = re.compile(rb"<title>\s*(.*?)\s*</title>", re.IGNORECASE | re.DOTALL)


def _parse_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _fallback_message(status: int, body: bytes) -> str:
    match = _TITLE.search(body[:4096])
    if match:
        return match.group(1).decode("utf-8", "replace")
    text = body[:200].decode("utf-8", "replace").strip()
    return text or f"HTTP {status}"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_class_for(status: int, body: Mapping[str, Any] | None) -> type[APIError]:
    """The most specific :class:`APIError` subclass for a status and parsed body."""
    if status == 429 and body is not None and body.get("policyName") == "DAILY":
        return DailyLimitError
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500 or status in (423, 477):
        return ServerError
    return APIError


def error_from_body(
    status: int,
    body: Mapping[str, Any] | None,
    *,
    correlation_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    fallback_message: str | None = None,
) -> APIError:
    """Build the error for one HubSpot error object (a whole response, or one 207 item).

    ``headers`` must have lower-case keys. Used both for whole responses and for the entries
    of a batch response's ``errors[]``.
    """
    data: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    cls = error_class_for(status, data or None)
    message = str(data.get("message") or fallback_message or f"HTTP {status}")
    context = data.get("context")
    errors = data.get("errors")
    kwargs: dict[str, Any] = {
        "status": status,
        "category": data.get("category") or data.get("errorType"),
        "correlation_id": data.get("correlationId") or correlation_id,
        "context": context if isinstance(context, Mapping) else None,
        "errors": errors if isinstance(errors, list) else (),
        "sub_category": data.get("subCategory"),
        "body": body,
        "retry_after": _retry_after(headers or {}),
    }
    if issubclass(cls, RateLimitError):
        policy = data.get("policyName")
        return cls(message, policy_name=str(policy) if policy else None, **kwargs)
    return cls(message, **kwargs)


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> APIError:
    """The one factory from an HTTP error response to the most specific :class:`APIError`.

    ``headers`` must have lower-case keys. HTML and other non-JSON bodies (HubSpot's edge
    answers 5xx in HTML) keep their ``<title>`` as the message.
    """
    parsed = _parse_body(body)
    mapping = parsed if isinstance(parsed, Mapping) else None
    return error_from_body(
        status,
        mapping,
        correlation_id=headers.get("x-hubspot-correlation-id"),
        headers=headers,
        fallback_message=None if mapping else _fallback_message(status, body),
    )
