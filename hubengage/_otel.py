"""OpenTelemetry for hubengage (``pip install 'hubengage[otel]'``): a span per HTTP attempt,
and counters. The only module that imports ``opentelemetry``, and only when a client asks for
it (``HubSpot(tracer_provider=...)``, ``meter_provider=...`` or ``instrument=True``).

Spans follow OpenTelemetry's HTTP client conventions: one CLIENT span per HTTP request sent,
a retry being a request of its own (``http.request.resend_count``), named
``HubSpot {method} {endpoint}`` (``HubSpot POST batch/create``), with

==================================  ==========================================================
``http.request.method``             ``POST``
``url.full``                        base URL and path, no query string (never the token)
``server.address``, ``server.port``  from the base URL
``http.response.status_code``       the status, when a response came
``error.type``                      the status (``"429"``) or the exception's class name;
                                    the span's status is ERROR then
``http.request.resend_count``       attempts before this one (retries only)
``hubengage.endpoint``              the endpoint label (``batch/create``, ``search``)
``hubengage.batch.size``            inputs in the request body (batch requests)
``hubengage.attempt``               1 for the first try, 2 for the first retry, ...
``hubengage.rate_limit.wait``       seconds this attempt waited for its rate-limit slot
``hubengage.rate_limit.policy``     a 429's policy (``TEN_SECONDLY_ROLLING``, ``DAILY``)
``hubengage.correlation_id``        HubSpot's ``X-HubSpot-Correlation-Id``
==================================  ==========================================================

A request sent for one caller (a direct call, a list or search page) is a child of the
caller's current span. A batch serves up to 100 callers, so its spans are roots (the
batcher runs in a context of its own: no caller's span is borrowed). The span is current
while the request is on the wire, so spans of an aiohttp instrumentation nest under it.

Metrics (meter ``hubengage``): ``hubengage.requests`` (attempts, by method, endpoint and
status), ``hubengage.rate_limited`` (429s, by policy), ``hubengage.retries`` (by endpoint
and reason) and ``http.client.request.duration`` (seconds).

Telemetry never breaks a call: an exception from OpenTelemetry is logged and ignored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._errors import InvalidInputError, RateLimitError
from ._hooks import RetryEvent
from ._transport import Request, Response

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

__all__ = ["INSTRUMENTATION_NAME", "OtelTracer"]

logger = logging.getLogger("hubengage")

#: The instrumentation scope of hubengage's tracer and meter.
INSTRUMENTATION_NAME = "hubengage"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hubengage")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def batch_size(request: Request) -> int | None:
    """The number of inputs in a batch request's body (None for any other request)."""
    body = request.json
    if isinstance(body, Mapping):
        inputs = body.get("inputs")
        if isinstance(inputs, list):
            return len(inputs)
    return None


