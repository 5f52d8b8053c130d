"""The exception hierarchy, and the one factory that turns an HTTP error response into it.

Everything the SDK raises derives from :class:`HubEngageError`. Errors are translated once, at
the edge where they arise: the transport maps aiohttp failures to :class:`TransportError`, the
request pipeline maps a non-2xx response through :func:`error_from_response`, and the models
raise :class:`InvalidInputError` for bad arguments before anything is sent.

HubSpot's error bodies are treated as all-optional (``docs/hubspot-wire.md`` §4): 5xx bodies
are often HTML from the edge, 429 bodies carry ``policyName``/``errorType`` instead of ``category``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BudgetStoreError",
    "ClientClosedError",
    "ConflictError",
    "DailyLimitError",
    "DeadlineExceededError",
    "EventLoopError",
    "HubEngageError",
    "InvalidInputError",
    "MalformedResponseError",
    "NotFoundError",
    "OutcomeUnknownError",
    "RateLimitError",
    "ScopeError",
    "ServerError",
    "TransportError",
    "TransportTimeoutError",
    "ValidationError",
    "WithdrawnError",
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
    """HubSpot answered, but its answer does not tell what became of this call.

    The request succeeded as a whole (2xx), yet nothing in the response can be tied to this
    input without guessing: the body could not be read (``__cause__`` is the
    :class:`MalformedResponseError`), no result or error names the input, a result that
    would fit it also fits another input, or HubSpot reported both a result and an error for
    it. A write may or may not have happened: a create may exist (check before writing it
    again: a retry could duplicate it), an update may or may not be applied. ``operation``
    is ``create``, ``update``, ``upsert``, ``archive`` or ``read``; ``status`` and
    ``correlation_id`` are the response's.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        status: int | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.operation = operation
        self.status = status
        self.correlation_id = correlation_id
        super().__init__(message)


class MalformedResponseError(HubEngageError):
    """A 2xx response whose body is not the JSON HubSpot documents for the endpoint.

    Empty, cut off, HTML (a proxy's page), or JSON of the wrong shape (``[]``, ``"ok"``).
    ``status`` and ``correlation_id`` are the response's; ``excerpt`` is the start of the
    body for the log. A read fails with this error; a write that got such an answer fails
    with :class:`OutcomeUnknownError` caused by it, since HubSpot may have carried it out.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        correlation_id: str | None = None,
        excerpt: str = "",
    ) -> None:
        self.status = status
        self.correlation_id = correlation_id
        self.excerpt = excerpt
        text = f"HTTP {status}: {message}"
        if correlation_id:
            text += f" (correlation id {correlation_id})"
        super().__init__(text)


class WithdrawnError(HubEngageError):
    """A bulk input that was read but never sent, because the run was stopped.

    Nothing was written for it: send it again in a later run (``Outcome.withdrawn``).
    """


class BudgetStoreError(HubEngageError):
    """The shared rate budget (``rate_limit_store``, Redis) could not be reached; the call
    was not sent. Pass ``rate_limit_fallback=True`` to keep a budget of the client's own
    instead."""


class DeadlineExceededError(HubEngageError, TimeoutError):
    """The call's time budget (``RetryConfig.max_elapsed_seconds``) ran out before it could
    be sent: it waited for the rate-limit budget for too long. Nothing was sent."""


class EventLoopError(HubEngageError, RuntimeError):
    """The client was used from an event loop other than the one it first ran in.

    A client owns a connection pool and timers bound to one loop: make one client per loop
    (per thread, per ``asyncio.run``).
    """


class APIError(HubEngageError):
    """HubSpot answered with an error status.

    Attributes: ``status`` (HTTP status), ``category`` (e.g. ``VALIDATION_ERROR``; None when
    the body has none), ``message``, ``correlation_id`` (quote it to HubSpot support),
    ``context`` (HubSpot's ``context`` map), ``errors`` (HubSpot's ``errors[]`` details),
    ``sub_category``, ``body`` (the parsed JSON body, or None for non-JSON bodies) and
    ``per_item`` (True for one input's error inside a multi-status answer).
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
        per_item: bool = False,
    ) -> None:
        self.status = status
        #: True when this error is one entry of a batch response's ``errors[]`` (about one
        #: input), False when HubSpot answered the whole request with it.
        self.per_item = per_item
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

    A search-bucket 429 has no policy name and category ``RATE_LIMITS`` (``docs/hubspot-wire.md``
    §1.5); ``is_search_limit`` tells it apart. ``retry_after`` is the ``Retry-After`` header in
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


def invalid_input(
    *validators: Any, message: Callable[[Any], str] | None = None, field: str | None = None
) -> Callable[[Any, Any, Any], None]:
    """``attrs`` validators whose failures raise :class:`InvalidInputError` naming the field.

    ``attrs.validators.gt(0)`` and friends raise a plain ``ValueError``; the SDK's contract is
    an ``InvalidInputError`` (a ``ValueError`` too) with ``.field`` set (``field``, by default
    the attribute's name), so callers catch one class for every bad argument.
    ``message(value)`` replaces attrs' own message.
    """
    import attrs

    inner = attrs.validators.and_(*validators)

    def check(instance: Any, attribute: Any, value: Any) -> None:
        try:
            inner(instance, attribute, value)
        except (ValueError, TypeError) as exc:
            text = message(value) if message is not None else str(exc.args[0] if exc.args
                                                                   else exc)
            raise InvalidInputError(text, field=field or attribute.name) from None

    return check


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
    per_item: bool = False,
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
        "per_item": per_item,
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
