"""The multi-status decoder: a batch response in, one outcome per input out, never a guess.

Pure functions, no I/O: given the inputs of one batch request (in the order they were sent)
and its 2xx response, :func:`decode` returns each input's record or its own error, and the
results that no input can claim. HubSpot keeps no input order in ``results``
(``docs/hubspot-wire.md`` §2.2), may omit trace ids on successes (§2.3) and echoes values in
its own normal form, so nothing here maps by position or by elimination. The rules:

1. The body must be the JSON object the endpoint documents; anything else (empty, cut off,
   HTML, ``[]``) is a :class:`MalformedResponseError`, and a write's outcome is then
   unknown (:class:`OutcomeUnknownError`): HubSpot may have carried it out.
2. ``errors[]``: an error whose ``context.objectWriteTraceId`` (else ``context.ids``) names
   inputs fails each of them with its own exception carrying the correlation id.
3. ``results[]``: a result carrying an ``objectWriteTraceId`` belongs to the input that sent
   it, if it also looks like that input's record (a create's record carries the properties
   sent; an update's names no other input by its id), or to nobody: a trace id naming no
   input, or naming one while describing another, is never matched any other way. A result
   without one is matched by record id (update, read, archive), by the ``idProperty`` value
   (upsert, and updates and reads by ``id_property``), or, for creates, by the properties
   sent (:mod:`hubengage._matching`): it must fit exactly one input.
4. Per input: one result → its record; a result and an error, or nothing at all → unknown
   (a read included: HubSpot names missing ids in ``errors[]``); only an error → the error;
   an archive that nothing names → done (HubSpot answers 204 with no body). A second result
   for an input that already has one is unclaimed.

Association calls (v4, :func:`_decode_links`): a result names its pair of records (``from``
and ``to`` ids); an input whose pair a result names succeeded; an unlinking request answered
204 succeeded whole. An error is tied to an input only when the batch held that input alone
(HubSpot's v4 errors name records in their message, not by input); every other input is
unknown, and the batcher sends each such input again alone: associating and unassociating
are idempotent, so that costs a request, never a duplicate.

Unclaimed results are returned, never dropped silently: for creates they are records that
exist in HubSpot without a caller (possible duplicates); the batcher counts and logs them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Protocol

from ._calls import Op
from ._errors import (
    APIError,
    HubEngageError,
    MalformedResponseError,
    OutcomeUnknownError,
    error_from_body,
)
from ._matching import Fingerprint, RecordMatcher, canonical, fingerprint, fits
from ._transport import Response
from .models import CrmObject

__all__ = [
    "CATEGORY_STATUS",
    "Decoded",
    "SentInput",
    "decode",
    "decode_record",
    "next_after",
    "page_results",
]

#: The HTTP status an error inside a 207 stands for, by HubSpot category.
CATEGORY_STATUS: Mapping[str, int] = {
    "VALIDATION_ERROR": 400,
    "OBJECT_NOT_FOUND": 404,
    "CONFLICT": 409,
    "RATE_LIMITS": 429,
    "MISSING_SCOPES": 403,
    "INVALID_AUTHENTICATION": 401,
}

#: Operations whose inputs carry an ``objectWriteTraceId``.
TRACED_OPS = frozenset({Op.CREATE, Op.UPDATE, Op.UPSERT})

Outcome = CrmObject | HubEngageError | None


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

    @property
    def fingerprint(self) -> Fingerprint | None:
        """Its fingerprint if already computed (creates), else None."""
        ...


class Decoded:
    """The outcome per input (aligned with the inputs), what was unclaimed, and echo."""

    __slots__ = ("outcomes", "trace_ids_echoed", "unclaimed")

    def __init__(
        self,
        outcomes: list[Outcome],
        unclaimed: list[CrmObject],
        trace_ids_echoed: bool | None,
    ) -> None:
        #: ``CrmObject`` for a success, the input's own error otherwise; ``None`` for a
        #: successful archive (no record comes back).
        self.outcomes = outcomes
        #: Results no input can claim: a trace id naming no input or one already served, a
        #: record fitting no input or several, a duplicate. Never given to anyone.
        self.unclaimed = unclaimed
        #: True when every successful write result carried a trace id, False when one
        #: did not, None when there was none to judge by.
        self.trace_ids_echoed = trace_ids_echoed


def item_error(entry: Mapping[str, Any], correlation_id: str | None) -> APIError:
    """The exception for one entry of a batch response's ``errors[]``."""
    category = str(entry.get("category") or "")
    status = CATEGORY_STATUS.get(category, 400)
    return error_from_body(status, entry, correlation_id=correlation_id, per_item=True)