class OtelTracer:
    """Spans and counters for one client (the pipeline's :class:`~hubengage._hooks.Tracer`).

    ``tracer_provider`` / ``meter_provider`` default to OpenTelemetry's global providers
    (which do nothing until the application installs an SDK).
    """

    def __init__(
        self,
        *,
        base_url: str,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        try:
            from opentelemetry import context, metrics, trace
        except ImportError:
            raise InvalidInputError(
                "OpenTelemetry is not installed: pip install 'hubengage[otel]'",
                field="tracer_provider",
            ) from None
        self._context = context
        self._trace = trace
        version = _version()
        self._tracer = trace.get_tracer(INSTRUMENTATION_NAME, version,
                                        tracer_provider=tracer_provider)
        meter = metrics.get_meter(INSTRUMENTATION_NAME, version, meter_provider=meter_provider)
        self._requests = meter.create_counter(
            "hubengage.requests", unit="{request}",
            description="HTTP requests sent to HubSpot (every attempt)")
        self._rate_limited = meter.create_counter(
            "hubengage.rate_limited", unit="{response}",
            description="429 responses from HubSpot")
        self._retries = meter.create_counter(
            "hubengage.retries", unit="{retry}", description="Failed attempts retried")
        self._duration = meter.create_histogram(
            "http.client.request.duration", unit="s",
            description="Duration of HTTP requests to HubSpot")
        parts = urlsplit(base_url)
        self._base_url = base_url.rstrip("/")
        self._server: dict[str, str | int] = {}
        if parts.hostname:
            self._server["server.address"] = parts.hostname
            self._server["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)

    def start(self, request: Request, *, attempt: int, rate_limit_wait: float) -> _Attempt:
        """A span for an attempt leaving now, current until it ends."""
        try:
            attributes: dict[str, Any] = {
                "http.request.method": request.method,
                "url.full": request.url or self._base_url + request.path,
                **self._server,
                "hubengage.endpoint": request.endpoint,
                "hubengage.attempt": attempt,
                "hubengage.rate_limit.wait": rate_limit_wait,
            }
            if attempt > 1:
                attributes["http.request.resend_count"] = attempt - 1
            size = batch_size(request)
            if size is not None:
                attributes["hubengage.batch.size"] = size
            span = self._tracer.start_span(
                f"HubSpot {request.method} {request.endpoint or request.path}",
                kind=self._trace.SpanKind.CLIENT, attributes=attributes)
            token = self._context.attach(self._trace.set_span_in_context(span))
        except Exception:
            logger.exception("hubengage: OpenTelemetry failed to start a span; ignored")
            return _Attempt(self, request, None, None)
        return _Attempt(self, request, span, token)

    def retried(self, event: RetryEvent) -> None:
        """Count a retry."""
        try:
            self._retries.add(1, {"hubengage.endpoint": event.request.endpoint,
                                  "hubengage.retry.reason": event.reason})
        except Exception:
            logger.exception("hubengage: OpenTelemetry failed to count a retry; ignored")

    def _ended(
        self, attempt: _Attempt, response: Response | None, error: BaseException | None
    ) -> None:
        request, span = attempt.request, attempt.span
        attributes: dict[str, Any] = {"http.request.method": request.method,
                                      "hubengage.endpoint": request.endpoint}
        if response is not None:
            attributes["http.response.status_code"] = response.status
        if error is not None:
            attributes["error.type"] = (str(response.status) if response is not None
                                        else type(error).__name__)
        try:
            if span is not None:
                self._end_span(span, attributes, response, error)
        finally:
            # Whatever the span processors did: the attempt's span must not stay the
            # caller's current span (every later span of the task would nest under it).
            if attempt.token is not None:
                token, attempt.token = attempt.token, None
                self._context.detach(token)
            try:
                self._count(attempt, attributes, error)
            except Exception:
                logger.exception("hubengage: OpenTelemetry failed to record a request's "
                                 "metrics; ignored")

    def _end_span(self, span: Span, attributes: Mapping[str, Any],
                  response: Response | None, error: BaseException | None) -> None:
        if response is not None and response.correlation_id:
            span.set_attribute("hubengage.correlation_id", response.correlation_id)
        if isinstance(error, RateLimitError) and error.policy_name:
            span.set_attribute("hubengage.rate_limit.policy", error.policy_name)
        for key in ("http.response.status_code", "error.type"):
            if key in attributes:
                span.set_attribute(key, attributes[key])
        if error is not None:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR,
                                               _describe(error)))
        span.end()

    def _count(self, attempt: _Attempt, attributes: Mapping[str, Any],
               error: BaseException | None) -> None:
        request = attempt.request
        self._requests.add(1, attributes)
        self._duration.record(time.perf_counter() - attempt.started,
                              {**attributes, **self._server})
        if isinstance(error, RateLimitError):
            self._rate_limited.add(1, {"hubengage.endpoint": request.endpoint,
                                       "hubengage.rate_limit.policy":
                                           error.policy_name or "UNKNOWN"})


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


class _Attempt:
    """One attempt's span (the :class:`~hubengage._hooks.AttemptTrace` of :class:`OtelTracer`)."""

    __slots__ = ("request", "span", "started", "token", "tracer")

    def __init__(self, tracer: OtelTracer, request: Request, span: Span | None,
                 token: Token[Context] | None) -> None:
        self.tracer = tracer
        self.request = request
        self.span = span
        self.token = token
        self.started = time.perf_counter()

    def end(self, response: Response | None, error: BaseException | None) -> None:
        """End the span with the response, or the error the attempt failed with."""
        try:
            self.tracer._ended(self, response, error)
        except Exception:
            logger.exception("hubengage: OpenTelemetry failed to end a span; ignored")
