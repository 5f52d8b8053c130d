"""Testing helpers for code that uses hubengage: an in-memory transport.

:class:`MockTransport` stands in for the network in your tests, the way httpx's
``MockTransport`` does: every request the client would send goes to your handler, which
answers with a :class:`~hubengage.Response`. The whole client runs for real on top of it
(batching, the rate budget, retries, the multi-status decoder)::

    from hubengage import HubSpot
    from hubengage.testing import MockTransport, json_response

    async def handler(request):
        if request.endpoint == "batch/create":
            inputs = request.json["inputs"]
            return json_response(201, {"status": "COMPLETE", "results": [
                {"id": str(i), "properties": inp["properties"]}
                for i, inp in enumerate(inputs, start=1)]})
        return json_response(404, {"status": "error", "message": "not here"})

    transport = MockTransport(handler)
    async with HubSpot(transport=transport) as hs:
        ...
    assert transport.requests[0].endpoint == "batch/create"

For a faithful HubSpot (rate limits, 207s, faults), use the emulator instead:
``hubengage.emulator`` and its ``hubspot_emulator`` pytest fixture.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from ._transport import Request, Response

__all__ = ["Handler", "MockTransport", "json_response"]

#: Answers one request: a :class:`Response`, or an awaitable of one. It may raise
#: ``hubengage.TransportError`` to stand for a failed connection.
Handler = Callable[[Request], "Response | Awaitable[Response]"]


def json_response(
    status: int, body: Any, *, correlation_id: str = "mock-correlation-id", **headers: str
) -> Response:
    """A JSON response as HubSpot sends one (with an ``X-HubSpot-Correlation-Id``)."""
    all_headers = {"content-type": "application/json;charset=utf-8",
                   "x-hubspot-correlation-id": correlation_id}
    all_headers.update({k.lower(): v for k, v in headers.items()})
    return Response(status=status, headers=all_headers, body=json.dumps(body).encode())


class MockTransport:
    """A :class:`~hubengage.Transport` that answers every request through ``handler``.

    ``requests`` lists every request sent, in order (set ``record=False`` to keep none);
    ``closed`` tells whether the client closed it.
    """

    def __init__(self, handler: Handler, *, record: bool = True) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.record = record
        self.closed = False

    async def send(self, request: Request) -> Response:
        """Record ``request`` and return the handler's answer."""
        if self.record:
            self.requests.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer

    async def aclose(self) -> None:
        """Mark the transport closed. Idempotent."""
        self.closed = True

    def requests_to(self, endpoint: str) -> list[Request]:
        """The requests sent to one endpoint label (e.g. ``"batch/create"``), in order."""
        return [r for r in self.requests if r.endpoint == endpoint]
