"""An in-memory transport for tests that need exact control over what "HubSpot" answers.

:class:`ScriptedTransport` records every request and answers through a handler; the default
handler, :class:`MiniHubSpot`, is a deliberately tiny store for the batch endpoints (no rate
limits, no validation) that tests wrap to inject whole-batch failures, delays or odd bodies.
The faithful server is the emulator; this exists for precise, fast unit tests of the batcher.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from hubengage import HubSpot, Request, Response, RetryConfig
from hubengage._errors import TransportError

Handler = Callable[[Request], Awaitable[Response]]

NOW = "2026-01-15T10:00:00.000Z"

#: Seconds a test waits for an event that should happen at once before it fails (a bound on
#: failure only: nothing ever waits this long when the code under test is right).
WAIT_LIMIT = 5.0


def json_response(status: int, body: Any, **headers: str) -> Response:
    """A JSON response with a correlation id."""
    hdrs = {"content-type": "application/json", "x-hubspot-correlation-id": "corr-1"}
    hdrs.update(headers)
    return Response(status=status, headers=hdrs, body=json.dumps(body).encode())


class MiniHubSpot:
    """A tiny store answering batch create/read/update/archive (and nothing else)."""

    def __init__(self, *, echo_trace_ids: bool = False, reverse: bool = True) -> None:
        self.store: dict[str, dict[str, str]] = {}
        self.archived: set[str] = set()
        self.echo_trace_ids = echo_trace_ids
        self.reverse = reverse
        self._ids = itertools.count(1001)

    def _record(self, rid: str, trace: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": rid,
            "properties": dict(self.store[rid]),
            "createdAt": NOW,
            "updatedAt": NOW,
            "archived": False,
        }
        if trace and self.echo_trace_ids:
            out["objectWriteTraceId"] = trace
        return out

    def _answer(self, status: int, results: list[Any], errors: list[Any]) -> Response:
        if self.reverse:
            results.reverse()
        body: dict[str, Any] = {"status": "COMPLETE", "results": results,
                                "startedAt": NOW, "completedAt": NOW}
        if errors:
            body["errors"] = errors
            body["numErrors"] = len(errors)
            status = 207
        return json_response(status, body)

    async def __call__(self, request: Request) -> Response:
        op = request.path.rsplit("/", 1)[-1]
        inputs = request.json["inputs"]
        results: list[Any] = []
        errors: list[Any] = []
        if op == "create":
            for inp in inputs:
                rid = str(next(self._ids))
                self.store[rid] = {**inp["properties"], "hs_object_id": rid}
                results.append(self._record(rid, inp.get("objectWriteTraceId")))
            return self._answer(201, results, errors)
        if op in ("update", "read"):
            missing = []
            for inp in inputs:
                rid = str(inp["id"])
                if rid not in self.store or rid in self.archived:
                    missing.append(rid)
                    continue
                if op == "update":
                    self.store[rid].update(inp["properties"])
                results.append(self._record(rid, inp.get("objectWriteTraceId")))
            if missing:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                               "message": "Could not get some EMAIL objects",
                               "context": {"ids": missing}})
            return self._answer(200, results, errors)
        if op == "archive":
            for inp in inputs:
                self.archived.add(str(inp["id"]))
            return Response(status=204, headers={}, body=b"")
        raise AssertionError(f"MiniHubSpot does not serve {request.describe()}")


class ScriptedTransport:
    """A :class:`hubengage.Transport` that records requests and answers through a handler.

    ``await transport.wait_for_requests(n)`` returns once ``n`` requests have reached it: the
    explicit "the batch is in flight now" of a test (never a fixed sleep).
    """

    def __init__(self, handler: Handler | None = None, *, record: bool = True) -> None:
        self.handler: Handler = handler or MiniHubSpot()
        self.requests: list[Request] = []
        self.record = record
        self.closed = False
        #: How many requests have arrived (counted even when ``record`` is off).
        self.arrived = 0
        self._arrival: asyncio.Event | None = None

    async def send(self, request: Request) -> Response:
        self.arrived += 1
        if self.record:
            self.requests.append(request)
        if self._arrival is not None:
            self._arrival.set()
        return await self.handler(request)

    async def wait_for_requests(self, count: int = 1) -> None:
        """Return as soon as ``count`` requests in all have arrived (fail after a bound)."""
        async with asyncio.timeout(WAIT_LIMIT):
            while self.arrived < count:
                self._arrival = asyncio.Event()
                await self._arrival.wait()

    async def aclose(self) -> None:
        self.closed = True

    def batches(self, op: str) -> list[list[dict[str, Any]]]:
        """The ``inputs`` of every ``batch/<op>`` request, in the order sent."""
        return [r.json["inputs"] for r in self.requests if r.endpoint == f"batch/{op}"]


async def wait_until(condition: Callable[[], bool], *, turns: int = 1_000) -> None:
    """Yield to the event loop until ``condition()`` holds; fail after ``turns`` turns."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    assert condition(), f"still not true after {turns} event-loop turns"


def fast_retry(max_attempts: int = 4) -> RetryConfig:
    """A retry policy with millisecond backoffs, for tests."""
    return RetryConfig(max_attempts=max_attempts, initial_backoff=0.001, max_backoff=0.005,
                       locked_backoff=0.001)


def client(transport: ScriptedTransport, **kwargs: Any) -> HubSpot:
    """A client on ``transport`` with fast retries."""
    kwargs.setdefault("retry", fast_retry())
    return HubSpot(transport=transport, **kwargs)


async def drop_connection(request: Request) -> Response:
    """A handler whose every request fails as a dropped connection."""
    await asyncio.sleep(0)
    raise TransportError("connection reset", method=request.method, path=request.path)


def email(subject: str, **extra: str) -> dict[str, str]:
    """A valid email's properties."""
    return {"hs_timestamp": NOW, "hs_email_direction": "EMAIL", "hs_email_subject": subject,
            **extra}
