"""Models: records as HubSpot returns them, typed engagements, and associations.

Everything here is pure (no network): frozen, keyword-only attrs classes, one dedicated
cattrs converter, and the checks a write's properties pass before anything is sent.
"""

from ._associations import Association, AssociationCategory, parse_association
from ._converter import converter, format_datetime, to_timestamp, to_wire_properties
from ._engagements import (
    Call,
    CallDirection,
    CallStatus,
    Communication,
    CommunicationChannel,
    Email,
    EmailAddress,
    EmailDirection,
    EmailHeaders,
    EmailStatus,
    Meeting,
    MeetingOutcome,
    Note,
    PostalMail,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from ._records import AssociatedId, CrmObject

__all__ = [
    "AssociatedId",
    "Association",
    "AssociationCategory",
    "Call",
    "CallDirection",
    "CallStatus",
    "Communication",
    "CommunicationChannel",
    "CrmObject",
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
    "converter",
    "format_datetime",
    "parse_association",
    "to_timestamp",
    "to_wire_properties",
]
