"""The batcher against the emulator: generated interleavings of creates, updates, archives
and reads with invalid items mixed in, shuffled results, both trace-id settings and injected
faults. Every call must resolve exactly once with its own record or its own error, every
successful create must exist exactly once in the store, and nothing else may be written."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubengage import (
    HubEngageError,
    HubSpot,
    InvalidInputError,
    NotFoundError,
    RateLimits,
    RetryConfig,
    ValidationError,
)
from hubengage.emulator import Emulator, EmulatorConfig, Fault

TS = "2026-01-15T10:00:00.000Z"
# 1000 per 10 ms: never a wait here, and a 429 without Retry-After (an injected fault) pauses
# the client for one interval: 10 ms, not a real second per fault.
LIMITS = RateLimits(requests_per_interval=1000, interval_seconds=0.01)
RETRY = RetryConfig(max_attempts=12, initial_backoff=0.001, max_backoff=0.004)

# A plan for one record: how its create goes wrong (if at all), then what happens to it.
create_kind = st.sampled_from(["ok", "ok", "ok", "ok", "client-invalid", "server-invalid"])
follow_up = st.lists(st.sampled_from(["update", "read", "archive"]), max_size=3)
plans = st.lists(st.tuples(create_kind, follow_up), min_size=1, max_size=40)
fault_sets = st.lists(st.sampled_from(["429", "502", "503", "504", "drop"]), max_size=3,
                      unique=True)


def email(tag: str, kind: str) -> dict[str, str]:
    props = {"hs_timestamp": TS, "hs_email_direction": "EMAIL", "hs_email_subject": tag}
    if kind == "client-invalid":
        del props["hs_email_direction"]
    elif kind == "server-invalid":
        props["no_such_property"] = "x"
    return props


async def scenario(plan: list[tuple[str, list[str]]], echo: bool, faults: list[str],
                   missing_reads: int) -> None:
    config = EmulatorConfig(
        burst_limit=0, echo_trace_ids=echo, shuffle_results=True, seed=1,
        faults=tuple(Fault(kind, 0.15, "batch") for kind in faults),
    )
    resolutions: dict[str, int] = {}

    def resolved(key: str) -> None:
        resolutions[key] = resolutions.get(key, 0) + 1

    async with Emulator(config) as emu:
        async with HubSpot(access_token="t", base_url=emu.url, rate_limits=LIMITS,
                           retry=RETRY, timeout=5.0) as hs:

            async def life(n: int, kind: str, steps: list[str]) -> dict[str, Any]:
                tag = f"rec-{n}"
                try:
                    rec = await hs.emails.create(email(tag, kind))
                except InvalidInputError:
                    resolved(tag)
                    assert kind == "client-invalid"
                    return {"tag": tag, "id": None}
                except ValidationError:
                    resolved(tag)
                    assert kind == "server-invalid"
                    return {"tag": tag, "id": None}
                resolved(tag)
                assert kind == "ok"
                assert rec.properties["hs_email_subject"] == tag  # its own record
                subject, archived = tag, False
                for i, step in enumerate(steps):
                    key = f"{tag}/{i}"
                    if step == "update":
                        subject = f"{tag}-u{i}"
                        try:
                            up = await hs.emails.update(rec.id, {"hs_email_subject": subject})
                        except NotFoundError:
                            resolved(key)
                            assert archived
                            subject = "?"
                            continue
                        resolved(key)
                        assert not archived
                        assert up.id == rec.id and up.properties["hs_email_subject"] == subject
                    elif step == "read":
                        try:
                            got = await hs.emails.get(rec.id, properties=["hs_email_subject"])
                        except NotFoundError:
                            resolved(key)
                            assert archived
                            continue
                        resolved(key)
                        assert got.id == rec.id
                        assert got.properties["hs_email_subject"] == subject
                    else:
                        await hs.emails.archive(rec.id)
                        resolved(key)
                        archived = True
                return {"tag": tag, "id": rec.id, "archived": archived, "subject": subject}

            async def read_missing(i: int) -> None:
                with pytest.raises(NotFoundError):
                    await hs.emails.get(str(900_000_000 + i))  # never handed out
                resolved(f"missing-{i}")

            lives = [life(n, kind, steps) for n, (kind, steps) in enumerate(plan)]
            results = await asyncio.gather(*lives, *(read_missing(i)
                                                     for i in range(missing_reads)))
        expected_calls = sum(1 + len(steps) if kind == "ok" else 1 for kind, steps in plan)
        assert sum(resolutions.values()) == expected_calls + missing_reads
        assert all(count == 1 for count in resolutions.values())

        stored = emu.records("emails")
        by_subject: dict[str, list[dict[str, Any]]] = {}
        for raw in stored:
            tag = raw["properties"]["hs_email_subject"].split("-u")[0]
            by_subject.setdefault(tag, []).append(raw)
        created = [r for r in results[: len(plan)] if r and r["id"] is not None]
        assert {r["tag"] for r in created} == set(by_subject), "nothing else was written"
        for r in created:
            (raw,) = by_subject[r["tag"]]  # exactly once
            assert str(raw["id"]) == r["id"]
            assert bool(raw.get("archived")) == r["archived"]


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(plan=plans, echo=st.booleans(), faults=fault_sets,
       missing_reads=st.integers(min_value=0, max_value=3))
def test_every_call_resolves_once_with_its_own_outcome(
    plan: list[tuple[str, list[str]]], echo: bool, faults: list[str], missing_reads: int
) -> None:
    asyncio.run(scenario(plan, echo, faults, missing_reads))


@pytest.mark.hubspot_emulator(burst_limit=0)
async def test_1000_concurrent_creates_take_at_most_10_batch_requests(
    hubspot_emulator: Emulator,
) -> None:
    async with HubSpot(access_token="t", base_url=hubspot_emulator.url, rate_limits=LIMITS,
                       retry=RETRY) as hs:
        recs = await asyncio.gather(*(hs.emails.create(email(f"c{i}", "ok"))
                                      for i in range(1000)))
        assert hs.stats.requests_for("batch/create") <= 10
    assert [r.properties["hs_email_subject"] for r in recs] == [f"c{i}" for i in range(1000)]
    assert len(hubspot_emulator.records("emails")) == 1000


@pytest.mark.hubspot_emulator(burst_limit=10, burst_interval=0.05)
async def test_saturated_client_sends_full_batches_with_zero_429s(
    hubspot_emulator: Emulator,
) -> None:
    limits = RateLimits(requests_per_interval=10, interval_seconds=0.05)
    async with HubSpot(access_token="t", base_url=hubspot_emulator.url, rate_limits=limits,
                       retry=RETRY) as hs:
        await asyncio.gather(*(hs.notes.create({"hs_timestamp": TS, "hs_note_body": f"{i}"})
                               for i in range(3000)))
        sizes = hs.stats.batch_sizes
        assert hs.stats.total_rate_limited == 0
    assert sizes[100] >= 28


@pytest.mark.hubspot_emulator(burst_limit=0, faults=(Fault("commit-then-502", 1.0, "batch"),))
async def test_commit_then_fail_is_retried_and_reported_not_hidden(
    hubspot_emulator: Emulator,
) -> None:
    # The emulator stores the batch and then answers 502 every time: the client retries
    # (a create is not idempotent), and in the end the caller gets the ServerError.
    retry = RetryConfig(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)
    async with HubSpot(access_token="t", base_url=hubspot_emulator.url, rate_limits=LIMITS,
                       retry=retry) as hs:
        with pytest.raises(HubEngageError) as info:
            await hs.notes.create({"hs_timestamp": TS, "hs_note_body": "dup"})
    assert "502" in str(info.value)
    assert len(hubspot_emulator.records("notes")) == 3  # written once per attempt
