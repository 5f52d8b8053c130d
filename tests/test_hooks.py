"""Event hooks (request / response / retry), the headers a request hook adds, the failure
policy (a hook that raises is logged, never breaks the call), and the library logger's
NullHandler."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hubengage import (
    EventHooks,
    HubSpot,
    InvalidInputError,
    Request,
    Response,
    RetryEvent,
    ServerError,
)
from tests._fakes import MiniHubSpot, ScriptedTransport, client, email, fast_retry

TOKEN = "pat-na1-secret-token"


def flaky(hub: MiniHubSpot, failures: int) -> ScriptedTransport:
    """A transport whose first ``failures`` requests get an HTML 502."""
    count = 0

    async def handler(request: Request) -> Response:
        nonlocal count
        count += 1
        if count <= failures:
            return Response(status=502, headers={"content-type": "text/html"}, body=b"<html>")
        return await hub(request)

    return ScriptedTransport(handler)


async def test_every_attempt_is_seen_by_sync_and_async_hooks() -> None:
    events: list[tuple[str, Any]] = []

    def on_request(request: Request) -> None:
        events.append(("request", request.endpoint))

    async def on_response(request: Request, response: Response) -> None:
        events.append(("response", response.status))

    def on_retry(event: RetryEvent) -> None:
        events.append(("retry", (event.attempt, event.reason, type(event.error).__name__,
                                 event.request.endpoint, event.wait >= 0)))

    hooks: EventHooks = {"request": [on_request], "response": [on_response],
                         "retry": [on_retry]}
    async with client(flaky(MiniHubSpot(), failures=1), event_hooks=hooks) as hs:
        rec = await hs.emails.create(email("hooked"))
    assert rec.properties["hs_email_subject"] == "hooked"
    assert events == [
        ("request", "batch/create"),
        ("response", 502),
        ("retry", (1, "HTTP 502", "ServerError", "batch/create", True)),
        ("request", "batch/create"),
        ("response", 201),
    ]


async def test_a_batch_is_one_request_event_per_attempt_not_per_call() -> None:
    seen: list[int] = []

    def on_request(request: Request) -> None:
        seen.append(len(request.json["inputs"]))

    transport = ScriptedTransport()
    async with client(transport, event_hooks={"request": [on_request]}) as hs:
        outcomes = [o async for o in hs.emails.create_many(email(f"m{i}") for i in range(250))]
    assert all(o.ok for o in outcomes)
    assert sorted(seen) == [50, 100, 100]


async def test_a_hook_that_raises_is_logged_and_the_call_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_request(request: Request) -> None:
        raise RuntimeError("metrics backend down")

    async def broken_response(request: Request, response: Response) -> None:
        raise KeyError("oops")

    def broken_retry(event: RetryEvent) -> None:
        raise ValueError("nope")

    def wrong_answer(request: Request) -> str:
        return "not a request"

    calls: list[str] = []
    hooks: EventHooks = {
        "request": [broken_request, wrong_answer, lambda r: calls.append("still called")],
        "response": [broken_response],
        "retry": [broken_retry],
    }
    with caplog.at_level(logging.ERROR, logger="hubengage"):
        async with client(flaky(MiniHubSpot(), failures=1), event_hooks=hooks) as hs:
            rec = await hs.emails.create(email("survives"))
    assert rec.properties["hs_email_subject"] == "survives"
    assert calls == ["still called", "still called"]  # later hooks still run
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert sum("request hook" in m and "broken_request" in m for m in messages) == 2
    assert sum("response hook" in m and "broken_response" in m for m in messages) == 2
    assert sum("retry hook" in m and "broken_retry" in m for m in messages) == 1
    assert sum("returned a str" in m for m in messages) == 2
    assert all(r.exc_info for r in caplog.records if "raised" in r.getMessage())


async def test_a_hook_that_raises_on_a_failing_call_leaves_its_error_alone() -> None:
    def broken(request: Request, response: Response) -> None:
        raise RuntimeError("hook bug")

    async with client(flaky(MiniHubSpot(), failures=100), retry=fast_retry(max_attempts=2),
                      event_hooks={"response": [broken]}) as hs:
        with pytest.raises(ServerError):
            await hs.emails.create(email("x"))


@pytest.mark.parametrize(
    ("hooks", "field"),
    [
        ({"requests": []}, "event_hooks"),
        ({"request": print}, "event_hooks.request"),
        ({"retry": [1]}, "event_hooks.retry[0]"),
        ([("request", [])], "event_hooks"),
    ],
)
def test_bad_hooks_are_refused(hooks: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        client(ScriptedTransport(), event_hooks=hooks)
    assert info.value.field == field


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A tiny HTTP server that records each request's headers and answers a record."""
    received: list[dict[str, str]] = []

    async def answer(request: web.Request) -> web.Response:
        received.append(dict(request.headers))
        return web.json_response({"id": "7", "properties": {"hs_note_body": "x"},
                                  "createdAt": "2026-01-15T10:00:00.000Z",
                                  "updatedAt": "2026-01-15T10:00:00.000Z"}, status=201)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), received
    finally:
        await server.close()


