"""Recognising a returned record by what was sent: canonical values and input fingerprints.

When HubSpot does not echo ``objectWriteTraceId`` on successful batch results (its documented
207 example carries none; ``docs/hubspot-wire.md`` §2.3), the only way to tie a created
record to the call that made it is by the properties that call sent. HubSpot echoes them in
its own normal form, not as sent: datetimes as ISO 8601 UTC with milliseconds
(``1714557600000`` and ``2024-05-01T12:00:00+02:00`` both come back as
``2024-05-01T10:00:00.000Z``), numbers as plain decimals, booleans in lower case, ``;``-lists
possibly reordered, contact emails in lower case, rich text possibly as HTML. So values are
compared through :func:`canonical`, which maps every form HubSpot may return for a sent value
to the same key. It is deliberately coarse (``"Hello"`` and ``"hello "`` are one key): a
coarse key can only make two inputs look alike, never make a record look like a stranger.

The rules that make the match sound (the batcher and the decoder keep them):

- An input's :func:`fingerprint` is the set of ``(property, canonical value)`` pairs it sent,
  leaving out properties HubSpot ignores, sets itself or rewrites (read-only, system,
  ``hs_email_headers``; ``ObjectType.unmatchable``) and empty values.
- A record *fits* an input when it carries every pair of the input's fingerprint.
- A batch never holds two inputs whose fingerprints are equal or one a subset of the other
  (:class:`FingerprintSet`). Then a record echoed faithfully fits its own input, and fits
  another input only if HubSpot filled in, by itself, exactly that input's other values.
- A record goes to an input only when it fits that input and no other input of the batch
  (:class:`RecordMatcher`); never by elimination, never by position. Anything else is left
  unclaimed and the input's caller is told its outcome is unknown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Hashable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

__all__ = [
    "Fingerprint",
    "FingerprintSet",
    "RecordMatcher",
    "canonical",
    "fingerprint",
    "fits",
]

#: ``(property names, (property, canonical value) pairs)``; names are kept for speed.
Fingerprint = tuple[frozenset[str], frozenset[tuple[str, Hashable]]]

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TAG = re.compile(r"<[^>]*>")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class _Bool:
    """``true``/``false`` as a key of its own (Python's ``True == 1 == Decimal(1)``)."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "true" if self.value else "false"


_TRUE, _FALSE = _Bool(True), _Bool(False)


def _instant_ms(text: str) -> int | None:
    """Epoch milliseconds of an ISO 8601 date or datetime (no zone: UTC), else None."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (parsed - _EPOCH) // _MS


#: Recently canonicalised strings (values repeat a lot: one timestamp, one direction, one
#: owner for a whole batch). Cleared when full; a dict lookup is cheaper than the parse.
_CACHE: dict[str, Hashable | None] = {}
_CACHE_SIZE = 4096
_MISS = object()


def canonical(value: object) -> Hashable | None:
    """The key under which HubSpot's echo of a sent value equals the value sent.

    ``None`` for a missing or empty value (HubSpot stores no empty values). Numbers and
    instants share one numeric key (epoch milliseconds: HubSpot may echo a datetime sent as
    ``1714557600000`` in ISO form); ``true``/``false`` any case; a ``;``-list as its sorted
    parts; other text without HTML tags and entities, case and runs of whitespace.
    """
    if value is None:
        return None
    if type(value) is str:
        hit = _CACHE.get(value, _MISS)
        if hit is not _MISS:
            return hit
        key = _canonical(value)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[value] = key
        return key
    return _canonical(str(value))


def _canonical(text: str) -> Hashable | None:
    if "<" in text or "&" in text:  # rich text: HubSpot may echo it as HTML
        text = html.unescape(_TAG.sub(" ", text))
    folded = " ".join(text.split()).casefold()
    if not folded:
        return None
    first = folded[0]
    if first.isdigit() or first in "+-.":
        if _NUMBER.fullmatch(folded):
            number = Decimal(folded)
            # An int where it is a modest one: equal to the Decimal, hashed much faster.
            if -30 < number.adjusted() < 30 and number == number.to_integral_value():
                return int(number)
            return number
        return _instant_ms(text.strip())
    if folded == "true":
        return _TRUE
    if folded == "false":
        return _FALSE
    if ";" in folded:
        parts = (canonical(part) for part in text.split(";"))
        return tuple(sorted((p for p in parts if p is not None), key=repr))
    return folded


def fingerprint(properties: Mapping[str, str], unmatchable: frozenset[str]) -> Fingerprint:
    """What a record created from ``properties`` must carry to be recognised as its record."""
    names = []
    pairs = []
    for name, value in properties.items():
        if name not in unmatchable:
            key = canonical(value)
            if key is not None:
                names.append(name)
                pairs.append((name, key))
    return frozenset(names), frozenset(pairs)


def fits(
    record: Mapping[str, object], properties: Mapping[str, str], unmatchable: frozenset[str]
) -> bool:
    """True when ``record`` (a returned record's properties) carries what ``properties``
    sent: the check a result labelled with an input's trace id must also pass.

    Exact echoes are compared as strings first; only differing values are canonicalised.
    """
    for name, value in properties.items():
        got = record.get(name)
        if got == value or name in unmatchable:
            continue
        key = canonical(value)
        if key is not None and canonical(got) != key:
            return False
    return True


class FingerprintSet:
    """The fingerprints of one batch being assembled: admits only distinguishable ones.

    Two fingerprints are indistinguishable when one is a subset of the other (equal ones
    included): a record of the larger could fit the smaller. Fingerprints are grouped by
    their property names, so the common case (every input sends the same properties) is
    one set lookup.
    """

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[frozenset[str], set[frozenset[tuple[str, Hashable]]]] = {}

    def admits(self, fp: Fingerprint) -> bool:
        """True when ``fp`` can join the batch without ambiguity."""
        names, pairs = fp
        for group_names, group in self._groups.items():
            if group_names == names:
                if pairs in group:
                    return False
            elif group_names < names:
                if frozenset(p for p in pairs if p[0] in group_names) in group:
                    return False
            elif names < group_names and any(pairs <= other for other in group):
                return False
        return True

    def add(self, fp: Fingerprint) -> None:
        """Record ``fp`` as part of the batch."""
        names, pairs = fp
        self._groups.setdefault(names, set()).add(pairs)


class RecordMatcher:
    """Finds the one input of a batch that a returned record fits, or None.

    ``fingerprints[i]`` is input ``i``'s fingerprint (None: input ``i`` cannot be matched
    by its properties) and ``sent[i]`` the properties it sent. A record that fits several
    inputs (possible only when the batch was not assembled through
    :class:`FingerprintSet`, or HubSpot filled in values by itself) fits none.

    Fast path: when every input sent the same property names and no two are alike, a record
    that echoes an input's values exactly is that input's (its canonical values are then
    the input's fingerprint, which no other input shares); only other records are
    canonicalised.
    """

    __slots__ = ("_exact", "_groups", "_names")

    def __init__(
        self,
        fingerprints: Sequence[Fingerprint | None],
        sent: Sequence[Mapping[str, str] | None] = (),
    ) -> None:
        self._groups: dict[frozenset[str], dict[frozenset[tuple[str, Hashable]], list[int]]] = {}
        for index, fp in enumerate(fingerprints):
            if fp is not None:
                names, pairs = fp
                self._groups.setdefault(names, {}).setdefault(pairs, []).append(index)
        self._names: tuple[str, ...] = ()
        self._exact: dict[tuple[object, ...], int] = {}
        if len(self._groups) == 1 and sent:
            ((names, table),) = self._groups.items()
            if all(len(indices) == 1 for indices in table.values()):
                self._names = tuple(names)
                for indices in table.values():
                    props = sent[indices[0]] or {}
                    self._exact[tuple(props.get(n) for n in self._names)] = indices[0]

    def find(self, properties: Mapping[str, object]) -> int | None:
        """The index of the only input whose fingerprint ``properties`` carries, or None."""
        if self._exact:
            hit = self._exact.get(tuple(properties.get(n) for n in self._names))
            if hit is not None:
                return hit
        found: int | None = None
        keys: dict[str, Hashable | None] = {}
        for names, table in self._groups.items():
            pairs = []
            for name in names:
                key = keys[name] if name in keys else keys.setdefault(
                    name, canonical(properties.get(name))
                )
                if key is None:
                    break
                pairs.append((name, key))
            else:
                candidates = table.get(frozenset(pairs))
                if candidates:
                    if found is not None or len(candidates) > 1:
                        return None
                    found = candidates[0]
        return found
