"""The emulator's property values on the wire: each kind validated on every write endpoint,
stored and echoed in HubSpot's normal form (``normalize_values``) or exactly as sent, and
plain-text engagement bodies as the rich-text editor's HTML (``rich_text_html``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest

from hubengage._objecttypes import OBJECT_TYPES, PropertyKind
from hubengage.emulator import Emulator, EmulatorConfig
from hubengage.emulator import _store as emulator_store
from hubengage.emulator._values import (
    InvalidValue,
    check_value,
    normalize_datetime,
    normalize_number,
    rich_text_html,
)
from tests._wire import TS, Wire

BASE = "/crm/v3/objects"
#: A BOOL property: HubSpot's table holds none on these types, so the tests add one.
FLAG = "hs_test_flag"
TYPES = ("calls", "meetings", "tasks", "deals", "companies", "notes")
WRITES = ("batch/create", "batch/update", "create", "update", "batch/upsert")


@pytest.fixture(autouse=True)
def bool_property(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Give calls and deals a BOOL property (the emulator reads its table at reset)."""
    patched = tuple(
        attrs.evolve(ot, properties=ot.properties | {FLAG},
                     kinds={**ot.kinds, FLAG: PropertyKind.BOOL})
        if ot.name in ("calls", "deals") else ot
        for ot in OBJECT_TYPES
    )
    monkeypatch.setattr(emulator_store, "OBJECT_TYPES", patched)
    yield


async def start(**config: Any) -> tuple[Emulator, Wire]:
    config.setdefault("unique_properties", {name: ("ext_id",) for name in TYPES})
    emu = Emulator(EmulatorConfig(seed=1, **config))
    await emu.start()
    return emu, Wire(emu.url)


@pytest.fixture
async def normalizing() -> AsyncIterator[tuple[Emulator, Wire]]:
    emu, w = await start()
    yield emu, w
    await w.close()
    await emu.stop()


#: What a create of each CRM type needs (docs/hubspot-wire.md §9; enforced by default).
CRM_REQUIRED = {
    "deals": {"dealname": "d", "dealstage": "appointmentscheduled", "pipeline": "default"},
    "companies": {"name": "c"},
}


def required(object_type: str) -> dict[str, str]:
    if object_type in CRM_REQUIRED:
        return dict(CRM_REQUIRED[object_type])
    return {"hs_timestamp": TS} if object_type in ("calls", "meetings", "tasks", "notes") else {}


_ext_ids = iter(range(1_000_000))


async def write(emu: Emulator, w: Wire, endpoint: str, object_type: str,
                props: dict[str, str], *, trace: str | None = None) -> tuple[int, Any, str]:
    """Write ``props`` through ``endpoint``: (status, response body, record id).

    Updates (and the upsert, which updates an existing record) target a seeded record.
    """
    path = f"{BASE}/{object_type}"
    rid = ""
    if endpoint in ("batch/update", "update"):
        rid = emu.put_record(object_type, required(object_type))
    traced = {} if trace is None else {"objectWriteTraceId": trace}
    if endpoint == "batch/create":
        ex = await w("POST", f"{path}/batch/create", {"inputs": [
            {"properties": {**required(object_type), **props}, **traced}]})
    elif endpoint == "create":
        ex = await w("POST", path, {"properties": {**required(object_type), **props}})
    elif endpoint == "batch/update":
        ex = await w("POST", f"{path}/batch/update", {"inputs": [
            {"id": rid, "properties": props, **traced}]})
    elif endpoint == "update":
        ex = await w("PATCH", f"{path}/{rid}", {"properties": props})
    else:
        ext = f"x{next(_ext_ids)}"
        ex = await w("POST", f"{path}/batch/upsert", {"inputs": [
            {"id": ext, "idProperty": "ext_id", "properties": {**required(object_type), **props},
             **traced}]})
    body = ex.body
    if 200 <= ex.status < 300 and "results" in body and body["results"]:
        rid = body["results"][0]["id"]
    elif 200 <= ex.status < 300 and "id" in body:
        rid = body["id"]
    return ex.status, body, rid


def echoed(body: Any) -> dict[str, str]:
    record = body["results"][0] if "results" in body else body
    props: dict[str, str] = record["properties"]
    return props


