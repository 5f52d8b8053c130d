"""The seven typed engagement models: frozen, keyword-only attrs classes.

Each field carries the HubSpot property it maps to (``metadata={"property": ...}``); the
fields every engagement shares are declared once, on ``_Engagement``. The converter
(``_converter``) gives ``to_properties()`` (the wire dict) and ``from_record(rec)`` (the typed
view of a returned :class:`CrmObject`); ``extra`` holds any other property (custom ones
included). Values are checked as the model is built, so a bad enum or a naive datetime fails
at the caller's line, naming the field, and a write sends a model's properties as they are.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import attrs
from attrs import validators

from .._constants import MAX_NOTE_BODY_CHARS
from .._enums import (
    CallDirection,
    CallDirectionValue,
    CallStatus,
    CallStatusValue,
    CommunicationChannel,
    CommunicationChannelValue,
    EmailDirection,
    EmailDirectionValue,
    EmailStatus,
    EmailStatusValue,
    MeetingOutcome,
    MeetingOutcomeValue,
    TaskPriority,
    TaskPriorityValue,
    TaskStatus,
    TaskStatusValue,
    TaskType,
    TaskTypeValue,
)
from .._errors import invalid_input
from .._objecttypes import resolve_object_type
from ._converter import (
    PropertyModel,
    check_extra_properties,
    enum_member,
    property_value,
    to_ids,
    to_timestamp,
)
from ._headers import EmailHeaders

__all__ = ["Call", "Communication", "Email", "Meeting", "Note", "PostalMail", "Task"]


# -- field helpers ----------------------------------------------------------------------------

E = TypeVar("E", bound=enum.Enum)

#: What a timestamp field accepts: an aware datetime, epoch milliseconds, or ISO 8601 text.
Timestamp = datetime | int | str


def _optional_enum(cls: type[E], value: object, name: str) -> E | None:
    return None if value is None else enum_member(cls, value, field=name)


# Converters are named functions with typed parameters: type checkers (mypy's attrs plugin,
# pyright) read a field's accepted forms from its converter's parameter.


def _timestamp(value: Timestamp) -> datetime:
    return to_timestamp(value, field="timestamp")


def _start_time(value: Timestamp | None) -> datetime | None:
    return None if value is None else to_timestamp(value, field="start_time")


def _end_time(value: Timestamp | None) -> datetime | None:
    return None if value is None else to_timestamp(value, field="end_time")


def _email_direction(value: EmailDirection | EmailDirectionValue) -> EmailDirection:
    return enum_member(EmailDirection, value, field="direction")


def _email_status(value: EmailStatus | EmailStatusValue | None) -> EmailStatus | None:
    return _optional_enum(EmailStatus, value, "status")


def _channel(value: CommunicationChannel | CommunicationChannelValue) -> CommunicationChannel:
    return enum_member(CommunicationChannel, value, field="channel")


def _call_direction(value: CallDirection | CallDirectionValue | None) -> CallDirection | None:
    return _optional_enum(CallDirection, value, "direction")


def _call_status(value: CallStatus | CallStatusValue | None) -> CallStatus | None:
    return _optional_enum(CallStatus, value, "status")


def _outcome(value: MeetingOutcome | MeetingOutcomeValue | None) -> MeetingOutcome | None:
    return _optional_enum(MeetingOutcome, value, "outcome")


def _task_status(value: TaskStatus | TaskStatusValue | None) -> TaskStatus | None:
    return _optional_enum(TaskStatus, value, "status")


def _priority(value: TaskPriority | TaskPriorityValue | None) -> TaskPriority | None:
    return _optional_enum(TaskPriority, value, "priority")


def _task_type(value: TaskType | TaskTypeValue | None) -> TaskType | None:
    return _optional_enum(TaskType, value, "task_type")


def _prop(name: str) -> dict[str, str]:
    """The metadata of a model field that maps to HubSpot property ``name``."""
    return {"property": name}


def _extra(value: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): property_value(v, field=str(k)) for k, v in value.items()}


def _check_extra(
    instance: PropertyModel, _: attrs.Attribute[Any], value: Mapping[str, str]
) -> None:
    check_extra_properties(instance.OBJECT_TYPE, value)


def _sendable(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A number ``to_properties`` can send (``property_value`` names the field otherwise)."""
    if value is not None and type(value) is not int:
        property_value(value, field=attribute.name)


def _allowed(object_type: str, prop: str) -> frozenset[str]:
    known = resolve_object_type(object_type)
    assert known is not None
    return frozenset(known.enums[prop])


def _one_of(allowed: frozenset[str]) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """A validator: None or one of ``allowed``, else ``InvalidInputError`` naming the field."""
    return invalid_input(
        validators.optional(validators.in_(allowed)),
        message=lambda value: f"{value!r} is not one of {', '.join(sorted(allowed))}",
    )


# -- the shared fields ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Engagement(PropertyModel):
    """The fields every engagement has; each model adds its own."""

    #: ``hs_timestamp`` (required): when the engagement happened (a task's due date).
    timestamp: datetime = attrs.field(metadata=_prop("hs_timestamp"), converter=_timestamp)
    owner_id: str | None = attrs.field(default=None, metadata=_prop("hubspot_owner_id"))
    attachment_ids: tuple[str, ...] = attrs.field(
        default=(), metadata=_prop("hs_attachment_ids"), converter=to_ids)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_extra, validator=_check_extra)


