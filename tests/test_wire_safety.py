"""What reaches the wire, and what never leaves the client: request paths and the token.

A record id or object type taken from user input can never move a request to another
endpoint, and no exception, cause, context, repr or log line reachable from a hubengage
error holds the access token, whatever the failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web

from hubengage import (
    APIError,
    ClientClosedError,
    HubEngageError,
    HubSpot,
    InvalidInputError,
    MalformedResponseError,
    OAuth,
    OutcomeUnknownError,
    RetryConfig,
    TransportError,
)

TOKEN = "pat-na1-SECRET-0123456789"
#: What an OAuth app holds: none of it may leave the client but on the wire.
CLIENT_SECRET = "client-SECRET-5555"
REFRESH_TOKEN = "refresh-SECRET-7777"
OAUTH_ACCESS_TOKEN = "oauth-access-SECRET-9999"
OAUTH_SECRETS = (CLIENT_SECRET, REFRESH_TOKEN, OAUTH_ACCESS_TOKEN)
TS = "2026-01-15T10:00:00.000Z"
RECORD = {"id": "1", "properties": {"hs_timestamp": TS}, "createdAt": TS, "updatedAt": TS,
          "archived": False}


class Capture:
    """A tiny HTTP server that records raw request paths and answers per path."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.handle)
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.raw_path.partition("?")[0])
        if request.path.startswith("/oauth/"):  # the token endpoint
            return web.json_response({"token_type": "bearer", "expires_in": 1800,
                                      "access_token": OAUTH_ACCESS_TOKEN,
                                      "refresh_token": REFRESH_TOKEN})
        parts = request.path.split("/")
        tail = parts[4] if len(parts) > 4 else ""
        if tail.startswith("redirect"):
            raise web.HTTPFound(request.path)  # a loop: aiohttp would give up, "too many"
        if tail.startswith("drop"):
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if tail.startswith("slow"):
            await asyncio.sleep(0.6)  # just past the client's 0.5 s timeout
        if tail.startswith("garbled"):
            return web.Response(status=201, text="<html>proxy login</html>",
                                content_type="text/html")
        if tail.startswith("denied"):
            return web.json_response({"status": "error", "message": "Authentication "
                                      "credentials not found.", "category":
                                      "INVALID_AUTHENTICATION"}, status=401)
        return web.json_response(RECORD)


