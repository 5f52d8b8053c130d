"""Review of issue 15's auth, per-call options, hooks and tracing: each test here fails because
of a defect in the library (see the review report)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from typing import Any

import pytest

from hubengage import (
    HubEngageError,
    HubSpot,
    InvalidInputError,
    Note,
    OAuth,
    OAuthTokens,
    RateLimits,
    Request,
    Response,
    RetryConfig,
)
from hubengage.emulator import Emulator
from hubengage.emulator._config import DEFAULT_OAUTH_CLIENT_ID, DEFAULT_OAUTH_CLIENT_SECRET
from hubengage.testing import MockTransport, json_response

TS = "2026-01-15T10:00:00.000Z"
RECORD = {"id": "1", "properties": {"hs_timestamp": TS}, "createdAt": TS, "updatedAt": TS,
          "archived": False}
CLIENT_ID = "client-id-1"
SECRET = "client-SECRET-0123456789"
REFRESH = "refresh-SECRET-abcdef"
FAST = RateLimits(requests_per_interval=10_000, interval_seconds=0.01, cautious_start=False,
                  pacing=False)
RETRY = RetryConfig(max_attempts=3, initial_backoff=0.001, max_backoff=0.001)
GET = Request(method="GET", path="/crm/v3/objects/notes/1", endpoint="get")


# -- OAuth: a refresh ahead of expiry that fails while the token is still valid ---------------


async def test_a_failed_refresh_ahead_of_expiry_does_not_fail_calls_while_the_token_is_valid(
) -> None:
    """The token has 30 s left (inside the 60 s refresh margin): the client refreshes ahead of
    time. The token endpoint is briefly unavailable (503). The access token in hand is still
    valid for 30 s, yet every call fails with "could not refresh"."""
    now = 1_000_000.0
    api_tokens: list[str | None] = []

    def handler(request: Request) -> Response:
        if request.endpoint == "oauth/token":
            return json_response(503, {"message": "temporarily unavailable"})
        api_tokens.append(request.token)
        return json_response(200, RECORD)

    oauth = OAuth(CLIENT_ID, SECRET, REFRESH, access_token="a0", expires_at=now + 30,
                  clock=lambda: now)
    async with HubSpot(access_token=oauth, transport=MockTransport(handler), batching=False,
                       rate_limits=FAST, retry=RETRY) as hs:
        response = await hs.send(GET)
    assert response.status == 200
    assert api_tokens == ["a0"]


# -- per-call options: the timeout of a view does not bound a refresh --------------------------


async def test_a_view_timeout_bounds_a_call_that_waits_for_a_refresh() -> None:
    """``hs.with_options(timeout=0.3, max_attempts=1)``: each attempt is bounded by 0.3 s. A
    call that needs a refresh waits for the token request under the client's default timeout
    (30 s) instead: here the slow token endpoint holds the call for 2 s."""
    async with Emulator(slow_delay=2.0) as emu:
        emu.inject("slow", 1, "oauth/token")
        oauth = OAuth(DEFAULT_OAUTH_CLIENT_ID, DEFAULT_OAUTH_CLIENT_SECRET, "install-1")
        async with HubSpot(access_token=oauth, base_url=emu.url, batching=False,
                           rate_limits=FAST) as hs:
            quick = hs.with_options(timeout=0.3, max_attempts=1)
            started = time.monotonic()
            with contextlib.suppress(HubEngageError):  # a timeout is the expected outcome
                await quick.notes.create(Note(timestamp=TS, body="x"))
            elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"a call under timeout=0.3 took {elapsed:.2f}s"


# -- per-call options: a view with the client's own options ------------------------------------


async def test_a_view_with_the_clients_options_batches_with_the_client() -> None:
    """``hs.with_options()`` sets nothing: its options equal the client's (``hs.options``),
    and the docs promise that calls under equal options are batched together. They are
    not: the client's calls are keyed ``None``, the view's ``RequestOptions()``."""
    batches: list[int] = []

    def handler(request: Request) -> Response:
        assert request.endpoint == "batch/create"
        inputs = request.json["inputs"]
        batches.append(len(inputs))
        results = [{**RECORD, "id": str(100 + n), "properties": item["properties"],
                    "objectWriteTraceId": item["objectWriteTraceId"]}
                   for n, item in enumerate(inputs)]
        return json_response(201, {"status": "COMPLETE", "results": results,
                                   "startedAt": TS, "completedAt": TS})

    async with HubSpot(access_token="pat", transport=MockTransport(handler),
                       rate_limits=FAST) as hs:
        view = hs.with_options()
        assert view.options == hs.options
        await asyncio.gather(hs.notes.create(Note(timestamp=TS, body="one")),
                             view.notes.create(Note(timestamp=TS, body="two")))
    assert batches == [2]


# -- tracing: a failing span processor leaves hubengage's span current in the caller ---------


async def test_a_tracer_failure_does_not_leave_the_attempt_span_current_in_the_caller() -> None:
    """A span processor whose ``on_end`` raises (an exporter bug): the call goes on, as
    promised, but ``_OtelTracer._ended`` stops before ``context.detach``, so the ended HTTP
    span stays the caller's current span: every span the application starts afterwards in
    that task is parented under hubengage's finished request span."""
    import opentelemetry.sdk.trace as sdk_trace  # the dev extra installs it: never skipped
    import opentelemetry.trace as otel_trace

    class Broken(sdk_trace.SpanProcessor):  # type: ignore[misc,name-defined]
        def on_end(self, span: Any) -> None:
            raise RuntimeError("exporter bug")

    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(Broken())
    transport = MockTransport(lambda request: json_response(200, RECORD))
    async with HubSpot(access_token="pat", transport=transport, batching=False,
                       rate_limits=FAST, tracer_provider=provider) as hs:
        before = otel_trace.get_current_span()
        response = await hs.send(GET)
        after = otel_trace.get_current_span()
    assert response.status == 200  # the call itself is fine
    assert after is before, f"the caller's current span is now {after!r}"


