"""HubSpot's standard (``hubspotDefined``) properties of CRM records, as data.

The engagement types' properties come from ``hubengage._objecttypes`` (shared with the SDK);
this module adds what the emulator needs besides: the standard properties of contacts,
companies, deals and tickets with their HubSpot ``type``, ``fieldType`` and options, the
properties each of them requires at creation, and each type's default property group. The
properties API (``_properties``) serves them, and the store validates writes against them.

Sources (``docs/hubspot-wire.md`` §9): D-PROPS (types and field types), S-OBJ's default
properties (§3), D-OBJ (required properties), D-DEALS (stage and pipeline ids), §2.3's
documented ticket (``hs_pipeline`` ``"0"``, ``hs_pipeline_stage`` ``"1"``), the
lifecycle-stage article (KB-LIFECYCLE); the other standard properties and the default
pipelines' stage ids are third-party (SEC-PROPS). A subset of HubSpot's own lists (§8).
Pure data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = [
    "DEFAULT_GROUPS",
    "REQUIRED_ALL",
    "REQUIRED_ANY",
    "STANDARD_PROPERTIES",
    "StdProp",
]


@attrs.frozen
class StdProp:
    """One standard property: HubSpot ``type`` and ``fieldType``, enumeration options."""

    name: str
    type: str = "string"
    field_type: str = "text"
    options: tuple[str, ...] | None = None
    #: Set by HubSpot only (writes are ignored), e.g. the creation date.
    read_only: bool = False
    #: ``OWNER`` for owner properties: options are the account's owners (``externalOptions``).
    referenced_object_type: str | None = None


def _text(*names: str) -> tuple[StdProp, ...]:
    return tuple(StdProp(name) for name in names)


def _phone(*names: str) -> tuple[StdProp, ...]:
    return tuple(StdProp(name, field_type="phonenumber") for name in names)


def _select(name: str, *options: str, field_type: str = "select") -> StdProp:
    return StdProp(name, "enumeration", field_type, options)


_OWNER = StdProp("hubspot_owner_id", "enumeration", "select", (),
                 referenced_object_type="OWNER")
_PINNED = StdProp("hs_pinned_engagement_id", "number", "number")
_LIFECYCLE = _select(
    "lifecyclestage", "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
    "opportunity", "customer", "evangelist", "other", field_type="radio",
)


def _system(created: str, modified: str) -> tuple[StdProp, ...]:
    return (
        StdProp(created, "datetime", "date", read_only=True),
        StdProp(modified, "datetime", "date", read_only=True),
        StdProp("hs_object_id", "number", "number", read_only=True),
    )


#: Standard properties of the CRM record types, by type name.
STANDARD_PROPERTIES: Mapping[str, tuple[StdProp, ...]] = {
    "contacts": (
        *_text("email", "firstname", "lastname", "company", "website", "jobtitle", "address",
               "city", "state", "zip", "country", "industry", "annualrevenue", "salutation",
               "date_of_birth"),
        *_phone("phone", "mobilephone", "fax"),
        StdProp("message", field_type="textarea"),
        _LIFECYCLE,
        _select("hs_lead_status", "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED",
                "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING", field_type="radio"),
        _select("numemployees", "1-5", "5-25", "25-50", "50-100", "100-500", "500-1000",
                "1000+"),
        _OWNER,
        _PINNED,
        *_system("createdate", "lastmodifieddate"),
    ),
    "companies": (
        *_text("name", "domain", "website", "industry", "address", "city", "state", "zip",
               "country", "linkedin_company_page"),
        *_phone("phone"),
        StdProp("description", field_type="textarea"),
        StdProp("numberofemployees", "number", "number"),
        StdProp("annualrevenue", "number", "number"),
        _select("type", "PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER"),
        _LIFECYCLE,
        _OWNER,
        _PINNED,
        *_system("createdate", "hs_lastmodifieddate"),
    ),
    "deals": (
        StdProp("dealname"),
        StdProp("amount", "number", "number"),
        StdProp("closedate", "datetime", "date"),
        _select("pipeline", "default"),
        _select("dealstage", "appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"),
        _select("dealtype", "newbusiness", "existingbusiness"),
        _select("hs_priority", "low", "medium", "high"),
        StdProp("description", field_type="textarea"),
        _OWNER,
        _PINNED,
        *_system("createdate", "hs_lastmodifieddate"),
    ),
    "tickets": (
        StdProp("subject"),
        StdProp("content", field_type="textarea"),
        _select("hs_pipeline", "0"),
        _select("hs_pipeline_stage", "1", "2", "3", "4"),
        _select("hs_ticket_priority", "LOW", "MEDIUM", "HIGH", "URGENT"),
        _select("hs_ticket_category", "PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST",
                "GENERAL_INQUIRY", field_type="checkbox"),
        _select("source_type", "CHAT", "EMAIL", "FORM", "PHONE"),
        _OWNER,
        _PINNED,
        *_system("createdate", "hs_lastmodifieddate"),
    ),
}

#: Properties every create of the type must set (D-OBJ "Required properties to create
#: records"), on top of ``ObjectType.required`` (the engagements').
REQUIRED_ALL: Mapping[str, tuple[str, ...]] = {
    "deals": ("dealname", "dealstage", "pipeline"),
    "tickets": ("subject", "hs_pipeline", "hs_pipeline_stage"),
}

#: At least one of these must be set (D-OBJ): a contact needs an email, a first or a last
#: name; a company a domain or a name.
REQUIRED_ANY: Mapping[str, tuple[str, ...]] = {
    "contacts": ("email", "firstname", "lastname"),
    "companies": ("domain", "name"),
}


def _group(singular: str) -> tuple[str, str]:
    return f"{singular}information", f"{singular.replace('_', ' ').title()} information"


#: Each type's default property group: (name, label). HubSpot names the record types' groups
#: ``contactinformation``, ``companyinformation``, ``dealinformation`` and
#: ``ticketinformation`` (D-PROPS' examples use ``contactinformation``; the others follow
#: the pattern, as do the engagement types' here: UNCONFIRMED).
DEFAULT_GROUPS: Mapping[str, tuple[str, str]] = {
    "contacts": _group("contact"),
    "companies": _group("company"),
    "deals": _group("deal"),
    "tickets": _group("ticket"),
    "emails": _group("email"),
    "postal_mail": _group("postal_mail"),
    "communications": _group("communication"),
    "calls": _group("call"),
    "meetings": _group("meeting"),
    "notes": _group("note"),
    "tasks": _group("task"),
}
