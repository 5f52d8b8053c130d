"""OpenTelemetry: a span per HTTP request with its attributes, and counters, observed with the
OpenTelemetry SDK's in-memory exporter and metric reader."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import hubengage
from hubengage import HubSpot, InvalidInputError, RateLimits, Request, Response, TransportError
from hubengage.emulator import Emulator
from tests._fakes import MiniHubSpot, ScriptedTransport, client, email, fast_retry, json_response
from tests.test_client import FAST

BURST_429 = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
             "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}


class Telemetry:
    """A tracer provider and a meter provider that keep everything in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.name.startswith("HubSpot")]

    def counts(self, name: str) -> dict[tuple[tuple[str, Any], ...], int]:
        """The sums of counter ``name`` by attribute set."""
        found: dict[tuple[tuple[str, Any], ...], int] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            key = tuple(sorted(point.attributes.items()))
                            found[key] = int(point.value)  # type: ignore[union-attr]
        return found

    def kwargs(self) -> dict[str, Any]:
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


async def test_a_batched_create_of_250_emails_is_three_spans(
    hubspot_emulator: Emulator, telemetry: Telemetry
) -> None:
    async with HubSpot(access_token="test-token", base_url=hubspot_emulator.url,
                       rate_limits=FAST, retry=fast_retry(), **telemetry.kwargs()) as hs:
        outcomes = [o async for o in hs.emails.create_many(
            email(f"span {i}") for i in range(250))]
    assert all(o.ok for o in outcomes)
    spans = telemetry.spans()
    assert len(spans) == 3
    assert sorted(s.attributes["hubengage.batch.size"] for s in spans) == [50, 100, 100]
    host, port = hubspot_emulator.url.removeprefix("http://").split(":")
    for span in spans:
        attributes = dict(span.attributes or {})
        assert span.name == "HubSpot POST batch/create"
        assert span.kind is SpanKind.CLIENT
        assert span.parent is None  # a batch serves many callers: a root span
        assert span.status.status_code is StatusCode.UNSET
        assert attributes["http.request.method"] == "POST"
        assert attributes["http.response.status_code"] in (200, 201, 207)
        assert attributes["url.full"] == (hubspot_emulator.url
                                          + "/crm/v3/objects/emails/batch/create")
        assert attributes["server.address"] == host
        assert attributes["server.port"] == int(port)
        assert attributes["hubengage.endpoint"] == "batch/create"
        assert attributes["hubengage.attempt"] == 1
        assert "http.request.resend_count" not in attributes
        assert attributes["hubengage.rate_limit.wait"] >= 0
        assert attributes["hubengage.correlation_id"]
    requests = telemetry.counts("hubengage.requests")
    assert sum(requests.values()) == 3
    assert all(dict(key)["hubengage.endpoint"] == "batch/create" for key in requests)


async def test_a_429_and_its_retry_are_two_spans_and_counted(telemetry: Telemetry) -> None:
    hub = MiniHubSpot()
    calls = 0

    async def handler(request: Request) -> Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return json_response(429, BURST_429)
        return await hub(request)

    limits = RateLimits(interval_seconds=0.01)  # the pause after a 429 lasts 10 ms
    async with client(ScriptedTransport(handler), rate_limits=limits,
                      **telemetry.kwargs()) as hs:
        await hs.emails.create(email("again"))
    first, second = sorted(telemetry.spans(), key=lambda s: s.start_time or 0)
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["http.response.status_code"] == 429
    assert first.attributes["error.type"] == "429"
    assert first.attributes["hubengage.rate_limit.policy"] == "TEN_SECONDLY_ROLLING"
    assert first.status.status_code is StatusCode.ERROR
    assert second.attributes["hubengage.attempt"] == 2
    assert second.attributes["http.request.resend_count"] == 1
    assert second.attributes["http.response.status_code"] == 201
    assert second.status.status_code is StatusCode.UNSET
    assert sum(telemetry.counts("hubengage.requests").values()) == 2
    assert telemetry.counts("hubengage.rate_limited") == {
        (("hubengage.endpoint", "batch/create"),
         ("hubengage.rate_limit.policy", "TEN_SECONDLY_ROLLING")): 1}
    [(retry_key, retries)] = telemetry.counts("hubengage.retries").items()
    assert retries == 1 and dict(retry_key)["hubengage.endpoint"] == "batch/create"


async def test_a_direct_request_is_a_child_of_the_callers_span(telemetry: Telemetry) -> None:
    transport = ScriptedTransport(lambda request: _record(request))
    tracer = telemetry.tracer_provider.get_tracer("app")
    async with client(transport, batching=False, **telemetry.kwargs()) as hs:
        with tracer.start_as_current_span("handle web request") as parent:
            await hs.notes.create({"hs_timestamp": "2026-01-15T10:00:00.000Z",
                                   "hs_note_body": "x"})
    [span] = telemetry.spans()
    assert span.name == "HubSpot POST create"
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id
    assert "hubengage.batch.size" not in (span.attributes or {})


async def test_a_batched_call_never_borrows_its_callers_span(telemetry: Telemetry) -> None:
    tracer = telemetry.tracer_provider.get_tracer("app")
    async with client(ScriptedTransport(), **telemetry.kwargs()) as hs:
        with tracer.start_as_current_span("first caller"):
            await asyncio.gather(*(hs.emails.create(email(f"b{i}")) for i in range(3)))
    [span] = telemetry.spans()
    assert span.parent is None and span.attributes is not None
    assert span.attributes["hubengage.batch.size"] == 3


async def test_a_failed_connection_ends_its_span_with_the_error(telemetry: Telemetry) -> None:
    async def handler(request: Request) -> Response:
        raise TransportError("connection reset", method=request.method, path=request.path)

    async with client(ScriptedTransport(handler), retry=fast_retry(max_attempts=2),
                      **telemetry.kwargs()) as hs:
        with pytest.raises(TransportError):
            await hs.emails.create(email("x"))
    spans = telemetry.spans()
    assert len(spans) == 2
    for span in spans:
        assert span.attributes is not None
        assert span.attributes["error.type"] == "TransportError"
        assert "http.response.status_code" not in span.attributes
        assert span.status.status_code is StatusCode.ERROR


async def test_instrument_uses_the_global_providers() -> None:
    transport = ScriptedTransport()
    async with client(transport, instrument=True) as hs:  # the global no-op providers
        assert hs._pipeline.tracer is not None
        await hs.emails.create(email("x"))
    async with client(ScriptedTransport()) as plain:
        assert plain._pipeline.tracer is None


def test_without_opentelemetry_asking_for_it_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # import fails
    with pytest.raises(InvalidInputError, match=r"pip install 'hubengage\[otel\]'"):
        client(ScriptedTransport(), instrument=True)
    client(ScriptedTransport())  # not asked for: not imported


def test_only_the_otel_module_imports_opentelemetry() -> None:
    root = Path(hubengage.__file__).parent
    offenders = sorted(
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if path.name != "_otel.py"
        and any(line.strip().startswith(("import opentelemetry", "from opentelemetry"))
                and not line.startswith("    ")  # TYPE_CHECKING blocks are indented
                for line in path.read_text().splitlines())
    )
    assert offenders == []


async def _record(request: Request) -> Response:
    return json_response(201, {"id": "1", "properties": {}, "createdAt":
                               "2026-01-15T10:00:00.000Z",
                               "updatedAt": "2026-01-15T10:00:00.000Z"})
