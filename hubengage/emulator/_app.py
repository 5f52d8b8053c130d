"""The emulator's HTTP face: routing, auth, rate limits, faults, and each endpoint's framing.

One aiohttp handler serves every path so that the steps every request takes are in one
place and in HubSpot's order: correlation id → route → auth (401; an OAuth access token past
its lifetime gets the expired-token 401, ``_oauth``) → rate limits (429, counted at arrival;
in the windows of the token, or of the OAuth grant every token refreshed from it shares)
→ request faults → ``latency`` → the endpoint (its writes are stored) → response faults (a
successful batch response corrupted) → the rate-limit headers. Data rules are in ``_store``.
The OAuth token endpoint (``POST /oauth/.../token``) is served before routing: it takes no
bearer token and no rate limit.

Time: a request admitted by the rate limits is stamped twice when it is counted: its
monotonic time goes into the token's window and its arrivals record (``arrivals``, the
burst 429s too), its wall time (the store's clock, with ``clock_skew``) into the context
variable ``_COUNTED_AT`` (each request is served in its own task context; aiohttp's
request storage wants typed keys only newer versions have), which becomes a batch
response's ``startedAt``; ``completedAt`` is stamped when the handler ends, after the
``latency``.

Response faults (``RESPONSE_FAULT_KINDS``) need to know what the batch handler did: each
batch handler answers a :class:`_BatchBody`, the JSON body plus a :class:`_Batch` record of
the inputs' trace ids, each result's own trace id, the records the request named and the
creates it stored. Every random choice comes from the store's seeded ``rng``.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextvars
import hashlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .._constants import MAX_BATCH_SIZE, MAX_LIST_PAGE_SIZE
from .._objecttypes import resolve_object_type
from ._api_meta import MetaApi
from ._api_v4 import V4Api
from ._caps import MAX_HISTORY_BATCH_READ, MAX_HISTORY_PAGE_SIZE, MAX_HISTORY_PROPERTIES
from ._common import ApiError, iso_time, not_found, validation_error
from ._config import REQUEST_FAULT_KINDS, RESPONSE_FAULT_KINDS, EmulatorConfig, Fault
from ._http import archived_query, with_next_page
from ._oauth import OAUTH_TOKEN_ENDPOINT, OAUTH_TOKEN_PATHS, OAuthServer
from ._store import Record, Store

__all__ = ["ARRIVALS_CAP", "EmulatorApp", "token_hash"]

#: At most this many entries are kept in each token's ``counted`` and ``rejected`` arrival
#: lists; beyond it the oldest are dropped.
ARRIVALS_CAP = 1_000_000

#: The emulator's wall time at which the request being served was counted (its arrival).
_COUNTED_AT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "hubengage_emulator_counted_at", default=None
)

_AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_HTML = (
    "<html><head><title>{code} {reason}</title></head><body bgcolor=\"white\"><center>"
    "<h1>{code} {reason}</h1></center><hr><center>cloudflare</center></body></html>"
)
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out",
            524: "Origin Time-out"}
#: The JSON request faults (HubSpot's own servers answer them, not the edge): the body's
#: category and message; 477 also carries ``Retry-After`` (seconds, D-ERR).
_JSON_FAULTS = {
    423: ("LOCKED", "The resource is locked while a large volume of data is being synced. "
                    "Wait at least 2 seconds before retrying."),
    477: ("MIGRATION_IN_PROGRESS", "This account is being migrated between data hosting "
                                   "locations. Retry after the time given in Retry-After."),
}
#: The ``Retry-After`` (seconds) of an injected 477.
MIGRATION_RETRY_AFTER = 1
#: The HTML a ``garbled-2xx`` fault may answer with (a proxy's page instead of the JSON).
_HTML_2XX = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking "
    "your browser before accessing api.hubapi.com.</h1><p>cloudflare</p></body></html>"
)
#: The bodies a ``garbled-2xx`` fault may answer with, in the order the rng picks from.
GARBLED_VARIANTS = ("empty", "truncated", "html", "array", "string")

Result = tuple[int, Any]


class _Batch:
    """What one batch request did, for the response faults."""

    __slots__ = ("created", "named", "op", "own", "properties", "t", "traces")

    def __init__(self, t: Any, op: str, inputs: list[Any]) -> None:
        self.t = t
        self.op = op
        #: The distinct trace ids the inputs sent, in input order.
        self.traces: list[str] = list(dict.fromkeys(
            str(inp["objectWriteTraceId"]) for inp in inputs
            if inp.get("objectWriteTraceId") is not None
        ))
        #: Record id of each result -> the trace id its own input sent (or None).
        self.own: dict[str, str | None] = {}
        #: Record ids (and raw input ids) the request named: never an "other" record.
        self.named: set[str] = {str(inp.get("id", "")) for inp in inputs}
        #: The creates stored: (properties, associations, trace id), to store one again.
        self.created: list[tuple[dict[str, str], list[Any], Any]] = []
        #: batch/read's requested properties (an extra read result has the same shape).
        self.properties: list[str] | None = None


class _BatchBody(dict[str, Any]):
    """A batch response body that also carries its request's :class:`_Batch`."""

    def __init__(self, batch: _Batch, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.batch = batch


class EmulatorApp:
    """The aiohttp application and the state behind it (store, windows, stats, faults)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(config)
        self.v4 = V4Api(self.store, config, self.batch_envelope, self._body)
        self.meta = MetaApi(self.store, self.batch_envelope, self._body)
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self.handle)
        self.oauth = OAuthServer(config)
        self.reset()

    def reset(self) -> None:
        """Forget records, windows, counters, arrivals and pending injected faults."""
        self.store.reset()
        self.oauth.reset()
        self.burst: dict[str, collections.deque[float]] = {}
        self.search_windows: dict[str, collections.deque[float]] = {}
        self.daily_used = 0
        self.requests: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.injected: list[list[Any]] = []  # [kind, remaining, endpoint]
        #: token -> monotonic times its requests were counted against the burst window
        self.counted: dict[str, collections.deque[float]] = {}
        #: token -> (monotonic time, policy) of each burst 429 it was answered
        self.rejected: dict[str, collections.deque[tuple[float, str]]] = {}

    # -- stats ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Requests by endpoint and status, 429s by policy, objects stored, faults injected."""
        stored: dict[str, dict[str, int]] = {}
        for name, t in self.store.types.items():
            if t.records:
                archived = sum(1 for r in t.records.values() if r.archived)
                stored[name] = {"live": len(t.records) - archived, "archived": archived}
        return {
            "requests": dict(self.requests),
            "total_requests": sum(self.requests.values()),
            "rate_limited": dict(self.rate_limited),
            "objects": stored,
            "faults": dict(self.faults_injected),
            "daily_used": self.daily_used,
        }

    # -- arrivals -------------------------------------------------------------------------

    def _count_arrival(self, token: str, now: float) -> None:
        times = self.counted.get(token)
        if times is None:
            times = self.counted[token] = collections.deque(maxlen=ARRIVALS_CAP)
        times.append(now)

    def _reject_arrival(self, token: str, now: float, policy: str) -> None:
        times = self.rejected.get(token)
        if times is None:
            times = self.rejected[token] = collections.deque(maxlen=ARRIVALS_CAP)
        times.append((now, policy))

    def arrivals_of(self, token: str) -> dict[str, list[Any]]:
        """``{"counted": [t, …], "rejected": [{"t": t, "policy": …}, …]}`` for one token (an
        OAuth access token: its grant's, which every token of the grant shares)."""
        token = self.oauth.budget_key(token)
        return {
            "counted": list(self.counted.get(token, ())),
            "rejected": [{"t": t, "policy": policy} for t, policy in self.rejected.get(token, ())],
        }

    def arrivals(self) -> dict[str, dict[str, list[Any]]]:
        """:meth:`arrivals_of` for every token seen."""
        tokens = dict.fromkeys([*self.counted, *self.rejected])  # first seen first
        return {token: self.arrivals_of(token) for token in tokens}

    def arrivals_wire(self) -> dict[str, Any]:
        """``GET /__emulator__/arrivals``: per token hash, with the limits and ``now``."""
        return {
            "now": time.monotonic(),
            "burst_limit": self.config.burst_limit,
            "burst_interval": self.config.burst_interval,
            "tokens": {token_hash(token): entry for token, entry in self.arrivals().items()},
        }

    # -- the one handler ------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one request, whatever the path."""
        correlation_id = str(uuid.uuid4())
        _COUNTED_AT.set(None)
        path = request.path
        if path.startswith("/__emulator__/"):
            return self._control(request, path, correlation_id)
        if path in OAUTH_TOKEN_PATHS and request.method == "POST":
            return await self._oauth_token(request, correlation_id)
        route = self._route(request.method, path)
        if route is None:
            return _json(404, {"status": "error", "message": "resource not found",
                               "correlationId": correlation_id}, correlation_id)
        endpoint, handler = route
        token = self._token(request)
        if token is None:
            self.requests[f"{endpoint} 401"] += 1
            body = {"status": "error", "message": _AUTH_MESSAGE,
                    "correlationId": correlation_id, "category": "INVALID_AUTHENTICATION"}
            response = _json(401, body, correlation_id)
            response.headers["x-hubspot-auth-failure"] = "401 Unauthorized"
            return response
        expired = self.oauth.expired_for(token)
        if expired is not None:
            return self._expired(endpoint, expired, correlation_id)
        # Whose windows this request counts in: an OAuth token's grant (HubSpot's limits are
        # per app and account, so every token refreshed from one grant shares them), else
        # the token's own.
        token = self.oauth.budget_key(token)
        is_search = endpoint == "search"
        limited = self._rate_limit(token, is_search, correlation_id)
        if limited is not None:
            self.requests[f"{endpoint} 429"] += 1
            return limited
        _COUNTED_AT.set(self.store.wall())  # a batch response's startedAt
        fault = self._fault(endpoint)
        if fault in ("429", "423", "477", "502", "503", "504", "524", "drop"):
            return self._fail(request, endpoint, fault, token, correlation_id)
        if self.config.latency > 0:
            await asyncio.sleep(self.config.latency)
        if fault == "slow":
            await asyncio.sleep(self.config.slow_delay)
        try:
            status, body = await handler(request)
        except ApiError as exc:
            status, body = exc.status, exc.body
        if fault in ("commit-then-502", "commit-then-drop"):
            return self._fail(request, endpoint, fault.split("-")[-1], token, correlation_id)
        self.requests[f"{endpoint} {status}"] += 1
        if isinstance(body, dict) and body.get("status") == "error":
            body["correlationId"] = correlation_id
        corrupted = None
        if isinstance(body, _BatchBody) and 200 <= status < 300:
            corrupted = self._response_fault(endpoint, status, body, correlation_id)
        # (not ``or``: an aiohttp response is a mapping, empty hence falsy)
        response = corrupted if corrupted is not None else _json(status, body, correlation_id)
        if not is_search:
            self._limit_headers(response, token)
        return response

    def _fail(self, request: web.Request, endpoint: str, kind: str, token: str,
              correlation_id: str) -> web.StreamResponse:
        self.requests[f"{endpoint} {kind}"] += 1
        if kind == "drop":
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)  # never written: the connection is gone
        if kind == "429":
            policy = "TEN_SECONDLY_ROLLING (injected)"
            self.rate_limited[policy] += 1
            self._reject_arrival(token, time.monotonic(), policy)
            return self._burst_429(token, correlation_id)
        code = int(kind)
        if code in _JSON_FAULTS:
            category, message = _JSON_FAULTS[code]
            response = _json(code, {"status": "error", "message": message,
                                    "correlationId": correlation_id, "category": category},
                             correlation_id)
            if code == 477:
                response.headers["Retry-After"] = str(MIGRATION_RETRY_AFTER)
            self._limit_headers(response, token)
            return response
        response = web.Response(
            status=code, text=_HTML.format(code=code, reason=_REASONS[code]),
            content_type="text/html",
        )
        response.headers["X-HubSpot-Correlation-Id"] = correlation_id
        return response

    # -- routing --------------------------------------------------------------------------

    def _route(
        self, method: str, path: str
    ) -> tuple[str, Callable[[web.Request], Any]] | None:
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["crm", "v4"]:
            return self.v4.route(method, parts)
        meta = self.meta.route(method, parts)  # the properties and owners APIs
        if meta is not None:
            return meta
        if len(parts) < 4 or parts[:3] != ["crm", "v3", "objects"]:
            return None
        rest = parts[4:]
        n = len(rest)
        if n == 0:
            return {"POST": ("create", self.create), "GET": ("list", self.list_records)}.get(method)
        if n == 1 and rest[0] == "search" and method == "POST":
            return "search", self.search
        if n == 2 and rest[0] == "batch" and method == "POST":
            op = rest[1]
            handlers = {"create": self.batch_create, "read": self.batch_read,
                        "update": self.batch_update, "upsert": self.batch_upsert,
                        "archive": self.batch_archive}
            if op in handlers:
                return f"batch/{op}", handlers[op]
            return None
        if n == 1:
            return {"GET": ("get", self.get), "PATCH": ("update", self.update),
                    "DELETE": ("archive", self.archive)}.get(method)
        if rest[1] == "associations":
            if n == 3 and method == "GET":
                return "associations", self.list_associations
            if n == 5 and method in ("PUT", "DELETE"):
                return "associations", self.put_association if method == "PUT" else (
                    self.delete_association)
        return None

    def _token(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if self.config.tokens and token not in self.config.tokens and not self.oauth.issued(
                token):
            return None
        return token

    def _expired(self, endpoint: str, ago: float, correlation_id: str) -> web.Response:
        """HubSpot's 401 for an expired OAuth access token (§4); not counted against any
        limit, like every 401."""
        self.requests[f"{endpoint} 401"] += 1
        body = self.oauth.expired_body(ago, self.store.wall())
        body["correlationId"] = correlation_id
        response = _json(401, body, correlation_id)
        response.headers["x-hubspot-auth-failure"] = "401 Unauthorized"
        return response

    async def _oauth_token(self, request: web.Request,
                           correlation_id: str) -> web.StreamResponse:
        """``POST /oauth/{v1,v3,2026-03}/token`` (``_oauth``): no bearer token, no rate
        limit; only faults aimed at it (``@oauth/token``) apply."""
        endpoint = OAUTH_TOKEN_ENDPOINT
        fault = self._oauth_fault()
        if fault is not None and not fault.startswith("commit-") and fault != "slow":
            return self._fail(request, endpoint, fault, "", correlation_id)
        if fault == "slow":
            await asyncio.sleep(self.config.slow_delay)
        form = await request.post()
        status, body = self.oauth.exchange(
            {key: value for key, value in form.items() if isinstance(value, str)})
        if fault is not None and fault.startswith("commit-"):
            return self._fail(request, endpoint, fault.split("-")[-1], "", correlation_id)
        self.requests[f"{endpoint} {status}"] += 1
        return _json(status, body, correlation_id)

    def _oauth_fault(self) -> str | None:
        """A request fault aimed at the token endpoint by name (untargeted faults are the
        CRM API's)."""
        for entry in self.injected:
            kind, remaining, where = entry
            if (kind in REQUEST_FAULT_KINDS and remaining > 0 and where is not None
                    and Fault(kind, 1.0, where).matches(OAUTH_TOKEN_ENDPOINT)):
                entry[1] -= 1
                self.faults_injected[kind] += 1
                return str(kind)
        rng = self.store.rng
        for fault in self.config.faults:
            if (fault.kind in REQUEST_FAULT_KINDS and fault.endpoint is not None
                    and fault.matches(OAUTH_TOKEN_ENDPOINT)
                    and rng.random() < fault.probability):
                self.faults_injected[fault.kind] += 1
                return fault.kind
        return None

    # -- rate limits ----------------------------------------------------------------------

    def _rate_limit(self, token: str, is_search: bool,
                    correlation_id: str) -> web.Response | None:
        config = self.config
        now = time.monotonic()
        if is_search:
            if config.search_limit:
                window = self.search_windows.setdefault(token, collections.deque())
                _purge(window, now - config.search_interval)
                if len(window) >= config.search_limit:
                    self.rate_limited["SEARCH"] += 1
                    body = {"status": "error", "message": "You have reached your secondly limit.",
                            "correlationId": correlation_id, "category": "RATE_LIMITS"}
                    response = _json(429, body, correlation_id)
                    if config.retry_after_on_429:
                        response.headers["Retry-After"] = "1"
                    return response
                window.append(now)
        else:
            if config.daily_limit and self.daily_used >= config.daily_limit:
                self.rate_limited["DAILY"] += 1
                body = {"status": "error", "message": "You have reached your daily limit.",
                        "errorType": "RATE_LIMIT", "correlationId": correlation_id,
                        "policyName": "DAILY", "requestId": str(uuid.uuid4())}
                response = _json(429, body, correlation_id)
                self._limit_headers(response, token)
                return response
            if config.burst_limit:
                window = self.burst.setdefault(token, collections.deque())
                _purge(window, now - config.burst_interval)
                if len(window) >= config.burst_limit:
                    self.rate_limited["TEN_SECONDLY_ROLLING"] += 1
                    self._reject_arrival(token, now, "TEN_SECONDLY_ROLLING")
                    return self._burst_429(token, correlation_id)
                window.append(now)
            self._count_arrival(token, now)
        self.daily_used += 1
        return None

    def _burst_429(self, token: str, correlation_id: str) -> web.Response:
        body = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "correlationId": correlation_id,
                "policyName": "TEN_SECONDLY_ROLLING",
                "groupName": f"publicapi:private-app-api-calls-ten-secondly:{abs(hash(token))}"}
        response = _json(429, body, correlation_id)
        self._limit_headers(response, token)
        if self.config.retry_after_on_429:
            window = self.burst.get(token)
            wait = (window[0] + self.config.burst_interval - time.monotonic()) if window else 1
            response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return response

    def _limit_headers(self, response: web.StreamResponse, token: str) -> None:
        config = self.config
        headers = response.headers
        if config.daily_limit:
            headers["X-HubSpot-RateLimit-Daily"] = str(config.daily_limit)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(0, config.daily_limit - self.daily_used)
            )
        if config.burst_limit:
            window = self.burst.get(token) or ()
            headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(
                int(config.burst_interval * 1000)
            )
            headers["X-HubSpot-RateLimit-Max"] = str(config.burst_limit)
            headers["X-HubSpot-RateLimit-Remaining"] = str(
                max(0, config.burst_limit - len(window))
            )

    # -- faults ---------------------------------------------------------------------------

    def _fault(self, endpoint: str) -> str | None:
        """The request fault (``REQUEST_FAULT_KINDS``) for a request arriving, if any."""
        for entry in self.injected:
            kind, remaining, where = entry
            if (kind in REQUEST_FAULT_KINDS and remaining > 0
                    and (where is None or Fault(kind, 1.0, where).matches(endpoint))):
                entry[1] -= 1
                self.faults_injected[kind] += 1
                return str(kind)
        rng = self.store.rng
        for fault in self.config.faults:
            if (fault.kind in REQUEST_FAULT_KINDS and fault.matches(endpoint)
                    and rng.random() < fault.probability):
                self.faults_injected[fault.kind] += 1
                return fault.kind
        return None

    def _response_fault(self, endpoint: str, status: int, body: _BatchBody,
                        correlation_id: str) -> web.Response | None:
        """A successful batch response corrupted by one response fault, or None.

        Injected faults come first (in injection order), then the configured ones (one rng
        draw each); the first that can corrupt this response does, and only it is counted
        (an injected one stays pending until then).
        """
        for entry in self.injected:
            kind, remaining, where = entry
            if (kind in RESPONSE_FAULT_KINDS and remaining > 0
                    and (where is None or Fault(kind, 1.0, where).matches(endpoint))):
                response = self._corrupt(kind, status, body, correlation_id)
                if response is not None:
                    entry[1] -= 1
                    self.faults_injected[kind] += 1
                    return response
        rng = self.store.rng
        for fault in self.config.faults:
            if (fault.kind in RESPONSE_FAULT_KINDS and fault.matches(endpoint)
                    and rng.random() < fault.probability):
                response = self._corrupt(fault.kind, status, body, correlation_id)
                if response is not None:
                    self.faults_injected[fault.kind] += 1
                    return response
        return None

    def _corrupt(self, kind: str, status: int, body: _BatchBody,
                 correlation_id: str) -> web.Response | None:
        """The response ``kind`` makes of ``body`` (which it may change), or None when
        there is nothing to corrupt (no results; nothing to add)."""
        rng = self.store.rng
        batch = body.batch
        results: list[Any] = body["results"]
        if kind == "garbled-2xx":
            return self._garbled(status, body, correlation_id)
        if kind == "extra-result":
            extra = self._extra_result(batch)
            if extra is None:
                return None
            results.insert(rng.randrange(len(results) + 1), extra)
            return _json(status, body, correlation_id)
        if not results:
            return None
        index = rng.randrange(len(results))
        if kind == "dup-result":
            results.insert(rng.randrange(len(results) + 1), dict(results[index]))
        elif kind == "drop-result":
            del results[index]
        elif kind == "foreign-trace":
            own = batch.own.get(str(results[index].get("id")))
            others = [trace for trace in batch.traces if trace != own]
            trace = rng.choice(others) if others else self._unknown_trace(batch)
            results[index]["objectWriteTraceId"] = trace
        elif kind == "unknown-trace":
            results[index]["objectWriteTraceId"] = self._unknown_trace(batch)
        else:  # pragma: no cover - every kind of RESPONSE_FAULT_KINDS is handled above
            raise AssertionError(kind)
        return _json(status, body, correlation_id)

    def _garbled(self, status: int, body: dict[str, Any],
                 correlation_id: str) -> web.Response:
        """The success status with a body that is not the documented JSON object."""
        variant = GARBLED_VARIANTS[self.store.rng.randrange(len(GARBLED_VARIANTS))]
        if variant == "html":
            response = web.Response(status=status, text=_HTML_2XX, content_type="text/html")
        else:
            raw = {
                "empty": b"",
                "truncated": json.dumps(body, separators=(",", ":")).encode(),
                "array": b"[]",
                "string": b'"ok"',
            }[variant]
            if variant == "truncated":
                raw = raw[: len(raw) // 2]
            response = web.Response(status=status, body=raw, content_type="application/json",
                                    charset="utf-8")
        response.headers["X-HubSpot-Correlation-Id"] = correlation_id
        return response

    def _unknown_trace(self, batch: _Batch) -> str:
        """A trace id no input of the request sent."""
        while True:
            trace = f"{self.store.rng.getrandbits(64):016x}"
            if trace not in batch.traces:
                return trace

    def _extra_result(self, batch: _Batch) -> dict[str, Any] | None:
        """One result too many: a create stored twice, or another record of the type."""
        store, rng, t = self.store, self.store.rng, batch.t
        if batch.op == "create":
            candidates = [
                entry for entry in batch.created
                if not any(entry[0].get(prop) for prop in t.unique)  # would be a conflict
            ]
            if not candidates:
                return None
            props, assocs, trace = rng.choice(candidates)
            again = store.create(t, props, assocs, store.now())
            return self._result(t, again, trace, batch=batch)
        rec = self._other_record(batch)
        if rec is None:
            return None
        batch.named.add(rec.id)
        if batch.op == "read":
            return store.to_wire(t, rec, properties=batch.properties)
        if batch.op == "upsert":
            return self._result(t, rec, None, new=False)
        return self._result(t, rec, None)

    def _other_record(self, batch: _Batch) -> Record | None:
        """A live record of the batch's type that the request did not name (rng-chosen)."""
        rng, t = self.store.rng, batch.t
        ids, records = t.ids, t.records
        for _ in range(16):  # a few random picks first: the type may hold many records
            if not ids:
                return None
            rec: Record = records[str(ids[rng.randrange(len(ids))])]
            if not rec.archived and rec.id not in batch.named:
                return rec
        others: list[Record] = [
            r for r in records.values() if not r.archived and r.id not in batch.named
        ]
        return rng.choice(others) if others else None

    def inject(self, kind: str, count: int = 1, endpoint: str | None = None) -> None:
        """Make the next ``count`` requests to ``endpoint`` (None: any) fail with ``kind``.

        A response fault (``RESPONSE_FAULT_KINDS``) waits for the next ``count`` successful
        batch responses to ``endpoint`` that it can corrupt.
        """
        Fault(kind, 1.0, endpoint)  # validates the kind
        self.injected.append([kind, count, endpoint])

    # -- control endpoints ----------------------------------------------------------------

    def _control(self, request: web.Request, path: str, correlation_id: str) -> web.Response:
        if path == "/__emulator__/stats" and request.method == "GET":
            return _json(200, self.stats(), correlation_id)
        if path == "/__emulator__/arrivals" and request.method == "GET":
            return _json(200, self.arrivals_wire(), correlation_id)
        if path == "/__emulator__/reset" and request.method == "POST":
            self.reset()
            return _json(200, {"status": "reset"}, correlation_id)
        if path == "/__emulator__/oauth/expire" and request.method == "POST":
            return _json(200, {"expired": self.oauth.expire_all()}, correlation_id)
        return _json(404, {"status": "error", "message": "resource not found"}, correlation_id)

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    async def _body(request: web.Request) -> Any:
        try:
            return json.loads(await request.read() or b"null")
        except ValueError:
            raise validation_error("Invalid input JSON on line 1") from None

    @staticmethod
    def _inputs(body: Any) -> list[Any]:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise validation_error("inputs must be an array")
        if len(inputs) > MAX_BATCH_SIZE:
            raise validation_error(
                f"The maximum number of inputs supported in a batch is {MAX_BATCH_SIZE}. "
                "Please reduce the number of items and try again"
            )
        if not all(isinstance(i, dict) for i in inputs):
            raise validation_error("every input must be an object")
        return inputs

    @staticmethod
    def _object_type(request: web.Request) -> str:
        return request.path.split("/")[4]

    def _record(self, request: web.Request) -> tuple[Any, Record]:
        parts = request.path.split("/")
        t = self.store.type(parts[4])
        rid = parts[5]
        archived = archived_query(request)
        rec = self.store.find(t, rid, id_property=request.query.get("idProperty"),
                              archived=archived)
        if rec is None:
            raise not_found(rid)
        return t, rec

    @staticmethod
    def _csv(request: web.Request, name: str) -> list[str] | None:
        values = request.query.getall(name, [])
        if not values:
            return None
        return [v for value in values for v in value.split(",") if v]

    # -- single-object endpoints ----------------------------------------------------------

    async def create(self, request: web.Request) -> Result:
        """``POST /crm/v3/objects/{t}``: 201."""
        t = self.store.type(self._object_type(request))
        body = await self._body(request)
        if not isinstance(body, dict):
            raise validation_error("Invalid input JSON")
        props = self.store.clean_properties(t, body.get("properties") or {}, create=True)
        assocs = self.store.clean_associations(t, body.get("associations"))
        rec = self.store.create(t, props, assocs, self.store.now())
        return 201, self.store.to_wire(t, rec, all_properties=True)

    async def get(self, request: web.Request) -> Result:
        """``GET /crm/v3/objects/{t}/{id}``: 200 or 404."""
        t, rec = self._record(request)
        return 200, self.store.to_wire(
            t, rec, properties=self._csv(request, "properties"),
            associations=self._csv(request, "associations") or (),
            properties_with_history=_history_names(self._csv(request, "propertiesWithHistory")),
        )

    async def update(self, request: web.Request) -> Result:
        """``PATCH /crm/v3/objects/{t}/{id}``: 200 or 404."""
        t, rec = self._record(request)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise validation_error("Invalid input JSON")
        props = self.store.clean_properties(
            t, body.get("properties") or {}, create=False,
            strict=self.config.strict_update_properties,
        )
        self.store.update(t, rec, props, self.store.now())
        return 200, self.store.to_wire(t, rec, all_properties=True)

    async def archive(self, request: web.Request) -> Result:
        """``DELETE /crm/v3/objects/{t}/{id}``: 204, also for a missing id."""
        parts = request.path.split("/")
        t = self.store.type(parts[4])
        rec = self.store.find(t, parts[5])
        if rec is not None:
            self.store.archive(t, rec, self.store.now())
        return 204, None

    async def list_records(self, request: web.Request) -> Result:
        """``GET /crm/v3/objects/{t}``: a page, with ``paging.next.after`` and ``link``."""
        t = self.store.type(self._object_type(request))
        try:
            limit = int(request.query.get("limit", "10"))
        except ValueError:
            raise validation_error("limit must be an integer") from None
        if not 0 < limit <= MAX_LIST_PAGE_SIZE:
            raise validation_error(f"limit must be between 1 and {MAX_LIST_PAGE_SIZE}")
        history = _history_names(self._csv(request, "propertiesWithHistory"))
        if history is not None and limit > MAX_HISTORY_PAGE_SIZE:
            raise validation_error(
                f"The maximum number of objects per page when asking for property histories "
                f"is {MAX_HISTORY_PAGE_SIZE}. Please reduce the limit and try again")
        archived = archived_query(request)
        after = request.query.get("after")
        after_id = int(after) if after and after.isdigit() else 0
        page: list[Record] = []
        next_id = None
        ids, records = t.ids, t.records
        for i in range(bisect.bisect_left(ids, after_id), len(ids)):
            rec = records[str(ids[i])]
            if rec.archived != archived:
                continue
            if len(page) == limit:
                next_id = rec.id
                break
            page.append(rec)
        properties = self._csv(request, "properties")
        associations = self._csv(request, "associations") or ()
        body: dict[str, Any] = {"results": [
            self.store.to_wire(t, r, properties=properties, associations=associations,
                               properties_with_history=history)
            for r in page
        ]}
        return 200, with_next_page(request, body, next_id)

    async def search(self, request: web.Request) -> Result:
        """``POST /crm/v3/objects/{t}/search``."""
        t = self.store.type(self._object_type(request))
        return 200, self.store.search(t, await self._body(request))

    # -- associations ---------------------------------------------------------------------

    def _association_target(self, request: web.Request) -> tuple[Any, Record, str]:
        t, rec = self._record(request)
        to_ot = resolve_object_type(request.path.split("/")[7])
        if to_ot is None:
            raise validation_error(f"Unable to infer object type from: {request.path}")
        return t, rec, to_ot.name

    def _v3_type(self, t: Any, to_name: str, type_name: str) -> Any:
        """The association type a v3 path names: an id (HubSpot's first, then a user
        label's) or the v3 name in any case (``note_to_contact``, ``POSTAL_MAIL_TO_CONTACT``;
        §9); raises ``ApiError`` (400)."""
        schema = self.store.schema
        to_ot = self.store.types[to_name].ot
        if type_name.isdigit():
            at = schema.by_id(t.name, to_name, int(type_name))
        else:
            at = schema.by_v3_name(t.name, to_name, type_name, t.ot.singular, to_ot.singular)
        if at is None:
            raise validation_error(f"Unknown association type {type_name} from "
                                   f"{t.ot.type_id} to {to_ot.type_id}",
                                   associationType=[type_name])
        return at

    async def put_association(self, request: web.Request) -> Result:
        """``PUT .../{id}/associations/{toType}/{toId}/{type}``: 200 with the record."""
        t, rec, to_name = self._association_target(request)
        parts = request.path.split("/")
        to_id, type_name = parts[8], parts[9]
        target = self.store.live(to_name, to_id)
        if target is None:
            raise not_found(to_id)
        at = self._v3_type(t, to_name, type_name)
        self.store.link(t, rec, to_name, target, [at.spec])
        return 200, self.store.to_wire(t, rec, associations=[to_name])

    async def delete_association(self, request: web.Request) -> Result:
        """``DELETE .../{id}/associations/{toType}/{toId}/{type}``: 204; removes that type
        (the unlabeled one takes every type with it, §5.1)."""
        t, rec, to_name = self._association_target(request)
        parts = request.path.split("/")
        at = self._v3_type(t, to_name, parts[9])
        self.store.unassociate_specs(t, rec, to_name, parts[8], [at.spec])
        return 204, None

    async def list_associations(self, request: web.Request) -> Result:
        """``GET .../{id}/associations/{toType}``: ``{"results": [{"id", "type"}]}``."""
        t, rec, to_name = self._association_target(request)
        return 200, {"results": self.store.association_rows(t, rec, to_name)}

    # -- batch endpoints ------------------------------------------------------------------

    def batch_envelope(self, success: int, results: list[Any], errors: list[Any]) -> Result:
        """The batch envelope (v3 and v4): ``results`` shuffled when the config says so,
        ``startedAt`` when the request was counted, ``completedAt`` now (its processing is
        over: after the ``latency`` and the handler's work); 207 when there are errors."""
        completed = self.store.wall()
        counted = _COUNTED_AT.get()
        started = completed if counted is None else min(counted, completed)
        body: dict[str, Any] = {"status": "COMPLETE", "results": self.store.shuffled(results)}
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        body["startedAt"] = iso_time(started)
        body["completedAt"] = iso_time(completed)
        return (207 if errors else success), body

    def _batch_answer(self, batch: _Batch, success: int, results: list[Any],
                      errors: list[Any]) -> Result:
        """:meth:`batch_envelope` carrying the request's :class:`_Batch` (response faults)."""
        status, body = self.batch_envelope(success, results, errors)
        return status, _BatchBody(batch, body)

    def _result(self, t: Any, rec: Record, trace: Any, *, batch: _Batch | None = None,
                **extra: Any) -> dict[str, Any]:
        out = self.store.to_wire(t, rec, all_properties=True)
        if trace is not None and self.config.echo_trace_ids:
            out["objectWriteTraceId"] = str(trace)
        out.update(extra)
        if batch is not None:
            batch.own[rec.id] = None if trace is None else str(trace)
            batch.named.add(rec.id)
        return out

    @staticmethod
    def _fail_input(exc: ApiError, inp: dict[str, Any], errors: list[Any],
                    whole: list[ApiError]) -> None:
        """Per-input errors go in the 207 when the input has a trace id, else fail it all."""
        trace = inp.get("objectWriteTraceId")
        if trace is None:
            whole.append(exc)
        else:
            errors.append(exc.as_item_error({"objectWriteTraceId": [str(trace)]}))

    async def batch_create(self, request: web.Request) -> Result:
        """``batch/create``: 201, or 207 with per-trace-id errors, or a whole-batch 400."""
        t = self.store.type(self._object_type(request))
        inputs = self._inputs(await self._body(request))
        store = self.store
        planned: list[tuple[dict[str, Any], dict[str, str], list[Any]]] = []
        errors: list[Any] = []
        whole: list[ApiError] = []
        pending_unique: dict[tuple[str, str], bool] = {}
        for inp in inputs:
            try:
                props = store.clean_properties(t, inp.get("properties") or {}, create=True)
                assocs = store.clean_associations(t, inp.get("associations"))
                for prop in t.unique:
                    value = props.get(prop)
                    if value and (value in t.index[prop] or (prop, value) in pending_unique):
                        existing = t.index[prop].get(value, "")
                        raise ApiError(
                            409, "CONFLICT",
                            f"{t.ot.singular.title()} already exists. Existing ID: {existing}",
                            context={"existingId": [existing]},
                        )
                    if value:
                        pending_unique[(prop, value)] = True
            except ApiError as exc:
                self._fail_input(exc, inp, errors, whole)
                continue
            planned.append((inp, props, assocs))
        if whole:
            raise whole[0]  # without trace ids one bad input rejects the batch
        now = self.store.now()
        batch = _Batch(t, "create", inputs)
        results = []
        for inp, props, assocs in planned:
            trace = inp.get("objectWriteTraceId")
            rec = store.create(t, props, assocs, now)
            batch.created.append((props, assocs, trace))
            results.append(self._result(t, rec, trace, batch=batch))
        return self._batch_answer(batch, 201, results, errors)

    async def batch_read(self, request: web.Request) -> Result:
        """``batch/read``: 200, or 207 with one OBJECT_NOT_FOUND listing the missing ids."""
        t = self.store.type(self._object_type(request))
        body = await self._body(request)
        inputs = self._inputs(body)
        id_property = body.get("idProperty")
        archived = archived_query(request)
        properties = body.get("properties") or None
        history = _history_names(body.get("propertiesWithHistory") or None)
        if history is not None and len(inputs) > MAX_HISTORY_BATCH_READ:
            raise validation_error(
                "The maximum number of inputs supported in a batch request for property "
                f"histories is {MAX_HISTORY_BATCH_READ}. Please reduce the number of items "
                "and try again")
        batch = _Batch(t, "read", inputs)
        batch.properties = properties
        results, missing = [], []
        for inp in inputs:
            rid = str(inp.get("id", ""))
            rec = self.store.find(t, rid, id_property=id_property, archived=archived)
            if rec is None:
                missing.append(rid)
                continue
            batch.own[rec.id] = None
            batch.named.add(rec.id)
            results.append(self.store.to_wire(t, rec, properties=properties,
                                              properties_with_history=history))
        errors = []
        if missing:
            errors.append({
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {t.ot.singular} objects, they may be deleted "
                           "or not exist. Check that ids are valid.",
                "context": {"ids": missing},
            })
        return self._batch_answer(batch, 200, results, errors)

    def _duplicates(self, inputs: list[Any]) -> None:
        seen: set[str] = set()
        dupes = []
        for inp in inputs:
            rid = str(inp.get("id", ""))
            if rid in seen:
                dupes.append(rid)
            seen.add(rid)
        if dupes:
            raise validation_error(
                f"Duplicate IDs found in batch input: [{', '.join(dupes)}]. IDs must be unique",
                ids=dupes,
            )

    async def batch_update(self, request: web.Request) -> Result:
        """``batch/update``: 200, 207 for missing ids / invalid inputs, 400 for duplicates."""
        t = self.store.type(self._object_type(request))
        inputs = self._inputs(await self._body(request))
        self._duplicates(inputs)
        store = self.store
        errors: list[Any] = []
        whole: list[ApiError] = []
        planned = []
        missing: list[str] = []
        missing_traces: list[str] = []
        for inp in inputs:
            rid = str(inp.get("id", ""))
            try:
                rec = store.find(t, rid, id_property=inp.get("idProperty"), write=True)
                props = store.clean_properties(
                    t, inp.get("properties") or {}, create=False,
                    strict=self.config.strict_update_properties,
                )
            except ApiError as exc:
                if exc.status == 400 and "non-unique" in str(exc):
                    raise  # a non-unique idProperty fails the whole request (§2.1)
                self._fail_input(exc, inp, errors, whole)
                continue
            if rec is None:
                missing.append(rid)
                if inp.get("objectWriteTraceId") is not None:
                    missing_traces.append(str(inp["objectWriteTraceId"]))
                continue
            planned.append((inp, rec, props))
        if whole:
            raise whole[0]
        if missing:
            context = {"ids": missing}
            if missing_traces:
                context["objectWriteTraceId"] = missing_traces
            errors.append({
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {t.ot.singular} objects, they may be deleted "
                           "or not exist. Check that ids are valid.",
                "context": context,
            })
        now = self.store.now()
        batch = _Batch(t, "update", inputs)
        results = []
        for inp, rec, props in planned:
            batch.named.add(rec.id)
            try:
                store.update(t, rec, props, now)
            except ApiError as exc:
                self._fail_input(exc, inp, errors, whole)
                continue
            results.append(self._result(t, rec, inp.get("objectWriteTraceId"), batch=batch))
        if whole:
            raise whole[0]
        return self._batch_answer(batch, 200, results, errors)

    async def batch_upsert(self, request: web.Request) -> Result:
        """``batch/upsert`` by a unique ``idProperty``: 200 (``new`` per result) or 207."""
        t = self.store.type(self._object_type(request))
        inputs = self._inputs(await self._body(request))
        self._duplicates(inputs)
        store = self.store
        errors: list[Any] = []
        whole: list[ApiError] = []
        planned = []
        for inp in inputs:
            id_property = inp.get("idProperty")
            value = str(inp.get("id", ""))
            if not id_property:
                raise validation_error("idProperty is required for upsert")
            try:
                rec = store.find(t, value, id_property=id_property, write=True)
                raw = inp.get("properties") or {}
                if rec is None and isinstance(raw, dict):
                    raw = {id_property: value, **raw}  # the new record gets the id value
                props = store.clean_properties(
                    t, raw, create=rec is None
                )
            except ApiError as exc:
                if exc.status == 400 and "non-unique" in str(exc):
                    raise
                self._fail_input(exc, inp, errors, whole)
                continue
            planned.append((inp, rec, props, id_property, value))
        if whole:
            raise whole[0]
        now = self.store.now()
        batch = _Batch(t, "upsert", inputs)
        results = []
        for inp, rec, props, id_property, value in planned:
            trace = inp.get("objectWriteTraceId")
            if rec is None:
                props[id_property] = value
                rec = store.create(t, props, (), now)
                results.append(self._result(t, rec, trace, batch=batch, new=True))
            else:
                store.update(t, rec, props, now)
                results.append(self._result(t, rec, trace, batch=batch, new=False))
        return self._batch_answer(batch, 200, results, errors)

    async def batch_archive(self, request: web.Request) -> Result:
        """``batch/archive``: 204 (missing ids are ignored)."""
        t = self.store.type(self._object_type(request))
        inputs = self._inputs(await self._body(request))
        now = self.store.now()
        for inp in inputs:
            rec = self.store.find(t, str(inp.get("id", "")))
            if rec is not None:
                self.store.archive(t, rec, now)
        return 204, None


def _history_names(names: Any) -> list[str] | None:
    """The ``propertiesWithHistory`` asked for (None: not asked), at most
    :data:`MAX_HISTORY_PROPERTIES` of them (400 beyond)."""
    if not names:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise validation_error("propertiesWithHistory must be an array of property names")
    if len(names) > MAX_HISTORY_PROPERTIES:
        raise validation_error(
            f"At most {MAX_HISTORY_PROPERTIES} properties can be requested with history; "
            f"{len(names)} were given", propertiesWithHistory=[str(len(names))])
    return names


def token_hash(token: str) -> str:
    """A short, stable name for a token that does not reveal it (the arrivals endpoint's key)."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _purge(window: collections.deque[float], cutoff: float) -> None:
    while window and window[0] <= cutoff:
        window.popleft()


def _json(status: int, body: Any, correlation_id: str) -> web.Response:
    if status == 204 or body is None:
        response = web.Response(status=status)
    else:
        response = web.Response(
            status=status,
            body=json.dumps(body, separators=(",", ":")).encode(),
            content_type="application/json",
            charset="utf-8",
        )
    response.headers["X-HubSpot-Correlation-Id"] = correlation_id
    return response
