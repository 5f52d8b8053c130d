"""The transport: one HTTP request out, one response back, and nothing else.

Owns the :class:`Transport` protocol, the plain :class:`Request` / :class:`Response` values that
cross it, and :class:`AiohttpTransport`: one ``aiohttp.ClientSession`` per client, timeouts,
the ``Authorization`` header, and the mapping of aiohttp's exceptions to ours
(:class:`TransportError`, :class:`TransportTimeoutError`) at this edge. It knows nothing about
batching, retries or HubSpot semantics; no other SDK module imports aiohttp.

Any object with ``send`` and ``aclose`` can stand in (an in-memory transport in tests, a
recording proxy), in the manner of httpx's transports.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
import attrs
from yarl import URL

from ._constants import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_TIMEOUT,
    USER_AGENT,
)
from ._errors import (
    ClientClosedError,
    InvalidInputError,
    MalformedResponseError,
    TransportError,
    TransportTimeoutError,
)

__all__ = [
    "AiohttpTransport",
    "Request",
    "Response",
    "Transport",
    "path_segment",
]



@attrs.frozen(kw_only=True)
class Request:
    """One HTTP request to HubSpot: method, a path below the base URL, query and JSON body."""

    method: str
    path: str
    params: Sequence[tuple[str, str]] = ()
    json: Any = None
    #: A short label for stats and logs, e.g. ``"batch/create"`` or ``"get"``.
    endpoint: str = ""

    @functools.cached_property
    def body(self) -> bytes | None:
        """``json`` as sent: compact UTF-8 JSON (None without a body), encoded once, so a
        batch built while it waits for its rate-limit slot goes out the moment it has one."""
        return None if self.json is None else _dumps(self.json)

    def describe(self) -> str:
        """``"POST /crm/v3/objects/emails/batch/create"`` (never the token, never the body)."""
        return f"{self.method} {self.path}"


@attrs.frozen(kw_only=True)
class Response:
    """One HTTP response: status, headers (lower-case keys) and the raw body."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    #: Set by the request pipeline: earlier attempts of this request that failed in a way
    #: HubSpot may still have processed (no response, or a 5xx). Non-zero means a create in
    #: this request may also have been written by one of those attempts.
    uncertain_attempts: int = 0

    @property
    def ok(self) -> bool:
        """True for any 2xx status (HubSpot answers 200, 201, 204 or 207 on success)."""
        return 200 <= self.status < 300

    @property
    def correlation_id(self) -> str | None:
        """HubSpot's ``X-HubSpot-Correlation-Id`` for this response, if sent."""
        return self.headers.get("x-hubspot-correlation-id")

    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body).

        Raises :class:`MalformedResponseError` when the body is not JSON (cut off, HTML).
        """
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            raise self.malformed("the body is not JSON") from None

    def json_object(self) -> Mapping[str, Any]:
        """The body as a JSON object; :class:`MalformedResponseError` for anything else."""
        value = self.json()
        if not isinstance(value, Mapping):
            raise self.malformed(f"expected a JSON object, got {_shape(value)}")
        return value

    def malformed(self, message: str) -> MalformedResponseError:
        """The error for this response's body not being what the endpoint documents."""
        excerpt = self.body[:120].decode("utf-8", "replace")
        return MalformedResponseError(
            message, status=self.status, correlation_id=self.correlation_id, excerpt=excerpt
        )


def _shape(value: Any) -> str:
    if value is None:
        return "an empty body"
    return f"JSON {type(value).__name__} {json.dumps(value)[:40]}"


class Transport(Protocol):
    """Sends one request and returns its response; raises only :class:`TransportError`."""

    async def send(self, request: Request) -> Response:
        """Send ``request``; map connection failures and timeouts to ``TransportError``."""
        ...

    async def aclose(self) -> None:
        """Release connections. Idempotent."""
        ...


def _describe(exc: aiohttp.ClientError) -> str:
    """An aiohttp failure in words, from its ``str`` (which, unlike its ``repr``, holds no
    request headers)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def path_segment(value: str, *, field: str) -> str:
    """``value`` percent-encoded as one path segment; ``InvalidInputError`` when it could not
    be one.

    Empty values, ``.`` and ``..`` (which URL normalisation removes, moving the request to
    another endpoint), ``/``, ``?``, ``#`` and ``\\`` (which end or split a segment) and
    control characters are refused, naming the value. Everything else is encoded, so a
    record id or object type taken from user input can never redirect a request.
    """
    if value in ("", ".", "..") or any(c in _UNSAFE_IN_SEGMENT or ord(c) < 32 or ord(c) == 127
                                        for c in value):
        raise InvalidInputError(f"{value!r} cannot be used in a URL path", field=field)
    return quote(value, safe="")


_UNSAFE_IN_SEGMENT = frozenset("/?#\\")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class AiohttpTransport:
    """The default transport: an ``aiohttp.ClientSession`` created lazily in the running loop.

    ``timeout`` bounds a whole request; ``connect_timeout`` bounds getting a connection. The
    token is sent only in the ``Authorization`` header and appears in no repr or message.
    """

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        if not access_token or not isinstance(access_token, str):
            raise InvalidInputError("must be a non-empty string", field="access_token")
        if timeout <= 0:
            raise InvalidInputError("must be positive", field="timeout")
        self._base_url = str(URL(base_url.rstrip("/")))
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._timeout = aiohttp.ClientTimeout(
            total=timeout, sock_connect=connect_timeout, connect=connect_timeout
        )
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"AiohttpTransport(base_url={self._base_url!r})"

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("the transport is closed; nothing was sent")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers=self._headers
            )
        return self._session

    async def send(self, request: Request) -> Response:
        """Send one request; aiohttp's failures become ``TransportError`` here and only here.

        The path is sent exactly as built (already percent-encoded, see
        :func:`path_segment`): no URL normalisation can turn ``/emails/..`` into another
        endpoint. Redirects are not followed (HubSpot's API does not redirect; following one
        would carry the token elsewhere): a 3xx comes back as a response.
        """
        session = self._get_session()
        data = request.body
        headers = {"Content-Type": "application/json"} if data is not None else None
        url = URL(self._base_url + request.path, encoded=True)
        try:
            async with session.request(
                request.method,
                url,
                params=list(request.params) or None,
                data=data,
                headers=headers,
                allow_redirects=False,
            ) as resp:
                body = await resp.read()
                return Response(
                    status=resp.status,
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    body=body,
                )
        except TimeoutError:
            error: TransportError = TransportTimeoutError(
                "request timed out", method=request.method, path=request.path
            )
        except aiohttp.ClientError as exc:
            error = TransportError(
                f"connection failed: {_describe(exc)}",
                method=request.method,
                path=request.path,
                # Never connected (refused, DNS): the request cannot have been processed.
                may_have_reached=not isinstance(exc, aiohttp.ClientConnectorError),
            )
        # Raised outside the handler on purpose: aiohttp's exceptions carry the request's
        # headers (the bearer token) in their repr, so none may hang off ours as
        # ``__cause__`` or ``__context__`` where an error tracker would record it.
        raise error

    async def aclose(self) -> None:
        """Close the session and its connections. Idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
            # Let the connector's transports finish closing (avoids ResourceWarnings).
            await asyncio.sleep(0)
