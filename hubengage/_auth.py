"""Where the access token comes from, and what happens when HubSpot says it expired.

``HubSpot(access_token=...)`` takes a string, a callable or async callable returning the
current token, or :class:`OAuth`. Each becomes a :class:`TokenSource`, and the client puts an
:class:`AuthTransport` between its request pipeline and the transport that reaches the wire
(the aiohttp one, or whatever was passed as ``transport=``):

- **Before each request** it asks the source for the current token and sends a copy of the
  request carrying it in :attr:`Request.token` (never in a repr). Everything above the
  transport (the batcher, the pipeline, event hooks, logs, stats) only ever holds the
  token-free request; a custom transport reads ``request.token`` and sends it as
  ``Authorization: Bearer …`` (``AiohttpTransport`` does).
- **On a 401 whose body says the token expired** (``category: EXPIRED_AUTHENTICATION``,
  ``docs/hubspot-wire.md`` §4) it asks the source for a new token once (``OAuth`` refreshes;
  a callable is called again) and, when one comes, sends the same request again once. The
  pipeline above sees one send and one response, so a batched call is neither lost nor sent
  twice and the batcher decodes exactly one answer for it.

Why the resend lives here, at the transport edge, and not in the pipeline's retry loop: the
token is the transport's business (the pipeline never holds it), a 401 carries no write
(HubSpot refused the request before processing it), and the resend is the *same* attempt
completed with the right credentials, not a retry: it must not spend a retry attempt, wait a
backoff, or count as an uncertain attempt that could have written a create. It also spends no
new rate-limit slot: the pipeline took one slot for this send and releases it with the
headers of the final answer. HubSpot answers an unauthenticated request before counting it
(the emulator does the same, §8); if HubSpot did count it, the window would hold one request
the budget did not reserve, and the ``X-HubSpot-RateLimit-Remaining`` of the final answer
corrects the budget's view (``_limiter`` learns from headers).

**Refreshing.** :class:`OAuth` exchanges its refresh token at HubSpot's token endpoint
(``POST /oauth/2026-03/token``, form-encoded ``grant_type=refresh_token``, ``client_id``,
``client_secret``, ``refresh_token``; answer ``{access_token, refresh_token, expires_in,
token_type}``; §9) a margin before the access token expires, and on an expired-token 401.
Single flight: however many requests find the token due (or expired) at once, one refresh
runs and they all wait for it; a request that failed with a token already replaced is simply
sent again with the new one. The refresh runs in a task of its own, so a caller that is
cancelled does not cancel it (a refresh whose answer was lost could have rotated the refresh
token). The token request goes straight through the inner transport, outside the rate budget
(it is not a CRM API call).

**Failures.** A refresh HubSpot refuses (400 ``invalid_grant`` / ``BAD_REFRESH_TOKEN``, a
wrong client secret) ends the call with :class:`AuthenticationError`, not retried; a refresh
that got no answer (connection failure, timeout, a 5xx or a garbled body) ends the attempt
with a :class:`TransportError` saying nothing was sent, which the pipeline retries like any
connection failure. A refresh made ahead of expiry that fails either way while the token in
hand is still valid fails nothing: it is logged (WARNING) and that token is sent (the next
request tries again). A request with a timeout of its own (``hs.with_options(timeout=...)``)
waits for a token at most that long, then ends its attempt with
:class:`TransportTimeoutError` (nothing sent); the refresh goes on for the others. No token
or secret is in any message, repr or exception chain: the errors are built from HubSpot's
answer and raised outside the handlers that caught the transport's failure.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeAlias, TypeVar
from urllib.parse import urlsplit

import attrs

from ._errors import (
    AuthenticationError,
    InvalidInputError,
    TransportError,
    TransportTimeoutError,
)
from ._transport import Request, Response, Transport

__all__ = [
    "DEFAULT_REFRESH_MARGIN",
    "OAUTH_TOKEN_PATH",
    "AccessToken",
    "AuthTransport",
    "CallableToken",
    "OAuth",
    "OAuthTokens",
    "StaticToken",
    "TokenSource",
    "is_expired_answer",
    "token_source",
]

logger = logging.getLogger("hubengage")

#: HubSpot's OAuth token endpoint, below the API's base URL (§9): the date-versioned path
#: that replaces ``/oauth/v1/token`` (deprecated, removed on 2027-02-16) with the same form
#: body and the same answer.
OAUTH_TOKEN_PATH = "/oauth/2026-03/token"
#: Seconds before an access token's expiry that :class:`OAuth` refreshes it (at most half its
#: lifetime), so that a request sent just before expiry does not arrive just after it.
DEFAULT_REFRESH_MARGIN = 60.0
#: The category of HubSpot's 401 for an expired access token (§4).
EXPIRED_CATEGORY = "EXPIRED_AUTHENTICATION"
#: The label of the token request in stats, logs and ``MockTransport.requests``.
TOKEN_ENDPOINT = "oauth/token"

_T = TypeVar("_T")

#: Sends one request through the transport below the auth layer.
Send: TypeAlias = Callable[[Request], Awaitable[Response]]


@attrs.frozen(kw_only=True)
class OAuthTokens:
    """The tokens one refresh returned: what ``OAuth(on_refresh=...)`` receives to persist.

    ``access_token`` and ``refresh_token`` (which HubSpot may rotate: store the one given
    here) are left out of the repr. ``expires_at`` is when the access token expires, in
    epoch seconds of :class:`OAuth`'s clock (``time.time`` unless one was given);
    ``expires_in`` its lifetime in seconds as HubSpot stated it.
    """

    access_token: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    expires_in: float
    expires_at: float
    token_type: str = "bearer"


class TokenSource(ABC):
    """Where the client's access token comes from (internal: ``HubSpot(access_token=...)``
    turns a string, a callable or an :class:`OAuth` into one)."""

    @abstractmethod
    async def token(self, send: Send) -> str:
        """The token to send now (refreshed first when it is due)."""

    @abstractmethod
    async def renewed(self, stale: str, send: Send) -> str | None:
        """After HubSpot said ``stale`` expired: the token to send instead, or None when
        there is no other."""

    @property
    def budget_identity(self) -> str | None:
        """A stable string naming whose rate budget this is (hashed into the shared budget's
        keys), or None when it cannot be known before sending (a callable)."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - most sources have nothing to close
        """Wait for work in progress (a refresh). Idempotent."""


