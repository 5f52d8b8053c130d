"""Models: round trips (Hypothesis) for every engagement model, validation that names the
field, associations, and the wire properties checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubengage import (
    Association,
    AssociationCategory,
    Call,
    CallDirection,
    CallStatus,
    Communication,
    CommunicationChannel,
    CrmObject,
    Email,
    EmailAddress,
    EmailDirection,
    EmailHeaders,
    EmailStatus,
    InvalidInputError,
    Meeting,
    MeetingOutcome,
    Note,
    PostalMail,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from hubengage.models._associations import parse_association
from hubengage.models._converter import converter, to_wire_properties

aware = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
)
text = st.none() | st.text(min_size=1, max_size=30).filter(lambda s: s.strip() == s and s != "")
ids = st.lists(st.integers(1, 10**12).map(str), max_size=3).map(tuple)
extra = st.dictionaries(st.from_regex(r"custom_[a-z]{1,8}", fullmatch=True),
                        st.text(min_size=1, max_size=10), max_size=2)
address = st.builds(EmailAddress, email=st.emails(), first_name=text, last_name=text)
headers = st.none() | st.builds(EmailHeaders, from_=address, to=st.lists(address, max_size=2),
                                cc=st.lists(address, max_size=1), bcc=st.just(()))

MODELS = {
    Email: st.builds(Email, timestamp=aware, direction=st.sampled_from(EmailDirection),
                     subject=text, text=text, html=text,
                     status=st.none() | st.sampled_from(EmailStatus), headers=headers,
                     owner_id=text, attachment_ids=ids, extra=extra),
    PostalMail: st.builds(PostalMail, timestamp=aware, body=text, owner_id=text,
                          attachment_ids=ids, extra=extra),
    Communication: st.builds(Communication, timestamp=aware,
                             channel=st.sampled_from(CommunicationChannel), body=text,
                             extra=extra),
    Call: st.builds(Call, timestamp=aware, title=text, body=text,
                    direction=st.none() | st.sampled_from(CallDirection),
                    status=st.none() | st.sampled_from(CallStatus),
                    duration_ms=st.none() | st.integers(0, 10**8), from_number=text,
                    to_number=text, recording_url=text, disposition=text, extra=extra),
    Meeting: st.builds(Meeting, timestamp=aware, title=text, body=text, internal_notes=text,
                       external_url=text, location=text, start_time=st.none() | aware,
                       end_time=st.none() | aware,
                       outcome=st.none() | st.sampled_from(MeetingOutcome), extra=extra),
    Note: st.builds(Note, timestamp=aware, body=text, extra=extra),
    Task: st.builds(Task, timestamp=aware, subject=text, body=text,
                    status=st.none() | st.sampled_from(TaskStatus),
                    priority=st.none() | st.sampled_from(TaskPriority),
                    task_type=st.none() | st.sampled_from(TaskType), extra=extra),
}


@pytest.mark.parametrize("cls", list(MODELS), ids=lambda c: c.__name__)
def test_round_trip_through_a_record(cls: type[Any]) -> None:
    @settings(derandomize=True)
    @given(MODELS[cls])
    def check(model: Any) -> None:
        props = model.to_properties()
        assert all(isinstance(v, str) for v in props.values())
        to_wire_properties(cls.OBJECT_TYPE, model, create=True)  # valid as a create
        record = CrmObject(id="1", properties={**props, "hs_object_id": "1"})
        assert cls.from_record(record) == model

    check()


def test_timestamp_is_iso_milliseconds_utc() -> None:
    when = datetime(2026, 1, 15, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    props = Email(timestamp=when, direction=EmailDirection.EMAIL).to_properties()
    assert props["hs_timestamp"] == "2026-01-15T10:00:00.123Z"
    from_ms = Note(timestamp=1_768_471_200_123).to_properties()["hs_timestamp"]
    assert from_ms == "2026-01-15T10:00:00.123Z"


def test_naive_datetime_is_an_error_naming_the_field() -> None:
    with pytest.raises(InvalidInputError, match="timestamp") as info:
        Email(timestamp=datetime(2026, 1, 1), direction=EmailDirection.EMAIL)
    assert info.value.field == "timestamp"


def test_bad_enum_value_names_the_field() -> None:
    with pytest.raises(InvalidInputError) as info:
        Email(timestamp=datetime.now(UTC), direction="SIDEWAYS")
    assert info.value.field == "direction" and "SIDEWAYS" in str(info.value)


def test_email_headers_json() -> None:
    h = EmailHeaders(from_=EmailAddress(email="a@x.com", first_name="Ada"), to=["b@x.com"])
    email = Email(timestamp=datetime.now(UTC), direction=EmailDirection.EMAIL, headers=h)
    raw = email.to_properties()["hs_email_headers"]
    assert '"from":{"email":"a@x.com","firstName":"Ada"}' in raw
    assert EmailHeaders.from_json(raw) == h


def test_attachment_ids_are_semicolon_joined() -> None:
    note = Note(timestamp=datetime.now(UTC), attachment_ids=[1, "2"])
    assert note.to_properties()["hs_attachment_ids"] == "1;2"


def test_association_default_type_ids_per_engagement() -> None:
    assert Association.contact(601).to_wire("emails") == {
        "to": {"id": "601"},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 198}],
    }
    assert Association.deal(5).resolved_type_id("calls") == 206
    assert Association.ticket(5).resolved_type_id("0-116") == 455
    assert Association.company(5).resolved_type_id("communications") == 87
    explicit = Association.contact(601, type_id=9)
    assert explicit.resolved_type_id("emails") == 9


def test_association_without_a_default_needs_a_type_id() -> None:
    with pytest.raises(InvalidInputError, match="type_id"):
        Association.to("p_widgets", 1).to_wire("emails")
    assert Association.to("p_widgets", 1, type_id=77,
                          category=AssociationCategory.USER_DEFINED).to_wire("emails")[
        "types"][0] == {"associationCategory": "USER_DEFINED", "associationTypeId": 77}


def test_parse_association_forms() -> None:
    assert parse_association({"contact": 601}).resolved_type_id("emails") == 198
    hub = parse_association({"to": {"id": 602}, "types": [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 210}]})
    assert hub.to_wire("emails")["types"][0]["associationTypeId"] == 210
    for bad in ({"planet": 1}, {"to": {}}, 5, {"contact": 1, "deal": 2}):
        with pytest.raises(InvalidInputError) as info:
            parse_association(bad)
        assert info.value.field == "associations"


@pytest.mark.parametrize(
    ("object_type", "props", "field"),
    [
        ("emails", {"hs_email_direction": "EMAIL"}, "hs_timestamp"),
        ("emails", {"hs_timestamp": "2026-01-01T00:00:00Z"}, "hs_email_direction"),
        ("emails", {"hs_timestamp": "2026-01-01T00:00:00Z", "hs_email_direction": "X"},
         "hs_email_direction"),
        ("communications", {"hs_timestamp": "1700000000000"}, "hs_communication_channel_type"),
        ("notes", {"hs_timestamp": "yesterday"}, "hs_timestamp"),
        ("notes", {"hs_timestamp": "2026-01-01T00:00:00"}, "hs_timestamp"),
        ("notes", {"hs_timestamp": "2026-01-01T00:00:00Z", "x": object()}, "x"),
    ],
)
def test_wire_properties_are_checked_before_sending(
    object_type: str, props: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        to_wire_properties(object_type, props, create=True)
    assert info.value.field == field


def test_updates_need_no_required_properties_and_values_are_stringified() -> None:
    out = to_wire_properties("emails", {"hs_email_subject": "x", "n": 3, "b": True, "c": None},
                             create=False)
    assert out == {"hs_email_subject": "x", "n": "3", "b": "true", "c": ""}


def test_a_model_written_to_the_wrong_type_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="cannot be written to calls"):
        to_wire_properties("calls", Note(timestamp=datetime.now(UTC)), create=True)


def test_crm_object_from_wire() -> None:
    rec = CrmObject.from_wire({
        "id": "5", "properties": {"a": "1"}, "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-01-02T00:00:00.000Z", "archived": False,
        "associations": {"contacts": {"results": [{"id": "9", "type": "email_to_contact"}]}},
        "objectWriteTraceId": "t1", "new": True,
    })
    assert rec.id == "5" and rec.created_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert rec.associations["contacts"][0].id == "9"
    assert rec.object_write_trace_id == "t1" and rec.new is True
    assert converter.structure({"id": 7}, CrmObject).id == "7"


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"),
                                   Decimal("sNaN"), float("nan")])
def test_numbers_hubspot_cannot_store_are_refused(value: object) -> None:
    with pytest.raises(InvalidInputError, match="amount"):
        to_wire_properties("deals", {"amount": value}, create=False)


@pytest.mark.parametrize("stamp", [10**20, -(10**16), 253_402_300_800_000, "999999999999999",
                                   "-62135596800001"])
def test_timestamps_outside_the_calendar_are_invalid_input_not_os_errors(stamp: object) -> None:
    with pytest.raises(InvalidInputError, match="timestamp"):
        Email(timestamp=stamp, direction=EmailDirection.EMAIL)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="hs_timestamp"):
        to_wire_properties("notes", {"hs_timestamp": stamp}, create=True)


def test_a_typed_view_of_a_partial_read_names_the_missing_property() -> None:
    partial = CrmObject(id="1", properties={"hs_email_subject": "hi"})
    with pytest.raises(InvalidInputError, match="hs_timestamp"):
        Email.from_record(partial)
    full = CrmObject(id="1", properties={"hs_email_subject": "hi", "hs_email_direction": "EMAIL",
                                         "hs_timestamp": "2024-05-01T10:00:00.000Z"})
    assert Email.from_record(full).subject == "hi"


async def test_objects_needs_a_type_name() -> None:
    from tests._fakes import ScriptedTransport, client

    async with client(ScriptedTransport()) as hs:
        for bad in (None, "", "  ", 42):
            with pytest.raises(InvalidInputError, match="object_type"):
                hs.objects(bad)  # type: ignore[arg-type]


def test_each_literal_type_lists_exactly_its_enums_values() -> None:
    import typing

    from hubengage import _enums

    names = [n for n in _enums.__all__ if n.endswith("Value")]
    assert len(names) == 9
    for name in names:
        cls = getattr(_enums, name.removesuffix("Value"))
        assert set(typing.get_args(getattr(_enums, name))) == _enums.enum_values(cls), name
