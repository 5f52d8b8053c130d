"""The transport: one HTTP request out, one response back, and nothing else.

Owns the :class:`Transport` protocol, the plain :class:`Request` / :class:`Response` values that
cross it, and :class:`AiohttpTransport`: one ``aiohttp.ClientSession`` per client, timeouts,
the ``Authorization`` header, and the mapping of aiohttp's exceptions to ours
(:class:`TransportError`, :class:`TransportTimeoutError`) at this edge. It knows nothing about
batching, retries or HubSpot semantics; no other SDK module imports aiohttp.

Any object with ``send`` and ``aclose`` can stand in (an in-memory transport in tests, a
recording proxy), in the manner of httpx's transports.

**Where a transport gets the token.** ``HubSpot`` wraps its transport in ``_auth``'s
``AuthTransport``, which hands every request down as a copy carrying the current token in
:attr:`Request.token` (``""``: send none) and completes an expired-token 401 itself. A custom
transport sends ``request.token`` as ``Authorization: Bearer …``; ``MockTransport`` records
it, so a test can see which token each request carried. The requests the pipeline, the
batcher and event hooks hold never carry it.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote, urlencode

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



#: The characters of a header name (RFC 9110 ``token``).
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789"
                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
#: Headers that frame the message or the connection: the HTTP client's, never a caller's.
_FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def _is_control(c: str) -> bool:
    """A control character no header may hold (tab, allowed in values, aside)."""
    return (ord(c) < 0x20 and c != "\t") or c == "\x7f"


def _check_headers(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Refuse, naming the header, what the HTTP client would refuse or misframe: a name
    that is not a token, a control character (CR, LF, NUL, ...) in a name or value, the
    framing headers, ``Authorization`` (the transport's)."""
    if not isinstance(value, Mapping):
        raise InvalidInputError("must be a mapping of header names to values", field="headers")
    for name, text in value.items():
        if (not isinstance(name, str) or not isinstance(text, str) or not name
                or any(c not in _TOKEN_CHARS for c in name)
                or any(_is_control(c) for c in text)):
            raise InvalidInputError(f"not a valid header: {name!r}", field="headers")
        lowered = name.lower()
        if lowered == "authorization":
            raise InvalidInputError("the Authorization header is the transport's",
                                    field="headers")
        if lowered in _FRAMING_HEADERS:
            raise InvalidInputError(f"the {name} header is the HTTP client's", field="headers")


def _check_timeout(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                              or not value > 0):
        raise InvalidInputError("must be a positive number of seconds", field="timeout")