async def test_a_request_hook_adds_headers_but_never_sees_or_sets_the_token(
    echo_server: tuple[str, list[dict[str, str]]], caplog: pytest.LogCaptureFixture,
) -> None:
    url, received = echo_server
    seen: list[Request] = []

    def tag(request: Request) -> Request:
        seen.append(request)
        return request.with_headers({"X-Job-Id": "job-42"})

    def hijack(request: Request) -> Request:
        return request.with_headers({"Authorization": "Bearer stolen"})

    async with HubSpot(access_token=TOKEN, base_url=url, batching=False,
                       event_hooks={"request": [tag, hijack]}) as hs:
        rec = await hs.notes.create({"hs_timestamp": "2026-01-15T10:00:00.000Z",
                                     "hs_note_body": "x"})
    assert rec.id == "7"
    [headers] = received
    assert headers["X-Job-Id"] == "job-42"
    assert headers["Authorization"] == f"Bearer {TOKEN}"  # the hook's was refused
    [refused] = [r for r in caplog.records if "hijack" in r.getMessage()]
    assert refused.exc_info is not None
    assert "the Authorization header is the transport's" in str(refused.exc_info[1])
    [request] = seen
    assert TOKEN not in repr(request)
    assert all(TOKEN not in repr(value) for value in attrs.asdict(request).values())


def test_with_headers_keeps_the_encoded_body_and_replaces_by_name() -> None:
    request = Request(method="POST", path="/x", json={"a": 1}, headers={"x-one": "1"})
    body = request.body
    tagged = request.with_headers({"X-One": "2", "X-Two": "3"})
    assert tagged.headers == {"X-One": "2", "X-Two": "3"}
    assert tagged.body is body and request.headers == {"x-one": "1"}
    for bad in ({"Authorization": "x"}, {"X-Bad": "a\r\nb"}, {"Bad Name": "x"}):
        with pytest.raises(InvalidInputError):
            request.with_headers(bad)


def _run_script(body: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent('''
        import asyncio
        from hubengage import HubSpot, Response, RetryConfig
        from hubengage.testing import MockTransport, json_response

        count = 0
        def handler(request):
            global count
            count += 1
            if count == 1:
                return Response(status=502, headers={"content-type": "text/html"}, body=b"x")
            return json_response(201, {"id": "1", "properties": {},
                                       "createdAt": "2026-01-15T10:00:00Z",
                                       "updatedAt": "2026-01-15T10:00:00Z"})

        async def main():
            async with HubSpot(transport=MockTransport(handler), batching=False,
                               retry=RetryConfig(initial_backoff=0.001)) as hs:
                await hs.notes.create({"hs_timestamp": "2026-01-15T10:00:00Z",
                                       "hs_note_body": "x"})
    ''') + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=30, check=True)


def test_retry_warnings_stay_silent_unless_the_application_configures_logging() -> None:
    silent = _run_script("asyncio.run(main())\n")
    assert silent.stderr == ""
    configured = _run_script("import logging\nlogging.basicConfig()\nasyncio.run(main())\n")
    assert "WARNING:hubengage:retrying POST /crm/v3/objects/notes" in configured.stderr


def test_the_library_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("hubengage").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