def decode(
    op: Op | str,
    inputs: Sequence[SentInput],
    response: Response,
    *,
    id_property: str | None = None,
    unmatchable: frozenset[str] = frozenset(),
) -> Decoded:
    """Map a 2xx batch ``response`` back to ``inputs``.

    ``op`` is ``create``, ``read``, ``update``, ``upsert`` or ``archive``; ``id_property``
    the ``idProperty`` the batch was sent with, if any; ``unmatchable`` the properties a
    created record cannot be recognised by (``ObjectType.unmatchable``).
    """
    op = Op(op)
    if op is Op.LINK or op is Op.UNLINK:
        return _decode_links(op, inputs, response)
    n = len(inputs)
    correlation_id = response.correlation_id
    try:
        body = _body(op, response)
    except HubEngageError as exc:
        return Decoded([_unknown_after(op, exc, response) for _ in range(n)], [], None)
    if body is None:  # an archive's 204
        return Decoded([None] * n, [], None)

    by_trace = {inp.trace_id: i for i, inp in enumerate(inputs) if inp.trace_id is not None}
    by_key: dict[Hashable, int] = {}
    for i, inp in enumerate(inputs):
        if inp.key is not None:
            by_key.setdefault(canonical(inp.key), i)

    errors: list[APIError | None] = [None] * n
    for entry in _entries(body, "errors"):
        context = entry.get("context")
        context = context if isinstance(context, Mapping) else {}
        named = _named(context.get("objectWriteTraceId"), by_trace.get)
        if not named:
            named = _named(context.get("ids"), lambda rid: by_key.get(canonical(rid)))
        for i in named:
            if errors[i] is None:
                errors[i] = item_error(entry, correlation_id)

    results: list[list[CrmObject]] = [[] for _ in range(n)]
    unclaimed: list[CrmObject] = []
    traced = untraced = False
    matcher: RecordMatcher | None = None
    structure = CrmObject.from_wire
    for raw in _entries(body, "results"):
        record = structure(raw)
        trace = record.object_write_trace_id
        index: int | None
        if trace is not None and op in TRACED_OPS:
            traced = True
            index = by_trace.get(trace)
            if index is not None and not _consistent(op, record, inputs[index], index, by_key,
                                                     id_property, unmatchable):
                index = None  # labelled with one input's trace, describing another
        else:
            untraced = untraced or op in TRACED_OPS
            if op is Op.CREATE:
                if matcher is None:
                    matcher = RecordMatcher(
                        [inp.fingerprint or fingerprint(inp.properties or {}, unmatchable)
                         for inp in inputs],
                        [inp.properties for inp in inputs],
                    )
                index = matcher.find(record.properties)
            else:
                index = by_key.get(_record_key(record, id_property))
        if index is None:
            unclaimed.append(record)
        else:
            results[index].append(record)

    outcomes: list[Outcome] = []
    for i in range(n):
        found, error = results[i], errors[i]
        if found:
            unclaimed.extend(found[1:])
            if error is None:
                outcomes.append(found[0])
                continue
            unclaimed.append(found[0])
            outcomes.append(OutcomeUnknownError(
                f"HubSpot's batch/{op.value} response reports both a result (record {found[0].id}) "
                f"and an error ({error}) for this input; it may or may not have been written",
                operation=op.value, status=response.status, correlation_id=correlation_id,
            ))
        elif error is not None:
            outcomes.append(error)
        elif op is Op.ARCHIVE:
            outcomes.append(None)
        else:
            outcomes.append(OutcomeUnknownError(
                f"HubSpot's batch/{op.value} response (HTTP {response.status}) names no result or "
                "error that can be tied to this input without guessing; it may or may not "
                "have been written",
                operation=op.value, status=response.status, correlation_id=correlation_id,
            ))
    echoed = False if untraced else (True if traced else None)
    return Decoded(outcomes, unclaimed, echoed)


def _decode_links(op: Op, inputs: Sequence[SentInput], response: Response) -> Decoded:
    n = len(inputs)
    correlation_id = response.correlation_id
    if op is Op.UNLINK and not response.body.strip():
        return Decoded([None] * n, [], None)  # 204: every pair unlinked
    try:
        body = _body(op, response)
    except HubEngageError as exc:
        return Decoded([_unknown_after(op, exc, response) for _ in range(n)], [], None)
    assert body is not None
    confirmed: set[tuple[Hashable, Hashable]] = set()
    for raw in _entries(body, "results"):
        pair = _link_pair(raw)
        if pair is not None:
            confirmed.add(pair)
    errors = _entries(body, "errors")
    outcomes: list[Outcome] = []
    for inp in inputs:
        to_id = getattr(inp, "to_id", None)
        if (canonical(inp.key), canonical(to_id)) in confirmed:
            outcomes.append(None)
        elif n == 1 and errors:
            outcomes.append(item_error(errors[0], correlation_id))
        else:
            outcomes.append(OutcomeUnknownError(
                f"HubSpot's v4 {op.value} response (HTTP {response.status}) does not say "
                "whether this pair of records is associated",
                operation=op.value, status=response.status, correlation_id=correlation_id,
            ))
    return Decoded(outcomes, [], None)