@attrs.frozen(kw_only=True)
class Request:
    """One HTTP request to HubSpot: method, a path below the base URL, query and JSON body."""

    method: str
    path: str
    params: Sequence[tuple[str, str]] = ()
    json: Any = None
    #: A short label for stats and logs, e.g. ``"batch/create"`` or ``"get"``.
    endpoint: str = ""
    #: Extra headers to send (``request`` event hooks add them with :meth:`with_headers`).
    #: Never ``Authorization``: the token is the transport's, added where no hook sees it.
    headers: Mapping[str, str] = attrs.field(factory=dict, validator=_check_headers)
    #: Seconds this request may take, overriding the transport's default (per-call options:
    #: ``hs.with_options(timeout=...)``); None for the transport's.
    timeout: float | None = attrs.field(default=None, validator=_check_timeout)
    #: The bearer token this request carries, or None for the transport's own (if any);
    #: ``""`` for none at all (the OAuth token request). Set by the client's auth layer on a
    #: copy right before the transport (``_auth``): the pipeline, hooks and logs only ever
    #: see requests without it. Never in the repr. A custom transport sends it as
    #: ``Authorization: Bearer <token>``.
    token: str | None = attrs.field(default=None, repr=False)
    #: A form body (``application/x-www-form-urlencoded``) instead of ``json``: the OAuth
    #: token request. Holds secrets, so it is never in the repr.
    form: Sequence[tuple[str, str]] | None = attrs.field(default=None, repr=False)
    #: An absolute URL to send to instead of the base URL + ``path`` (only the OAuth token
    #: endpoint, when ``OAuth(token_url=...)`` names another host).
    url: str | None = None

    @functools.cached_property
    def body(self) -> bytes | None:
        """``json`` as sent: compact UTF-8 JSON (None without a body), encoded once, so a
        batch built while it waits for its rate-limit slot goes out the moment it has one;
        or the ``form``, URL-encoded."""
        if self.form is not None:
            return urlencode(list(self.form)).encode()
        return None if self.json is None else _dumps(self.json)

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` of :attr:`body` (None without a body)."""
        if self.form is not None:
            return "application/x-www-form-urlencoded"
        return None if self.json is None else "application/json"

    def with_headers(self, headers: Mapping[str, str]) -> Request:
        """This request with ``headers`` added (replacing ones of the same name), its body
        not encoded again. ``InvalidInputError`` for ``Authorization``, ``Host``,
        ``Content-Length``, ``Transfer-Encoding`` or ``Connection``, a name that is not an
        HTTP token, or a value holding a control character (CR, LF, NUL, ...; tab is
        allowed)."""
        replaced = {name.lower() for name in headers if isinstance(name, str)}
        merged = {k: v for k, v in self.headers.items() if k.lower() not in replaced}
        merged.update(headers)
        return self.replace(headers=merged)

    def replace(self, **changes: Any) -> Request:
        """This request with ``changes`` (as ``attrs.evolve``); unless ``json`` or ``form``
        changes, the body already encoded is kept rather than encoded again."""
        new = attrs.evolve(self, **changes)
        if "json" not in changes and "form" not in changes:
            object.__setattr__(new, "body", self.body)  # the slot of the cached property
        return new

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
    token is sent only in the ``Authorization`` header and appears in no repr or message: a
    request's own :attr:`Request.token` (what ``HubSpot`` sends: its auth layer stamps each
    request with the current token), else ``access_token`` when given (never to a
    :attr:`Request.url` on another host), else none.
    """

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        if access_token is not None and (not isinstance(access_token, str)
                                         or not access_token.strip()):
            raise InvalidInputError("must be a non-empty string", field="access_token")
        if timeout <= 0:
            raise InvalidInputError("must be positive", field="timeout")
        self._base_url = str(URL(base_url.rstrip("/")))
        self._access_token = access_token
        self._headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._timeout = aiohttp.ClientTimeout(
            total=timeout, sock_connect=connect_timeout, connect=connect_timeout
        )
        self._connect_timeout = connect_timeout
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
        headers = dict(request.headers)  # never Authorization (Request refuses it)
        if data is not None:
            headers["Content-Type"] = request.content_type or "application/json"
        token = request.token if request.token is not None else (
            self._access_token if request.url is None else None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = (URL(request.url) if request.url is not None
               else URL(self._base_url + request.path, encoded=True))
        timeout = self._timeout if request.timeout is None else aiohttp.ClientTimeout(
            total=request.timeout, sock_connect=self._connect_timeout,
            connect=self._connect_timeout)
        answered = False
        try:
            async with session.request(
                request.method,
                url,
                params=list(request.params) or None,
                data=data,
                headers=headers or None,
                allow_redirects=False,
                timeout=timeout,
            ) as resp:
                answered = True
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
        except ValueError as exc:
            # Before an answer: aiohttp refusing what it was asked to send (a header or URL
            # it will not put on the wire), before anything was written. Its message is not
            # repeated: it may quote the refused value, and the token's header is one.
            error = TransportError(
                f"the response could not be read ({type(exc).__name__})" if answered else
                f"the request could not be sent (aiohttp refused it: {type(exc).__name__}); "
                "nothing was sent",
                method=request.method, path=request.path, may_have_reached=answered,
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
