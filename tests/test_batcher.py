"""The batcher against a scripted transport: coalescing, mapping, bisection, ordering,
cancellation, backpressure and close. (The same behaviours against the emulator, with
shuffled results and faults, are in ``test_batcher_emulator.py``.)"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any

import pytest

from hubengage import (
    AuthenticationError,
    ClientClosedError,
    HubEngageError,
    MalformedResponseError,
    NewRecord,
    NotFoundError,
    OutcomeUnknownError,
    RateLimits,
    RecordUpdate,
    Request,
    Response,
    ServerError,
    ValidationError,
    WithdrawnError,
)
from hubengage._errors import TransportError
from tests._clock import ManualClock, settle
from tests._fakes import (
    MiniHubSpot,
    ScriptedTransport,
    client,
    email,
    json_response,
    wait_until,
)

#: Budgets that never make a test wait (for tests that are not about the rate limits).
UNLIMITED = RateLimits(requests_per_interval=1_000_000, interval_seconds=1.0, daily=None)


async def test_lone_call_on_an_idle_client_is_sent_without_waiting() -> None:
    # A manual clock that nobody advances: any linger or timer would hang this call.
    transport = ScriptedTransport()
    async with client(transport, clock=ManualClock()) as hs:
        rec = await asyncio.wait_for(hs.emails.create(email("hello")), timeout=5)
    assert rec.properties["hs_email_subject"] == "hello"
    assert transport.batches("create") == [[transport.requests[0].json["inputs"][0]]]


async def test_calls_made_in_the_same_tick_share_a_batch() -> None:
    transport = ScriptedTransport()
    async with client(transport) as hs:
        recs = await asyncio.gather(*(hs.emails.create(email(f"s{i}")) for i in range(250)))
    assert [r.properties["hs_email_subject"] for r in recs] == [f"s{i}" for i in range(250)]
    assert [len(b) for b in transport.batches("create")] == [100, 100, 50]
    assert len({r.id for r in recs}) == 250


@pytest.mark.parametrize("echo", [True, False])
async def test_results_are_mapped_by_trace_id_or_properties_never_by_position(
    echo: bool,
) -> None:
    # MiniHubSpot answers in reverse order; without echo the batcher matches properties.
    transport = ScriptedTransport(MiniHubSpot(echo_trace_ids=echo, reverse=True))
    async with client(transport) as hs:
        recs = await asyncio.gather(*(hs.notes.create(
            {"hs_timestamp": "2026-01-15T10:00:00.000Z", "hs_note_body": f"n{i}"}
        ) for i in range(30)))
    assert [r.properties["hs_note_body"] for r in recs] == [f"n{i}" for i in range(30)]


async def test_identical_creates_never_share_a_batch_until_trace_ids_are_known_echoed() -> None:
    transport = ScriptedTransport(MiniHubSpot(echo_trace_ids=False))
    async with client(transport) as hs:
        recs = await asyncio.gather(*(hs.emails.create(email("same")) for _ in range(3)))
    assert len({r.id for r in recs}) == 3
    assert [len(b) for b in transport.batches("create")] == [1, 1, 1]


async def test_unmatchable_result_fails_with_outcome_unknown_not_a_guess() -> None:
    async def handler(request: Request) -> Response:
        results = [{"id": str(900 + i), "properties": {"hs_email_subject": "rewritten"},
                    "createdAt": "2026-01-15T10:00:00.000Z",
                    "updatedAt": "2026-01-15T10:00:00.000Z", "archived": False}
                   for i, _ in enumerate(request.json["inputs"])]
        return json_response(201, {"status": "COMPLETE", "results": results})

    async with client(ScriptedTransport(handler)) as hs:
        outcomes = await asyncio.gather(
            hs.emails.create(email("a")), hs.emails.create(email("b")), return_exceptions=True
        )
    assert all(isinstance(o, OutcomeUnknownError) for o in outcomes)


async def test_partial_207_fails_only_the_named_inputs() -> None:
    mini = MiniHubSpot()

    async def handler(request: Request) -> Response:
        good, errors = [], []
        for inp in request.json["inputs"]:
            if "bogus" in inp["properties"]:
                errors.append({"status": "error", "category": "VALIDATION_ERROR",
                               "message": 'Property "bogus" does not exist',
                               "context": {"objectWriteTraceId": [inp["objectWriteTraceId"]]}})
            else:
                good.append(inp)
        inner = await mini(Request(method="POST", path=request.path, json={"inputs": good},
                                   endpoint=request.endpoint))
        body = inner.json()
        body["errors"] = errors
        return json_response(207, body)

    async with client(ScriptedTransport(handler)) as hs:
        calls = [hs.emails.create(email(f"s{i}", **({"bogus": "x"} if i % 3 == 0 else {})))
                 for i in range(12)]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    for i, outcome in enumerate(outcomes):
        if i % 3 == 0:
            assert isinstance(outcome, ValidationError)
            assert outcome.status == 400 and "bogus" in outcome.message
        else:
            assert not isinstance(outcome, BaseException)
            assert outcome.properties["hs_email_subject"] == f"s{i}"
    assert len(mini.store) == 8


async def test_whole_batch_400_naming_no_input_is_bisected_until_bad_inputs_fail_alone() -> None:
    mini = MiniHubSpot()

    async def handler(request: Request) -> Response:
        if any(inp["properties"].get("poison") for inp in request.json["inputs"]):
            return json_response(400, {"status": "error", "category": "VALIDATION_ERROR",
                                       "message": "Invalid input JSON"})
        return await mini(request)

    transport = ScriptedTransport(handler)
    async with client(transport) as hs:
        calls = [hs.emails.create(email(f"s{i}", **({"poison": "1"} if i in (5, 77) else {})))
                 for i in range(100)]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        bisections = hs.stats.bisections
    failed = [i for i, o in enumerate(outcomes) if isinstance(o, BaseException)]
    assert failed == [5, 77]
    assert all(isinstance(outcomes[i], ValidationError) for i in failed)
    assert len(mini.store) == 98
    assert bisections >= 2
    assert all(len(b) >= 1 for b in transport.batches("create"))


async def test_whole_batch_error_naming_ids_fails_those_and_resends_the_rest() -> None:
    mini = MiniHubSpot()
    mini.store.update({"1": {}, "2": {}, "3": {}})

    async def handler(request: Request) -> Response:
        ids = [inp["id"] for inp in request.json["inputs"]]
        if "2" in ids:
            return json_response(400, {"status": "error", "category": "VALIDATION_ERROR",
                                       "message": "bad id", "context": {"ids": ["2"]}})
        return await mini(request)

    async with client(ScriptedTransport(handler)) as hs:
        outcomes = await asyncio.gather(
            *(hs.emails.update(i, {"hs_email_subject": "x"}) for i in ("1", "2", "3")),
            return_exceptions=True,
        )
    assert isinstance(outcomes[1], ValidationError)
    assert not isinstance(outcomes[0], BaseException) and outcomes[0].id == "1"
    assert not isinstance(outcomes[2], BaseException) and outcomes[2].id == "3"


async def test_calls_on_the_same_id_never_share_a_batch_and_complete_in_order() -> None:
    mini = MiniHubSpot()
    mini.store["7"] = {"hs_email_subject": "v0"}
    transport = ScriptedTransport(mini)
    order: list[str] = []

    async def update(value: str) -> None:
        await hs.emails.update("7", {"hs_email_subject": value})
        order.append(value)

    async with client(transport) as hs:
        await asyncio.gather(*(update(f"v{i}") for i in range(1, 6)),
                             hs.emails.update("8", {"hs_email_subject": "other"}),
                             return_exceptions=True)
        last = await hs.emails.get("7", properties=["hs_email_subject"])
    assert order == ["v1", "v2", "v3", "v4", "v5"]
    for inputs in transport.batches("update"):
        ids = [inp["id"] for inp in inputs]
        assert len(ids) == len(set(ids))
    assert last.properties["hs_email_subject"] == "v5"


async def test_read_of_a_missing_id_fails_with_not_found_and_neighbours_succeed() -> None:
    mini = MiniHubSpot()
    mini.store["1"] = {"hs_email_subject": "one"}
    async with client(ScriptedTransport(mini)) as hs:
        ok, missing = await asyncio.gather(hs.emails.get("1"), hs.emails.get("404404"),
                                           return_exceptions=True)
    assert not isinstance(ok, BaseException) and ok.id == "1"
    assert isinstance(missing, NotFoundError)


async def test_retryable_failure_retries_the_batch_then_fails_every_item() -> None:
    calls = 0

    async def handler(request: Request) -> Response:
        nonlocal calls
        calls += 1
        return Response(status=502, headers={"content-type": "text/html"},
                        body=b"<html><title>502 Bad Gateway</title></html>")

    async with client(ScriptedTransport(handler)) as hs:
        outcomes = await asyncio.gather(*(hs.emails.create(email(f"s{i}")) for i in range(5)),
                                        return_exceptions=True)
        retries = hs.stats.retries
    assert all(isinstance(o, ServerError) and o.status == 502 for o in outcomes)
    assert calls == 4 and retries == 3  # fast_retry: 4 attempts of one batch


async def test_cancelled_before_sending_removes_the_item() -> None:
    gate = asyncio.Event()
    mini = MiniHubSpot()

    async def handler(request: Request) -> Response:
        await gate.wait()
        return await mini(request)

    transport = ScriptedTransport(handler)
    async with client(transport, max_in_flight=1) as hs:
        assert hs.batcher is not None
        batcher = hs.batcher
        first = asyncio.create_task(hs.emails.create(email("first")))
        await transport.wait_for_requests(1)  # the first batch is in flight, holding the permit
        doomed = asyncio.create_task(hs.emails.create(email("doomed")))
        kept = asyncio.create_task(hs.emails.create(email("kept")))
        await wait_until(lambda: batcher.pending == 3)  # both queued behind the permit
        await settle()
        assert transport.arrived == 1
        doomed.cancel()
        gate.set()
        await first
        await kept
        with pytest.raises(asyncio.CancelledError):
            await doomed
    subjects = [inp["properties"]["hs_email_subject"]
                for batch in transport.batches("create") for inp in batch]
    assert subjects == ["first", "kept"]


async def test_cancelled_after_sending_drops_the_outcome_quietly() -> None:
    gate = asyncio.Event()
    mini = MiniHubSpot()

    async def handler(request: Request) -> Response:
        await gate.wait()
        return await mini(request)

    transport = ScriptedTransport(handler)
    async with client(transport) as hs:
        task = asyncio.create_task(hs.emails.create(email("sent")))
        await transport.wait_for_requests(1)  # sent: the request is waiting for its answer
        task.cancel()
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        await hs.flush()
        assert hs.batcher is not None and hs.batcher.pending == 0
    assert len(mini.store) == 1  # it was written; nobody was told, nothing raised


async def test_backpressure_bounds_pending_calls() -> None:
    gate = asyncio.Event()
    mini = MiniHubSpot()
    peak = 0

    async def handler(request: Request) -> Response:
        await gate.wait()
        return await mini(request)

    async with client(ScriptedTransport(handler), max_pending=10) as hs:
        assert hs.batcher is not None
        batcher = hs.batcher
        tasks = [asyncio.create_task(hs.emails.create(email(f"s{i}"))) for i in range(50)]
        for _ in range(5):
            await asyncio.sleep(0)
            peak = max(peak, batcher.pending)
        assert batcher.pending == 10
        assert sum(not t.done() for t in tasks) == 50
        gate.set()
        recs = await asyncio.gather(*tasks)
    assert len({r.id for r in recs}) == 50


async def test_aclose_sends_everything_queued_then_refuses_calls() -> None:
    transport = ScriptedTransport()
    hs = client(transport)
    tasks = [asyncio.create_task(hs.emails.create(email(f"s{i}"))) for i in range(150)]
    await asyncio.sleep(0)
    await hs.aclose()
    assert all(t.done() and not t.cancelled() and t.exception() is None for t in tasks)
    assert transport.closed
    with pytest.raises(ClientClosedError):
        await hs.emails.create(email("late"))


async def test_flush_waits_for_everything_queued_so_far() -> None:
    async with client(ScriptedTransport()) as hs:
        tasks = [asyncio.create_task(hs.emails.create(email(f"s{i}"))) for i in range(20)]
        await asyncio.sleep(0)
        await hs.flush()
        assert all(t.done() for t in tasks)


async def test_bad_input_fails_its_own_call_before_anything_is_sent() -> None:
    transport = ScriptedTransport()
    async with client(transport) as hs:
        outcomes = [o async for o in hs.emails.create_many(
            [email("ok1"), {"hs_email_subject": "no timestamp"}, email("ok2")], ordered=True
        )]
    assert [o.ok for o in outcomes] == [True, False, True]
    assert "hs_timestamp" in str(outcomes[1].error)
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert len(transport.batches("create")[0]) == 2


async def test_bulk_api_covers_every_operation() -> None:
    mini = MiniHubSpot()
    sent: list[int] = []
    async with client(ScriptedTransport(mini)) as hs:
        created = [o async for o in hs.emails.create_many(
            (NewRecord(email(f"s{i}")) for i in range(10)), ordered=True, on_sent=sent.append
        )]
        ids = [o.record.id for o in created if o.record is not None]
        updated = [o async for o in hs.emails.update_many(
            [RecordUpdate(i, {"hs_email_subject": "u"}) for i in ids] + [(ids[0], {"x": "y"})]
        )]
        read = [o async for o in hs.emails.read_many([*ids, "nope"], ordered=True)]
        archived = [o async for o in hs.emails.archive_many(_agen(ids))]
    assert sorted(sent) == list(range(10))
    assert len(ids) == 10 and all(o.ok for o in updated)
    assert [o.ok for o in read] == [True] * 10 + [False]
    assert isinstance(read[-1].error, NotFoundError)
    assert all(o.record is not None and o.record.properties["x"] == "y"
               for o in read[:1])
    assert all(o.ok and o.record is None for o in archived)
    assert mini.archived == set(ids)


async def _agen(values: list[str]) -> Any:
    for v in values:
        await asyncio.sleep(0)
        yield v


async def test_bulk_window_bounds_inputs_in_the_air() -> None:
    mini = MiniHubSpot()
    read = 0

    def inputs() -> Any:
        nonlocal read
        for i in range(1000):
            read += 1
            yield email(f"s{i}")

    async with client(ScriptedTransport(mini), rate_limits=UNLIMITED) as hs:
        outcomes = hs.emails.create_many(inputs(), window=50)
        first = await anext(outcomes)
        assert first.ok
        assert read <= 51
        rest = [o async for o in outcomes]
    assert len(rest) == 999


async def test_closing_a_bulk_iterator_early_cancels_unsent_inputs() -> None:
    transport = ScriptedTransport()
    async with client(transport, max_in_flight=1) as hs:
        outcomes = hs.emails.create_many((email(f"s{i}") for i in range(500)), window=500)
        await anext(outcomes)
        await outcomes.aclose()
        await hs.flush()
    total = sum(len(b) for b in transport.batches("create"))
    assert total < 500


async def test_create_many_memory_is_flat_in_the_number_of_inputs() -> None:
    async def peak_for(n: int) -> int:
        mini = MiniHubSpot()

        async def handler(request: Request) -> Response:
            response = await mini(request)
            mini.store.clear()  # the store is not what we measure
            return response

        gc.collect()
        tracemalloc.start()
        try:
            # No rate limit: the default 100 per 10 s would make this test wait out real
            # windows (100 requests); memory is what it is about.
            async with client(ScriptedTransport(handler, record=False),
                              rate_limits=UNLIMITED) as hs:
                count = 0
                async for outcome in hs.emails.create_many(
                    (email(f"s{i}") for i in range(n)), window=1000
                ):
                    count += outcome.ok
                assert count == n
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # Ten times the inputs; the window (1,000 in the air) is what bounds memory. Tracing every
    # allocation costs ~0.2 ms an input, hence 1,000 vs 10,000 rather than 2,000 vs 20,000.
    small = await peak_for(1_000)
    large = await peak_for(10_000)
    assert large < small * 1.5, (small, large)


async def test_daily_limit_or_auth_failure_fails_every_item_of_the_batch() -> None:
    async def handler(request: Request) -> Response:
        return json_response(401, {"status": "error", "category": "INVALID_AUTHENTICATION",
                                   "message": "Authentication credentials not found."})

    async with client(ScriptedTransport(handler)) as hs:
        outcomes = await asyncio.gather(*(hs.emails.create(email(f"s{i}")) for i in range(3)),
                                        return_exceptions=True)
    assert all(isinstance(o, HubEngageError) and "401" in str(o) for o in outcomes)


async def test_a_steady_stream_is_paced_over_the_window_not_sent_in_one_burst() -> None:
    # 100 requests per 1 s; one call every 2 ms (500/s) for 1.2 s. Unpaced, the first 100
    # calls would spend the window in 0.2 s and the next calls would wait ~0.8 s for it.
    clock = ManualClock()
    transport = ScriptedTransport()
    limits = RateLimits(requests_per_interval=100, interval_seconds=1.0, daily=None)
    waits: list[float] = []

    async def call(i: int) -> None:
        start = clock.now()
        await hs.emails.create(email(f"p{i}"))
        waits.append(clock.now() - start)

    async with client(transport, clock=clock, rate_limits=limits) as hs:
        tasks = []
        for i in range(600):
            tasks.append(asyncio.create_task(call(i)))
            await clock.advance(0.002)
        await clock.run_until_idle()
        await asyncio.gather(*tasks)
    emission = 1.0 / 90
    assert max(waits) <= emission + 0.002 + 1e-9  # never a wait for the window itself
    sizes = [len(b) for b in transport.batches("create")]
    assert sum(sizes) == 600
    # 10 lone calls at once, then about one request per emission interval with what came.
    assert 10 + 1.2 / emission - 5 <= len(sizes) <= 10 + 1.2 / emission + 5
    assert hs.stats.total_requests <= 100 * (1.2 + 1)  # and within the window


async def test_full_batches_never_wait_for_pacing() -> None:
    clock = ManualClock()
    transport = ScriptedTransport()
    async with client(transport, clock=clock) as hs:
        for i in range(10):  # spend the pacing burst on lone calls
            await hs.emails.create(email(f"lone{i}"))
        tasks = [asyncio.create_task(hs.emails.create(email(f"f{i}"))) for i in range(250)]
        await clock.settle()
        # Two full batches went at once; the partial 50 waits for pacing (the clock stands).
        assert [len(b) for b in transport.batches("create")][10:] == [100, 100]
        await clock.run_until_idle()
        await asyncio.gather(*tasks)
    assert [len(b) for b in transport.batches("create")][10:] == [100, 100, 50]


@pytest.mark.parametrize(
    ("first_failure", "marked"),
    [
        ("commit-then-502", True),  # HubSpot wrote the batch, then its edge answered 502
        ("commit-then-drop", True),  # ... then the connection dropped
        ("429", False),  # refused: nothing written
        ("refused", False),  # never connected: nothing sent
    ],
)
async def test_create_retried_after_a_failure_that_may_have_written_is_marked(
    first_failure: str, marked: bool, caplog: pytest.LogCaptureFixture
) -> None:
    hub = MiniHubSpot()
    attempts = 0

    async def handler(request: Request) -> Response:
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            return await hub(request)
        if first_failure == "429":
            return json_response(429, {"status": "error", "category": "RATE_LIMITS",
                                       "policyName": "TEN_SECONDLY_ROLLING", "message": "x"})
        if first_failure == "refused":
            raise TransportError("connection failed: ClientConnectorError",
                                 may_have_reached=False)
        await hub(request)  # committed...
        if first_failure == "commit-then-502":
            return Response(status=502, headers={"content-type": "text/html"}, body=b"<html>")
        raise TransportError("connection failed: ServerDisconnectedError")

    limits = RateLimits(interval_seconds=0.01, daily=None)  # a 429 pauses 10 ms, not 10 s
    async with client(ScriptedTransport(handler), rate_limits=limits) as hs:
        recs = await asyncio.gather(*(hs.emails.create(email(f"d{i}")) for i in range(3)))
        possible = hs.stats.possible_duplicates
    assert [r.possible_duplicate for r in recs] == [marked] * 3
    assert possible == (3 if marked else 0)
    assert len(hub.store) == (6 if marked else 3)  # the store really holds the duplicates
    warned = [r.getMessage() for r in caplog.records if "may exist twice" in r.getMessage()]
    assert bool(warned) is marked
    if marked:
        assert all(r.id in warned[0] for r in recs)


async def test_updates_retried_after_a_5xx_are_not_marked() -> None:
    hub = MiniHubSpot()
    failed = False

    async def handler(request: Request) -> Response:
        nonlocal failed
        response = await hub(request)
        if request.endpoint == "batch/update" and not failed:
            failed = True
            return Response(status=502, headers={"content-type": "text/html"}, body=b"<html>")
        return response

    async with client(ScriptedTransport(handler)) as hs:
        rec = await hs.emails.create(email("u"))
        updated = await hs.emails.update(rec.id, {"hs_email_subject": "u2"})
    assert not updated.possible_duplicate and hs.stats.possible_duplicates == 0


AUTH_401 = {"status": "error", "message": "Authentication credentials not found.",
            "category": "INVALID_AUTHENTICATION"}


async def test_a_rejected_token_halts_a_bulk_run_and_withdraws_the_rest() -> None:
    mini = MiniHubSpot()
    calls = 0

    async def handler(request: Request) -> Response:
        nonlocal calls
        calls += 1
        if calls > 2:
            return json_response(401, AUTH_401)
        return await mini(request)

    async with client(ScriptedTransport(handler), max_in_flight=16) as hs:
        outcomes = [o async for o in hs.emails.create_many(
            email(f"s{i}") for i in range(20_000))]
    assert len(outcomes) == 20_000 and len({o.index for o in outcomes}) == 20_000
    assert calls <= 2 + 16 + 1  # what was in flight when the 401 came back, not 200 requests
    ok = [o for o in outcomes if o.ok]
    refused = [o for o in outcomes if not o.ok and not o.withdrawn]
    withdrawn = [o for o in outcomes if o.withdrawn]
    assert len(ok) == 200 == len(mini.store)
    assert all(isinstance(o.error, AuthenticationError) for o in refused + withdrawn)
    assert len(withdrawn) >= 20_000 - 200 - 16 * 100


async def test_an_items_own_403_in_a_207_does_not_halt_the_run() -> None:
    mini = MiniHubSpot()

    async def handler(request: Request) -> Response:
        inputs = request.json["inputs"]
        good = [i for i in inputs if i["properties"]["hs_email_subject"] != "s3"]
        body = (await mini(Request(method="POST", path=request.path, json={"inputs": good},
                                   endpoint=request.endpoint))).json()
        body["errors"] = [{"status": "error", "category": "MISSING_SCOPES", "message": "no",
                           "context": {"objectWriteTraceId": [i["objectWriteTraceId"]]}}
                          for i in inputs if i not in good]
        return json_response(207, body)

    async with client(ScriptedTransport(handler)) as hs:
        outcomes = [o async for o in hs.emails.create_many(
            (email(f"s{i}") for i in range(300)), ordered=True)]
    assert [o.index for o in outcomes if not o.ok] == [3]
    assert not outcomes[3].withdrawn and outcomes[3].error is not None
    assert outcomes[3].error.per_item  # type: ignore[attr-defined]


async def test_a_stopped_run_yields_its_unsent_inputs_as_withdrawn() -> None:
    stop = asyncio.Event()
    gate = asyncio.Event()
    mini = MiniHubSpot()

    async def handler(request: Request) -> Response:
        await gate.wait()
        return await mini(request)

    transport = ScriptedTransport(handler)
    async with client(transport, max_in_flight=1) as hs:
        assert hs.batcher is not None
        batcher = hs.batcher
        run = hs.emails.create_many((email(f"s{i}") for i in range(1_000)), stop=stop)
        first = asyncio.ensure_future(anext(run))
        # Every input read and accepted; the first batch in flight, the rest queued behind it.
        await transport.wait_for_requests(1)
        await wait_until(lambda: batcher.pending == 1_000)
        await settle()
        assert transport.arrived == 1
        stop.set()
        gate.set()
        outcomes = [await first] + [o async for o in run]
    assert len(outcomes) == 1_000
    sent = [o for o in outcomes if not o.withdrawn]
    assert all(o.ok for o in sent) and len(sent) == len(mini.store) == 100
    assert all(isinstance(o.error, WithdrawnError) for o in outcomes if o.withdrawn)


@pytest.mark.parametrize("body", [b"", b"<html>Bad gateway page</html>", b"[]", b'"ok"',
                                  b'{"status":"COMPL'])
async def test_a_2xx_body_that_is_not_json_makes_every_write_unknown(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(request: Request) -> Response:
        return Response(status=201, headers={"x-hubspot-correlation-id": "c-9"}, body=body)

    async with client(ScriptedTransport(handler)) as hs:
        outcomes = await asyncio.gather(*(hs.emails.create(email(f"s{i}")) for i in range(5)),
                                        return_exceptions=True)
    for outcome in outcomes:
        assert isinstance(outcome, OutcomeUnknownError)
        assert isinstance(outcome.__cause__, MalformedResponseError)
        assert outcome.correlation_id == "c-9" and outcome.operation == "create"
    assert "unexpected error" not in caplog.text
