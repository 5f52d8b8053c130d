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
    CallStatus,
    CommunicationChannel,
    EmailDirection,
    EmailStatus,
    MeetingOutcome,
    TaskPriority,
    TaskStatus,
    TaskType,
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


def _enum(cls: type[E], name: str) -> Callable[[Any], E | None]:
    def convert(value: Any) -> E | None:
        return None if value is None else enum_member(cls, value, field=name)

    return convert


def _stamp(name: str, *, optional: bool = False) -> Callable[[Any], datetime | None]:
    def convert(value: Any) -> datetime | None:
        if value is None and optional:
            return None
        return to_timestamp(value, field=name)

    return convert


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


def _prop(name: str, **kwargs: Any) -> Any:
    """A model field that maps to HubSpot property ``name`` (by default optional: None)."""
    kwargs.setdefault("default", None)
    return attrs.field(metadata={"property": name}, **kwargs)


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
    timestamp: datetime = _prop(
        "hs_timestamp", default=attrs.NOTHING, converter=_stamp("timestamp")
    )
    owner_id: str | None = _prop("hubspot_owner_id")
    attachment_ids: tuple[str, ...] = _prop("hs_attachment_ids", default=(), converter=to_ids)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_extra, validator=_check_extra)


# -- the seven engagement models --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Email(_Engagement):
    """An email engagement (``emails``, ``0-49``). ``timestamp`` and ``direction`` are required."""

    OBJECT_TYPE: ClassVar[str] = "emails"

    direction: EmailDirection = _prop(
        "hs_email_direction", default=attrs.NOTHING, converter=_enum(EmailDirection, "direction")
    )
    subject: str | None = _prop("hs_email_subject")
    text: str | None = _prop("hs_email_text")
    html: str | None = _prop("hs_email_html")
    status: EmailStatus | None = _prop("hs_email_status", converter=_enum(EmailStatus, "status"))
    headers: EmailHeaders | None = _prop("hs_email_headers")


@attrs.frozen(kw_only=True)
class PostalMail(_Engagement):
    """A postal mail engagement (``postal_mail``, ``0-116``)."""

    OBJECT_TYPE: ClassVar[str] = "postal_mail"

    body: str | None = _prop("hs_postal_mail_body")


@attrs.frozen(kw_only=True)
class Communication(_Engagement):
    """A WhatsApp, LinkedIn or SMS message (``communications``, ``0-18``)."""

    OBJECT_TYPE: ClassVar[str] = "communications"

    channel: CommunicationChannel = _prop(
        "hs_communication_channel_type",
        default=attrs.NOTHING,
        converter=_enum(CommunicationChannel, "channel"),
    )
    body: str | None = _prop("hs_communication_body")
    #: HubSpot requires ``CRM`` here.
    logged_from: str | None = _prop(
        "hs_communication_logged_from",
        default="CRM",
        validator=_one_of(_allowed("communications", "hs_communication_logged_from")),
    )


@attrs.frozen(kw_only=True)
class Call(_Engagement):
    """A call engagement (``calls``, ``0-48``). ``duration_ms`` is milliseconds."""

    OBJECT_TYPE: ClassVar[str] = "calls"

    title: str | None = _prop("hs_call_title")
    body: str | None = _prop("hs_call_body")
    direction: CallDirection | None = _prop(
        "hs_call_direction", converter=_enum(CallDirection, "direction")
    )
    status: CallStatus | None = _prop("hs_call_status", converter=_enum(CallStatus, "status"))
    duration_ms: int | None = _prop("hs_call_duration", validator=_sendable)
    from_number: str | None = _prop("hs_call_from_number")
    to_number: str | None = _prop("hs_call_to_number")
    recording_url: str | None = _prop("hs_call_recording_url")
    disposition: str | None = _prop("hs_call_disposition")


@attrs.frozen(kw_only=True)
class Meeting(_Engagement):
    """A meeting engagement (``meetings``, ``0-47``)."""

    OBJECT_TYPE: ClassVar[str] = "meetings"

    title: str | None = _prop("hs_meeting_title")
    body: str | None = _prop("hs_meeting_body")
    internal_notes: str | None = _prop("hs_internal_meeting_notes")
    external_url: str | None = _prop("hs_meeting_external_url")
    location: str | None = _prop("hs_meeting_location")
    start_time: datetime | None = _prop(
        "hs_meeting_start_time", converter=_stamp("start_time", optional=True)
    )
    end_time: datetime | None = _prop(
        "hs_meeting_end_time", converter=_stamp("end_time", optional=True)
    )
    outcome: MeetingOutcome | None = _prop(
        "hs_meeting_outcome", converter=_enum(MeetingOutcome, "outcome")
    )


@attrs.frozen(kw_only=True)
class Note(_Engagement):
    """A note engagement (``notes``, ``0-46``). ``body`` is at most 65,536 characters."""

    OBJECT_TYPE: ClassVar[str] = "notes"

    body: str | None = _prop(
        "hs_note_body",
        validator=invalid_input(
            validators.optional(validators.max_len(MAX_NOTE_BODY_CHARS)),
            message=lambda _: f"longer than {MAX_NOTE_BODY_CHARS:,} characters",
        ),
    )


@attrs.frozen(kw_only=True)
class Task(_Engagement):
    """A task engagement (``tasks``, ``0-27``). ``timestamp`` is the due date."""

    OBJECT_TYPE: ClassVar[str] = "tasks"

    subject: str | None = _prop("hs_task_subject")
    body: str | None = _prop("hs_task_body")
    status: TaskStatus | None = _prop("hs_task_status", converter=_enum(TaskStatus, "status"))
    priority: TaskPriority | None = _prop(
        "hs_task_priority", converter=_enum(TaskPriority, "priority")
    )
    task_type: TaskType | None = _prop("hs_task_type", converter=_enum(TaskType, "task_type"))