# -- the seven engagement models --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Email(_Engagement):
    """An email engagement (``emails``, ``0-49``). ``timestamp`` and ``direction`` are required."""

    OBJECT_TYPE: ClassVar[str] = "emails"

    direction: EmailDirection = attrs.field(metadata=_prop("hs_email_direction"),
                                            converter=_email_direction)
    subject: str | None = attrs.field(default=None, metadata=_prop("hs_email_subject"))
    text: str | None = attrs.field(default=None, metadata=_prop("hs_email_text"))
    html: str | None = attrs.field(default=None, metadata=_prop("hs_email_html"))
    status: EmailStatus | None = attrs.field(
        default=None, metadata=_prop("hs_email_status"), converter=_email_status)
    headers: EmailHeaders | None = attrs.field(default=None, metadata=_prop("hs_email_headers"))


@attrs.frozen(kw_only=True)
class PostalMail(_Engagement):
    """A postal mail engagement (``postal_mail``, ``0-116``)."""

    OBJECT_TYPE: ClassVar[str] = "postal_mail"

    body: str | None = attrs.field(default=None, metadata=_prop("hs_postal_mail_body"))


@attrs.frozen(kw_only=True)
class Communication(_Engagement):
    """A WhatsApp, LinkedIn or SMS message (``communications``, ``0-18``)."""

    OBJECT_TYPE: ClassVar[str] = "communications"

    channel: CommunicationChannel = attrs.field(
        metadata=_prop("hs_communication_channel_type"), converter=_channel)
    body: str | None = attrs.field(default=None, metadata=_prop("hs_communication_body"))
    #: HubSpot requires ``CRM`` here.
    logged_from: str | None = attrs.field(
        default="CRM", metadata=_prop("hs_communication_logged_from"),
        validator=_one_of(_allowed("communications", "hs_communication_logged_from")),
    )


@attrs.frozen(kw_only=True)
class Call(_Engagement):
    """A call engagement (``calls``, ``0-48``). ``duration_ms`` is milliseconds."""

    OBJECT_TYPE: ClassVar[str] = "calls"

    title: str | None = attrs.field(default=None, metadata=_prop("hs_call_title"))
    body: str | None = attrs.field(default=None, metadata=_prop("hs_call_body"))
    direction: CallDirection | None = attrs.field(
        default=None, metadata=_prop("hs_call_direction"), converter=_call_direction)
    status: CallStatus | None = attrs.field(
        default=None, metadata=_prop("hs_call_status"), converter=_call_status)
    duration_ms: int | None = attrs.field(
        default=None, metadata=_prop("hs_call_duration"), validator=_sendable)
    from_number: str | None = attrs.field(default=None, metadata=_prop("hs_call_from_number"))
    to_number: str | None = attrs.field(default=None, metadata=_prop("hs_call_to_number"))
    recording_url: str | None = attrs.field(default=None, metadata=_prop("hs_call_recording_url"))
    disposition: str | None = attrs.field(default=None, metadata=_prop("hs_call_disposition"))


@attrs.frozen(kw_only=True)
class Meeting(_Engagement):
    """A meeting engagement (``meetings``, ``0-47``)."""

    OBJECT_TYPE: ClassVar[str] = "meetings"

    title: str | None = attrs.field(default=None, metadata=_prop("hs_meeting_title"))
    body: str | None = attrs.field(default=None, metadata=_prop("hs_meeting_body"))
    internal_notes: str | None = attrs.field(
        default=None, metadata=_prop("hs_internal_meeting_notes"))
    external_url: str | None = attrs.field(default=None, metadata=_prop("hs_meeting_external_url"))
    location: str | None = attrs.field(default=None, metadata=_prop("hs_meeting_location"))
    start_time: datetime | None = attrs.field(
        default=None, metadata=_prop("hs_meeting_start_time"), converter=_start_time)
    end_time: datetime | None = attrs.field(
        default=None, metadata=_prop("hs_meeting_end_time"), converter=_end_time)
    outcome: MeetingOutcome | None = attrs.field(
        default=None, metadata=_prop("hs_meeting_outcome"), converter=_outcome)


@attrs.frozen(kw_only=True)
class Note(_Engagement):
    """A note engagement (``notes``, ``0-46``). ``body`` is at most 65,536 characters."""

    OBJECT_TYPE: ClassVar[str] = "notes"

    body: str | None = attrs.field(
        default=None, metadata=_prop("hs_note_body"),
        validator=invalid_input(
            validators.optional(validators.max_len(MAX_NOTE_BODY_CHARS)),
            message=lambda _: f"longer than {MAX_NOTE_BODY_CHARS:,} characters",
        ),
    )


@attrs.frozen(kw_only=True)
class Task(_Engagement):
    """A task engagement (``tasks``, ``0-27``). ``timestamp`` is the due date."""

    OBJECT_TYPE: ClassVar[str] = "tasks"

    subject: str | None = attrs.field(default=None, metadata=_prop("hs_task_subject"))
    body: str | None = attrs.field(default=None, metadata=_prop("hs_task_body"))
    status: TaskStatus | None = attrs.field(
        default=None, metadata=_prop("hs_task_status"), converter=_task_status)
    priority: TaskPriority | None = attrs.field(
        default=None, metadata=_prop("hs_task_priority"), converter=_priority)
    task_type: TaskType | None = attrs.field(
        default=None, metadata=_prop("hs_task_type"), converter=_task_type)
