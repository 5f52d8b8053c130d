"""The multi-status decoder: a batch response in, one outcome per input out.

Pure functions, no I/O: given the inputs of one batch request (in the order they were sent)
and the parsed response body, :func:`decode` returns, for each input, its record or its own
error. HubSpot does not keep input order in ``results`` (wire notes §2.2), so nothing here
maps by position. The rules, in order:

1. ``errors[]``: an error whose ``context.objectWriteTraceId`` or ``context.ids`` names an
   input fails that input (a separate exception per input, each with the correlation id).
2. ``results[]``: a result carrying an ``objectWriteTraceId`` goes to that input; otherwise
   it is matched by id (update, read, archive), by the ``idProperty`` value (upsert and
   ``id_property`` reads/updates), or, for creates, by the properties that were sent (the
   batcher never puts two creates with the same properties in one batch, so this match is
   unique when it exists).
3. What is left: when exactly one input and one result remain unmatched they belong together;
   any other input that nothing names fails with :class:`OutcomeUnknownError` (a read gets
   :class:`NotFoundError`). The decoder never guesses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ._errors import (
    APIError,
    HubEngageError,
    NotFoundError,
    OutcomeUnknownError,
    error_from_body,
)
from .models import CrmObject
from .models._converter import crm_object_hook

__all__ = ["CATEGORY_STATUS", "Decoded", "SentInput", "decode"]

#: The HTTP status an error inside a 207 stands for, by HubSpot category.
CATEGORY_STATUS: Mapping[str, int] = {
    "VALIDATION_ERROR": 400,
    "OBJECT_NOT_FOUND": 404,
    "CONFLICT": 409,
    "RATE_LIMITS": 429,
    "MISSING_SCOPES": 403,
    "INVALID_AUTHENTICATION": 401,
}


class SentInput(Protocol):
    """What the decoder needs to know about one input that was sent."""

    @property
    def trace_id(self) -> str | None:
        """The ``objectWriteTraceId`` sent with it (creates, updates, upserts)."""
        ...

    @property
    def key(self) -> str | None:
        """The ``id`` sent with it (the record id, or the ``idProperty`` value)."""
        ...

    @property
    def properties(self) -> Mapping[str, str] | None:
        """The properties sent with it (creates, updates, upserts)."""
        ...


class Decoded:
    """The outcome per input (aligned with the inputs) and whether trace ids were echoed."""

    __slots__ = ("outcomes", "trace_ids_echoed")

    def __init__(
        self, outcomes: list[CrmObject | HubEngageError | None], trace_ids_echoed: bool | None
    ) -> None:
        #: ``CrmObject`` for a success, the input's own error otherwise; ``None`` for a
        #: successful archive (no record comes back).
        self.outcomes = outcomes
        #: True/False when a successful result did/did not carry its trace id; None if none.
        self.trace_ids_echoed = trace_ids_echoed


def item_error(entry: Mapping[str, Any], correlation_id: str | None) -> APIError:
    """The exception for one entry of a batch response's ``errors[]``."""
    category = str(entry.get("category") or "")
    status = CATEGORY_STATUS.get(category, 400)
    return error_from_body(status, entry, correlation_id=correlation_id)


def decode(
    op: str,
    inputs: Sequence[SentInput],
    body: Any,
    *,
    correlation_id: str | None = None,
    id_property: str | None = None,
) -> Decoded:
    """Map a batch response (``body``, parsed JSON or None) back to ``inputs``.

    ``op`` is ``create``, ``read``, ``update``, ``upsert`` or ``archive``. ``id_property`` is
    the ``idProperty`` the batch was sent with, if any.
    """
    n = len(inputs)
    outcomes: list[CrmObject | HubEngageError | None] = [None] * n
    done = [False] * n
    data: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    by_trace = {inp.trace_id: i for i, inp in enumerate(inputs) if inp.trace_id is not None}
    by_key: dict[str, int] = {}
    for i, inp in enumerate(inputs):
        if inp.key is not None:
            by_key.setdefault(inp.key, i)

    for entry in data.get("errors") or ():
        if not isinstance(entry, Mapping):
            continue
        context = entry.get("context")
        context = context if isinstance(context, Mapping) else {}
        named: list[int] = []
        for trace in context.get("objectWriteTraceId") or ():
            if str(trace) in by_trace:
                named.append(by_trace[str(trace)])
        if not named:
            for rid in context.get("ids") or ():
                if str(rid) in by_key:
                    named.append(by_key[str(rid)])
        for i in named:
            if not done[i]:
                outcomes[i] = item_error(entry, correlation_id)
                done[i] = True

    echoed: bool | None = None
    unmatched: list[CrmObject] = []
    matcher: _PropertyMatcher | None = None
    structure = crm_object_hook()
    for raw in data.get("results") or ():
        if type(raw) is not dict and not isinstance(raw, Mapping):
            continue
        record = structure(raw, CrmObject)
        index: int | None = None
        trace = record.object_write_trace_id
        if trace is not None:
            echoed = True
            index = by_trace.get(trace)
        elif op != "read" and op != "archive":
            echoed = False if echoed is None else echoed
        if index is None:
            if op == "create":
                if matcher is None:
                    matcher = _PropertyMatcher(inputs, done)
                index = matcher.find(record.properties)
            elif id_property is not None:
                value = record.properties.get(id_property)
                index = by_key.get(value) if value is not None else None
                if index is None and op != "upsert":
                    index = by_key.get(record.id)
            else:
                index = by_key.get(record.id)
        if index is None or done[index]:
            unmatched.append(record)
            continue
        outcomes[index] = record
        done[index] = True

    left = [i for i in range(n) if not done[i]]
    if op == "archive":
        # A 204 (or a 200 without errors naming an id) archived every input.
        return Decoded(outcomes, echoed)
    if len(left) == 1 and len(unmatched) == 1:
        outcomes[left[0]] = unmatched[0]
        return Decoded(outcomes, echoed)
    for i in left:
        if op == "read":
            outcomes[i] = NotFoundError(
                f"no record with id {inputs[i].key!r} in the batch/read response",
                status=404,
                category="OBJECT_NOT_FOUND",
                correlation_id=correlation_id,
            )
        else:
            outcomes[i] = OutcomeUnknownError(
                f"HubSpot's batch/{op} response names no result or error for this input "
                f"(correlation id {correlation_id}); it may or may not have been written"
            )
    return Decoded(outcomes, echoed)


class _PropertyMatcher:
    """Finds the create input whose sent properties a result carries, by exact values.

    Inputs are grouped by their set of property names; a result is looked up in each group
    by the tuple of its values for those names (one dict lookup per group, usually one).
    """

    __slots__ = ("_groups",)

    def __init__(self, inputs: Sequence[SentInput], done: list[bool]) -> None:
        self._groups: dict[tuple[str, ...], dict[tuple[str | None, ...], list[int]]] = {}
        for i, inp in enumerate(inputs):
            if done[i] or inp.properties is None:
                continue
            names = tuple(sorted(inp.properties))
            values = tuple(inp.properties[k] for k in names)
            self._groups.setdefault(names, {}).setdefault(values, []).append(i)

    def find(self, properties: Mapping[str, str | None]) -> int | None:
        for names, table in self._groups.items():
            candidates = table.get(tuple(properties.get(k) for k in names))
            if candidates:
                return candidates.pop(0)
        return None
