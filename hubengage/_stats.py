"""Client-side counters: what the client sent, what came back, what it retried.

One mutable :class:`ClientStats` per client, written by the request pipeline (requests,
statuses, 429s, retries) and the batcher (batches, items, bisections, outcomes). Reading it is
free; ``as_dict()`` gives a JSON-friendly snapshot.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import TypedDict

import attrs

__all__ = ["POSSIBLE_DUPLICATE_IDS_KEPT", "ClientStats", "StatsSnapshot"]

#: How many possible-duplicate record ids ``ClientStats`` keeps (the newest).
POSSIBLE_DUPLICATE_IDS_KEPT = 1_000


class StatsSnapshot(TypedDict):
    """``hs.stats.as_dict()``: the counters of :class:`ClientStats`, JSON-friendly
    (``requests`` keyed ``"endpoint status"``)."""

    requests: dict[str, int]
    total_requests: int
    rate_limited: dict[str, int]
    retries: int
    batches: int
    items_sent: int
    batch_sizes: dict[int, int]
    bisections: int
    link_resends: int
    items_succeeded: int
    items_failed: int
    possible_duplicates: int
    possible_duplicate_ids: list[str]
    unclaimed_results: int


@attrs.define(kw_only=True)
class ClientStats:
    """Counters for one client (``hs.stats``).

    - ``requests``: HTTP requests by ``(endpoint, status)``; status ``0`` is a transport
      failure (connection dropped, timeout) with no response.
    - ``rate_limited``: 429 responses by policy name (``"SEARCH"`` for the search limit).
    - ``retries``: attempts made after a failed one.
    - ``batches`` / ``items_sent``: batch requests sent (first attempts) and items in them.
    - ``batch_sizes``: how many batches carried how many items.
    - ``bisections``: whole-batch failures split in two to isolate bad inputs.
    - ``link_resends``: association calls sent again alone because their batch's answer
      did not say how they went (associating is idempotent).
    - ``items_succeeded`` / ``items_failed``: per-item outcomes delivered to callers.
    - ``possible_duplicates``: created records that may exist twice: records marked
      ``possible_duplicate`` (their request succeeded after an attempt HubSpot may also have
      written), and created records that came back but no call could claim (see
      ``unclaimed_results``). ``possible_duplicate_ids`` keeps the last
      ``POSSIBLE_DUPLICATE_IDS_KEPT`` of their ids, to find and check them.
    - ``unclaimed_results``: results in batch responses that no call could claim without
      guessing (a trace id naming no input, a duplicate, a record fitting no input or
      several). They are never handed to a caller; created ones count as possible
      duplicates.
    """

    requests: Counter[tuple[str, int]] = attrs.field(factory=Counter)
    rate_limited: Counter[str] = attrs.field(factory=Counter)
    retries: int = 0
    batches: int = 0
    items_sent: int = 0
    batch_sizes: Counter[int] = attrs.field(factory=Counter)
    bisections: int = 0
    link_resends: int = 0
    items_succeeded: int = 0
    items_failed: int = 0
    possible_duplicates: int = 0
    possible_duplicate_ids: deque[str] = attrs.field(
        factory=lambda: deque(maxlen=POSSIBLE_DUPLICATE_IDS_KEPT)
    )
    unclaimed_results: int = 0

    @property
    def total_requests(self) -> int:
        """Every HTTP request attempted, whatever came back."""
        return sum(self.requests.values())

    @property
    def total_rate_limited(self) -> int:
        """Every 429 received."""
        return sum(self.rate_limited.values())

    def requests_for(self, endpoint: str) -> int:
        """Requests attempted to one endpoint (e.g. ``"batch/create"``)."""
        return sum(n for (ep, _), n in self.requests.items() if ep == endpoint)

    def as_dict(self) -> StatsSnapshot:
        """A JSON-friendly snapshot."""
        return {
            "requests": {f"{ep} {status}": n for (ep, status), n in sorted(self.requests.items())},
            "total_requests": self.total_requests,
            "rate_limited": dict(self.rate_limited),
            "retries": self.retries,
            "batches": self.batches,
            "items_sent": self.items_sent,
            "batch_sizes": dict(sorted(self.batch_sizes.items())),
            "bisections": self.bisections,
            "link_resends": self.link_resends,
            "items_succeeded": self.items_succeeded,
            "items_failed": self.items_failed,
            "possible_duplicates": self.possible_duplicates,
            "possible_duplicate_ids": list(self.possible_duplicate_ids),
            "unclaimed_results": self.unclaimed_results,
        }
