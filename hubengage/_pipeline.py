"""The request pipeline: RateLimiter.acquire → Transport.send → classify → RetryPolicy.

Every HTTP request the SDK makes, single or batch, goes through :meth:`RequestPipeline.send`,
so rate limiting, retries, error classification and request stats live in exactly one loop.
It returns a 2xx response (207 included: the multi-status decoder reads it) or raises the
final error. It does not parse success bodies.
"""

from __future__ import annotations

import asyncio
import logging

import attrs

from ._clock import Clock
from ._errors import (
    ClientClosedError,
    HubEngageError,
    RateLimitError,
    TransportError,
    error_from_response,
)
from ._limiter import Bucket, RateLimiter, Slot
from ._retry import RetryPolicy, may_have_been_processed
from ._stats import ClientStats
from ._transport import Request, Response, Transport

__all__ = ["RequestPipeline"]

logger = logging.getLogger("hubengage")

#: The status recorded in stats for a request that got no response.
NO_RESPONSE = 0


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
    ) -> None:
        self.transport = transport
        self.limiter = limiter
        self.retry = retry
        self.clock = clock
        self.stats = stats
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
        self, request: Request, *, bucket: Bucket = Bucket.BURST, slot: Slot | None = None
    ) -> Response:
        """Send ``request`` until it succeeds or the retry policy gives up.

        Returns the first 2xx response. Raises the last ``HubEngageError`` when the policy
        says stop, ``DailyLimitError`` at once (nothing sent) when the daily quota is spent,
        and ``DeadlineExceededError`` when the time budget of the retry policy runs out
        while waiting for the rate limiter. Cancellation propagates untouched and frees the
        limiter slot. ``slot`` is a limiter slot the caller already holds for the first
        attempt (the batcher takes its slot before it drains its queue); retries take fresh
        slots. A response that follows failed attempts HubSpot may have processed carries
        their count in ``uncertain_attempts``.
        """
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._send(request, bucket, slot)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _send(self, request: Request, bucket: Bucket, slot: Slot | None) -> Response:
        started = self.clock.now()
        deadline = started + self.retry.config.max_elapsed_seconds
        attempt = 0
        uncertain = 0
        while True:
            attempt += 1
            outcome = await self._attempt(request, bucket, slot, deadline)
            slot = None
            if isinstance(outcome, Response):
                if uncertain:
                    return attrs.evolve(outcome, uncertain_attempts=uncertain)
                return outcome
            if may_have_been_processed(outcome):
                uncertain += 1
            decision = self.retry.decide(outcome, attempt, self.clock.now() - started)
            if not decision.retry:
                raise outcome
            paused = self.limiter.paused_for(bucket)
            if self.closing and (decision.delay > 0 or paused > 0):
                raise outcome  # closing waits out no backoff and no pause
            self.stats.retries += 1
            logger.warning(
                "retrying %s (attempt %d failed: %s; %s); next attempt in %.2fs%s",
                request.describe(),
                attempt,
                outcome,
                decision.reason,
                max(decision.delay, paused),
                " (the rate window is paused after a 429)" if paused > decision.delay else "",
            )
            if decision.delay > 0 and not await self._sleep(decision.delay):
                raise outcome

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
        self, request: Request, bucket: Bucket, slot: Slot | None, deadline: float
    ) -> Response | HubEngageError:
        """One try: a slot, a send, a classification. Returns the response or the error."""
        if slot is None:
            slot = await self.limiter.acquire(bucket, deadline=deadline)
        try:
            response = await self.transport.send(request)
        except TransportError as exc:
            self.limiter.release(slot, None)
            self.stats.requests[(request.endpoint, NO_RESPONSE)] += 1
            return exc
        except ClientClosedError:
            self.limiter.abandon(slot)  # nothing was sent
            raise
        except asyncio.CancelledError:
            # The request may have reached HubSpot: keep the slot in the window.
            self.limiter.release(slot, None)
            raise
        self.limiter.release(slot, response.headers)
        self.stats.requests[(request.endpoint, response.status)] += 1
        if response.ok:
            return response
        error = error_from_response(response.status, response.headers, response.body)
        if isinstance(error, RateLimitError):
            policy = error.policy_name or ("SEARCH" if error.is_search_limit else "UNKNOWN")
            self.stats.rate_limited[policy] += 1
            self.limiter.on_rate_limited(error, bucket)
        return error
