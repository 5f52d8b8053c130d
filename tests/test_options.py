"""Per-call options: ``hs.with_options(timeout=..., retry=..., max_attempts=...)`` gives a view
that shares the client's pipeline, budget, batcher and connections, whose options apply to the
requests its calls cause, and whose calls never share a batch with calls under other options."""

from __future__ import annotations

import asyncio

import attrs
import pytest

from hubengage import (
    ClientClosedError,
    HubSpot,
    HubSpotView,
    InvalidInputError,
    MockTransport,
    Request,
    RequestOptions,
    Response,
    RetryConfig,
    ServerError,
    TransportTimeoutError,
)
from hubengage.emulator import Emulator
from tests._fakes import MiniHubSpot, ScriptedTransport, client, email, fast_retry, json_response
from tests.test_client import FAST

HTML_502 = {"content-type": "text/html"}


def failing_then(hub: MiniHubSpot, failures: int) -> tuple[ScriptedTransport, list[int]]:
    """A transport whose first ``failures`` requests get a 502, then ``hub`` answers."""
    seen = [0]

    async def handler(request: Request) -> Response:
        seen[0] += 1
        if seen[0] <= failures:
            return Response(status=502, headers=HTML_502, body=b"<html>")
        return await hub(request)

    return ScriptedTransport(handler), seen


async def test_a_view_shares_the_client_and_has_its_resources() -> None:
    transport = ScriptedTransport()
    async with client(transport) as hs:
        view = hs.with_options(timeout=12)
        assert isinstance(view, HubSpotView)
        assert view.client is hs and view.options == RequestOptions(timeout=12)
        assert hs.options == RequestOptions()
        assert not hasattr(view, "aclose")  # closing belongs to the client
        rec = await view.emails.create(email("via view"))
        assert rec.properties["hs_email_subject"] == "via view"
        assert hs.stats.requests_for("batch/create") == 1  # the client's counters
        assert view.labels is hs.labels
        assert view.executor.pending == hs.executor.pending == 0
    with pytest.raises(ClientClosedError):
        await view.emails.create(email("after close"))


async def test_the_view_timeout_rides_on_every_request_its_calls_cause() -> None:
    transport = ScriptedTransport()
    async with client(transport) as hs:
        view = hs.with_options(timeout=7.5)
        rec = await view.emails.create(email("a"))  # batched
        await hs.emails.create(email("b"))  # the client's own: the transport's timeout
        await view.emails.update(rec.id, {"hs_email_subject": "a2"})
    timeouts = [(r.endpoint, r.timeout) for r in transport.requests]
    assert timeouts == [("batch/create", 7.5), ("batch/create", None), ("batch/update", 7.5)]


async def test_a_view_timeout_reaches_direct_calls_and_raw_sends() -> None:
    seen: list[float | None] = []

    def handler(request: Request) -> Response:
        seen.append(request.timeout)
        if request.endpoint == "list":
            return json_response(200, {"results": []})
        return json_response(201, {"id": "1", "properties": {}, "createdAt": "2026-01-15T10:"
                                   "00:00.000Z", "updatedAt": "2026-01-15T10:00:00.000Z"})

    async with HubSpot(transport=MockTransport(handler), batching=False,
                       retry=fast_retry()) as hs:
        view = hs.with_options(timeout=3)
        await view.notes.create({"hs_timestamp": "2026-01-15T10:00:00.000Z",
                                 "hs_note_body": "x"})
        assert [r async for r in view.notes.list()] == []
        await view.send(Request(method="GET", path="/crm/v3/objects/notes", endpoint="list"))
        await view.send(Request(method="GET", path="/crm/v3/objects/notes", endpoint="list",
                                timeout=9))  # the request's own wins
        await hs.send(Request(method="GET", path="/crm/v3/objects/notes", endpoint="list"))
    assert seen == [3, 3, 3, 9, None]


async def test_max_attempts_on_a_view_overrides_the_clients_retries() -> None:
    hub = MiniHubSpot()
    transport, seen = failing_then(hub, failures=100)
    async with client(transport, retry=fast_retry(max_attempts=4)) as hs:
        with pytest.raises(ServerError):
            await hs.with_options(max_attempts=1).emails.create(email("fail fast"))
        assert seen[0] == 1
        with pytest.raises(ServerError):
            await hs.emails.create(email("patient"))
        assert seen[0] == 1 + 4


