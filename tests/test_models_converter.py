"""The models' converter: round trips through it, one definition of every enumeration, one
check of a write's values, the models' public surface and their import structure."""

from __future__ import annotations

import ast
import enum
import inspect
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

import hubengage
import hubengage.models
from hubengage import (
    Call,
    Communication,
    CommunicationChannel,
    CrmObject,
    Email,
    EmailDirection,
    EmailHeaders,
    InvalidInputError,
    Meeting,
    Note,
    PostalMail,
    Task,
    _enums,
)
from hubengage._objecttypes import ENGAGEMENT_TYPES, resolve_object_type
from hubengage.models import _converter
from hubengage.models._converter import converter, format_datetime, to_timestamp
from hubengage.models._converter import to_wire_properties as wire
from tests.test_models import MODELS

ENGAGEMENTS = (Email, PostalMail, Communication, Call, Meeting, Note, Task)
NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
STAMP = "2026-01-15T10:00:00.000Z"
PACKAGE = Path(hubengage.__file__).parent


def _enum_fields(cls: type[Any]) -> dict[str, type[enum.Enum]]:
    """HubSpot property -> enum class, for each of ``cls``'s enum fields."""
    out = {}
    for name, hint in inspect.get_annotations(cls, eval_str=True).items():
        field = attrs.fields_dict(cls).get(name)
        for t in (hint, *getattr(hint, "__args__", ())):
            if field is not None and isinstance(t, type) and issubclass(t, enum.Enum):
                out[field.metadata["property"]] = t
    return out


# -- round trips through the converter --------------------------------------------------------


@pytest.mark.parametrize("cls", ENGAGEMENTS, ids=lambda c: c.__name__)
def test_to_properties_and_from_record_are_the_converter(cls: type[Any]) -> None:
    @settings(derandomize=True, max_examples=50)
    @given(MODELS[cls])
    def check(model: Any) -> None:
        props = converter.unstructure(model)
        assert props == model.to_properties()
        assert all(type(v) is str for v in props.values())  # plain strings, not enum members
        assert converter.structure(props, cls) == model == cls.from_record(props)
        record = CrmObject(id="1", properties={**props, "hs_createdate": STAMP})
        assert converter.structure(record, cls) == model

    check()


def test_properties_use_hubspot_names_and_omit_what_is_unset() -> None:
    email = Email(timestamp=NOW, direction="EMAIL", subject="", owner_id="7",
                  attachment_ids=[], extra={"custom_x": 1})
    assert email.to_properties() == {
        "hs_timestamp": STAMP, "hs_email_direction": "EMAIL", "hs_email_subject": "",
        "hubspot_owner_id": "7", "custom_x": "1",
    }
    # A default that sends something is sent; set to None, it is not.
    sms = Communication(timestamp=NOW, channel=CommunicationChannel.SMS)
    assert sms.to_properties()["hs_communication_logged_from"] == "CRM"
    assert "hs_communication_logged_from" not in Communication(
        timestamp=NOW, channel="SMS", logged_from=None).to_properties()
    assert Call(timestamp=NOW, duration_ms=1500).to_properties()["hs_call_duration"] == "1500"


def test_from_record_parses_values_and_sorts_the_rest_into_extra() -> None:
    headers = EmailHeaders(from_=hubengage.EmailAddress(email="a@x.com"), to=["b@x.com"])
    record = CrmObject(id="9", properties={
        "hs_timestamp": "1768471200000", "hs_email_direction": "INCOMING_EMAIL",
        "hs_email_headers": headers.to_json(), "hs_attachment_ids": "1;2", "hs_email_text": "",
        "hs_email_subject": None, "hs_object_id": "9", "hs_createdate": STAMP,
        "hs_email_from_email": "a@x.com", "custom_x": "1", "custom_empty": "",
        "custom_null": None,
    })
    email = Email.from_record(record)
    assert email.timestamp == NOW and email.direction is EmailDirection.INCOMING_EMAIL
    assert email.headers == headers and email.attachment_ids == ("1", "2")
    assert email.text is None and email.subject is None  # "" and null: not set
    # System and read-only properties are HubSpot's; every other one is kept.
    assert email.extra == {"custom_x": "1", "custom_empty": ""}
    assert Call.from_record({"hs_timestamp": STAMP, "hs_call_duration": "90"}).duration_ms == 90


