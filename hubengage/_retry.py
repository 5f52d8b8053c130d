"""The retry policy: a pure function from (error, attempt, time spent) to retry-or-not and a wait.

No I/O here; the pipeline sleeps. What is retried (``docs/hubspot-wire.md`` §4, §6.3):

- 429 ``TEN_SECONDLY_ROLLING`` (or a 429 without a policy): at once, or after ``Retry-After``;
  the rate limiter pauses the bucket for the rest of the window, so the retry waits there.
- 429 from the search API (``secondly limit``): after ``Retry-After`` or one second.
- 423 Locked: at least ``locked_backoff`` (HubSpot: "locks last for 2 seconds").
- 477 Migration in Progress: after ``Retry-After`` when it fits the time budget.
- 5xx (HTML from HubSpot's edge, 502/503/504/52x), dropped connections and timeouts:
  exponential backoff with full jitter (``backoff.expo`` + ``backoff.full_jitter``'s formula
  with an injectable random source).

Never retried: ``DAILY`` 429s (the quota resets at midnight), 400/401/403/404/409 and every
other 4xx, and ``InvalidInputError``. Every retry is bounded by ``max_attempts`` and by
``max_elapsed_seconds`` measured from the first attempt.

A retried write may duplicate a create whose first attempt reached HubSpot but whose response
was lost (a timeout, a dropped connection, a 502 after commit). HubSpot has no idempotency
key, so the SDK cannot rule this out; ``hubengage import --id-property`` writes by upsert for
exactly-once, and the README says so.
"""

from __future__ import annotations

import random

import attrs
import backoff
from attrs.validators import ge

from ._constants import (
    DEFAULT_INITIAL_BACKOFF,
    DEFAULT_LOCKED_BACKOFF,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_ELAPSED_SECONDS,
    DEFAULT_MAX_RETRY_AFTER,
    SEARCH_RETRY_DELAY,
)
from ._errors import (
    DailyLimitError,
    HubEngageError,
    InvalidInputError,
    RateLimitError,
    ServerError,
    TransportError,
    invalid_input,
)

__all__ = ["RetryConfig", "RetryDecision", "RetryPolicy", "may_have_been_processed"]



def may_have_been_processed(error: BaseException) -> bool:
    """Could HubSpot have carried out a request that failed with ``error``?

    True for a response that never came (timeout, dropped connection after connecting) and
    for a 5xx (HubSpot may have written the batch before its edge failed). False for a
    request that never connected, a 429, a 423/477 and any 4xx: those were refused.
    A create retried after such a failure may exist twice.
    """
    if isinstance(error, TransportError):
        return error.may_have_reached
    return isinstance(error, ServerError) and error.status >= 500


_NOT_NEGATIVE = invalid_input(ge(0))


@attrs.frozen(kw_only=True)
class RetryConfig:
    """How hard to retry. ``max_attempts`` counts the first try (1 = never retry).

    Backoff for 5xx and connection failures is ``initial_backoff * 2**(attempt-1)`` capped at
    ``max_backoff`` seconds, with full jitter (a uniform wait between 0 and that) unless
    ``jitter=False``. ``max_elapsed_seconds`` bounds the total time spent on one request,
    waits for the rate-limit budget included. A ``Retry-After`` header (and the rate-limit
    pause after a 429) is obeyed for at most ``max_retry_after`` seconds.
    """

    max_attempts: int = attrs.field(default=DEFAULT_MAX_ATTEMPTS, validator=invalid_input(ge(1)))
    max_elapsed_seconds: float = attrs.field(
        default=DEFAULT_MAX_ELAPSED_SECONDS,
        validator=_NOT_NEGATIVE,
    )
    initial_backoff: float = attrs.field(default=DEFAULT_INITIAL_BACKOFF, validator=_NOT_NEGATIVE)
    max_backoff: float = attrs.field(default=DEFAULT_MAX_BACKOFF, validator=_NOT_NEGATIVE)
    locked_backoff: float = attrs.field(default=DEFAULT_LOCKED_BACKOFF, validator=_NOT_NEGATIVE)
    jitter: bool = True
    max_retry_after: float = attrs.field(default=DEFAULT_MAX_RETRY_AFTER, validator=_NOT_NEGATIVE)


@attrs.frozen
class RetryDecision:
    """``retry``: try again; ``delay``: seconds to wait first; ``reason``: for the log."""

    retry: bool
    delay: float = 0.0
    reason: str = ""


class RetryPolicy:
    """Decides, for one failed attempt, whether and when to try again. Pure but for ``rng``."""

    def __init__(self, config: RetryConfig | None = None, *, rng: random.Random | None = None):
        self.config = config or RetryConfig()
        self._rng = rng or random.Random()

    def decide(self, error: BaseException, attempt: int, elapsed: float) -> RetryDecision:
        """The decision after attempt number ``attempt`` (1-based) failed with ``error``."""
        config = self.config
        wait, reason = self._wait(error, attempt)
        if wait is None:
            return RetryDecision(False, reason=reason)
        if attempt >= config.max_attempts:
            return RetryDecision(False, reason=f"{reason}; {attempt} attempts made")
        if elapsed + wait > config.max_elapsed_seconds:
            return RetryDecision(
                False, reason=f"{reason}; would exceed {config.max_elapsed_seconds}s"
            )
        return RetryDecision(True, wait, reason)

    def backoff(self, attempt: int) -> float:
        """The exponential wait before retry number ``attempt``, jittered per the config."""
        config = self.config
        gen = backoff.expo(base=2, factor=config.initial_backoff, max_value=config.max_backoff)
        gen.send(None)  # backoff's wait generators start with a priming yield
        value = 0.0
        for _ in range(max(1, attempt)):
            value = float(next(gen))
        return self._rng.uniform(0, value) if config.jitter else value

    def _capped(self, retry_after: float) -> float:
        return min(retry_after, self.config.max_retry_after)

    def _wait(self, error: BaseException, attempt: int) -> tuple[float | None, str]:
        if isinstance(error, InvalidInputError) or not isinstance(error, HubEngageError):
            return None, "not retryable"
        if isinstance(error, DailyLimitError):
            return None, "daily quota spent"
        if isinstance(error, RateLimitError):
            if error.is_search_limit:
                after = error.retry_after
                return (SEARCH_RETRY_DELAY if after is None else self._capped(after),
                        "search rate limit")
            return (self._capped(error.retry_after or 0.0),
                    f"rate limited ({error.policy_name or '429'})")
        if isinstance(error, TransportError):
            return self.backoff(attempt), "no response"
        if isinstance(error, ServerError):
            if error.status == 423:
                return max(self.config.locked_backoff, self.backoff(attempt)), "423 locked"
            if error.status == 477:
                after = error.retry_after
                return (self.backoff(attempt) if after is None else self._capped(after),
                        "477 migrating")
            if error.status >= 500:
                return self.backoff(attempt), f"HTTP {error.status}"
        return None, "not retryable"

