"""Per-record sequencing: calls on one record run one at a time, in the order they were made.

HubSpot rejects a whole batch that holds two inputs for one record id (``docs/hubspot-wire.md``
§2.4), and two updates of one record sent at once could land in either order. So calls keyed
on one record (update, upsert, archive, read of the same id) form a chain: only its head sits
in a queue; the next one is released when the head finishes. Keys are compared as HubSpot may
(``_matching.canonical``: ``A@x.com`` and ``a@x.com``, ``0123`` and ``123`` are one record).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

__all__ = ["Sequencer"]


class _Chained(Protocol):
    @property
    def chain(self) -> Hashable | None: ...

    def cancelled(self) -> bool: ...


T = TypeVar("T", bound=_Chained)


class Sequencer(Generic[T]):
    """The chains of calls waiting behind an earlier call on the same record."""

    __slots__ = ("_chains",)

    def __init__(self) -> None:
        self._chains: dict[Hashable, deque[T]] = {}

    def admit(self, item: T) -> bool:
        """True when ``item`` may be queued now; False when it waits behind another call."""
        chain = item.chain
        if chain is None:
            return True
        waiting = self._chains.get(chain)
        if waiting is not None:
            waiting.append(item)
            return False
        self._chains[chain] = deque()
        return True

    def release(self, item: T) -> tuple[T | None, list[T]]:
        """``item`` finished: the next call on its record to queue (if any), and the calls
        skipped because their callers cancelled them while they waited."""
        chain = item.chain
        if chain is None:
            return None, []
        waiting = self._chains.get(chain)
        skipped: list[T] = []
        while waiting:
            nxt = waiting.popleft()
            if nxt.cancelled():
                skipped.append(nxt)
                continue
            return nxt, skipped
        self._chains.pop(chain, None)
        return None, skipped