@pytest.fixture
async def capture() -> AsyncIterator[Capture]:
    cap = Capture()
    runner = web.AppRunner(cap.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    cap.url = f"http://127.0.0.1:{port}"
    yield cap
    await runner.cleanup()


def make(url: str, **kwargs: Any) -> HubSpot:
    kwargs.setdefault("retry", RetryConfig(max_attempts=2, initial_backoff=0.001,
                                           max_backoff=0.001))
    return HubSpot(access_token=TOKEN, base_url=url, batching=False, **kwargs)


@pytest.mark.parametrize("bad", ["", " ", ".", "..", "a/b", "../contacts", "x?y", "x#y",
                                 "a\\b", "a\nb", "\x00"])
async def test_an_id_that_could_move_the_request_is_refused_before_sending(
    capture: Capture, bad: str
) -> None:
    async with make(capture.url) as hs:
        for call in (hs.emails.archive(bad), hs.emails.get(bad),
                     hs.emails.update(bad, {"hs_email_subject": "x"}),
                     hs.emails.associate(bad, "contacts", 1), hs.emails.associations(bad, "deals")):
            with pytest.raises(InvalidInputError, match="record_id"):
                await call
        with pytest.raises(InvalidInputError, match="object_type"):
            hs.objects(bad)
    assert capture.paths == []


@pytest.mark.parametrize(("record_id", "raw"), [
    ("123", "/crm/v3/objects/emails/123"),
    ("a b", "/crm/v3/objects/emails/a%20b"),
    ("ada@example.com", "/crm/v3/objects/emails/ada%40example.com"),
    ("%2E%2E", "/crm/v3/objects/emails/%252E%252E"),
    ("...", "/crm/v3/objects/emails/..."),
    ("é", "/crm/v3/objects/emails/%C3%A9"),
])
async def test_every_other_id_reaches_the_wire_as_exactly_one_encoded_segment(
    capture: Capture, record_id: str, raw: str
) -> None:
    async with make(capture.url) as hs:
        await hs.emails.get(record_id)
        await hs.objects("p_cars").get(record_id)
    assert capture.paths == [raw, raw.replace("/emails/", "/p_cars/")]


def chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything reachable through ``__cause__`` / ``__context__``."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        todo.extend(a for a in current.args if isinstance(a, BaseException))


@pytest.mark.parametrize(("path", "expected"), [
    ("redirect", APIError),
    ("drop", TransportError),
    ("slow", TransportError),
    ("denied", APIError),
    ("garbled-read", MalformedResponseError),
])
async def test_no_error_reachable_from_a_failure_holds_the_token(
    capture: Capture, caplog: pytest.LogCaptureFixture, path: str, expected: type[Exception]
) -> None:
    caplog.set_level(logging.DEBUG, logger="hubengage")
    async with make(capture.url, timeout=0.5) as hs:
        with pytest.raises(HubEngageError) as info:
            await hs.objects(path).get("1")
    assert isinstance(info.value, expected)
    for error in chain(info.value):
        text = f"{error!s} {error!r} {vars(error)!r}"
        assert TOKEN not in text, f"{type(error).__name__} leaks the token"
    assert TOKEN not in caplog.text
    if path == "redirect":  # not followed: the token never went to the other host
        assert capture.paths == ["/crm/v3/objects/redirect/1"]


@pytest.mark.parametrize(("path", "expected"), [
    ("redirect", APIError),
    ("drop", TransportError),
    ("slow", TransportError),
    ("denied", APIError),
    ("garbled-read", MalformedResponseError),
])
async def test_nor_an_oauth_secret_or_token(
    capture: Capture, caplog: pytest.LogCaptureFixture, path: str, expected: type[Exception]
) -> None:
    caplog.set_level(logging.DEBUG, logger="hubengage")
    oauth = OAuth("client-1", CLIENT_SECRET, REFRESH_TOKEN)
    async with HubSpot(access_token=oauth, base_url=capture.url, batching=False, timeout=0.5,
                       retry=RetryConfig(max_attempts=2, initial_backoff=0.001,
                                         max_backoff=0.001)) as hs:
        with pytest.raises(HubEngageError) as info:
            await hs.objects(path).get("1")
    assert isinstance(info.value, expected)
    assert oauth.refreshes == 1
    for error in chain(info.value):
        text = f"{error!s} {error!r} {vars(error)!r}"
        for secret in OAUTH_SECRETS:
            assert secret not in text, f"{type(error).__name__} leaks an OAuth secret"
    for secret in OAUTH_SECRETS:
        assert secret not in caplog.text and secret not in f"{oauth!r} {oauth.tokens!r}"


async def test_nor_does_a_refresh_that_fails(capture: Capture) -> None:
    for token_url, expected in (("http://127.0.0.1:9/oauth/v1/token", TransportError),
                                (capture.url + "/crm/v3/objects/denied", APIError)):
        oauth = OAuth("client-1", CLIENT_SECRET, REFRESH_TOKEN, token_url=token_url)
        async with HubSpot(access_token=oauth, base_url=capture.url, batching=False,
                           retry=RetryConfig(max_attempts=1)) as hs:
            with pytest.raises(expected) as info:
                await hs.emails.get("1")
        for error in chain(info.value):
            text = f"{error!s} {error!r} {vars(error)!r}"
            for secret in OAUTH_SECRETS:
                assert secret not in text, f"{type(error).__name__} leaks an OAuth secret"


async def test_nor_does_a_garbled_write_a_refused_connection_or_a_closed_client(
    capture: Capture,
) -> None:
    async with make(capture.url) as hs:
        with pytest.raises(OutcomeUnknownError) as unknown:
            await hs.objects("garbled").create({"name": "x"})
    async with make("http://127.0.0.1:9") as hs:  # nothing listens on the discard port
        with pytest.raises(TransportError) as refused:
            await hs.emails.get("1")
    with pytest.raises(ClientClosedError) as closed:
        await hs.emails.get("1")
    for failure in (unknown.value, refused.value, closed.value):
        for error in chain(failure):
            assert TOKEN not in f"{error!s} {error!r} {vars(error)!r}"
    assert isinstance(unknown.value.__cause__, MalformedResponseError)
    assert refused.value.may_have_reached is False
