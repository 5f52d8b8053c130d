"""Models: records as HubSpot returns them, typed engagements and their enums, associations.

Everything here is pure (no network): frozen, keyword-only attrs classes that check their
values as they are built. The converter that maps them to and from HubSpot's properties and
the checks a write's properties pass live in ``_converter`` (internal).
"""

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
from ._account import Owner, Property, PropertyOption
from ._associations import AssociatedRecord, Association, AssociationCategory, AssociationLabel
from ._converter import PropertyModel
from ._engagements import Call, Communication, Email, Meeting, Note, PostalMail, Task
from ._headers import EmailAddress, EmailHeaders
from ._records import AssociatedId, CrmObject, PropertyVersion

__all__ = [
    "AssociatedId",
    "AssociatedRecord",
    "Association",
    "AssociationCategory",
    "AssociationLabel",
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
    "Owner",
    "PostalMail",
    "Property",
    "PropertyModel",
    "PropertyOption",
    "PropertyVersion",
    "Task",
    "TaskPriority",
    "TaskStatus",
    "TaskType",
]