async def test_a_view_retry_config_lets_a_call_retry_more() -> None:
    hub = MiniHubSpot()
    transport, seen = failing_then(hub, failures=3)
    async with client(transport, retry=fast_retry(max_attempts=1)) as hs:
        rec = await hs.with_options(retry=fast_retry(max_attempts=5)).emails.create(email("x"))
    assert rec.properties["hs_email_subject"] == "x" and seen[0] == 4


def test_options_of_a_view_of_a_view_add_up() -> None:
    hs = client(ScriptedTransport(), retry=fast_retry(max_attempts=4))
    view = hs.with_options(timeout=5).with_options(max_attempts=2)
    assert view.options == RequestOptions(timeout=5, retry=attrs.evolve(fast_retry(),
                                                                        max_attempts=2))
    retry = RetryConfig(max_attempts=9)
    again = view.with_options(retry=retry)
    assert again.options == RequestOptions(timeout=5, retry=retry)
    assert again.with_options(max_attempts=3).options.retry == attrs.evolve(retry,
                                                                            max_attempts=3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"timeout": 0}, "timeout"), ({"timeout": -1.0}, "timeout"), ({"timeout": "5"}, "timeout"),
     ({"max_attempts": 0}, "max_attempts"), ({"retry": 3}, "retry")],
)
def test_bad_options_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    hs = client(ScriptedTransport())
    with pytest.raises(InvalidInputError) as info:
        hs.with_options(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


async def test_calls_under_different_options_never_share_a_batch() -> None:
    transport = ScriptedTransport()
    async with client(transport) as hs:
        quick, also_quick = hs.with_options(max_attempts=1), hs.with_options(max_attempts=1)
        slow = hs.with_options(timeout=60)
        await asyncio.gather(
            *(hs.emails.create(email(f"c{i}")) for i in range(3)),
            *(quick.emails.create(email(f"q{i}")) for i in range(2)),
            *(also_quick.emails.create(email(f"a{i}")) for i in range(2)),  # equal options
            *(slow.emails.create(email(f"s{i}")) for i in range(4)),
        )
    batches = sorted(
        "".join(sorted(i["properties"]["hs_email_subject"][0] for i in r.json["inputs"]))
        + f" timeout={r.timeout}"
        for r in transport.requests
    )
    # The client's calls in one batch, the two views with equal options in another, the
    # slow view's in a third (sent with its timeout).
    assert batches == ["aaqq timeout=None", "ccc timeout=None", "ssss timeout=60.0"]


async def test_calls_on_one_record_stay_in_order_across_views() -> None:
    transport = ScriptedTransport()
    async with client(transport) as hs:
        rec = await hs.emails.create(email("v0"))
        view = hs.with_options(timeout=30)
        results = await asyncio.gather(
            hs.emails.update(rec.id, {"hs_email_subject": "v1"}),
            view.emails.update(rec.id, {"hs_email_subject": "v2"}),
            hs.emails.update(rec.id, {"hs_email_subject": "v3"}),
        )
    assert [r.properties["hs_email_subject"] for r in results] == ["v1", "v2", "v3"]


@pytest.mark.hubspot_emulator(latency=0.3)
async def test_a_short_view_timeout_ends_a_slow_request(hubspot_emulator: Emulator) -> None:
    async with HubSpot(access_token="test-token", base_url=hubspot_emulator.url,
                       rate_limits=FAST, retry=fast_retry(max_attempts=1)) as hs:
        with pytest.raises(TransportTimeoutError):
            await hs.with_options(timeout=0.05).notes.create(
                {"hs_timestamp": "2026-01-15T10:00:00.000Z", "hs_note_body": "late"})
        rec = await hs.notes.create({"hs_timestamp": "2026-01-15T10:00:00.000Z",
                                     "hs_note_body": "in time"})  # the client's 30 s timeout
    assert rec.properties["hs_note_body"] == "in time"