# -- OAuth: one installed account, two budgets ------------------------------------------------


async def test_workers_of_one_account_share_one_budget_after_the_refresh_token_rotated(
    redis_server: Any,
) -> None:
    """Two workers of one installed account share the Redis budget (the default key: "of the
    app and refresh token for OAuth"). HubSpot rotates refresh tokens; worker A persists the
    rotated one with ``on_refresh`` and worker B (started later, or restarted) is built from
    it, as ``OAuth``'s docs say to do. B's budget key is then a hash of the rotated token, A's
    of the first one: two budgets for one account, and together they overrun HubSpot's
    window (the emulator counts every token of the grant in one window, as HubSpot does)."""
    saved: list[OAuthTokens] = []
    limits = RateLimits(requests_per_interval=6, interval_seconds=0.5, cautious_start=False,
                        pacing=False)
    once = RetryConfig(max_attempts=1)
    async with Emulator(burst_limit=6, burst_interval=0.5, oauth_rotate_refresh_tokens=True,
                        oauth_refresh_tokens=("install-1",)) as emu:
        a_oauth = OAuth(DEFAULT_OAUTH_CLIENT_ID, DEFAULT_OAUTH_CLIENT_SECRET, "install-1",
                        on_refresh=saved.append)
        with pytest.raises(InvalidInputError) as unnamed:  # a rotating token names no budget
            HubSpot(access_token=a_oauth, base_url=emu.url, rate_limit_store=redis_server.url)
        assert unnamed.value.field == "rate_limit_key"
        a = HubSpot(access_token=a_oauth, base_url=emu.url, batching=False, rate_limits=limits,
                    retry=once, rate_limit_store=redis_server.url, rate_limit_key="portal-1")
        async with a:
            await a.notes.create(Note(timestamp=TS, body="warm-up"))  # refreshes, rotates
            persisted = saved[-1]
            b_oauth = OAuth(DEFAULT_OAUTH_CLIENT_ID, DEFAULT_OAUTH_CLIENT_SECRET,
                            persisted.refresh_token, access_token=persisted.access_token,
                            expires_at=persisted.expires_at)
            b = HubSpot(access_token=b_oauth, base_url=emu.url, batching=False,
                        rate_limits=limits, retry=once, rate_limit_store=redis_server.url,
                        rate_limit_key="portal-1")
            async with b:
                outcomes = await asyncio.gather(
                    *(hs.notes.create(Note(timestamp=TS, body=f"{name}-{i}"))
                      for name, hs in (("a", a), ("b", b)) for i in range(5)),
                    return_exceptions=True)
        rate_limited = emu.stats()["rate_limited"]
    assert rate_limited == {}, (rate_limited, [type(o).__name__ for o in outcomes])


# -- hooks: a header the Request accepts but the transport refuses -----------------------------