def _link_pair(raw: Mapping[str, Any]) -> tuple[Hashable, Hashable] | None:
    """The (from id, to id) a v4 result names: ``fromObjectId``/``toObjectId`` (labelled
    create) or ``from.id``/``to.id`` (default associate)."""
    if "fromObjectId" in raw and "toObjectId" in raw:
        return canonical(str(raw["fromObjectId"])), canonical(str(raw["toObjectId"]))
    origin, to = raw.get("from"), raw.get("to")
    if isinstance(origin, Mapping) and isinstance(to, Mapping):
        return canonical(str(origin.get("id"))), canonical(str(to.get("id")))
    return None


def decode_record(op: Op | str, response: Response) -> CrmObject:
    """The record a single-record endpoint answered with (create, read, update).

    A body that is not a record fails a read with :class:`MalformedResponseError` and a
    write with :class:`OutcomeUnknownError` (HubSpot may have carried it out).
    """
    op = Op(op)
    try:
        body = response.json_object()
        if not isinstance(body.get("id"), str | int):
            raise response.malformed("the body is not a record (no 'id')")
    except MalformedResponseError as exc:
        if op is Op.READ:
            raise
        raise _unknown_after(op, exc, response) from exc
    return CrmObject.from_wire(body)


def page_results(response: Response) -> tuple[list[Mapping[str, Any]], Mapping[str, Any]]:
    """A page of a list, search or associations answer: its results and the whole body.

    :class:`MalformedResponseError` when the body is not a JSON object or ``results`` is
    not a list.
    """
    body = response.json_object()
    results = body.get("results", [])
    if not isinstance(results, list):
        raise response.malformed("'results' is not a list")
    return [r for r in results if isinstance(r, Mapping)], body


def next_after(page: Mapping[str, Any]) -> str | None:
    """The ``paging.next.after`` cursor of a page's body, or None on the last page."""
    paging = page.get("paging")
    nxt = paging.get("next") if isinstance(paging, Mapping) else None
    after = nxt.get("after") if isinstance(nxt, Mapping) else None
    return str(after) if after not in (None, "") else None


def _record_key(record: CrmObject, id_property: str | None) -> Hashable | None:
    """The canonical key a result names its input by: its ``id_property`` value or its id."""
    if id_property is not None:
        return canonical(record.properties.get(id_property))
    return canonical(record.id)


def _consistent(
    op: Op,
    record: CrmObject,
    sent: SentInput,
    index: int,
    by_key: Mapping[Hashable, int],
    id_property: str | None,
    unmatchable: frozenset[str],
) -> bool:
    """Does a result labelled with input ``index``'s trace id also look like its record?

    A create's record must carry the properties it sent; an update's or upsert's must not
    name another input by its id (or ``idProperty`` value).
    """
    if op is Op.CREATE:
        return fits(record.properties, sent.properties or {}, unmatchable)
    named = by_key.get(_record_key(record, id_property))
    return named is None or named == index


def _body(op: Op, response: Response) -> Mapping[str, Any] | None:
    """The response body, checked for the shape every batch endpoint documents."""
    if op is Op.ARCHIVE and not response.body.strip():
        return None
    if op is Op.UNLINK and not response.body.strip():
        return None
    body = response.json_object()
    for name in ("results", "errors"):
        value = body.get(name)
        if value is not None and not isinstance(value, list):
            raise response.malformed(f"{name!r} is not a list")
    if op is not Op.ARCHIVE and op is not Op.UNLINK and "results" not in body:
        raise response.malformed("the body has no 'results'")
    return body


def _unknown_after(op: Op, error: HubEngageError, response: Response) -> HubEngageError:
    """A read fails with the malformed-body error; a write's outcome is unknown."""
    if op is Op.READ:
        return error
    unknown = OutcomeUnknownError(
        f"HubSpot answered batch/{op.value} with HTTP {response.status} but the body could not be "
        f"read ({error}); the write may or may not have happened",
        operation=op.value, status=response.status, correlation_id=response.correlation_id,
    )
    unknown.__cause__ = error
    return unknown


def _entries(body: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    return [entry for entry in body.get(name) or () if isinstance(entry, Mapping)]


def _named(values: Any, lookup: Any) -> list[int]:
    """The indices ``lookup`` finds for the values of a ``context`` list."""
    if not isinstance(values, list):
        return []
    found = (lookup(str(value)) for value in values)
    return [i for i in found if i is not None]
