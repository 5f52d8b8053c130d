"""Typed models for the seven engagement types, and their enums.

Each model is a frozen, keyword-only attrs class whose fields carry the HubSpot property they
map to (``metadata={"property": ...}``). ``to_properties()`` gives the wire dict and
``from_record(rec)`` the typed view of a returned :class:`CrmObject`; ``extra`` holds any
other property (custom ones included). Values are checked as the model is built, so a bad
enum or a naive datetime fails at the caller's line, naming the field.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import attrs

from .._errors import InvalidInputError
from .._objecttypes import resolve_object_type
from ._converter import format_datetime, property_value, to_timestamp
from ._records import CrmObject

__all__ = [
    "Call",
    "CallDirection",
    "CallStatus",
    "Communication",
    "CommunicationChannel",
    "Email",
    "EmailAddress",
    "EmailDirection",
    "EmailHeaders",
    "EmailStatus",
    "Meeting",
    "MeetingOutcome",
    "Note",
    "PostalMail",
    "Task",
    "TaskPriority",
    "TaskStatus",
    "TaskType",
]


class EmailDirection(enum.StrEnum):
    """``hs_email_direction``."""

    EMAIL = "EMAIL"
    INCOMING_EMAIL = "INCOMING_EMAIL"
    FORWARDED_EMAIL = "FORWARDED_EMAIL"


class EmailStatus(enum.StrEnum):
    """``hs_email_status``."""

    BOUNCED = "BOUNCED"
    FAILED = "FAILED"
    SCHEDULED = "SCHEDULED"
    SENDING = "SENDING"
    SENT = "SENT"


class CommunicationChannel(enum.StrEnum):
    """``hs_communication_channel_type``."""

    WHATS_APP = "WHATS_APP"
    LINKEDIN_MESSAGE = "LINKEDIN_MESSAGE"
    SMS = "SMS"


class CallDirection(enum.StrEnum):
    """``hs_call_direction``."""

    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class CallStatus(enum.StrEnum):
    """``hs_call_status``."""

    BUSY = "BUSY"
    CALLING_CRM_USER = "CALLING_CRM_USER"
    CANCELED = "CANCELED"
    COMPLETED = "COMPLETED"
    CONNECTING = "CONNECTING"
    FAILED = "FAILED"
    IN_PROGRESS = "IN_PROGRESS"
    NO_ANSWER = "NO_ANSWER"
    QUEUED = "QUEUED"
    RINGING = "RINGING"


class MeetingOutcome(enum.StrEnum):
    """``hs_meeting_outcome``."""

    SCHEDULED = "SCHEDULED"
    COMPLETED = "COMPLETED"
    RESCHEDULED = "RESCHEDULED"
    NO_SHOW = "NO_SHOW"
    CANCELED = "CANCELED"


class TaskStatus(enum.StrEnum):
    """``hs_task_status``."""

    COMPLETED = "COMPLETED"
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    DEFERRED = "DEFERRED"
    WAITING = "WAITING"


class TaskPriority(enum.StrEnum):
    """``hs_task_priority``."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class TaskType(enum.StrEnum):
    """``hs_task_type``."""

    EMAIL = "EMAIL"
    CALL = "CALL"
    TODO = "TODO"


# -- field helpers ----------------------------------------------------------------------------

E = TypeVar("E", bound=enum.Enum)


def _enum(cls: type[E], name: str) -> Callable[[Any], E | None]:
    def convert(value: Any) -> E | None:
        if value is None or isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise InvalidInputError(f"{value!r} is not one of {allowed}", field=name) from None

    return convert


def _stamp(name: str, *, optional: bool = False) -> Callable[[Any], datetime | None]:
    def convert(value: Any) -> datetime | None:
        if value is None and optional:
            return None
        return to_timestamp(value, field=name)

    return convert


def _ids(value: Iterable[str | int] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v for v in value.split(";") if v)
    return tuple(str(v) for v in value)


def _extra(value: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): property_value(v, field=str(k)) for k, v in value.items()}


def _prop(name: str, **kwargs: Any) -> Any:
    """A model field that maps to HubSpot property ``name``."""
    kwargs.setdefault("default", None)
    return attrs.field(metadata={"property": name}, **kwargs)


def _encode(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, EmailHeaders):
        return value.to_json()
    if isinstance(value, tuple):
        return ";".join(value) if value else None
    return property_value(value, field=field)


def _timestamp() -> Any:
    """The required ``hs_timestamp`` field every engagement has."""
    return _prop("hs_timestamp", default=attrs.NOTHING, converter=_stamp("timestamp"))


M = TypeVar("M", bound="_Engagement")