class StaticToken(TokenSource):
    """One fixed token, as ``HubSpot(access_token="pat-...")`` has always taken."""

    def __init__(self, token: str) -> None:
        _check_token(token, "access_token")
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(***)"

    async def token(self, send: Send) -> str:
        """The token."""
        return self._token

    async def renewed(self, stale: str, send: Send) -> str | None:
        """None: a fixed token cannot be renewed."""
        return None

    @property
    def budget_identity(self) -> str:
        """The token itself (hashed before it names anything)."""
        return self._token


class CallableToken(TokenSource):
    """A callable (sync or async) returning the current token, called before every request,
    so a web app can rotate tokens under a long-lived client."""

    def __init__(self, get: Callable[[], str | Awaitable[str]]) -> None:
        self._get = get

    def __repr__(self) -> str:
        return f"CallableToken({getattr(self._get, '__qualname__', type(self._get).__name__)})"

    async def token(self, send: Send) -> str:
        """The callable's answer; a failure or a non-string ends the attempt with a
        :class:`TransportError` (nothing sent; the pipeline retries it)."""
        failure: TransportError | None = None
        try:
            value = self._get()
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # the application's own code: any failure
            failure = TransportError(
                f"the access_token callable raised {type(exc).__name__}; nothing was sent",
                may_have_reached=False)
            failure.__cause__ = exc  # the application's exception, for its own debugging
            failure.__suppress_context__ = True
        if failure is not None:
            raise failure
        if not isinstance(value, str) or not value.strip():
            raise TransportError(
                "the access_token callable returned no token (an empty or non-string value); "
                "nothing was sent", may_have_reached=False)
        return value

    async def renewed(self, stale: str, send: Send) -> str | None:
        """The callable's answer when it differs from ``stale``, else None."""
        fresh = await self.token(send)
        return fresh if fresh != stale else None


