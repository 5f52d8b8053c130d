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
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import aiohttp
import attrs

from ._errors import InvalidInputError, TransportError, TransportTimeoutError

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "AiohttpTransport",
    "Request",
    "Response",
    "Transport",
]

#: Seconds a whole request may take (connect, send, wait, read) before it is abandoned.
DEFAULT_TIMEOUT = 30.0
#: Seconds to establish a connection (including a free slot in the connection pool).
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Connections kept per client; the in-flight batch cap keeps far fewer busy.
DEFAULT_MAX_CONNECTIONS = 32

_USER_AGENT = "hubengage/0.1 (+python; asyncio)"


@attrs.frozen(kw_only=True)
class Request:
    """One HTTP request to HubSpot: method, a path below the base URL, query and JSON body."""

    method: str
    path: str
    params: Sequence[tuple[str, str]] = ()
    json: Any = None
    #: A short label for stats and logs, e.g. ``"batch/create"`` or ``"get"``.
    endpoint: str = ""

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
        """The body parsed as JSON (None for an empty body)."""
        return json.loads(self.body) if self.body else None


class Transport(Protocol):
    """Sends one request and returns its response; raises only :class:`TransportError`."""

    async def send(self, request: Request) -> Response:
        """Send ``request``; map connection failures and timeouts to ``TransportError``."""
        ...

    async def aclose(self) -> None:
        """Release connections. Idempotent."""
        ...


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
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
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
            raise TransportError("transport is closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers=self._headers
            )
        return self._session

    async def send(self, request: Request) -> Response:
        """Send one request; aiohttp's failures become ``TransportError`` here and only here."""
        session = self._get_session()
        data = None if request.json is None else _dumps(request.json)
        headers = {"Content-Type": "application/json"} if data is not None else None
        try:
            async with session.request(
                request.method,
                self._base_url + request.path,
                params=list(request.params) or None,
                data=data,
                headers=headers,
            ) as resp:
                body = await resp.read()
                return Response(
                    status=resp.status,
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    body=body,
                )
        except TimeoutError as exc:
            raise TransportTimeoutError(
                "request timed out", method=request.method, path=request.path
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"connection failed: {type(exc).__name__}",
                method=request.method,
                path=request.path,
                # Never connected (refused, DNS): the request cannot have been processed.
                may_have_reached=not isinstance(exc, aiohttp.ClientConnectorError),
            ) from exc

    async def aclose(self) -> None:
        """Close the session and its connections. Idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
            # Let the connector's transports finish closing (avoids ResourceWarnings).
            await asyncio.sleep(0)
