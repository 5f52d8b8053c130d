"""The enumerated engagement property values: each defined once, as an enum class.

The typed models use these classes for their fields, and ``_objecttypes`` derives the allowed
values of its ``enums`` table from them (:func:`enum_values`), so the SDK's checks, the
emulator and the models cannot disagree. This module imports nothing from hubengage.
"""

from __future__ import annotations

import enum
from typing import Literal

__all__ = [
    "CallDirection",
    "CallDirectionValue",
    "CallStatus",
    "CallStatusValue",
    "CommunicationChannel",
    "CommunicationChannelValue",
    "EmailDirection",
    "EmailDirectionValue",
    "EmailStatus",
    "EmailStatusValue",
    "MeetingOutcome",
    "MeetingOutcomeValue",
    "TaskPriority",
    "TaskPriorityValue",
    "TaskStatus",
    "TaskStatusValue",
    "TaskType",
    "TaskTypeValue",
    "enum_values",
]


def enum_values(cls: type[enum.Enum]) -> frozenset[str]:
    """The values of an enum class, as the wire strings HubSpot accepts."""
    return frozenset(str(member.value) for member in cls)


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
    """``hs_task_status``.

    HubSpot's docs list COMPLETED and NOT_STARTED; its own agent skills add the rest.
    """

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


# -- the same values as literal types, for type checkers ----------------------------------------
# A model field accepts a member or its value: ``Email(direction="EMAIL")`` type-checks.
# ``tests/test_models.py`` checks that each literal lists exactly its enum's values.

#: The values of :class:`EmailDirection`.
EmailDirectionValue = Literal["EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"]
#: The values of :class:`EmailStatus`.
EmailStatusValue = Literal["BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"]
#: The values of :class:`CommunicationChannel`.
CommunicationChannelValue = Literal["WHATS_APP", "LINKEDIN_MESSAGE", "SMS"]
#: The values of :class:`CallDirection`.
CallDirectionValue = Literal["INBOUND", "OUTBOUND"]
#: The values of :class:`CallStatus`.
CallStatusValue = Literal[
    "BUSY",
    "CALLING_CRM_USER",
    "CANCELED",
    "COMPLETED",
    "CONNECTING",
    "FAILED",
    "IN_PROGRESS",
    "NO_ANSWER",
    "QUEUED",
    "RINGING",
]
#: The values of :class:`MeetingOutcome`.
MeetingOutcomeValue = Literal["SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"]
#: The values of :class:`TaskStatus`.
TaskStatusValue = Literal["COMPLETED", "NOT_STARTED", "IN_PROGRESS", "DEFERRED", "WAITING"]
#: The values of :class:`TaskPriority`.
TaskPriorityValue = Literal["LOW", "MEDIUM", "HIGH"]
#: The values of :class:`TaskType`.
TaskTypeValue = Literal["EMAIL", "CALL", "TODO"]
