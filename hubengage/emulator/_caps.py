"""HubSpot caps the emulator enforces that ``hubengage._constants`` does not name (yet).

The caps the SDK needs too (v3 batches, list pages, search, the v4 association batches and
pages) come from ``hubengage._constants``. The caps below concern only the emulator's side of
APIs the SDK calls without needing their limits (association labels and limits, properties,
owners, property history); each names its source in ``docs/hubspot-wire.md``. Pure data.
"""

from __future__ import annotations

__all__ = [
    "MAX_ASSOCIATION_LABELS_PER_PAIR",
    "MAX_ASSOCIATION_LIMIT",
    "MAX_HISTORY_BATCH_READ",
    "MAX_HISTORY_PAGE_SIZE",
    "MAX_HISTORY_PROPERTIES",
    "MAX_OWNERS_PAGE_SIZE",
    "MAX_UNIQUE_PROPERTIES",
]

#: Records per list page when ``propertiesWithHistory`` is asked (§1.3: I-PY143, SDK-PY).
MAX_HISTORY_PAGE_SIZE = 50
#: Inputs of an object ``batch/read`` with ``propertiesWithHistory`` (§1.3: I-AP, live body).
MAX_HISTORY_BATCH_READ = 50
#: Properties a request may ask history for (``propertiesWithHistory``; §9: the 50 of
#: I-PY143 read as a count of properties, UNCONFIRMED: §8).
MAX_HISTORY_PROPERTIES = 50
#: Custom association labels per pair of object types (§5.1: KB-LABELS says 10; UNCONFIRMED
#: whether HubSpot has raised it since).
MAX_ASSOCIATION_LABELS_PER_PAIR = 10
#: The largest custom association limit (``maxToObjectIds``) the emulator accepts (§5.1,
#: §8: CL-ALIMITS only says a custom limit must stay below the subscription's; UNCONFIRMED).
MAX_ASSOCIATION_LIMIT = 10_000
#: Unique-value (``hasUniqueValue``) properties per object type (§9: CL-UNIQUE).
MAX_UNIQUE_PROPERTIES = 10
#: Owners per page of ``GET /crm/v3/owners`` (UNCONFIRMED, §8; S-OWN's default is 100 and
#: names no maximum).
MAX_OWNERS_PAGE_SIZE = 500
