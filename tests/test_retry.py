"""The retry policy as a table: what is retried, how long to wait, when to stop."""

from __future__ import annotations

import random

import pytest

from hubengage import RetryConfig
from hubengage._errors import (
    AuthenticationError,
    ConflictError,
    DailyLimitError,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    TransportTimeoutError,
    ValidationError,
)
from hubengage._retry import SEARCH_RETRY_DELAY, RetryPolicy

NO_JITTER = RetryConfig(jitter=False, initial_backoff=0.5, max_backoff=30.0)


def policy(config: RetryConfig = NO_JITTER) -> RetryPolicy:
    return RetryPolicy(config, rng=random.Random(1))


@pytest.mark.parametrize(
    ("error", "retry", "delay"),
    [
        (RateLimitError("x", status=429, policy_name="TEN_SECONDLY_ROLLING"), True, 0.0),
        (RateLimitError("x", status=429, policy_name="TEN_SECONDLY_ROLLING", retry_after=3),
         True, 3.0),
        (RateLimitError("You have reached your secondly limit.", status=429,
                        category="RATE_LIMITS"), True, SEARCH_RETRY_DELAY),
        (DailyLimitError("x", status=429, policy_name="DAILY"), False, 0.0),
        (ServerError("Bad Gateway", status=502), True, 0.5),
        (ServerError("x", status=503), True, 0.5),
        (ServerError("x", status=524), True, 0.5),
        (ServerError("locked", status=423), True, 2.0),
        (ServerError("migrating", status=477, retry_after=7), True, 7.0),
        (TransportError("reset", method="POST", path="/x"), True, 0.5),
        (TransportTimeoutError("timeout", method="POST", path="/x"), True, 0.5),
        (ValidationError("x", status=400), False, 0.0),
        (AuthenticationError("x", status=401), False, 0.0),
        (NotFoundError("x", status=404), False, 0.0),
        (ConflictError("x", status=409), False, 0.0),
        (InvalidInputError("x", field="f"), False, 0.0),
        (RuntimeError("bug"), False, 0.0),
    ],
)
def test_first_failure(error: BaseException, retry: bool, delay: float) -> None:
    decision = policy().decide(error, attempt=1, elapsed=0.0)
    assert decision.retry is retry
    if retry:
        assert decision.delay == pytest.approx(delay)


def test_backoff_doubles_up_to_the_cap() -> None:
    p = policy(RetryConfig(jitter=False, initial_backoff=0.5, max_backoff=4.0, max_attempts=10))
    err = ServerError("x", status=502)
    assert [p.decide(err, a, 0.0).delay for a in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


def test_full_jitter_stays_within_the_exponential_bound() -> None:
    p = RetryPolicy(RetryConfig(initial_backoff=1.0, max_backoff=8.0, max_attempts=10),
                    rng=random.Random(3))
    err = ServerError("x", status=503)
    for attempt in range(1, 8):
        delays = {p.decide(err, attempt, 0.0).delay for _ in range(50)}
        assert all(0 <= d <= min(8.0, 2 ** (attempt - 1)) for d in delays)
        assert len(delays) > 1


def test_stops_after_max_attempts() -> None:
    p = policy(RetryConfig(max_attempts=3, jitter=False))
    err = ServerError("x", status=502)
    assert p.decide(err, 2, 0.0).retry
    last = p.decide(err, 3, 0.0)
    assert not last.retry and "3 attempts" in last.reason


def test_stops_when_the_wait_would_exceed_the_time_budget() -> None:
    p = policy(RetryConfig(max_elapsed_seconds=10, jitter=False))
    err = ServerError("x", status=477, retry_after=3600)
    assert not p.decide(err, 1, 0.0).retry


def test_config_is_validated() -> None:
    with pytest.raises(InvalidInputError, match="max_attempts"):
        RetryConfig(max_attempts=0)