# (type, property, sent, HubSpot's normal form)
NORMALISED = [
    # DATETIME: epoch ms, offsets, with and without fraction, a plain date
    ("calls", "hs_timestamp", "1714557600000", "2024-05-01T10:00:00.000Z"),
    ("calls", "hs_timestamp", "2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.000Z"),
    ("notes", "hs_timestamp", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000Z"),
    ("notes", "hs_timestamp", "2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00.123Z"),
    ("tasks", "hs_timestamp", "2024-05-01", "2024-05-01T00:00:00.000Z"),
    ("meetings", "hs_meeting_start_time", "-1", "1969-12-31T23:59:59.999Z"),
    ("meetings", "hs_meeting_end_time", "2024-05-01T05:30:00.5-0430", "2024-05-01T10:00:00.500Z"),
    ("deals", "closedate", "2024-05-01T10:00:00.000Z", "2024-05-01T10:00:00.000Z"),
    # NUMBER: plain decimal text, no exponent, no trailing zeros
    ("calls", "hs_call_duration", "1500.0", "1500"),
    ("calls", "hs_call_duration", "0.50", "0.5"),
    ("calls", "hs_call_duration", "1e3", "1000"),
    ("calls", "hs_call_callee_object_id", "-0", "0"),
    ("deals", "amount", "+12.3400E1", "123.4"),
    ("companies", "numberofemployees", "1E-5", "0.00001"),
    ("deals", "amount", "-.25", "-0.25"),
    # BOOL: true/false in any case, stored lower case
    ("calls", FLAG, "TRUE", "true"),
    ("deals", FLAG, "False", "false"),
    # MULTI: the non-empty parts, sorted
    ("calls", "hs_attachment_ids", "30;4;;12", "12;30;4"),
    ("tasks", "hs_task_reminders", "1714557600000;1714471200000", "1714471200000;1714557600000"),
    # ENUMERATION and STRING: unchanged
    ("calls", "hs_call_direction", "INBOUND", "INBOUND"),
    ("calls", "hs_call_title", " 1e3 Mixed  Case ", " 1e3 Mixed  Case "),
]


@pytest.mark.parametrize("normalize", [True, False], ids=["normalize", "as-sent"])
@pytest.mark.parametrize(("object_type", "prop", "sent", "normal"), NORMALISED)
async def test_values_are_stored_normalised_or_as_sent_on_every_write(
    object_type: str, prop: str, sent: str, normal: str, normalize: bool
) -> None:
    emu, w = await start(normalize_values=normalize)
    expected = normal if normalize else sent
    try:
        for endpoint in WRITES:
            status, body, rid = await write(emu, w, endpoint, object_type, {prop: sent})
            assert status in (200, 201), (endpoint, body)
            assert echoed(body)[prop] == expected, endpoint
            stored = emu.get_record(object_type, rid)
            assert stored is not None and stored["properties"][prop] == expected, endpoint
        # the upsert of an existing record (an update through batch/upsert)
        ext = "again"
        for new in (True, False):
            ex = await w("POST", f"{BASE}/{object_type}/batch/upsert", {"inputs": [
                {"id": ext, "idProperty": "ext_id",
                 "properties": {**required(object_type), prop: sent}}]})
            assert ex.status == 200 and ex.body["results"][0]["new"] is new
            assert ex.body["results"][0]["properties"][prop] == expected
    finally:
        await w.close()
        await emu.stop()


async def test_a_get_echoes_the_normal_form(normalizing: tuple[Emulator, Wire]) -> None:
    emu, w = normalizing
    _, _, rid = await write(emu, w, "create", "deals", {
        "amount": "1500.0", "closedate": "1714557600000", FLAG: "TRUE"})
    got = await w("GET", f"{BASE}/deals/{rid}", params={"properties": f"amount,closedate,{FLAG}"})
    assert {k: got.body["properties"][k] for k in ("amount", "closedate", FLAG)} == {
        "amount": "1500", "closedate": "2024-05-01T10:00:00.000Z", FLAG: "true"}


async def test_custom_properties_are_strings() -> None:
    emu, w = await start(custom_properties={"calls": ("my_amount", "my_date")})
    try:
        _, body, _ = await write(emu, w, "create", "calls",
                                 {"my_amount": "1500.0", "my_date": "1714557600000"})
        assert echoed(body)["my_amount"] == "1500.0"
        assert echoed(body)["my_date"] == "1714557600000"
    finally:
        await w.close()
        await emu.stop()


async def test_empty_values_are_not_checked_and_clear(normalizing: tuple[Emulator, Wire]) -> None:
    emu, w = normalizing
    rid = emu.put_record("deals", {"amount": "5", "closedate": TS})
    ex = await w("PATCH", f"{BASE}/deals/{rid}", {"properties": {"amount": "", "closedate": ""}})
    assert ex.status == 200
    stored = emu.get_record("deals", rid)
    assert stored is not None
    assert "amount" not in stored["properties"] and "closedate" not in stored["properties"]


INVALID = [
    ("calls", "hs_timestamp", "2024-05-01T10:00:00", "INVALID_DATE"),  # no zone
    ("calls", "hs_timestamp", "yesterday", "INVALID_DATE"),
    ("notes", "hs_timestamp", "2024-13-01", "INVALID_DATE"),
    ("notes", "hs_timestamp", "1714557600000.5", "INVALID_DATE"),
    ("meetings", "hs_meeting_start_time", " 2024-05-01", "INVALID_DATE"),
    ("deals", "closedate", "2024-05-01 10:00:00Z", "INVALID_DATE"),
    ("deals", "closedate", "99999999999999999999", "INVALID_DATE"),
    ("calls", "hs_call_duration", "NaN", "INVALID_FLOAT"),
    ("calls", "hs_call_duration", "Infinity", "INVALID_FLOAT"),
    ("calls", "hs_call_duration", "-inf", "INVALID_FLOAT"),
    ("deals", "amount", "1,5", "INVALID_FLOAT"),
    ("deals", "amount", "12abc", "INVALID_FLOAT"),
    ("deals", "amount", "1e400", "INVALID_FLOAT"),
    ("companies", "numberofemployees", " 1", "INVALID_FLOAT"),
    ("calls", FLAG, "yes", "INVALID_BOOLEAN"),
    ("calls", FLAG, "1", "INVALID_BOOLEAN"),
    ("deals", FLAG, "true ", "INVALID_BOOLEAN"),
]


@pytest.mark.parametrize("normalize", [True, False], ids=["normalize", "as-sent"])
@pytest.mark.parametrize(("object_type", "prop", "sent", "code"), INVALID)
async def test_invalid_values_are_a_400_property_error_on_every_write(
    object_type: str, prop: str, sent: str, code: str, normalize: bool
) -> None:
    emu, w = await start(normalize_values=normalize)
    try:
        for endpoint in WRITES:
            before = len(emu.records(object_type))
            status, body, _ = await write(emu, w, endpoint, object_type, {prop: sent})
            assert status == 400, (endpoint, body)
            assert body["category"] == "VALIDATION_ERROR"
            assert body["errors"] == [{"message": body["errors"][0]["message"], "code": code,
                                       "context": {"propertyName": [prop]}}]
            assert f'"error":"{code}"' in body["message"]
            assert f'"name":"{prop}"' in body["message"]
            seeded = 1 if endpoint in ("batch/update", "update") else 0
            assert len(emu.records(object_type)) == before + seeded  # nothing written
            if seeded:
                stored = emu.records(object_type)[-1]["properties"]
                assert prop not in stored or stored[prop] != sent
            if endpoint.startswith("batch/"):  # with a trace id: a 207 naming the input
                status, body, _ = await write(emu, w, endpoint, object_type, {prop: sent},
                                              trace="t1")
                assert status == 207 and body["results"] == []
                (error,) = body["errors"]
                assert error["context"]["objectWriteTraceId"] == ["t1"]
                assert error["errors"][0]["code"] == code
    finally:
        await w.close()
        await emu.stop()


async def test_one_bad_value_fails_only_its_input_in_a_traced_batch(
    normalizing: tuple[Emulator, Wire],
) -> None:
    emu, w = normalizing
    ex = await w("POST", f"{BASE}/deals/batch/create", {"inputs": [
        {"properties": {**required("deals"), "amount": "1.50"}, "objectWriteTraceId": "good"},
        {"properties": {**required("deals"), "amount": "one"}, "objectWriteTraceId": "bad"}]})
    assert ex.status == 207
    assert [r["properties"]["amount"] for r in ex.body["results"]] == ["1.5"]
    assert ex.body["errors"][0]["context"]["objectWriteTraceId"] == ["bad"]
    assert [r["properties"]["amount"] for r in emu.records("deals")] == ["1.5"]


# -- rich text --------------------------------------------------------------------------------

BODIES = [("notes", "hs_note_body"), ("calls", "hs_call_body"), ("meetings", "hs_meeting_body"),
          ("tasks", "hs_task_body"), ("communications", "hs_communication_body"),
          ("postal_mail", "hs_postal_mail_body")]
PLAIN = 'Fish & "chips" > 3\nsecond line\r\nthird'
HTML = ('<div style="" dir="auto" data-top-level="true"><p style="margin:0;">'
        'Fish &amp; "chips" &gt; 3<br>second line<br>third</p></div>')


@pytest.mark.parametrize(("object_type", "prop"), BODIES)
async def test_rich_text_html_stores_plain_bodies_as_editor_html(
    object_type: str, prop: str
) -> None:
    emu, w = await start(rich_text_html=True)
    extra = {"hs_communication_channel_type": "SMS"} if object_type == "communications" else {}
    try:
        path = f"{BASE}/{object_type}"
        props = {"hs_timestamp": TS, **extra, prop: PLAIN}
        created = await w("POST", path, {"properties": props})
        assert created.status == 201 and created.body["properties"][prop] == HTML
        batch = await w("POST", f"{path}/batch/create", {"inputs": [{"properties": props}]})
        assert batch.body["results"][0]["properties"][prop] == HTML
        rid = created.body["id"]
        html = "<p>already <b>HTML</b> & more</p>"
        patched = await w("PATCH", f"{path}/{rid}", {"properties": {prop: html}})
        assert patched.body["properties"][prop] == html  # text with a "<" is kept
        updated = await w("POST", f"{path}/batch/update", {"inputs": [
            {"id": rid, "properties": {prop: "x"}}]})
        expected = ('<div style="" dir="auto" data-top-level="true">'
                    '<p style="margin:0;">x</p></div>')
        assert updated.body["results"][0]["properties"][prop] == expected
        stored = emu.get_record(object_type, rid)
        assert stored is not None and stored["properties"][prop] == expected
    finally:
        await w.close()
        await emu.stop()


@pytest.mark.parametrize("normalize", [True, False])
async def test_rich_text_html_off_keeps_bodies_and_other_properties_as_sent(
    normalize: bool,
) -> None:
    emu, w = await start(normalize_values=normalize)
    try:
        ex = await w("POST", f"{BASE}/notes", {"properties": {"hs_timestamp": TS,
                                                             "hs_note_body": PLAIN}})
        assert ex.body["properties"]["hs_note_body"] == PLAIN
    finally:
        await w.close()
        await emu.stop()
    emu, w = await start(rich_text_html=True, normalize_values=normalize)
    try:  # only the six body properties, and independently of normalize_values
        ex = await w("POST", f"{BASE}/calls", {"properties": {
            "hs_timestamp": TS, "hs_call_title": PLAIN, "hs_call_body": PLAIN}})
        assert ex.body["properties"]["hs_call_title"] == PLAIN
        assert ex.body["properties"]["hs_call_body"] == HTML
    finally:
        await w.close()
        await emu.stop()


# -- the value functions themselves ---------------------------------------------------------


def test_normal_forms() -> None:
    assert normalize_datetime("0") == "1970-01-01T00:00:00.000Z"
    assert normalize_datetime("2024-05-01T10:00Z") == "2024-05-01T10:00:00.000Z"
    assert normalize_datetime("2024-02-29T23:59:59.9999+00:00") == "2024-02-29T23:59:59.999Z"
    assert normalize_number("123456789012345678901234567890.10") == (
        "123456789012345678901234567890.1")  # exact: no rounding to 28 digits
    assert normalize_number("0.1000000000000000000000000000001") == (
        "0.1000000000000000000000000000001")
    assert normalize_number("-0.0e10") == "0"
    assert check_value(PropertyKind.STRING, "1e3") == "1e3"
    assert check_value(PropertyKind.NUMBER, "1e3", normalize=False) == "1e3"
    assert check_value(PropertyKind.NUMBER, "") == ""
    assert rich_text_html("a<b") == "a<b"
    for kind, bad in [(PropertyKind.DATETIME, "2024-02-30"), (PropertyKind.DATETIME, "٢٠٢٤"),
                      (PropertyKind.DATETIME, "2024-05-01T10:00:00+24:00"),
                      (PropertyKind.NUMBER, "1e-400"), (PropertyKind.NUMBER, "١"),
                      (PropertyKind.NUMBER, "0x10"), (PropertyKind.BOOL, "t")]:
        with pytest.raises(InvalidValue):
            check_value(kind, bad)