@pytest.mark.parametrize(
    ("cls", "props", "missing"),
    [
        (Email, {"hs_email_direction": "EMAIL"}, "hs_timestamp"),
        (Email, {"hs_timestamp": STAMP}, "hs_email_direction"),
        (Email, {"hs_timestamp": STAMP, "hs_email_direction": ""}, "hs_email_direction"),
        (Communication, {"hs_timestamp": STAMP}, "hs_communication_channel_type"),
        (Note, {"hs_note_body": "hi", "hs_timestamp": None}, "hs_timestamp"),
    ],
)
def test_from_record_names_a_missing_required_property(
    cls: type[Any], props: dict[str, Any], missing: str
) -> None:
    with pytest.raises(InvalidInputError, match="properties=") as info:
        cls.from_record(CrmObject(id="1", properties=props))
    assert info.value.field == missing


@pytest.mark.parametrize(
    ("cls", "props", "field"),
    [
        (Email, {"hs_timestamp": "soon", "hs_email_direction": "EMAIL"}, "timestamp"),
        (Email, {"hs_timestamp": STAMP, "hs_email_direction": "SIDEWAYS"}, "direction"),
        (Email, {"hs_timestamp": STAMP, "hs_email_direction": "EMAIL",
                 "hs_email_headers": "{not json"}, "headers"),
        (Call, {"hs_timestamp": STAMP, "hs_call_duration": "1.5"}, "duration_ms"),
        (Meeting, {"hs_timestamp": STAMP, "hs_meeting_start_time": "2026-01-01T10:00"},
         "start_time"),
        (Note, {"hs_timestamp": STAMP, "hs_note_body": "x" * 65_537}, "body"),
    ],
)
def test_from_record_names_the_field_of_a_bad_value(
    cls: type[Any], props: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        cls.from_record(props)
    assert info.value.field == field
    assert not str(info.value).startswith(f"{field}: {field}:")


def test_datetimes_keep_four_digit_years() -> None:
    early = datetime(999, 1, 2, 3, 4, 5, 678_999, tzinfo=UTC)
    assert format_datetime(early) == "0999-01-02T03:04:05.678Z"
    assert to_timestamp(format_datetime(early)) == early.replace(microsecond=678_000)


# -- one definition of every enumeration ------------------------------------------------------


@pytest.mark.parametrize("cls", ENGAGEMENTS, ids=lambda c: c.__name__)
def test_enum_classes_and_the_object_type_table_agree(cls: type[Any]) -> None:
    known = resolve_object_type(cls.OBJECT_TYPE)
    assert known is not None
    for prop, enum_cls in _enum_fields(cls).items():
        allowed = known.enums[prop]
        assert allowed == {m.value for m in enum_cls}, prop
        assert all(type(value) is str for value in allowed)


def test_every_enumerated_property_is_defined_once() -> None:
    by_model = {m.OBJECT_TYPE: _enum_fields(m) for m in ENGAGEMENTS}
    # Enumerations with a single value the SDK sets itself live only in the table.
    table_only = {("communications", "hs_communication_logged_from"),
                  ("calls", "hs_call_source")}
    for known in ENGAGEMENT_TYPES:
        for prop in known.enums:
            assert prop in by_model[known.name] or (known.name, prop) in table_only, prop
    used = {enum_cls for fields in by_model.values() for enum_cls in fields.values()}
    assert used == {value for value in vars(_enums).values()
                    if isinstance(value, type) and issubclass(value, enum.Enum)}
    # The models check the table-only ones against the table too.
    with pytest.raises(InvalidInputError) as info:
        Communication(timestamp=NOW, channel="SMS", logged_from="API")
    assert info.value.field == "logged_from"
    with pytest.raises(InvalidInputError) as info:
        Call(timestamp=NOW, extra={"hs_call_source": "PHONE"})
    assert info.value.field == "hs_call_source"


def test_the_enums_are_the_public_ones() -> None:
    for name in ("EmailDirection", "EmailStatus", "CommunicationChannel", "CallDirection",
                 "CallStatus", "MeetingOutcome", "TaskStatus", "TaskPriority", "TaskType"):
        cls = getattr(_enums, name)
        assert getattr(hubengage, name) is cls is getattr(hubengage.models, name)


# -- one check per write ----------------------------------------------------------------------


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each call of the value checks ``to_wire_properties`` may make."""
    calls: list[str] = []
    for name in ("_check_values", "check_timestamp_text", "property_value"):
        real = getattr(_converter, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(_converter, name, spy)
    return calls


def test_a_model_is_not_checked_again_when_written(checks: list[str]) -> None:
    email = Email(timestamp=NOW, direction=EmailDirection.EMAIL, subject="hi",
                  extra={"custom_x": "1"})
    checks.clear()  # building it checked it (its extra): that is the one check
    assert wire("emails", email, create=True) == email.to_properties()
    assert checks == []
    assert wire("emails", dict(email.to_properties()), create=True) == email.to_properties()
    assert checks == ["_check_values", "check_timestamp_text"]


def test_a_models_extra_is_checked_when_it_is_built() -> None:
    for extra, field in [({"hs_email_status": "LOST"}, "hs_email_status"),
                         ({"hs_timestamp": "yesterday"}, "hs_timestamp"),
                         ({"hs_email_direction": " "}, "hs_email_direction"),
                         ({"custom": float("nan")}, "custom")]:
        with pytest.raises(InvalidInputError) as info:
            Email(timestamp=NOW, direction="EMAIL", extra=extra)
        assert info.value.field == field
    with pytest.raises(InvalidInputError) as info:
        Call(timestamp=NOW, duration_ms=float("inf"))  # type: ignore[arg-type]
    assert info.value.field == "duration_ms"


# -- the public surface and the import structure ----------------------------------------------


def test_models_exports_only_what_users_need() -> None:
    assert set(hubengage.models.__all__) == {
        "AssociatedId", "AssociatedRecord", "Association", "AssociationCategory",
        "AssociationLabel", "Call", "CallDirection", "CallStatus", "Communication",
        "CommunicationChannel", "CrmObject", "Email", "EmailAddress", "EmailDirection",
        "EmailHeaders", "EmailStatus", "Meeting", "MeetingOutcome", "Note", "Owner",
        "PostalMail", "Property", "PropertyModel", "PropertyOption", "PropertyVersion", "Task",
        "TaskPriority", "TaskStatus", "TaskType",
    }
    public = {name for name, value in vars(hubengage.models).items()
              if not name.startswith("_") and not inspect.ismodule(value)}
    assert public == set(hubengage.models.__all__)
    for name in hubengage.models.__all__:
        value = getattr(hubengage.models, name)
        assert inspect.getdoc(value), name
        assert getattr(hubengage, name) is value
        for attr in ("to_properties", "from_record"):
            if hasattr(value, attr):
                assert inspect.getdoc(getattr(value, attr)), f"{name}.{attr}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


def test_no_import_cycles_among_the_models() -> None:
    models = PACKAGE / "models"
    assert not {i for i in _imports(models / "_records.py") if i.startswith(".")}
    assert "._converter" not in _imports(models / "_headers.py")
    converter_imports = _imports(models / "_converter.py")
    assert "._engagements" not in converter_imports
    assert "._associations" not in converter_imports
    enums = _imports(PACKAGE / "_enums.py")
    assert not {i for i in enums if i.startswith(".") or i.startswith("hubengage")}
    for path in models.glob("*.py"):
        _imports(path)  # every module says what it is for