async def test_a_hook_header_the_transport_refuses_neither_fails_the_call_raw_nor_leaks_a_slot(
) -> None:
    """A request hook tags requests with a job name taken from the application's data; one
    name holds a NUL. ``Request.with_headers`` accepts it (only CR and LF are refused), then
    aiohttp refuses it with a plain ``ValueError``: the call fails with that raw error (not a
    ``HubEngageError``, though "a hook failure never fails a call"), and the pipeline's
    ``except BaseException`` branch ends the span but never releases the rate-limit slot. With
    one request per window, every later call waits for a slot that never frees."""
    tagged = False

    def tag(request: Request) -> Request | None:
        nonlocal tagged
        if tagged:
            return None
        tagged = True
        return request.with_headers({"X-Job": "import\x00"})

    async with Emulator() as emu, HubSpot(access_token="t", base_url=emu.url, batching=False,
                       rate_limits=RateLimits(requests_per_interval=1, interval_seconds=0.2,
                                              cautious_start=False, pacing=False),
                       retry=RetryConfig(max_attempts=2, initial_backoff=0.001,
                                         max_backoff=0.001, max_elapsed_seconds=1.5),
                       event_hooks={"request": [tag]}) as hs:
        first: BaseException | None = None
        try:
            await hs.notes.create(Note(timestamp=TS, body="first"))
        except BaseException as exc:
            first = exc
        second = await asyncio.gather(hs.notes.create(Note(timestamp=TS, body="second")),
                                      return_exceptions=True)
    problems = []
    if first is not None and not isinstance(first, HubEngageError):
        problems.append(f"the call failed with a raw {first!r}")
    if isinstance(second[0], BaseException):
        problems.append(f"the next call failed with {second[0]!r} (the slot leaked)")
    assert problems == []


# -- hooks: a request hook that edits the body in place ----------------------------------------


async def test_a_request_hook_editing_the_body_in_place_changes_neither_the_write_nor_outcomes(
) -> None:
    """A request hook redacts note bodies from ``request.json`` before logging it (editing the
    dict it was given, the way logging code often does). ``Request`` is frozen, but its
    ``json`` holds the calls' own property dicts (``Call.properties``, which the decoder
    matches results against). A full batch was encoded before its slot, so the edit only
    corrupts the matching; a partial batch (and every direct call) is encoded after the
    hooks, so HubSpot stores the redacted text and callers get ``OutcomeUnknownError``."""

    def log_redacted(request: Request) -> None:
        body = request.json
        if isinstance(body, dict):
            for entry in body.get("inputs", ()):
                properties = entry.get("properties")
                if isinstance(properties, dict) and "hs_note_body" in properties:
                    properties["hs_note_body"] = "<redacted>"

    async with Emulator() as emu:
        async with HubSpot(access_token="t", base_url=emu.url,
                           event_hooks={"request": [log_redacted]}) as hs:
            outcomes = await asyncio.gather(
                *(hs.notes.create(Note(timestamp=TS, body=f"note-{i}")) for i in range(3)),
                return_exceptions=True)
        stored = sorted(r["properties"]["hs_note_body"] for r in emu.records("notes"))
    assert stored == ["note-0", "note-1", "note-2"]
    assert [type(o).__name__ for o in outcomes] == ["CrmObject"] * 3


# -- OAuth: the shared refresh runs in the context of whichever caller started it --------------

REQUEST_STATE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "review_request_state", default=None)


async def test_the_shared_refresh_does_not_run_in_one_callers_context() -> None:
    """The refresh serves every caller (single flight), like a batch dispatcher, which the
    batcher deliberately starts in an empty context so that "none of the first caller's
    context variables (its trace span, a web framework's request state) may ride along". The
    refresh task is created with the first caller's context instead: ``on_refresh`` (which
    persists the rotated refresh token) runs with that caller's request state, e.g. its
    request-scoped database session, and the token request inside its current span."""
    seen: list[str | None] = []

    def handler(request: Request) -> Response:
        if request.endpoint == "oauth/token":
            return json_response(200, {"token_type": "bearer", "access_token": "a1",
                                       "refresh_token": "r1", "expires_in": 1800})
        return json_response(200, RECORD)

    def save(tokens: OAuthTokens) -> None:
        seen.append(REQUEST_STATE.get())

    oauth = OAuth(CLIENT_ID, SECRET, REFRESH, on_refresh=save)
    async with HubSpot(access_token=oauth, transport=MockTransport(handler), batching=False,
                       rate_limits=FAST, retry=RETRY) as hs:

        async def web_request(name: str) -> None:
            REQUEST_STATE.set(name)
            await hs.send(GET)

        await asyncio.gather(web_request("request-A"), web_request("request-B"))
    assert seen == [None]
