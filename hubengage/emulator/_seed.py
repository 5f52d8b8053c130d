"""The sandbox records: what a seeded emulator holds from the start (and after every reset).

:data:`SANDBOX_SEED` is the one definition of the ids the README's examples and
``hubengage import --sandbox`` rely on (contact 601, company 901, deal 1201, ticket 1501);
:func:`sandbox_records` gives each record with properties that satisfy its type's required
properties (``docs/hubspot-wire.md`` §9), so a seeded record looks like one created through
the API. Pure data, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

__all__ = ["SANDBOX_SEED", "sandbox_records"]

#: Record ids of the sandbox, by type: contacts 601–630, companies 901–910, deals 1201–1205,
#: tickets 1501–1505.
SANDBOX_SEED: Mapping[str, range] = {
    "contacts": range(601, 631),
    "companies": range(901, 911),
    "deals": range(1201, 1206),
    "tickets": range(1501, 1506),
}


def _properties(type_name: str, rid: int) -> dict[str, str]:
    if type_name == "contacts":
        return {"email": f"contact{rid}@example.com", "firstname": "Contact",
                "lastname": str(rid)}
    if type_name == "companies":
        return {"name": f"Company {rid}", "domain": f"company{rid}.example.com"}
    if type_name == "deals":
        return {"dealname": f"Deal {rid}", "pipeline": "default",
                "dealstage": "appointmentscheduled"}
    return {"subject": f"Ticket {rid}", "hs_pipeline": "0", "hs_pipeline_stage": "1"}


def sandbox_records(contacts: int | None = None) -> Iterator[tuple[str, str, dict[str, str]]]:
    """``(type name, record id, properties)`` for every sandbox record; ``contacts`` (when
    given) replaces the number of contacts, numbered from 601."""
    for type_name, ids in SANDBOX_SEED.items():
        if type_name == "contacts" and contacts is not None:
            ids = range(ids.start, ids.start + contacts)
        for rid in ids:
            yield type_name, str(rid), _properties(type_name, rid)
