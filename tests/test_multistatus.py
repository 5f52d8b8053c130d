"""The multi-status decoder and the matching rules it stands on, against adversarial answers.

Pure tests: hand-built responses that HubSpot's documentation allows (no trace-id echo,
values normalised, results shuffled) or that a broken edge could produce (duplicated,
missing, foreign results; bodies that are not JSON). Every input must get its own record,
its own error or "unknown", never another input's record.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubengage import (
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    Response,
    ValidationError,
)
from hubengage._matching import FingerprintSet, RecordMatcher, canonical, fingerprint
from hubengage._multistatus import decode
from hubengage.models import CrmObject

TS = "2024-05-01T10:00:00.000Z"


class Sent:
    """One input as the decoder sees it."""

    def __init__(self, trace_id: str | None = None, key: str | None = None,
                 properties: dict[str, str] | None = None) -> None:
        self.trace_id = trace_id
        self.key = key
        self.properties = properties
        self.fingerprint = None


def record(rid: str, properties: dict[str, str], trace: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rid, "properties": {**properties, "hs_object_id": rid},
                           "createdAt": TS, "updatedAt": TS, "archived": False}
    if trace is not None:
        out["objectWriteTraceId"] = trace
    return out


def response(body: Any, status: int = 201, raw: bytes | None = None) -> Response:
    data = raw if raw is not None else json.dumps(body).encode()
    return Response(status=status, headers={"x-hubspot-correlation-id": "corr"}, body=data)


def note(body: str, stamp: str = TS) -> dict[str, str]:
    return {"hs_timestamp": stamp, "hs_note_body": body}


# -- canonical values -----------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "echoed"), [
    ("1714557600000", "2024-05-01T10:00:00.000Z"),
    ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000Z"),
    ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.000Z"),
    ("2021-11-12", "2021-11-12T00:00:00.000Z"),
    ("1500.0", "1500"),
    ("0.50", "0.5"),
    ("1e3", "1000"),
    ("True", "true"),
    ("FALSE", "false"),
    ("3;1;2", "1;2;3"),
    ("Luke@Example.COM", "luke@example.com"),
    ("Hello\nworld", '<div dir="auto"><p>Hello<br>world</p></div>'),
    ("Tom & Jerry", "Tom &amp; Jerry"),
    ("  spaced   out ", "spaced out"),
])
def test_canonical_equates_what_hubspot_may_echo_with_what_was_sent(
    sent: str, echoed: str
) -> None:
    assert canonical(sent) == canonical(echoed)
    assert hash(canonical(sent)) == hash(canonical(echoed))


@pytest.mark.parametrize(("a", "b"), [
    ("1", "true"), ("0", "false"), ("1714557600000", "1714557600001"), ("a;b", "a b"),
    ("EMAIL", "INCOMING_EMAIL"), ("10", "1"),
])
def test_canonical_keeps_different_values_apart(a: str, b: str) -> None:
    assert canonical(a) != canonical(b)


def test_canonical_of_nothing_is_none() -> None:
    assert canonical(None) is None
    assert canonical("") is None
    assert canonical("   ") is None
    assert canonical(1714557600000) == Decimal(1714557600000)


def test_a_batch_admits_no_fingerprint_equal_to_or_inside_another() -> None:
    taken = FingerprintSet()
    a = fingerprint(note("x"), frozenset())
    taken.add(a)
    assert not taken.admits(fingerprint(note("X "), frozenset()))  # equal after normalising
    assert not taken.admits(fingerprint({"hs_timestamp": TS}, frozenset()))  # a subset
    assert not taken.admits(fingerprint({**note("x"), "hs_x": "1"}, frozenset()))  # superset
    assert taken.admits(fingerprint(note("y"), frozenset()))
    assert taken.admits(fingerprint({"hs_timestamp": TS, "other": "x"}, frozenset()))


def test_an_empty_fingerprint_shares_a_batch_with_nothing() -> None:
    taken = FingerprintSet()
    taken.add(fingerprint(note("x"), frozenset()))
    assert not taken.admits(fingerprint({"hs_email_headers": "{}"},
                                        frozenset({"hs_email_headers"})))


def test_a_record_fitting_two_inputs_fits_none() -> None:
    matcher = RecordMatcher([fingerprint({"hs_timestamp": TS}, frozenset()),
                             fingerprint(note("x"), frozenset())])
    assert matcher.find(note("x")) is None
    assert matcher.find({"hs_timestamp": TS}) == 0


# -- the decoder ------------------------------------------------------------------------------


def test_creates_without_echo_are_matched_by_normalised_values() -> None:
    stamps = ["1714557600000", "2024-05-01T10:00:00Z", "2024-05-01T12:00:00+02:00"]
    inputs = [Sent(f"t{i}", properties=note(f"body {i}", stamp))
              for i, stamp in enumerate(stamps)]
    results = [record(str(100 + i), note(f"Body {i}", TS)) for i in range(3)]
    random.Random(1).shuffle(results)
    decoded = decode("create", inputs, response({"status": "COMPLETE", "results": results}))
    assert [o.id for o in decoded.outcomes] == ["100", "101", "102"]  # type: ignore[union-attr]
    assert decoded.unclaimed == [] and decoded.trace_ids_echoed is False


def test_a_duplicated_result_is_never_given_to_the_leftover_caller() -> None:
    inputs = [Sent("ta", properties=note("a")), Sent("tb", properties=note("b"))]
    body = {"results": [record("1", note("a"), "ta"), record("2", note("b"), "ta")]}
    decoded = decode("create", inputs, response(body))
    assert isinstance(decoded.outcomes[0], CrmObject) and decoded.outcomes[0].id == "1"
    assert isinstance(decoded.outcomes[1], OutcomeUnknownError)
    assert [r.id for r in decoded.unclaimed] == ["2"]


def test_a_result_with_an_unknown_trace_id_is_not_matched_by_properties() -> None:
    inputs = [Sent("ta", properties=note("a"))]
    decoded = decode("create", inputs, response({"results": [record("1", note("a"), "zz")]}))
    assert isinstance(decoded.outcomes[0], OutcomeUnknownError)
    assert [r.id for r in decoded.unclaimed] == ["1"]


def test_more_results_than_inputs_are_unclaimed_not_dropped() -> None:
    inputs = [Sent("ta", properties=note("a"))]
    body = {"results": [record("1", note("a")), record("2", note("a")), record("3", note("q"))]}
    decoded = decode("create", inputs, response(body))
    assert isinstance(decoded.outcomes[0], CrmObject) and decoded.outcomes[0].id == "1"
    assert sorted(r.id for r in decoded.unclaimed) == ["2", "3"]


def test_a_result_and_an_error_for_one_input_make_its_outcome_unknown() -> None:
    inputs = [Sent("ta", properties=note("a"))]
    body = {"results": [record("1", note("a"), "ta")], "errors": [
        {"status": "error", "category": "VALIDATION_ERROR", "message": "bad",
         "context": {"objectWriteTraceId": ["ta"]}}]}
    decoded = decode("create", inputs, response(body, 207))
    assert isinstance(decoded.outcomes[0], OutcomeUnknownError)
    assert [r.id for r in decoded.unclaimed] == ["1"]


def test_errors_fail_only_the_inputs_they_name() -> None:
    inputs = [Sent("ta", properties=note("a")), Sent("tb", properties=note("b"))]
    body = {"results": [record("1", note("a"))], "errors": [
        {"status": "error", "category": "VALIDATION_ERROR", "message": "bad",
         "context": {"objectWriteTraceId": ["tb"]}}]}
    decoded = decode("create", inputs, response(body, 207))
    assert isinstance(decoded.outcomes[0], CrmObject)
    error = decoded.outcomes[1]
    assert isinstance(error, ValidationError) and error.correlation_id == "corr"


@pytest.mark.parametrize("raw", [b"", b'{"status":"COMPLETE","resu', b"<html>hi</html>",
                                 b"[]", b'"ok"', b'{"status": "COMPLETE"}',
                                 b'{"results": {}}', b"\xff\xfe"])
def test_an_unreadable_body_makes_a_write_unknown_and_a_read_fail(raw: bytes) -> None:
    inputs = [Sent("ta", key="1", properties=note("a"))]
    write = decode("create", inputs, response(None, 201, raw)).outcomes[0]
    assert isinstance(write, OutcomeUnknownError)
    assert isinstance(write.__cause__, MalformedResponseError)
    assert write.status == 201 and write.correlation_id == "corr"
    read = decode("read", [Sent(key="1")], response(None, 200, raw)).outcomes[0]
    assert isinstance(read, MalformedResponseError)


def test_an_archive_with_no_body_archived_every_input() -> None:
    decoded = decode("archive", [Sent(key="1"), Sent(key="2")], response(None, 204, b""))
    assert decoded.outcomes == [None, None]


def test_updates_and_reads_are_matched_by_id_and_upserts_by_normalised_key() -> None:
    inputs = [Sent("t1", key="11", properties={"a": "1"}), Sent("t2", key="12",
                                                                 properties={"a": "2"})]
    body = {"results": [record("12", {"a": "2"}), record("11", {"a": "1"})]}
    assert [o.id for o in decode("update", inputs, response(body, 200)).outcomes] == [
        "11", "12"]  # type: ignore[union-attr]
    upserts = [Sent("t1", key="Luke@X.com", properties={"email": "Luke@X.com"})]
    body = {"results": [{**record("7", {"email": "luke@x.com"}), "new": True}]}
    decoded = decode("upsert", upserts, response(body, 200), id_property="email")
    assert isinstance(decoded.outcomes[0], CrmObject) and decoded.outcomes[0].new is True


def test_a_read_that_nothing_names_is_unknown_and_a_named_miss_not_found() -> None:
    inputs = [Sent(key="1"), Sent(key="2"), Sent(key="3")]
    body = {"results": [record("1", {})], "errors": [
        {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "gone",
         "context": {"ids": ["2"]}}]}
    outcomes = decode("read", inputs, response(body, 207)).outcomes
    assert isinstance(outcomes[0], CrmObject)
    assert isinstance(outcomes[1], NotFoundError)
    assert isinstance(outcomes[2], OutcomeUnknownError)


# -- the property: whatever the answer, nobody gets another input's record -------------------

answer_faults = st.lists(st.sampled_from(
    ["shuffle", "duplicate", "drop", "foreign-trace", "unknown-trace", "extra", "error"]),
    max_size=4)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    bodies=st.lists(st.sampled_from(["a", "b", "c", "A", "b ", "d"]), min_size=1, max_size=8),
    echo=st.booleans(),
    faults=answer_faults,
    seed=st.integers(0, 2**16),
)
def test_no_answer_hands_an_input_a_record_that_another_input_describes(
    bodies: list[str], echo: bool, faults: list[str], seed: int
) -> None:
    rng = random.Random(seed)
    # Inputs as the batcher would assemble them: no two indistinguishable.
    taken = FingerprintSet()
    inputs: list[Sent] = []
    for text in bodies:
        sent = Sent(f"t{len(inputs)}", properties=note(text, rng.choice(
            ["1714557600000", "2024-05-01T10:00:00Z", TS])))
        fp = fingerprint(sent.properties or {}, frozenset())
        if taken.admits(fp):
            taken.add(fp)
            inputs.append(sent)
    owner: dict[str, int] = {}
    results = []
    for i, sent in enumerate(inputs):
        rid = str(1000 + i)
        owner[rid] = i
        text = (sent.properties or {})["hs_note_body"]
        results.append(record(rid, note(f"<p>{text.upper()}</p>"), f"t{i}" if echo else None))
    errors = []
    for fault in faults:
        if not results:
            break
        victim = rng.randrange(len(results))
        if fault == "shuffle":
            rng.shuffle(results)
        elif fault == "duplicate":
            results.append(dict(results[victim]))
        elif fault == "drop":
            results.pop(victim)
        elif fault == "foreign-trace":
            results[victim] = {**results[victim],
                               "objectWriteTraceId": f"t{rng.randrange(len(inputs))}"}
        elif fault == "unknown-trace":
            results[victim] = {**results[victim], "objectWriteTraceId": "nobody"}
        elif fault == "extra":
            rid = str(5000 + victim)
            results.append(record(rid, note(f"stranger {victim}")))
        elif fault == "error":
            errors.append({"status": "error", "category": "VALIDATION_ERROR", "message": "no",
                           "context": {"objectWriteTraceId": [f"t{victim}"]}})
    body = {"status": "COMPLETE", "results": results, "errors": errors}
    decoded = decode("create", inputs, response(body, 207 if errors else 201))
    given_ids = []
    for i, outcome in enumerate(decoded.outcomes):
        if isinstance(outcome, CrmObject):
            # Its own record, never one made from (or labelled with) another input.
            assert owner.get(outcome.id) == i
            given_ids.append(outcome.id)
        else:
            assert isinstance(outcome, (OutcomeUnknownError, ValidationError))
    # Every record in the answer was given to its caller or reported as unclaimed.
    returned = {r["id"] for r in results}
    assert returned <= set(given_ids) | {r.id for r in decoded.unclaimed}
    assert len(given_ids) == len(set(given_ids))
