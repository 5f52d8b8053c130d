"""The request pipeline: one loop of budget slot → transport → classify → retry policy.

Every HTTP request the SDK makes, single or batch, goes through :meth:`RequestPipeline.send`,
so rate limiting, retries, error classification and request stats live in exactly one loop,
and only this module takes and returns rate-limit slots. The batcher, which wants its slot
*before* it drains its queue (whatever queued meanwhile rides along), asks for one with
:meth:`RequestPipeline.reserve` and sends through the :class:`Reservation`. The pipeline
returns a 2xx response (207 included: the multi-status decoder reads it) or raises the
final error; it does not parse success bodies.

Per-call options (:class:`RequestOptions`, from ``hs.with_options(...)``) reach it with each
request: the retry policy and the per-attempt timeout that request is sent under. Every
attempt is also where the event hooks (``_hooks``) and the tracing integration (``_otel``)
are told what happens: request, response, retry.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import attrs
from attrs.validators import instance_of, optional

from ._clock import Clock
from ._errors import (
    ClientClosedError,
    HubEngageError,
    InvalidInputError,
    RateLimitError,
    TransportError,
    error_from_response,
    invalid_input,
)
from ._hooks import HookRunner, RetryEvent, Tracer
from ._limiter import Bucket, RateLimiter, Slot
from ._retry import RetryConfig, RetryPolicy, may_have_been_processed
from ._stats import ClientStats
from ._transport import Request, Response, Transport

__all__ = ["RequestOptions", "RequestPipeline", "Reservation"]

logger = logging.getLogger("hubengage")

#: The status recorded in stats for a request that got no response.
NO_RESPONSE = 0


def _seconds(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidInputError(f"must be a positive number of seconds, not {value!r}",
                                field="timeout")
    return float(value)


@attrs.frozen(kw_only=True)
class RequestOptions:
    """Options for the requests of some calls, set with ``hs.with_options(...)``.

    ``timeout`` bounds each HTTP attempt in seconds (shorter or longer than the client's
    ``timeout``; None: the client's). ``retry`` replaces the client's :class:`RetryConfig`
    for those requests: attempts, backoff, and ``max_elapsed_seconds``, the bound on all of
    one request's attempts and its waits for the rate budget. The rate budget itself, and the
    pause after a 429, are the client's and shared by every call.
    """

    timeout: float | None = attrs.field(default=None, converter=_seconds)
    retry: RetryConfig | None = attrs.field(
        default=None, validator=invalid_input(optional(instance_of(RetryConfig))))


class RequestPipeline:
    """Sends requests under the rate limiter, classifies failures and retries per policy."""

    def __init__(
        self,
        *,
        transport: Transport,
        limiter: RateLimiter,
        retry: RetryPolicy,
        clock: Clock,
        stats: ClientStats,
        hooks: HookRunner | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.transport = transport
        self.limiter = limiter
        self.retry = retry
        self.clock = clock
        self.stats = stats
        #: The client's event hooks (None or empty: none).
        self.hooks = hooks if hooks else None
        #: The tracing integration, if any (``HubSpot(tracer_provider=...)``).
        self.tracer = tracer
        self._policies: dict[RetryConfig, RetryPolicy] = {retry.config: retry}
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing: asyncio.Event | None = None

    @property
    def closing(self) -> bool:
        """True once :meth:`begin_close` was called."""
        return self._closing is not None and self._closing.is_set()

    def begin_close(self) -> None:
        """From now on no retry backoff or rate-limit pause is waited out.

        A request that would have to wait for one ends with its last error (a limiter wait
        during a pause ends with ``ClientClosedError``: nothing was sent), so closing the
        client is never held up by a ``Retry-After`` or a backoff.
        """
        if self._closing is None:
            self._closing = asyncio.Event()
        self._closing.set()
        self.limiter.begin_close()

    async def wait_idle(self) -> None:
        """Wait until no request is in this pipeline (sending, retrying or waiting)."""
        await self._idle.wait()

    async def send(
        self, request: Request, *, bucket: Bucket = Bucket.BURST,
        options: RequestOptions | None = None,
    ) -> Response:
        """Send ``request`` until it succeeds or the retry policy gives up.

        Returns the first 2xx response. Raises the last ``HubEngageError`` when the policy
        says stop, ``DailyLimitError`` at once (nothing sent) when the daily quota is spent,
        and ``DeadlineExceededError`` when the time budget of the retry policy runs out
        while waiting for the rate limiter. Cancellation propagates untouched and frees the
        limiter slot. A response that follows failed attempts HubSpot may have processed
        carries their count in ``uncertain_attempts``. ``options`` (per-call options)
        replace the client's retry policy and timeout for this request.
        """
        self._enter()
        try:
            return await self._send(request, bucket, None, options)
        finally:
            self._leave()

    async def reserve(
        self, bucket: Bucket = Bucket.BURST, *, options: RequestOptions | None = None
    ) -> Reservation:
        """Wait for a slot for a request still to be built (the batcher's "slot, then drain").

        Raises as :meth:`send` does while waiting (daily quota, deadline, closing). The
        reservation must end with :meth:`Reservation.send` or :meth:`Reservation.abandon`;
        the request is sent under ``options``.
        """
        self._enter()
        try:
            asked = self.clock.now()
            deadline = asked + self.policy(options).config.max_elapsed_seconds
            slot = await self.limiter.acquire(bucket, deadline=deadline)
        except BaseException:
            self._leave()
            raise
        return Reservation(self, bucket, slot, options, self.clock.now() - asked)

    def policy(self, options: RequestOptions | None) -> RetryPolicy:
        """The retry policy for requests sent under ``options`` (the client's by default)."""
        if options is None or options.retry is None:
            return self.retry
        policy = self._policies.get(options.retry)
        if policy is None:
            # Same random source as the client's policy (tests seed it there).
            policy = RetryPolicy(options.retry, rng=self.retry._rng)
            if len(self._policies) < 64:  # options are few; never grow without bound
                self._policies[options.retry] = policy
        return policy

    def pacing_delay(self, bucket: Bucket = Bucket.BURST) -> float:
        """Seconds a partial batch should linger before it is sent (see ``_limiter``)."""
        return self.limiter.pacing_delay(bucket)

    def spend_pacing(self, bucket: Bucket = Bucket.BURST) -> None:
        """A partial batch is being sent: spend a unit of the pacing budget."""
        self.limiter.spend_pacing(bucket)

    def _enter(self) -> None:
        self._in_flight += 1
        self._idle.clear()

    def _leave(self) -> None:
        self._in_flight -= 1
        if not self._in_flight:
            self._idle.set()

    async def _send(
        self, request: Request, bucket: Bucket, slot: Slot | None,
        options: RequestOptions | None, waited: float = 0.0,
    ) -> Response:
        policy = self.policy(options)
        if options is not None and options.timeout is not None and request.timeout is None:
            request = request.replace(timeout=options.timeout)
        started = self.clock.now()
        deadline = started + policy.config.max_elapsed_seconds
        attempt = 0
        uncertain = 0
        while True:
            attempt += 1
            outcome = await self._attempt(request, bucket, slot, deadline, attempt, waited)
            slot, waited = None, 0.0
            if isinstance(outcome, Response):
                if uncertain:
                    return attrs.evolve(outcome, uncertain_attempts=uncertain)
                return outcome
            if may_have_been_processed(outcome):
                uncertain += 1
            decision = policy.decide(outcome, attempt, self.clock.now() - started)
            if not decision.retry:
                raise outcome
            paused = self.limiter.paused_for(bucket)
            if self.closing and (decision.delay > 0 or paused > 0):
                raise outcome  # closing waits out no backoff and no pause
            self.stats.retries += 1
            wait = max(decision.delay, paused)
            logger.warning(
                "retrying %s (attempt %d failed: %s; %s); next attempt in %.2fs%s",
                request.describe(),
                attempt,
                outcome,
                decision.reason,
                wait,
                " (the rate window is paused after a 429)" if paused > decision.delay else "",
            )
            await self._retrying(RetryEvent(request=request, attempt=attempt, wait=wait,
                                            reason=decision.reason, error=outcome))
            if decision.delay > 0 and not await self._sleep(decision.delay):
                raise outcome

    async def _retrying(self, event: RetryEvent) -> None:
        if self.tracer is not None:
            self.tracer.retried(event)
        if self.hooks is not None:
            await self.hooks.retry(event)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep on the clock; False when the client began closing meanwhile."""
        if self._closing is None:
            self._closing = asyncio.Event()
        loop = asyncio.get_running_loop()
        sleeper = loop.create_task(self.clock.sleep(seconds))
        closing = loop.create_task(self._closing.wait())
        try:
            await asyncio.wait((sleeper, closing), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, closing):
                if not task.done():
                    task.cancel()
            await asyncio.wait((sleeper, closing))
        return not self.closing

    async def _attempt(
        self, request: Request, bucket: Bucket, slot: Slot | None, deadline: float,
        attempt: int, waited: float,
    ) -> Response | HubEngageError:
        """One try: a slot, a send, a classification. Returns the response or the error.

        ``waited`` is the time spent for ``slot`` when it was reserved before.
        """
        if slot is None:
            asked = self.clock.now()
            slot = await self.limiter.acquire(bucket, deadline=deadline)
            waited = self.clock.now() - asked
        if self.hooks is not None:
            try:
                request = await self.hooks.request(request)
            except BaseException:  # cancelled in a hook: nothing was sent
                await self.limiter.abandon(slot)
                raise
        trace = (self.tracer.start(request, attempt=attempt, rate_limit_wait=waited)
                 if self.tracer is not None else None)
        sent_at = self.clock.now()
        try:
            response = await self.transport.send(request)
        except TransportError as exc:
            if trace is not None:
                trace.end(None, exc)
            await self.limiter.release(slot, None)
            self.stats.requests[(request.endpoint, NO_RESPONSE)] += 1
            return exc
        except ClientClosedError as exc:
            if trace is not None:
                trace.end(None, exc)
            await self.limiter.abandon(slot)  # nothing was sent
            raise
        except asyncio.CancelledError as exc:
            if trace is not None:
                trace.end(None, exc)
            # The request may have reached HubSpot: keep the slot in the window.
            await self.limiter.release(slot, None)
            raise
        except BaseException as exc:  # a transport's bug: its span ends all the same
            if trace is not None:
                trace.end(None, exc)
            # Whether it reached HubSpot is unknown: the slot stays in the window as if sent,
            # then frees as any other (a kept slot would block every later call).
            await self.limiter.release(slot, None)
            raise
        await self.limiter.release(
            slot, response.headers, sent_at=sent_at, received_at=self.clock.now(),
            server_times=server_times(response.body) if response.ok else None,
        )
        self.stats.requests[(request.endpoint, response.status)] += 1
        error = (None if response.ok
                 else error_from_response(response.status, response.headers, response.body))
        if isinstance(error, RateLimitError):  # the pause first: no hook may delay it
            policy = error.policy_name or ("SEARCH" if error.is_search_limit else "UNKNOWN")
            self.stats.rate_limited[policy] += 1
            await self.limiter.on_rate_limited(error, bucket)
        if trace is not None:
            trace.end(response, error)
        if self.hooks is not None:
            await self.hooks.response(request, response)
        return response if error is None else error


class Reservation:
    """A rate-limit slot held for one request that is not built yet.

    Obtained from :meth:`RequestPipeline.reserve`; ended exactly once, by :meth:`send` (the
    first attempt uses the slot, retries take fresh ones) or :meth:`abandon` (nothing to
    send: the slot is given back at once).
    """

    __slots__ = ("_bucket", "_options", "_pipeline", "_slot", "_waited")

    def __init__(
        self, pipeline: RequestPipeline, bucket: Bucket, slot: Slot,
        options: RequestOptions | None = None, waited: float = 0.0,
    ) -> None:
        self._pipeline = pipeline
        self._bucket = bucket
        self._slot: Slot | None = slot
        self._options = options
        self._waited = waited

    async def send(self, request: Request) -> Response:
        """Send ``request`` as :meth:`RequestPipeline.send` does, on the reserved slot."""
        slot, self._slot = self._slot, None
        if slot is None:
            raise RuntimeError("this reservation was already used")
        try:
            return await self._pipeline._send(request, self._bucket, slot, self._options,
                                              self._waited)
        finally:
            self._pipeline._leave()

    async def abandon(self) -> None:
        """Give the slot back unused. Idempotent; a no-op after :meth:`send`."""
        slot, self._slot = self._slot, None
        if slot is not None:
            self._pipeline._leave()
            await self._pipeline.limiter.abandon(slot)


_STARTED, _COMPLETED = b'"startedAt"', b'"completedAt"'


def server_times(body: bytes) -> tuple[float, float] | None:
    """A batch answer's ``(startedAt, completedAt)`` as epoch seconds on HubSpot's clock, or
    None when the body does not carry both (single-record answers, errors)."""
    started = _timestamp_after(body, body.rfind(_STARTED), len(_STARTED))
    if started is None:
        return None
    completed = _timestamp_after(body, body.rfind(_COMPLETED), len(_COMPLETED))
    if completed is None or completed < started:
        return None
    return started.timestamp(), completed.timestamp()


def _timestamp_after(body: bytes, at: int, skip: int) -> datetime | None:
    if at < 0:
        return None
    start = body.find(b'"', at + skip)
    end = body.find(b'"', start + 1)
    if start < 0 or end < 0 or end - start > 40:
        return None
    try:
        return datetime.fromisoformat(body[start + 1:end].decode())
    except (ValueError, UnicodeDecodeError):
        return None
