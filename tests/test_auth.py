"""Where the access token comes from: strings, callables and OAuth refresh (``_auth``), and the
emulator's token endpoint and expiring tokens (``emulator/_oauth``).

Deterministic: OAuth's clock is injected, the emulator's tokens live a few milliseconds or are
expired on demand, and the only real waits are a few milliseconds of the emulator's windows.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hubengage import (
    AiohttpTransport,
    AuthenticationError,
    HubEngageError,
    HubSpot,
    Note,
    OAuth,
    OAuthTokens,
    RateLimits,
    Request,
    Response,
    RetryConfig,
    TransportError,
)
from hubengage._auth import OAUTH_TOKEN_PATH, AuthTransport, StaticToken
from hubengage.emulator import Emulator, EmulatorConfig
from hubengage.emulator._cli import build_parser, config_from_args
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
EXPIRED_BODY = {"status": "error", "message": "The OAuth token used to make this call expired "
                "0 second(s) ago.", "correlationId": "c-1", "category": "EXPIRED_AUTHENTICATION",
                "context": {"expire time": ["2026-03-10T23:04:41.164Z"]}}
REFUSED_BODY = {"error": "invalid_grant", "error_description": "refresh token is invalid, "
                "expired or revoked", "status": "BAD_REFRESH_TOKEN",
                "message": "refresh token is invalid, expired or revoked"}


def client(transport: MockTransport, access_token: Any, **kwargs: Any) -> HubSpot:
    kwargs.setdefault("retry", RETRY)
    return HubSpot(access_token=access_token, transport=transport, batching=False,
                   rate_limits=FAST, **kwargs)


def token_answer(access: str, *, refresh: str = REFRESH, expires_in: float = 1800) -> Response:
    return json_response(200, {"token_type": "bearer", "access_token": access,
                               "refresh_token": refresh, "expires_in": expires_in})


class FakeHubSpot:
    """A MockTransport handler: a token endpoint issuing ``a1``, ``a2``, … and an API that
    accepts only the latest token (older ones get the expired-token 401)."""

    def __init__(self, *, rotate: bool = False, delay: float = 0.0) -> None:
        self.issued = 0
        self.current: str | None = None
        self.rotate = rotate
        self.delay = delay
        self.token_requests: list[Request] = []
        self.api_tokens: list[str | None] = []

    async def __call__(self, request: Request) -> Response:
        if request.endpoint == "oauth/token":
            self.token_requests.append(request)
            if self.delay:
                await asyncio.sleep(self.delay)
            self.issued += 1
            self.current = f"a{self.issued}"
            refresh = f"r{self.issued}" if self.rotate else REFRESH
            return token_answer(self.current, refresh=refresh)
        self.api_tokens.append(request.token)
        await asyncio.sleep(0)
        if request.token != self.current:
            return json_response(401, EXPIRED_BODY)
        return json_response(200, RECORD)


def chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def assert_no_secret(error: BaseException, *secrets: str) -> None:
    for item in chain(error):
        text = f"{item!s} {item!r} {vars(item)!r}"
        for secret in secrets:
            assert secret not in text, f"{type(item).__name__} leaks {secret!r}"


# -- strings and callables -----------------------------------------------------------------------


async def test_a_string_token_rides_on_every_request_and_in_no_repr() -> None:
    transport = MockTransport(lambda request: json_response(200, RECORD))
    async with client(transport, "pat-na1-SECRET") as hs:
        await hs.send(GET)
        await hs.send(GET)
    assert [r.token for r in transport.requests] == ["pat-na1-SECRET"] * 2
    assert "SECRET" not in repr(transport.requests[0])
    assert GET.token is None  # the caller's request is never the one stamped


async def test_a_string_token_reaches_the_emulator_as_a_bearer_header() -> None:
    async with Emulator(tokens=("pat-1",)) as emu:
        async with HubSpot(access_token="pat-1", base_url=emu.url, batching=False) as hs:
            await hs.notes.create(Note(timestamp=TS, body="x"))
        assert len(emu.arrivals("pat-1")["counted"]) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_callable_is_asked_before_every_request(kind: str) -> None:
    calls = 0

    def next_token() -> str:
        nonlocal calls
        calls += 1
        return f"t{calls}"

    async def next_token_async() -> str:
        await asyncio.sleep(0)
        return next_token()

    source: Callable[[], Any] = next_token if kind == "sync" else next_token_async
    transport = MockTransport(lambda request: json_response(200, RECORD))
    async with client(transport, source) as hs:
        for _ in range(3):
            await hs.send(GET)
    assert [r.token for r in transport.requests] == ["t1", "t2", "t3"]
    assert calls == 3


async def test_a_callable_asked_again_after_an_expired_answer_completes_the_request() -> None:
    answers = iter(["old", "new"])
    transport = MockTransport(lambda request: json_response(
        200, RECORD) if request.token == "new" else json_response(401, EXPIRED_BODY))
    async with client(transport, lambda: next(answers)) as hs:
        response = await hs.send(GET)
        assert response.status == 200
        assert hs.stats.requests[("get", 200)] == 1  # the pipeline saw one answer
        assert hs.stats.retries == 0
    assert [r.token for r in transport.requests] == ["old", "new"]


async def test_a_callable_that_keeps_its_expired_token_ends_with_the_401() -> None:
    transport = MockTransport(lambda request: json_response(401, EXPIRED_BODY))
    async with client(transport, lambda: "same") as hs:
        with pytest.raises(AuthenticationError) as info:
            await hs.send(GET)
    assert info.value.category == "EXPIRED_AUTHENTICATION"
    assert len(transport.requests) == 1  # no pointless resend with the same token


async def test_a_failing_callable_sends_nothing_and_its_error_is_the_cause() -> None:
    def broken() -> str:
        raise KeyError("vault down")

    transport = MockTransport(lambda request: json_response(200, RECORD))
    async with client(transport, broken) as hs:
        with pytest.raises(TransportError, match="callable raised KeyError") as info:
            await hs.send(GET)
        assert hs.stats.retries == RETRY.max_attempts - 1  # retried like a failed connection
    assert transport.requests == []
    assert info.value.may_have_reached is False
    assert isinstance(info.value.__cause__, KeyError)
    async with client(transport, lambda: "") as hs:
        with pytest.raises(TransportError, match="returned no token"):
            await hs.send(GET)


@pytest.mark.parametrize("bad", [42, b"bytes", object()])
def test_anything_else_is_refused_before_sending(bad: object) -> None:
    transport = MockTransport(lambda request: json_response(200, RECORD))
    with pytest.raises(HubEngageError, match="access_token"):
        HubSpot(access_token=bad, transport=transport)  # type: ignore[arg-type]


# -- OAuth with a mock HubSpot ---------------------------------------------------------------


async def test_oauth_refreshes_a_margin_before_expiry_on_its_clock() -> None:
    now = [1_000.0]
    fake = FakeHubSpot()
    fake.current = "a0"
    oauth = OAuth(CLIENT_ID, SECRET, REFRESH, access_token="a0", expires_at=1_100.0,
                  clock=lambda: now[0])
    transport = MockTransport(fake)
    async with client(transport, oauth) as hs:
        await hs.send(GET)
        now[0] = 1_039.9
        await hs.send(GET)
        assert fake.token_requests == []
        now[0] = 1_040.0  # 60 s (the default margin) before expiry
        await hs.send(GET)
    assert fake.api_tokens == ["a0", "a0", "a1"]
    assert oauth.refreshes == 1
    tokens = oauth.tokens
    assert tokens is not None
    assert (tokens.access_token, tokens.expires_in, tokens.expires_at) == ("a1", 1800, 2_840.0)
    (sent,) = fake.token_requests
    assert (sent.method, sent.path, sent.url, sent.endpoint) == (
        "POST", OAUTH_TOKEN_PATH, None, "oauth/token")
    assert OAUTH_TOKEN_PATH == "/oauth/2026-03/token"
    assert sent.token == ""  # no bearer token on the token request
    assert dict(sent.form or ()) == {"grant_type": "refresh_token", "client_id": CLIENT_ID,
                                     "client_secret": SECRET, "refresh_token": REFRESH}
    assert sent.content_type == "application/x-www-form-urlencoded"
    assert sent.body == (b"grant_type=refresh_token&client_id=client-id-1&client_secret="
                         b"client-SECRET-0123456789&refresh_token=refresh-SECRET-abcdef")
    for text in (repr(sent), repr(oauth), repr(tokens)):
        assert SECRET not in text and REFRESH not in text and "a1" not in text


async def test_a_short_lived_token_is_refreshed_at_half_its_life() -> None:
    now = [0.0]
    transport = MockTransport(lambda request: token_answer(
        f"x{now[0]}", expires_in=10) if request.endpoint == "oauth/token"
        else json_response(200, RECORD))
    oauth = OAuth(CLIENT_ID, SECRET, REFRESH, clock=lambda: now[0])
    async with client(transport, oauth) as hs:
        await hs.send(GET)  # no token yet: refreshed first
        now[0] = 4.9
        await hs.send(GET)
        now[0] = 5.0
        await hs.send(GET)
    assert [r.token for r in transport.requests if r.endpoint == "get"] == ["x0.0", "x0.0",
                                                                             "x5.0"]


async def test_expires_at_may_be_an_aware_datetime_and_token_url_absolute() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    fake = FakeHubSpot()
    fake.current = "a0"
    oauth = OAuth(CLIENT_ID, SECRET, REFRESH, access_token="a0",
                  expires_at=datetime(2026, 11, 1, 0, 30, tzinfo=UTC),
                  token_url="https://auth.example/oauth/v3/token", clock=lambda: start + 1741)
    transport = MockTransport(fake)
    async with client(transport, oauth) as hs:
        await hs.send(GET)
    (sent,) = fake.token_requests
    assert (sent.url, sent.path) == ("https://auth.example/oauth/v3/token", "/oauth/v3/token")
    for bad in ({"expires_at": datetime(2026, 1, 1)}, {"token_url": "ftp://x"},
                {"refresh_margin": -1}):
        with pytest.raises(HubEngageError):
            OAuth(CLIENT_ID, SECRET, REFRESH, **bad)


async def test_an_expired_answer_refreshes_once_and_sends_the_batched_call_again() -> None:
    created: list[str] = []

    async def handler(request: Request) -> Response:
        if request.endpoint == "oauth/token":
            return token_answer("a1")
        if request.token != "a1":
            return json_response(401, EXPIRED_BODY)
        results = []
        for n, item in enumerate(request.json["inputs"], start=1):
            created.append(item["properties"]["hs_note_body"])
            results.append({**RECORD, "id": str(n), "properties": item["properties"],
                            "objectWriteTraceId": item.get("objectWriteTraceId")})
        return json_response(201, {"status": "COMPLETE", "results": results,
                                   "startedAt": TS, "completedAt": TS})

    oauth = OAuth(CLIENT_ID, SECRET, REFRESH, access_token="a0")  # expiry unknown
    transport = MockTransport(handler)
    async with HubSpot(access_token=oauth, transport=transport, rate_limits=FAST) as hs:
        records = await asyncio.gather(*(hs.notes.create(Note(timestamp=TS, body=f"n{i}"))
                                         for i in range(5)))
        assert hs.stats.retries == 0
    assert sorted(str(r.properties["hs_note_body"]) for r in records) == [
        f"n{i}" for i in range(5)]
    assert sorted(created) == [f"n{i}" for i in range(5)]  # each written once
    assert [r.token for r in transport.requests] == ["a0", "", "a1"]
    assert oauth.refreshes == 1


@pytest.mark.parametrize("start", ["no token yet", "expired token"])
async def test_five_hundred_concurrent_requests_share_one_refresh(start: str) -> None:
    fake = FakeHubSpot(delay=0.01)
    oauth = OAuth(CLIENT_ID, SECRET, REFRESH,
                  access_token=None if start == "no token yet" else "a0")
    async with client(MockTransport(fake, record=False), oauth) as hs:
        responses = await asyncio.gather(*(hs.send(GET) for _ in range(500)))
    assert all(r.status == 200 for r in responses)
    assert len(fake.token_requests) == 1 and oauth.refreshes == 1
    expected = {"a1": 500} if start == "no token yet" else {"a0": 500, "a1": 500}
    assert Counter(fake.api_tokens) == expected


async def test_a_cancelled_caller_does_not_cancel_the_shared_refresh() -> None:
    fake = FakeHubSpot(delay=0.02)
    oauth = OAuth(CLIENT_ID, SECRET, REFRESH)
    async with client(MockTransport(fake), oauth) as hs:
        first = asyncio.ensure_future(hs.send(GET))
        second = asyncio.ensure_future(hs.send(GET))
        await asyncio.sleep(0.005)
        first.cancel()
        assert (await second).status == 200
        with pytest.raises(asyncio.CancelledError):
            await first
    assert oauth.refreshes == 1


async def test_on_refresh_gets_every_rotated_token_and_the_next_refresh_uses_it() -> None:
    seen: list[OAuthTokens] = []

    async def save(tokens: OAuthTokens) -> None:
        await asyncio.sleep(0)
        seen.append(tokens)

    fake = FakeHubSpot(rotate=True)
    oauth = OAuth(CLIENT_ID, SECRET, REFRESH, on_refresh=save)
    async with client(MockTransport(fake), oauth) as hs:
        await hs.send(GET)
        fake.current = "revoked"  # HubSpot says a1 expired: refresh with r1
        await hs.send(GET)
    assert [(t.access_token, t.refresh_token) for t in seen] == [("a1", "r1"), ("a2", "r2")]
    assert [dict(r.form or ())["refresh_token"] for r in fake.token_requests] == [REFRESH, "r1"]
    tokens = oauth.tokens
    assert tokens is not None and tokens.refresh_token == "r2"


async def test_an_on_refresh_that_raises_is_logged_and_the_tokens_are_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(tokens: OAuthTokens) -> None:
        raise RuntimeError(f"disk full while saving {len(tokens.access_token)} chars")

    fake = FakeHubSpot()
    oauth = OAuth(CLIENT_ID, SECRET, REFRESH, on_refresh=broken)
    caplog.set_level(logging.DEBUG, logger="hubengage")
    async with client(MockTransport(fake), oauth) as hs:
        assert (await hs.send(GET)).status == 200
    assert "on_refresh raised RuntimeError" in caplog.text
    for secret in (SECRET, REFRESH, "a1"):
        assert secret not in caplog.text.replace("a1.", "")


@pytest.mark.parametrize("when", ["before sending", "after an expired answer"])
async def test_a_refused_refresh_is_an_authentication_error_without_secrets(
    when: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="hubengage")

    def handler(request: Request) -> Response:
        if request.endpoint == "oauth/token":
            return json_response(400, REFUSED_BODY, correlation_id="corr-9")
        return json_response(401, EXPIRED_BODY)

    transport = MockTransport(handler)
    oauth = OAuth(CLIENT_ID, SECRET, REFRESH,
                  access_token=None if when == "before sending" else "ACCESS-SECRET-1")
    async with client(transport, oauth) as hs:
        with pytest.raises(AuthenticationError) as info:
            await hs.send(GET)
    error = info.value
    assert error.status == 401 and error.category == "BAD_REFRESH_TOKEN"
    assert error.correlation_id == "corr-9"
    assert "refresh token is invalid, expired or revoked" in str(error)
    assert "authorized again" in str(error)
    assert_no_secret(error, SECRET, REFRESH, "ACCESS-SECRET-1")
    for secret in (SECRET, REFRESH, "ACCESS-SECRET-1"):
        assert secret not in caplog.text
    assert len(transport.requests_to("oauth/token")) == 1  # refused: never retried


async def test_a_refresh_that_gets_no_answer_is_retried_as_nothing_sent() -> None:
    attempts = 0
    fake = FakeHubSpot()

    async def handler(request: Request) -> Response:
        nonlocal attempts
        if request.endpoint == "oauth/token":
            attempts += 1
            if attempts == 1:
                raise TransportError(f"connection reset, form {request.body!r}")
            if attempts == 2:
                return json_response(503, {"message": "busy"})
        return await fake(request)

    oauth = OAuth(CLIENT_ID, SECRET, REFRESH)
    async with client(MockTransport(handler), oauth, retry=RetryConfig(
            max_attempts=2, initial_backoff=0.001, max_backoff=0.001)) as hs:
        with pytest.raises(TransportError, match="could not refresh") as info:
            await hs.send(GET)
        assert info.value.may_have_reached is False
        assert_no_secret(info.value, SECRET, REFRESH)
        response = await hs.send(GET)  # the third try gets its token
    assert response.status == 200 and response.uncertain_attempts == 0
    assert fake.api_tokens == ["a1"]


async def test_closing_waits_for_a_refresh_in_flight_and_its_on_refresh() -> None:
    release = asyncio.Event()
    seen: list[OAuthTokens] = []

    async def handler(request: Request) -> Response:
        if request.endpoint == "oauth/token":
            await release.wait()
            return token_answer("a1", refresh="rotated")
        return json_response(200, RECORD)

    oauth = OAuth(CLIENT_ID, SECRET, REFRESH, on_refresh=seen.append)
    hs = client(MockTransport(handler), oauth)
    call = asyncio.ensure_future(hs.send(GET))
    await asyncio.sleep(0.005)
    call.cancel()
    closing = asyncio.ensure_future(hs.aclose())
    await asyncio.sleep(0.005)
    assert not closing.done()  # the rotated refresh token must not be lost
    release.set()
    await closing
    assert [t.refresh_token for t in seen] == ["rotated"]


async def test_auth_transport_without_a_pipeline() -> None:
    transport = MockTransport(lambda request: json_response(200, RECORD))
    auth = AuthTransport(transport, StaticToken("tok"))
    assert (await auth.send(GET)).status == 200
    assert "tok" not in repr(auth) and "tok" not in repr(auth.source)
    await auth.aclose()
    assert transport.closed


async def test_the_stamped_copy_keeps_the_encoded_body() -> None:
    request = Request(method="POST", path="/crm/v3/objects/notes/batch/create",
                      json={"inputs": [{"properties": {"hs_note_body": "x"}}]})
    encoded = request.body
    transport = MockTransport(lambda r: json_response(200, {}))
    await AuthTransport(transport, StaticToken("t")).send(request)
    (sent,) = transport.requests
    assert sent.body is encoded and sent.token == "t" and request.token is None


async def test_the_aiohttp_transport_sends_which_token_where() -> None:
    seen: list[tuple[str, str | None, str | None]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Authorization"),
                     request.headers.get("Content-Type")))
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    transport = AiohttpTransport(base_url=url, access_token="own")
    try:
        await transport.send(Request(method="GET", path="/a"))
        await transport.send(Request(method="GET", path="/b", token="stamped"))
        await transport.send(Request(method="POST", path="/c", token="", form=(("k", "v"),)))
        await transport.send(Request(method="GET", path="/ignored", url=url + "/d"))
    finally:
        await transport.aclose()
        await runner.cleanup()
    assert seen == [("/a", "Bearer own", None), ("/b", "Bearer stamped", None),
                    ("/c", None, "application/x-www-form-urlencoded"), ("/d", None, None)]


# -- the emulator's token endpoint -----------------------------------------------------------


async def post_form(url: str, **form: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, data=form) as resp:
        return resp.status, json.loads(await resp.read())


def refresh_form(refresh: str = "install-1", **over: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "client_id": DEFAULT_OAUTH_CLIENT_ID,
            "client_secret": DEFAULT_OAUTH_CLIENT_SECRET, "refresh_token": refresh, **over}


@pytest.mark.parametrize("path", ["/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"])
async def test_the_emulator_token_endpoint_answers_as_hubspot(path: str) -> None:
    async with Emulator(oauth_refresh_tokens=("install-1",)) as emu:
        status, body = await post_form(emu.url + path, **refresh_form())
        assert status == 200
        assert body["token_type"] == "bearer" and body["expires_in"] == 1800
        assert body["refresh_token"] == "install-1"  # not rotated by default
        assert 0 < len(body["access_token"]) <= 300
        refusals = {
            "unknown": refresh_form("someone-else"),
            "secret": refresh_form(client_secret="wrong"),
            "grant": refresh_form(grant_type="authorization_code"),
        }
        answers = {k: await post_form(emu.url + path, **v) for k, v in refusals.items()}
        stats = emu.stats()["requests"]
    assert answers["unknown"] == (400, {
        "error": "invalid_grant", "error_description": "refresh token is invalid, expired or "
        "revoked", "status": "BAD_REFRESH_TOKEN", "message": "refresh token is invalid, "
        "expired or revoked"})
    assert answers["secret"][0] == 400 and answers["secret"][1]["error"] == "invalid_client"
    assert answers["grant"][1]["error"] == "unsupported_grant_type"
    assert stats == {"oauth/token 200": 1, "oauth/token 400": 3}


async def test_rotation_answers_a_new_refresh_token_and_refuses_the_old() -> None:
    async with Emulator(oauth_rotate_refresh_tokens=True) as emu:
        url = emu.url + OAUTH_TOKEN_PATH
        _, first = await post_form(url, **refresh_form())
        assert first["refresh_token"] != "install-1"
        status, _ = await post_form(url, **refresh_form())
        assert status == 400
        status, second = await post_form(url, **refresh_form(first["refresh_token"]))
        assert status == 200 and second["refresh_token"] != first["refresh_token"]


async def test_an_expired_token_gets_hubspots_401_and_tokens_of_a_grant_share_a_window() -> None:
    async with Emulator(burst_limit=3, burst_interval=10.0) as emu:
        url = emu.url + OAUTH_TOKEN_PATH
        _, one = await post_form(url, **refresh_form())
        _, two = await post_form(url, **refresh_form())
        notes = emu.url + "/crm/v3/objects/notes"
        async with aiohttp.ClientSession() as session:

            async def get(token: str) -> tuple[int, Any, Any]:
                async with session.get(notes, headers={"Authorization": f"Bearer {token}"}) as r:
                    return r.status, json.loads(await r.read()), r.headers

            statuses = [(await get(one["access_token"]))[0], (await get(two["access_token"]))[0],
                        (await get(two["access_token"]))[0], (await get(one["access_token"]))[0]]
            assert statuses == [200, 200, 200, 429]  # one window for the grant
            assert (await get("static-a"))[0] == 200  # a static token keeps its own
            async with session.post(emu.url + "/__emulator__/oauth/expire") as r:
                assert await r.json() == {"expired": 2}
            status, body, headers = await get(two["access_token"])
        assert len(emu.arrivals(one["access_token"])["counted"]) == 3
    assert status == 401 and headers["x-hubspot-auth-failure"] == "401 Unauthorized"
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    assert body["message"] == "The OAuth token used to make this call expired 0 second(s) ago."
    assert list(body["context"]) == ["expire time"] and body["correlationId"]


async def test_faults_aimed_at_the_token_endpoint_are_retried_by_the_client() -> None:
    async with Emulator() as emu:
        emu.inject("502", 1, "oauth/token")
        emu.inject("drop", 1, "oauth")
        emu.inject("504", 1)  # untargeted: the CRM API's, not the token endpoint's
        oauth = OAuth(DEFAULT_OAUTH_CLIENT_ID, DEFAULT_OAUTH_CLIENT_SECRET, "install-1")
        async with HubSpot(access_token=oauth, base_url=emu.url, batching=False,
                           retry=RetryConfig(max_attempts=4, initial_backoff=0.001,
                                             max_backoff=0.001)) as hs:
            await hs.notes.create(Note(timestamp=TS, body="x"))
        stats = emu.stats()
    assert stats["requests"]["oauth/token 502"] == 1 and stats["requests"]["oauth/token drop"] == 1
    assert stats["requests"]["oauth/token 200"] == 1 and oauth.refreshes == 1
    assert stats["requests"]["create 504"] == 1


def test_the_command_line_configures_the_oauth_app() -> None:
    args = build_parser().parse_args([
        "--oauth-client", "cid:sec", "--oauth-refresh-token", "r1", "--oauth-refresh-token",
        "r2", "--oauth-token-lifetime", "0.5", "--oauth-rotate-refresh-tokens"])
    config = config_from_args(args)
    assert (config.oauth_client_id, config.oauth_client_secret) == ("cid", "sec")
    assert config.oauth_refresh_tokens == ("r1", "r2")
    assert config.oauth_token_lifetime == 0.5 and config.oauth_rotate_refresh_tokens
    default = config_from_args(build_parser().parse_args([]))
    assert default.oauth_client_id == EmulatorConfig().oauth_client_id
    assert default.oauth_token_lifetime == 1800 and not default.oauth_rotate_refresh_tokens
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--oauth-token-lifetime", "0"])


# -- against the emulator, mid-bulk ----------------------------------------------------------


@pytest.mark.parametrize("rotate", [False, True], ids=["same-refresh-token", "rotated"])
@pytest.mark.parametrize("noticed", ["by-clock", "by-401"])
async def test_oauth_refresh_mid_bulk_run_loses_and_duplicates_nothing(
    rotate: bool, noticed: str,
) -> None:
    """3,000 notes (30 batches) through 5-request windows of 100 ms (at least 0.5 s) while
    each access token lives 250 ms: by its clock the client refreshes ahead of expiry; with
    its clock stopped it learns of each expiry from HubSpot's 401 and completes those
    requests. (A token must outlive a request's round trip: one refreshed while a request
    was on its way is the one that request is sent again with, once.)"""
    seen: list[OAuthTokens] = []
    async with Emulator(oauth_token_lifetime=0.25, burst_limit=5, burst_interval=0.1,
                        oauth_rotate_refresh_tokens=rotate) as emu:
        oauth = OAuth(DEFAULT_OAUTH_CLIENT_ID, DEFAULT_OAUTH_CLIENT_SECRET, "install-1",
                      on_refresh=seen.append,
                      clock=(lambda: 0.0) if noticed == "by-401" else None)
        async with HubSpot(access_token=oauth, base_url=emu.url,
                           rate_limits=RateLimits(requests_per_interval=5,
                                                  interval_seconds=0.1)) as hs:
            notes = (Note(timestamp=TS, body=f"note-{i}") for i in range(3_000))
            outcomes = [o async for o in hs.notes.create_many(notes)]
        stored = Counter(r["properties"]["hs_note_body"] for r in emu.records("notes"))
        requests = emu.stats()["requests"]
    assert [o.error for o in outcomes if not o.ok] == []
    assert sorted(o.index for o in outcomes) == list(range(3_000))
    assert stored == Counter(f"note-{i}" for i in range(3_000))  # each exactly once
    assert oauth.refreshes >= 2 and len(seen) == oauth.refreshes  # refreshed mid-run
    assert requests["oauth/token 200"] == oauth.refreshes
    if noticed == "by-401":
        assert requests.get("batch/create 401", 0) >= 1
    refresh_tokens = [t.refresh_token for t in seen]
    if rotate:
        assert len(set(refresh_tokens)) == len(refresh_tokens) and "install-1" not in (
            refresh_tokens)
    else:
        assert set(refresh_tokens) == {"install-1"}
