"""Association labels by name: fetched once per pair of object types, then cached.

``Association.contact(601, label="Decision maker")`` names a label; HubSpot wants its type id
and category. ``GET /crm/v4/associations/{from}/{to}/labels`` lists every association type
between two object types (``docs/hubspot-wire.md`` §5.1): the default type (no label),
HUBSPOT_DEFINED labels and USER_DEFINED ones. The catalog asks once per pair, however many
calls wait for the answer at the same moment, and keeps it for the client's life (a label
created meanwhile is found by asking again: :meth:`LabelCatalog.forget`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ._calls import Target
from ._errors import InvalidInputError
from ._multistatus import page_results
from ._transport import Request, Response
from .models import AssociationLabel

__all__ = ["LabelCatalog"]


class LabelCatalog:
    """The association types between pairs of object types, by label."""

    def __init__(self, send: Callable[[Request], Awaitable[Response]]) -> None:
        self._send = send
        self._known: dict[tuple[str, str], asyncio.Task[list[AssociationLabel]]] = {}

    async def types(self, origin: Target, to: Target) -> list[AssociationLabel]:
        """Every association type from ``origin`` records to ``to`` records."""
        key = (origin.name, to.name)
        known = self._known.get(key)
        if known is None:
            # A task of its own: a caller that gives up does not cancel the others' answer.
            known = self._known[key] = asyncio.get_running_loop().create_task(
                self._fetch(origin, to))
            known.add_done_callback(lambda task: self._failed(key, task))
        return list(await asyncio.shield(known))

    def _failed(self, key: tuple[str, str], task: asyncio.Task[list[AssociationLabel]]) -> None:
        failed = task.cancelled() or task.exception() is not None
        if failed and self._known.get(key) is task:
            del self._known[key]  # the next caller asks again

    async def find(self, origin: Target, to: Target, label: str) -> AssociationLabel:
        """The type named ``label`` (exactly, else ignoring case); ``InvalidInputError``
        naming the labels that exist when there is none."""
        types = await self.types(origin, to)
        for wanted in (label, label.casefold()):
            found = [t for t in types if t.label is not None
                     and (t.label if wanted is label else t.label.casefold()) == wanted]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise InvalidInputError(
                    f"{len(found)} association types from {origin.name} to {to.name} are "
                    f"labelled {label!r}; pass type_id= and category=", field="label")
        names = sorted(t.label for t in types if t.label)
        raise InvalidInputError(
            f"no association label {label!r} from {origin.name} to {to.name}"
            + (f" (labels: {', '.join(repr(n) for n in names)})" if names else
               " (no labels are defined for this pair)"),
            field="label",
        )

    def forget(self, origin: Target, to: Target) -> None:
        """Ask HubSpot again next time (after a label was created or changed)."""
        self._known.pop((origin.name, to.name), None)

    async def _fetch(self, origin: Target, to: Target) -> list[AssociationLabel]:
        response = await self._send(Request(
            method="GET", path=f"/crm/v4/associations/{origin.segment}/{to.segment}/labels",
            endpoint="v4 labels"))
        results, _ = page_results(response)
        return [AssociationLabel.from_wire(raw) for raw in results]