class _Engagement:
    """Shared behaviour: properties out, typed view in."""

    OBJECT_TYPE: ClassVar[str]

    def to_properties(self) -> dict[str, str]:
        """The properties to send for this engagement."""
        out: dict[str, str] = {}
        for field in attrs.fields(type(self)):  # type: ignore[arg-type]
            prop = field.metadata.get("property")
            if prop is None:
                continue
            encoded = _encode(getattr(self, field.name), prop)
            if encoded is not None:
                out[prop] = encoded
        out.update(getattr(self, "extra", {}))
        return out

    @classmethod
    def from_record(cls: type[M], record: CrmObject | Mapping[str, Any]) -> M:
        """The typed view of a record (a :class:`CrmObject` or its properties mapping).

        Properties the model has no field for, other than HubSpot's system properties, go to
        ``extra``. Raises ``InvalidInputError`` naming the property when one the model
        requires is missing (a record read with ``properties=[...]`` that left it out) or
        holds a value the model does not accept.
        """
        props = record.properties if isinstance(record, CrmObject) else record
        known = resolve_object_type(cls.OBJECT_TYPE)
        skip = set(known.system_properties) | set(known.read_only) if known else set()
        kwargs: dict[str, Any] = {}
        mapped: set[str] = set()
        for field in attrs.fields(cls):  # type: ignore[arg-type]
            prop = field.metadata.get("property")
            if prop is None:
                continue
            mapped.add(prop)
            raw = props.get(prop)
            if raw is None or raw == "":
                continue
            kwargs[field.name] = _decode(field, raw)
        extra = {
            k: v for k, v in props.items() if k not in mapped and k not in skip and v is not None
        }
        kwargs["extra"] = extra
        for field in attrs.fields(cls):  # type: ignore[arg-type]
            if field.default is attrs.NOTHING and field.name not in kwargs:
                raise InvalidInputError(
                    f"the record has no {field.metadata.get('property')} (a typed view needs "
                    "it: read the record with it among properties=[...])",
                    field=field.metadata.get("property") or field.name,
                )
        return cls(**kwargs)


def _decode(field: attrs.Attribute[Any], raw: str) -> Any:
    if field.name == "headers":
        return EmailHeaders.from_json(raw)
    if field.name == "attachment_ids":
        return _ids(raw)
    if field.type in ("int | None", int):
        try:
            return int(raw)
        except ValueError:
            raise InvalidInputError(f"{raw!r} is not an integer", field=field.name) from None
    return raw  # the field's own converter parses datetimes and enums


# -- email headers ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class EmailAddress:
    """A sender or recipient in :class:`EmailHeaders`."""

    email: str
    first_name: str | None = None
    last_name: str | None = None

    def to_wire(self) -> dict[str, str]:
        """HubSpot's ``{"email", "firstName", "lastName"}`` object."""
        out = {"email": self.email}
        if self.first_name is not None:
            out["firstName"] = self.first_name
        if self.last_name is not None:
            out["lastName"] = self.last_name
        return out

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> EmailAddress:
        """From HubSpot's object."""
        return cls(
            email=str(raw.get("email", "")),
            first_name=raw.get("firstName"),
            last_name=raw.get("lastName"),
        )


def _addresses(value: Iterable[EmailAddress | str]) -> tuple[EmailAddress, ...]:
    return tuple(v if isinstance(v, EmailAddress) else EmailAddress(email=str(v)) for v in value)


@attrs.frozen(kw_only=True)
class EmailHeaders:
    """``hs_email_headers``: HubSpot fills the read-only ``hs_email_from_*``/``to_*`` from it."""

    from_: EmailAddress
    to: tuple[EmailAddress, ...] = attrs.field(default=(), converter=_addresses)
    cc: tuple[EmailAddress, ...] = attrs.field(default=(), converter=_addresses)
    bcc: tuple[EmailAddress, ...] = attrs.field(default=(), converter=_addresses)

    def to_json(self) -> str:
        """The JSON string HubSpot expects in ``hs_email_headers``."""
        return json.dumps(
            {
                "from": self.from_.to_wire(),
                "to": [a.to_wire() for a in self.to],
                "cc": [a.to_wire() for a in self.cc],
                "bcc": [a.to_wire() for a in self.bcc],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> EmailHeaders:
        """Parse ``hs_email_headers``."""
        try:
            raw = json.loads(text)
            return cls(
                from_=EmailAddress.from_wire(raw.get("from") or {}),
                to=tuple(EmailAddress.from_wire(a) for a in raw.get("to") or ()),
                cc=tuple(EmailAddress.from_wire(a) for a in raw.get("cc") or ()),
                bcc=tuple(EmailAddress.from_wire(a) for a in raw.get("bcc") or ()),
            )
        except (ValueError, AttributeError, TypeError) as exc:
            raise InvalidInputError(
                f"not valid email headers JSON: {exc}", field="headers"
            ) from exc


# -- the seven engagement models --------------------------------------------------------------

_OWNER = "hubspot_owner_id"
_ATTACHMENTS = "hs_attachment_ids"


@attrs.frozen(kw_only=True)
class Email(_Engagement):
    """An email engagement (``emails``, ``0-49``). ``timestamp`` and ``direction`` are required."""

    OBJECT_TYPE: ClassVar[str] = "emails"

    timestamp: datetime = _timestamp()
    direction: EmailDirection = _prop(
        "hs_email_direction", default=attrs.NOTHING, converter=_enum(EmailDirection, "direction")
    )
    subject: str | None = _prop("hs_email_subject")
    text: str | None = _prop("hs_email_text")
    html: str | None = _prop("hs_email_html")
    status: EmailStatus | None = _prop("hs_email_status", converter=_enum(EmailStatus, "status"))
    headers: EmailHeaders | None = _prop("hs_email_headers")
    owner_id: str | None = _prop(_OWNER)
    attachment_ids: tuple[str, ...] = _prop(_ATTACHMENTS, default=(), converter=_ids)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_extra)


@attrs.frozen(kw_only=True)
class PostalMail(_Engagement):
    """A postal mail engagement (``postal_mail``, ``0-116``)."""

    OBJECT_TYPE: ClassVar[str] = "postal_mail"

    timestamp: datetime = _timestamp()
    body: str | None = _prop("hs_postal_mail_body")
    owner_id: str | None = _prop(_OWNER)
    attachment_ids: tuple[str, ...] = _prop(_ATTACHMENTS, default=(), converter=_ids)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_extra)