def _check_token(value: object, field: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("must be a non-empty string", field=field)


OnRefresh: TypeAlias = Callable[[OAuthTokens], Awaitable[None] | None]


class OAuth(TokenSource):
    """Access tokens of a HubSpot OAuth app for one installed account, refreshed as needed.

    ::

        oauth = OAuth(client_id, client_secret, refresh_token,
                      access_token=saved.access_token, expires_at=saved.expires_at,
                      on_refresh=save_tokens)
        async with HubSpot(access_token=oauth) as hs:
            ...

    HubSpot's access tokens expire (30 minutes after they are issued, ``expires_in`` says
    exactly; ``docs/hubspot-wire.md`` §9). The client refreshes the token through HubSpot's
    token endpoint ``refresh_margin`` seconds before it expires (at most half its lifetime),
    and once more if HubSpot still answers a request with an expired-token 401, then sends
    that request again; many concurrent requests wait for one refresh. ``access_token`` and
    ``expires_at`` (epoch seconds, or an aware ``datetime``) start from a token already held;
    without them the first request refreshes first, and an ``access_token`` without
    ``expires_at`` is used until HubSpot says it expired.

    ``on_refresh(tokens)`` (sync or async) receives every new :class:`OAuthTokens`: persist
    them, the refresh token included, which HubSpot may rotate (the next refresh uses the new
    one). An exception it raises is logged, not raised: the tokens are already in use.

    The token endpoint is ``{base_url}/oauth/2026-03/token``, below the client's base URL
    (HubSpot's ``/oauth/v1/token`` is deprecated); ``token_url`` replaces it with a path
    below the base URL or an absolute URL. ``clock`` returns epoch seconds (``time.time``;
    tests inject their own). A refused refresh (a revoked or unknown refresh token, a wrong
    secret) fails the call with :class:`AuthenticationError`. The secrets and tokens appear
    in no repr, message or log line.

    One ``OAuth`` serves the clients of one event loop; one client per installed account,
    each with its own rate budget (HubSpot's limits are per app and account).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        access_token: str | None = None,
        expires_at: float | datetime | None = None,
        on_refresh: OnRefresh | None = None,
        token_url: str | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] | None = None,
    ) -> None:
        _check_token(client_id, "client_id")
        _check_token(client_secret, "client_secret")
        _check_token(refresh_token, "refresh_token")
        if access_token is not None:
            _check_token(access_token, "access_token")
        if isinstance(refresh_margin, bool) or not isinstance(refresh_margin, int | float) \
                or not 0 <= refresh_margin < math.inf:
            raise InvalidInputError("must be a number of seconds >= 0", field="refresh_margin")
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._access_token = access_token
        self._expires_at = _epoch(expires_at)
        self._lifetime: float | None = None
        self._on_refresh = on_refresh
        self._target = _token_target(token_url)
        self._margin = float(refresh_margin)
        self._clock: Callable[[], float] = clock or time.time
        self._task: asyncio.Task[str] | None = None
        #: How many refreshes succeeded (for tests and dashboards).
        self.refreshes = 0

    def __repr__(self) -> str:
        expiry = "unknown" if self._expires_at is None else f"{self._expires_at:.0f}"
        return f"OAuth(client_id={self.client_id!r}, expires_at={expiry})"

    @property
    def tokens(self) -> OAuthTokens | None:
        """The tokens in use (None before the first refresh when none were given)."""
        if self._access_token is None:
            return None
        expires_at = math.inf if self._expires_at is None else self._expires_at
        expires_in = math.inf if self._lifetime is None else self._lifetime
        return OAuthTokens(access_token=self._access_token, refresh_token=self._refresh_token,
                           expires_in=expires_in, expires_at=expires_at)

    @property
    def budget_identity(self) -> str | None:
        """None: a refresh token HubSpot may rotate cannot name the installed account across
        processes (one started from a rotated token would get another budget), so a shared
        budget needs ``rate_limit_key=`` (e.g. the account's portal id)."""
        return None

    def due(self) -> bool:
        """True when the access token is missing or within the refresh margin of expiry."""
        if self._access_token is None:
            return True
        if self._expires_at is None:
            return False
        margin = self._margin if self._lifetime is None else min(self._margin,
                                                                  self._lifetime / 2)
        return self._clock() >= self._expires_at - margin

    async def token(self, send: Send) -> str:
        """The access token, refreshed first when it is due.

        A refresh made ahead of expiry (inside the refresh margin) that fails while the
        token in hand has not expired yet is logged (WARNING) and that token is used: the
        next request tries the refresh again, and only once the token has expired does a
        failed refresh fail the call.
        """
        current = self._access_token
        if current is not None and not self.due():
            return current
        failure: TransportError | AuthenticationError | None = None
        try:
            return await self._refreshed(current, send)
        except (TransportError, AuthenticationError) as exc:
            failure = exc
        assert failure is not None
        expires_at = self._expires_at
        # Re-read: a concurrent refresh may have replaced the token while this one failed.
        current = self._access_token if self._access_token is not None else current
        if current is None or expires_at is None or not self._clock() < expires_at:
            raise failure  # expired (or never held): the call cannot go on without one
        logger.warning("could not refresh the OAuth access token for client %s ahead of its "
                       "expiry (%s); using the current one, valid for %.0fs more",
                       self.client_id, type(failure).__name__, expires_at - self._clock())
        return current

    async def renewed(self, stale: str, send: Send) -> str | None:
        """After an expired-token 401 for ``stale``: a refreshed token (one refresh however
        many requests report the same token), or the newer token already in use."""
        return await self._refreshed(stale, send)

    async def aclose(self) -> None:
        """Wait for a refresh in progress: its answer may carry a rotated refresh token
        that ``on_refresh`` must see. Never cancels it."""
        task = self._task
        if task is not None:
            await asyncio.wait((task,))

    async def _refreshed(self, stale: str | None, send: Send) -> str:
        task = self._task
        if task is None:
            current = self._access_token
            if current is not None and current != stale and not self.due():
                return current  # another request's refresh already replaced it
            # In an empty context: the refresh serves every caller, so none of the first
            # caller's context variables (its trace span, a web framework's request state)
            # may ride along into the token request or ``on_refresh``.
            task = asyncio.get_running_loop().create_task(self._exchange(send),
                                                          context=contextvars.Context())
            self._task = task
            task.add_done_callback(self._finished)
        # Shielded: a caller cancelled while it waits does not cancel everyone's refresh.
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[str]) -> None:
        if self._task is task:
            self._task = None
        if not task.cancelled():
            task.exception()  # retrieved: every waiter has it (or none was left to)

    async def _exchange(self, send: Send) -> str:
        """One refresh: POST the refresh token, adopt the answer, tell ``on_refresh``."""
        path, url = self._target
        request = Request(
            method="POST", path=path, url=url, endpoint=TOKEN_ENDPOINT, token="",
            form=(("grant_type", "refresh_token"), ("client_id", self.client_id),
                  ("client_secret", self._client_secret),
                  ("refresh_token", self._refresh_token)),
        )
        failure: TransportError | None = None
        try:
            response = await send(request)
        except TransportError as exc:
            failure = _refresh_unreachable(f"the token endpoint could not be reached ({exc})")
        if failure is not None:
            raise failure  # outside the handler: nothing of the token request hangs off it
        tokens = self._adopt(response)
        self.refreshes += 1
        logger.info("refreshed the OAuth access token for client %s (expires in %.0fs)",
                    self.client_id, tokens.expires_in)
        if self._on_refresh is not None:
            await self._notify(tokens)
        return tokens.access_token

    def _adopt(self, response: Response) -> OAuthTokens:
        body = _json_object(response.body)
        if response.status in (400, 401, 403):
            raise _refresh_refused(response, body)
        if not response.ok:
            raise _refresh_unreachable(f"the token endpoint answered HTTP {response.status}")
        access = body.get("access_token") if body is not None else None
        expires_in = body.get("expires_in") if body is not None else None
        if (not isinstance(access, str) or not access.strip()
                or isinstance(expires_in, bool) or not isinstance(expires_in, int | float)
                or not 0 < expires_in < math.inf):
            raise _refresh_unreachable(
                f"the token endpoint answered HTTP {response.status} without an access token "
                "and its expires_in")
        assert body is not None
        refresh = body.get("refresh_token")
        if isinstance(refresh, str) and refresh.strip():
            self._refresh_token = refresh  # HubSpot may rotate it: the next refresh uses it
        token_type = body.get("token_type")
        self._access_token = access
        self._lifetime = float(expires_in)
        self._expires_at = self._clock() + float(expires_in)
        return OAuthTokens(
            access_token=access, refresh_token=self._refresh_token,
            expires_in=float(expires_in), expires_at=self._expires_at,
            token_type=token_type if isinstance(token_type, str) else "bearer",
        )

    async def _notify(self, tokens: OAuthTokens) -> None:
        assert self._on_refresh is not None
        try:
            result = self._on_refresh(tokens)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # the application's own code: keep the tokens, say so
            logger.error("OAuth on_refresh raised %s; the new tokens are in use but may not "
                         "have been saved", type(exc).__name__)


def _epoch(value: float | datetime | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInputError("must be an aware datetime (with a time zone) or epoch "
                                    "seconds", field="expires_at")
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError("must be epoch seconds or an aware datetime",
                                field="expires_at")
    return float(value)


def _token_target(token_url: str | None) -> tuple[str, str | None]:
    """``(path, absolute URL or None)`` of the token endpoint."""
    if token_url is None:
        return OAUTH_TOKEN_PATH, None
    if not isinstance(token_url, str) or not token_url.strip():
        raise InvalidInputError("must be a path or an absolute URL", field="token_url")
    if token_url.startswith("/"):
        return token_url, None
    parts = urlsplit(token_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError("must be a path (/oauth/...) or an http(s) URL",
                                field="token_url")
    return parts.path or "/", token_url


def _json_object(body: bytes) -> Mapping[str, Any] | None:
    try:
        value = json.loads(body) if body else None
    except ValueError:
        return None
    return value if isinstance(value, Mapping) else None


def _refresh_unreachable(why: str) -> TransportError:
    return TransportError(f"could not refresh the OAuth access token: {why}; nothing was sent",
                          may_have_reached=False)


def _refresh_refused(response: Response, body: Mapping[str, Any] | None) -> AuthenticationError:
    """HubSpot refused the refresh token or the client credentials (its answer holds neither:
    ``error``, ``error_description``, ``status``, ``message``, §9)."""
    data = body or {}
    status = data.get("status")
    error = data.get("error")
    category = (status if isinstance(status, str) and status and status != "error"
                else error.upper() if isinstance(error, str) and error
                else "INVALID_AUTHENTICATION")
    detail = data.get("error_description") or data.get("message")
    text = f": {str(detail)[:300]}" if detail else ""
    correlation_id = data.get("correlationId") or response.correlation_id
    return AuthenticationError(
        f"HubSpot refused to refresh the OAuth access token (HTTP {response.status} "
        f"{category}{text}); the app must be authorized again",
        status=401, category=category,
        correlation_id=str(correlation_id) if correlation_id else None,
    )


def is_expired_answer(response: Response) -> bool:
    """True for HubSpot's 401 saying the access token expired (§4)."""
    if response.status != 401:
        return False
    body = _json_object(response.body)
    return body is not None and body.get("category") == EXPIRED_CATEGORY


def _refused_response(error: AuthenticationError) -> Response:
    """A refused refresh as the 401 the request ends with: the pipeline turns it into the
    same :class:`AuthenticationError` (not retried) and returns the request's slot."""
    body = {"status": "error", "message": error.message, "category": error.category,
            "correlationId": error.correlation_id}
    headers = {"content-type": "application/json;charset=utf-8"}
    if error.correlation_id:
        headers["x-hubspot-correlation-id"] = error.correlation_id
    return Response(status=401, headers=headers, body=json.dumps(body).encode())


class AuthTransport:
    """A :class:`Transport` that stamps each request with the current token and completes a
    request HubSpot answered with an expired-token 401 (refresh, then send it again once).

    It sits between the client's pipeline and the transport that reaches the wire (see the
    module's docstring for why here).
    """

    def __init__(self, inner: Transport, source: TokenSource) -> None:
        self.inner = inner
        self.source = source

    def __repr__(self) -> str:
        return f"AuthTransport({self.inner!r}, {type(self.source).__name__})"

    async def send(self, request: Request) -> Response:
        """Send ``request`` with the current token; on an expired-token 401, once more with
        a renewed one. Raises only :class:`TransportError` (as every transport)."""
        send = self.inner.send
        refused: AuthenticationError | None = None
        try:
            token = await self._bounded(request, self.source.token(send))
        except AuthenticationError as exc:
            refused = exc
        if refused is not None:
            return _refused_response(refused)
        response = await send(request.replace(token=token))
        if not is_expired_answer(response):
            return response
        try:
            fresh = await self._bounded(request, self.source.renewed(token, send))
        except AuthenticationError as exc:
            refused = exc
        if refused is not None:
            return _refused_response(refused)
        if fresh is None or fresh == token:
            return response
        return await send(request.replace(token=fresh))

    @staticmethod
    async def _bounded(request: Request, waiting: Awaitable[_T]) -> _T:
        """``waiting`` (the wait for a token), bounded by ``request.timeout`` when the
        request has one (per-call options): a call under a short timeout does not wait out
        a slow refresh. The refresh itself goes on (it is shielded, and serves every
        caller); the attempt ends with :class:`TransportTimeoutError`, nothing sent."""
        if request.timeout is None:
            return await waiting
        bound = asyncio.timeout(request.timeout)
        try:
            async with bound:
                return await waiting
        except TimeoutError:
            if not bound.expired():
                raise  # the token source's own failure, not this bound
        raise TransportTimeoutError(
            f"timed out after {request.timeout:g}s waiting for the access token; nothing was "
            "sent", method=request.method, path=request.path, may_have_reached=False)

    async def aclose(self) -> None:
        """Let a refresh in progress finish, then close the inner transport. Idempotent."""
        try:
            await self.source.aclose()
        finally:
            await self.inner.aclose()


AccessToken: TypeAlias = "str | Callable[[], str] | Callable[[], Awaitable[str]] | OAuth"


def token_source(value: object) -> TokenSource:
    """The :class:`TokenSource` for ``HubSpot(access_token=value)``; ``InvalidInputError``
    for anything else."""
    if isinstance(value, TokenSource):
        return value
    if isinstance(value, str):
        return StaticToken(value)
    if callable(value):
        return CallableToken(value)
    raise InvalidInputError(
        "must be a token string, a callable (sync or async) returning one, or hubengage.OAuth",
        field="access_token")
