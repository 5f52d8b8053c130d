"""The object-type table: names, type ids, required and known properties, enums, associations.

One pure table shared by the SDK (validation before sending, default association type ids)
and the emulator (what it accepts and rejects). Sources: §5 of ``docs/hubspot-wire.md`` (required
properties, enums, default HUBSPOT_DEFINED association type ids) and HubSpot's object guides.
Nothing here performs I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from ._enums import (
    CallDirection,
    CallStatus,
    CommunicationChannel,
    EmailDirection,
    EmailStatus,
    MeetingOutcome,
    TaskPriority,
    TaskStatus,
    TaskType,
    enum_values,
)

__all__ = [
    "ASSOCIATION_TYPE_IDS",
    "ENGAGEMENT_TYPES",
    "OBJECT_TYPES",
    "ObjectType",
    "PropertyKind",
    "default_association_type_id",
    "resolve_object_type",
]


class PropertyKind(enum.StrEnum):
    """How HubSpot stores a property's value, and so how it may echo it back normalised.

    HubSpot returns every value as a string, but in its own normal form (``docs/hubspot-wire.md``
    §0.1, §5): a ``DATETIME`` sent as epoch milliseconds or ISO 8601 with an offset comes back as
    ISO 8601 UTC with milliseconds and ``Z``; a ``NUMBER`` as its plain decimal text; a ``BOOL`` as
    ``true``/``false``; a ``MULTI`` (``;``-separated values) possibly reordered.
    """

    STRING = "string"
    DATETIME = "datetime"
    NUMBER = "number"
    BOOL = "bool"
    ENUMERATION = "enumeration"
    MULTI = "multi"

#: System properties HubSpot sets itself; writes to them are ignored (read-only).
ENGAGEMENT_SYSTEM_PROPERTIES = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
CRM_SYSTEM_PROPERTIES = ("createdate", "hs_lastmodifieddate", "hs_object_id")
CONTACT_SYSTEM_PROPERTIES = ("createdate", "lastmodifieddate", "hs_object_id")


@attrs.frozen(kw_only=True)
class ObjectType:
    """One CRM object type as HubSpot defines it."""

    #: Plural API name used in paths, e.g. ``"emails"``.
    name: str
    #: Object type id, e.g. ``"0-49"``.
    type_id: str
    #: Upper-case singular, as in HubSpot's messages ("Could not get some EMAIL objects").
    singular: str
    #: Properties that must be present (non-empty) to create a record.
    required: tuple[str, ...] = ()
    #: Writable properties HubSpot defines for the type (custom ones are added per portal).
    properties: frozenset[str] = frozenset()
    #: Read-only properties (set by HubSpot; ignored on write).
    read_only: frozenset[str] = frozenset()
    #: Enumerated properties and their allowed values.
    enums: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    #: Properties returned by a read that names none (besides the system ones).
    default_properties: tuple[str, ...] = ()
    #: Properties whose values are unique across records (usable as ``idProperty``).
    unique_properties: tuple[str, ...] = ()
    #: True for the seven engagement (activity) types.
    engagement: bool = False
    #: Properties HubSpot always sets: creation date, last-modified date, object id.
    system_properties: tuple[str, ...] = ENGAGEMENT_SYSTEM_PROPERTIES
    #: The kind of each property that is not a plain string (enums are derived from
    #: ``enums``; see :meth:`kind`).
    kinds: Mapping[str, PropertyKind] = attrs.field(factory=dict)
    #: Writable properties HubSpot may echo back rewritten beyond normalisation (e.g. the
    #: JSON of ``hs_email_headers``): never used to recognise a record.
    rewritten: frozenset[str] = frozenset()

    def kind(self, name: str) -> PropertyKind:
        """The kind of property ``name`` (``STRING`` for unknown and custom properties)."""
        kind = self.kinds.get(name)
        if kind is not None:
            return kind
        return PropertyKind.ENUMERATION if name in self.enums else PropertyKind.STRING

    @property
    def unmatchable(self) -> frozenset[str]:
        """Properties a returned record cannot be recognised by: read-only, system and
        rewritten ones (HubSpot ignores, sets or rewrites their values)."""
        return self.read_only | frozenset(self.system_properties) | self.rewritten

    @property
    def created_property(self) -> str:
        """The name of the creation-date system property."""
        return self.system_properties[0]

    @property
    def modified_property(self) -> str:
        """The name of the last-modified system property."""
        return self.system_properties[1]


def _fs(*values: str) -> frozenset[str]:
    return frozenset(values)


_COMMON_ENGAGEMENT = _fs("hs_timestamp", "hubspot_owner_id", "hs_attachment_ids")
_D, _N, _B, _M = (PropertyKind.DATETIME, PropertyKind.NUMBER, PropertyKind.BOOL,
                  PropertyKind.MULTI)
#: Kinds every engagement shares (``hs_attachment_ids`` is a ``;``-list of file ids).
_ENGAGEMENT_KINDS: Mapping[str, PropertyKind] = {
    "hs_timestamp": _D, "hs_attachment_ids": _M,
}

OBJECT_TYPES: tuple[ObjectType, ...] = (
    ObjectType(
        name="emails",
        type_id="0-49",
        singular="EMAIL",
        required=("hs_timestamp", "hs_email_direction"),
        properties=_COMMON_ENGAGEMENT
        | _fs(
            "hs_email_direction",
            "hs_email_html",
            "hs_email_status",
            "hs_email_subject",
            "hs_email_text",
            "hs_email_headers",
        ),
        read_only=_fs(
            "hs_email_from_email",
            "hs_email_from_firstname",
            "hs_email_from_lastname",
            "hs_email_to_email",
            "hs_email_to_firstname",
            "hs_email_to_lastname",
            "hs_email_cc_email",
            "hs_email_bcc_email",
        ),
        enums={
            "hs_email_direction": enum_values(EmailDirection),
            "hs_email_status": enum_values(EmailStatus),
        },
        engagement=True,
        kinds=_ENGAGEMENT_KINDS,
        rewritten=_fs("hs_email_headers"),
    ),
    ObjectType(
        name="postal_mail",
        type_id="0-116",
        singular="POSTAL_MAIL",
        required=("hs_timestamp",),
        properties=_COMMON_ENGAGEMENT | _fs("hs_postal_mail_body"),
        engagement=True,
        kinds=_ENGAGEMENT_KINDS,
    ),
    ObjectType(
        name="communications",
        type_id="0-18",
        singular="COMMUNICATION",
        required=("hs_timestamp", "hs_communication_channel_type"),
        properties=_COMMON_ENGAGEMENT
        | _fs(
            "hs_communication_channel_type",
            "hs_communication_logged_from",
            "hs_communication_body",
        ),
        enums={
            "hs_communication_channel_type": enum_values(CommunicationChannel),
            "hs_communication_logged_from": _fs("CRM"),
        },
        engagement=True,
        kinds=_ENGAGEMENT_KINDS,
    ),
    ObjectType(
        name="calls",
        type_id="0-48",
        singular="CALL",
        required=("hs_timestamp",),
        properties=_COMMON_ENGAGEMENT
        | _fs(
            "hs_call_title",
            "hs_call_body",
            "hs_call_callee_object_id",
            "hs_call_callee_object_type_id",
            "hs_call_direction",
            "hs_call_disposition",
            "hs_call_duration",
            "hs_call_from_number",
            "hs_call_to_number",
            "hs_call_recording_url",
            "hs_call_status",
            "hs_call_source",
        ),
        enums={
            "hs_call_direction": enum_values(CallDirection),
            "hs_call_status": enum_values(CallStatus),
            "hs_call_source": _fs("INTEGRATIONS_PLATFORM"),
        },
        engagement=True,
        kinds={**_ENGAGEMENT_KINDS, "hs_call_duration": _N, "hs_call_callee_object_id": _N},
    ),
    ObjectType(
        name="meetings",
        type_id="0-47",
        singular="MEETING",
        required=("hs_timestamp",),
        properties=_COMMON_ENGAGEMENT
        | _fs(
            "hs_meeting_title",
            "hs_meeting_body",
            "hs_internal_meeting_notes",
            "hs_meeting_external_url",
            "hs_meeting_location",
            "hs_meeting_start_time",
            "hs_meeting_end_time",
            "hs_meeting_outcome",
            "hs_activity_type",
        ),
        enums={
            "hs_meeting_outcome": enum_values(MeetingOutcome),
        },
        engagement=True,
        kinds={**_ENGAGEMENT_KINDS, "hs_meeting_start_time": _D, "hs_meeting_end_time": _D},
    ),
    ObjectType(
        name="notes",
        type_id="0-46",
        singular="NOTE",
        required=("hs_timestamp",),
        properties=_COMMON_ENGAGEMENT | _fs("hs_note_body"),
        engagement=True,
        kinds=_ENGAGEMENT_KINDS,
    ),
    ObjectType(
        name="tasks",
        type_id="0-27",
        singular="TASK",
        required=("hs_timestamp",),
        properties=_COMMON_ENGAGEMENT
        | _fs(
            "hs_task_body",
            "hs_task_subject",
            "hs_task_status",
            "hs_task_priority",
            "hs_task_type",
            "hs_task_reminders",
        ),
        enums={
            "hs_task_status": enum_values(TaskStatus),
            "hs_task_priority": enum_values(TaskPriority),
            "hs_task_type": enum_values(TaskType),
        },
        engagement=True,
        kinds={**_ENGAGEMENT_KINDS, "hs_task_reminders": _M},
    ),
    ObjectType(
        name="contacts",
        type_id="0-1",
        singular="CONTACT",
        properties=_fs(
            "email",
            "firstname",
            "lastname",
            "phone",
            "company",
            "website",
            "jobtitle",
            "lifecyclestage",
            "address",
            "city",
            "state",
            "zip",
            "country",
            "hubspot_owner_id",
            "hs_pinned_engagement_id",
        ),
        default_properties=("firstname", "lastname", "email"),
        unique_properties=("email",),
        system_properties=CONTACT_SYSTEM_PROPERTIES,
    ),
    ObjectType(
        name="companies",
        type_id="0-2",
        singular="COMPANY",
        properties=_fs(
            "name",
            "domain",
            "website",
            "industry",
            "phone",
            "city",
            "state",
            "country",
            "numberofemployees",
            "hubspot_owner_id",
            "hs_pinned_engagement_id",
        ),
        default_properties=("name", "domain"),
        kinds={"numberofemployees": _N},
        system_properties=CRM_SYSTEM_PROPERTIES,
    ),
    ObjectType(
        name="deals",
        type_id="0-3",
        singular="DEAL",
        properties=_fs(
            "dealname",
            "amount",
            "closedate",
            "pipeline",
            "dealstage",
            "hubspot_owner_id",
            "hs_pinned_engagement_id",
        ),
        default_properties=("dealname", "amount", "closedate", "pipeline", "dealstage"),
        kinds={"amount": _N, "closedate": _D},
        system_properties=CRM_SYSTEM_PROPERTIES,
    ),
    ObjectType(
        name="tickets",
        type_id="0-5",
        singular="TICKET",
        properties=_fs(
            "subject",
            "content",
            "hs_pipeline",
            "hs_pipeline_stage",
            "hs_ticket_priority",
            "hubspot_owner_id",
            "hs_pinned_engagement_id",
        ),
        default_properties=("subject", "content", "hs_pipeline", "hs_pipeline_stage"),
        system_properties=CRM_SYSTEM_PROPERTIES,
    ),
)

ENGAGEMENT_TYPES: tuple[ObjectType, ...] = tuple(t for t in OBJECT_TYPES if t.engagement)

_BY_KEY: dict[str, ObjectType] = {}
for _t in OBJECT_TYPES:
    _BY_KEY[_t.name] = _t
    _BY_KEY[_t.type_id] = _t
    _BY_KEY[_t.singular.lower()] = _t
# Spellings HubSpot accepts in paths besides the plural name and the type id.
_BY_KEY["postal_mails"] = _BY_KEY["postal_mail"]


def resolve_object_type(name_or_type_id: str) -> ObjectType | None:
    """The known type for a plural name, singular name or type id (case-insensitive), or None."""
    known = _BY_KEY.get(name_or_type_id)  # the common case: already a canonical key
    if known is None:
        known = _BY_KEY.get(name_or_type_id.strip().lower())
    return known


# Default HUBSPOT_DEFINED association type ids (``docs/hubspot-wire.md`` §5), keyed
# (from name, to name).
_ENGAGEMENT_TO: dict[str, tuple[int, int, int, int]] = {
    # engagement: (contact, company, deal, ticket)
    "emails": (198, 186, 210, 224),
    "postal_mail": (453, 459, 457, 455),
    "communications": (81, 87, 85, 83),
    "calls": (194, 182, 206, 220),
    "meetings": (200, 188, 212, 226),
    "notes": (202, 190, 214, 228),
    "tasks": (204, 192, 216, 230),
}
_TO_ENGAGEMENT: dict[str, tuple[int, int, int, int, int, int, int]] = {
    # record: (email, postal mail, communication, call, meeting, note, task)
    "contacts": (197, 454, 82, 193, 199, 201, 203),
    "companies": (185, 460, 88, 181, 187, 189, 191),
    "deals": (209, 458, 86, 205, 211, 213, 215),
    "tickets": (223, 456, 84, 219, 225, 227, 229),
}
_RECORDS = ("contacts", "companies", "deals", "tickets")
_ENGAGEMENTS = ("emails", "postal_mail", "communications", "calls", "meetings", "notes", "tasks")

ASSOCIATION_TYPE_IDS: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
    ("contacts", "tickets"): 15,
    ("tickets", "contacts"): 16,
    ("deals", "tickets"): 27,
    ("tickets", "deals"): 28,
    ("tickets", "companies"): 339,
    ("companies", "tickets"): 340,
}
for _eng, _ids in _ENGAGEMENT_TO.items():
    for _rec, _id in zip(_RECORDS, _ids, strict=True):
        ASSOCIATION_TYPE_IDS[(_eng, _rec)] = _id
for _rec, _rids in _TO_ENGAGEMENT.items():
    for _eng, _id in zip(_ENGAGEMENTS, _rids, strict=True):
        ASSOCIATION_TYPE_IDS[(_rec, _eng)] = _id


def default_association_type_id(from_type: str, to_type: str) -> int | None:
    """The default HUBSPOT_DEFINED association type id between two types, or None if unknown.

    Either side may be a plural name, singular name or type id.
    """
    a, b = resolve_object_type(from_type), resolve_object_type(to_type)
    if a is None or b is None:
        return None
    return ASSOCIATION_TYPE_IDS.get((a.name, b.name))