@attrs.frozen(kw_only=True)
class Communication(_Engagement):
    """A WhatsApp, LinkedIn or SMS message (``communications``, ``0-18``)."""

    OBJECT_TYPE: ClassVar[str] = "communications"

    timestamp: datetime = _timestamp()
    channel: CommunicationChannel = _prop(
        "hs_communication_channel_type",
        default=attrs.NOTHING,
        converter=_enum(CommunicationChannel, "channel"),
    )
    body: str | None = _prop("hs_communication_body")
    #: HubSpot requires ``CRM`` here.
    logged_from: str | None = _prop("hs_communication_logged_from", default="CRM")
    owner_id: str | None = _prop(_OWNER)
    attachment_ids: tuple[str, ...] = _prop(_ATTACHMENTS, default=(), converter=_ids)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_extra)


@attrs.frozen(kw_only=True)
class Call(_Engagement):
    """A call engagement (``calls``, ``0-48``). ``duration_ms`` is milliseconds."""

    OBJECT_TYPE: ClassVar[str] = "calls"

    timestamp: datetime = _timestamp()
    title: str | None = _prop("hs_call_title")
    body: str | None = _prop("hs_call_body")
    direction: CallDirection | None = _prop(
        "hs_call_direction", converter=_enum(CallDirection, "direction")
    )
    status: CallStatus | None = _prop("hs_call_status", converter=_enum(CallStatus, "status"))
    duration_ms: int | None = _prop("hs_call_duration")
    from_number: str | None = _prop("hs_call_from_number")
    to_number: str | None = _prop("hs_call_to_number")
    recording_url: str | None = _prop("hs_call_recording_url")
    disposition: str | None = _prop("hs_call_disposition")
    owner_id: str | None = _prop(_OWNER)
    attachment_ids: tuple[str, ...] = _prop(_ATTACHMENTS, default=(), converter=_ids)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_extra)


@attrs.frozen(kw_only=True)
class Meeting(_Engagement):
    """A meeting engagement (``meetings``, ``0-47``)."""

    OBJECT_TYPE: ClassVar[str] = "meetings"

    timestamp: datetime = _timestamp()
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
    owner_id: str | None = _prop(_OWNER)
    attachment_ids: tuple[str, ...] = _prop(_ATTACHMENTS, default=(), converter=_ids)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_extra)


@attrs.frozen(kw_only=True)
class Note(_Engagement):
    """A note engagement (``notes``, ``0-46``). ``body`` is at most 65,536 characters."""

    OBJECT_TYPE: ClassVar[str] = "notes"

    timestamp: datetime = _timestamp()
    body: str | None = _prop("hs_note_body")
    owner_id: str | None = _prop(_OWNER)
    attachment_ids: tuple[str, ...] = _prop(_ATTACHMENTS, default=(), converter=_ids)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_extra)

    def __attrs_post_init__(self) -> None:
        if self.body is not None and len(self.body) > 65_536:
            raise InvalidInputError("longer than 65,536 characters", field="body")


@attrs.frozen(kw_only=True)
class Task(_Engagement):
    """A task engagement (``tasks``, ``0-27``). ``timestamp`` is the due date."""

    OBJECT_TYPE: ClassVar[str] = "tasks"

    timestamp: datetime = _timestamp()
    subject: str | None = _prop("hs_task_subject")
    body: str | None = _prop("hs_task_body")
    status: TaskStatus | None = _prop("hs_task_status", converter=_enum(TaskStatus, "status"))
    priority: TaskPriority | None = _prop(
        "hs_task_priority", converter=_enum(TaskPriority, "priority")
    )
    task_type: TaskType | None = _prop("hs_task_type", converter=_enum(TaskType, "task_type"))
    owner_id: str | None = _prop(_OWNER)
    attachment_ids: tuple[str, ...] = _prop(_ATTACHMENTS, default=(), converter=_ids)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_extra)
