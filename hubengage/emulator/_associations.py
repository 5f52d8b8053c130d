"""Association types (definitions), labels and limits: the association schema. No HTTP.

Every association between two records carries one or more association *types*, each named
by a category and an id (a :data:`Spec`, ``("HUBSPOT_DEFINED", 198)``) and defined for one
direction (from type → to type) with an inverse for the other direction
(``docs/hubspot-wire.md`` §5, §5.1). HubSpot defines the unlabeled default between two types
(``ASSOCIATION_TYPE_IDS``) and the "Primary" company labels; users create labels
(``USER_DEFINED``): a label between two different types is a pair of types, one each way,
named by ``label`` and ``inverseLabel`` (or ``label`` both ways); between one type and itself
a label without an inverse is a single, symmetric type. Type ids are unique within a
category only, so a user label's id may equal a HubSpot-defined id: the emulator hands them
out from 1, as the account captured in SEC-APUNTES does (§5.1). Limits (``maxToObjectIds``)
cap how many records of the to type one record may hold with a given type; a limit on the
unlabeled type caps the records associated at all (§5.1: CL-ALIMITS). The store applies these
rules; ``_api_v4`` serves them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

import attrs

from .._objecttypes import ASSOCIATION_TYPE_IDS, resolve_object_type
from ._caps import MAX_ASSOCIATION_LABELS_PER_PAIR, MAX_ASSOCIATION_LIMIT
from ._common import ApiError, validation_error

__all__ = [
    "CATEGORIES",
    "HUBSPOT_DEFINED",
    "LABELLED_TYPES",
    "PRIMARY_TYPE_IDS",
    "USER_DEFINED",
    "AssociationSchema",
    "AssociationType",
    "Spec",
]

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
USER_DEFINED = "USER_DEFINED"
#: The categories the v4 spec's enums name (S-A4 ``AssociationSpec``).
CATEGORIES = ("HUBSPOT_DEFINED", "INTEGRATOR_DEFINED", "USER_DEFINED", "WORK")
#: (category, type id): one association type.
Spec = tuple[str, int]
#: The object types association labels are supported between (§5.1: D-A4 "contacts,
#: companies, deals, tickets, and custom objects"); engagements only with
#: ``labels_on_engagements``.
LABELLED_TYPES = frozenset({"contacts", "companies", "deals", "tickets"})

#: HubSpot's "Primary" labels, (from, to) → (this way, the other way) (§5: D-ASSOC, SDK-NODE).
PRIMARY_TYPE_IDS: Mapping[tuple[str, str], tuple[int, int]] = {
    ("contacts", "companies"): (1, 2),
    ("deals", "companies"): (5, 6),
    ("tickets", "companies"): (26, 25),
}


@attrs.define(kw_only=True)
class AssociationType:
    """One association type (a definition): one direction between two object types."""

    category: str
    type_id: int
    from_name: str
    to_name: str
    #: None for HubSpot's unlabeled default type.
    label: str | None
    #: The internal name a user label was created with.
    name: str | None = None
    inverse: Spec = ("", 0)

    @property
    def spec(self) -> Spec:
        return (self.category, self.type_id)

    def wire(self) -> dict[str, object]:
        """``AssociationSpecWithLabel`` (the label is null for an unlabeled type)."""
        return {"category": self.category, "typeId": self.type_id, "label": self.label}


def _canonical(name: str) -> str:
    ot = resolve_object_type(name)
    if ot is None:
        raise ValueError(f"unknown object type {name!r}")
    return ot.name


class AssociationSchema:
    """Every association type, label and configured limit of the account."""

    def __init__(self, limits: Mapping[str, int] | None = None, *,
                 labels_on_engagements: bool = False) -> None:
        self.types: dict[Spec, AssociationType] = {}
        self.by_pair: dict[tuple[str, str], list[Spec]] = {}
        #: (from, to, spec) → the most records of the to type one record may hold with it
        self.limits: dict[tuple[str, str, Spec], int] = {}
        self.labels_on_engagements = labels_on_engagements
        self._ids = itertools.count(1)
        for (a, b), tid in ASSOCIATION_TYPE_IDS.items():
            back = ASSOCIATION_TYPE_IDS.get((b, a), tid)
            self._add(AssociationType(category=HUBSPOT_DEFINED, type_id=tid, from_name=a,
                                      to_name=b, label=None, inverse=(HUBSPOT_DEFINED, back)))
        for (a, b), (tid, back) in PRIMARY_TYPE_IDS.items():
            self._add(AssociationType(category=HUBSPOT_DEFINED, type_id=tid, from_name=a,
                                      to_name=b, label="Primary",
                                      inverse=(HUBSPOT_DEFINED, back)))
            self._add(AssociationType(category=HUBSPOT_DEFINED, type_id=back, from_name=b,
                                      to_name=a, label="Primary",
                                      inverse=(HUBSPOT_DEFINED, tid)))
        for key, limit in (limits or {}).items():
            self._configure(key, limit)

    def _add(self, at: AssociationType) -> None:
        self.types[at.spec] = at
        self.by_pair.setdefault((at.from_name, at.to_name), []).append(at.spec)

    def _configure(self, key: str, limit: int) -> None:
        """``FROM.TO`` (the unlabeled type) or ``FROM.TO.TYPEID`` (a HubSpot-defined type);
        raises ``ValueError`` (a configuration mistake, not an API error)."""
        parts = key.split(".")
        if len(parts) not in (2, 3):
            raise ValueError(f"association limit key must be FROM.TO[.TYPEID], got {key!r}")
        a, b = _canonical(parts[0]), _canonical(parts[1])
        if len(parts) == 3:
            if not parts[2].isdigit():
                raise ValueError(f"not a type id in {key!r}")
            at = self.get(a, b, HUBSPOT_DEFINED, int(parts[2]))
        else:
            at = self.default(a, b)
        if at is None:
            raise ValueError(f"no such association type: {key!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) \
                or not 1 <= limit <= MAX_ASSOCIATION_LIMIT:
            raise ValueError(f"an association limit is 1 to {MAX_ASSOCIATION_LIMIT}: {key!r}")
        self.limits[(a, b, at.spec)] = limit

    # -- lookups --------------------------------------------------------------------------

    def default(self, a: str, b: str) -> AssociationType | None:
        """HubSpot's unlabeled type from ``a`` to ``b``, if there is one."""
        tid = ASSOCIATION_TYPE_IDS.get((a, b))
        return None if tid is None else self.types.get((HUBSPOT_DEFINED, tid))

    def get(self, a: str, b: str, category: str, type_id: int) -> AssociationType | None:
        """The type ``(category, type_id)`` if it is defined from ``a`` to ``b``."""
        at = self.types.get((category, type_id))
        if at is None or at.from_name != a or at.to_name != b:
            return None
        return at

    def from_type(self, a: str, spec: Spec) -> AssociationType | None:
        """The type ``spec`` if it is defined from ``a`` (to whatever type)."""
        at = self.types.get(spec)
        return at if at is not None and at.from_name == a else None

    def by_id(self, a: str, b: str, type_id: int) -> AssociationType | None:
        """A type from ``a`` to ``b`` by id alone (v3 paths): HubSpot's first, then users'."""
        return (self.get(a, b, HUBSPOT_DEFINED, type_id)
                or self.get(a, b, USER_DEFINED, type_id))

    def by_v3_name(self, a: str, b: str, name: str, singular_from: str,
                   singular_to: str) -> AssociationType | None:
        """A type from ``a`` to ``b`` by the name v3 gives it (:meth:`v3_name`), in any case
        (§9: D-POSTAL writes ``POSTAL_MAIL_TO_CONTACT``, D-COMM ``communication_to_contact``)."""
        wanted = name.lower()
        for at in self.pair(a, b):
            if self.v3_name(at, singular_from, singular_to).lower() == wanted:
                return at
        return None

    def pair(self, a: str, b: str) -> list[AssociationType]:
        """Every type from ``a`` to ``b``, HubSpot's first, then labels in creation order."""
        return [self.types[s] for s in self.by_pair.get((a, b), ())]

    def inverse(self, spec: Spec) -> Spec:
        at = self.types.get(spec)
        return at.inverse if at is not None else spec

    def label_of(self, spec: Spec) -> str | None:
        at = self.types.get(spec)
        return at.label if at is not None else None

    def v3_name(self, at: AssociationType, singular_from: str, singular_to: str) -> str:
        """The name v3 reads give a type: ``email_to_contact`` for the unlabeled default,
        ``contact_to_company`` for the primary label and ``contact_to_company_unlabeled`` for
        the unlabeled one where a primary exists (§3); other labels by id."""
        base = f"{singular_from.lower()}_to_{singular_to.lower()}"
        if at.category == HUBSPOT_DEFINED and at.label == "Primary":
            return base
        if at.category == HUBSPOT_DEFINED and at.label is None:
            primary = (at.from_name, at.to_name) in PRIMARY_TYPE_IDS or (
                (at.to_name, at.from_name) in PRIMARY_TYPE_IDS)
            return f"{base}_unlabeled" if primary else base
        return str(at.type_id)

    # -- labels (the definitions API) -----------------------------------------------------

    def _check_labelled_pair(self, a: str, b: str) -> None:
        if self.labels_on_engagements:
            return
        for name in (a, b):
            if name not in LABELLED_TYPES:
                raise validation_error(
                    f"Association labels are not supported for {name}: labels can be defined "
                    "between contacts, companies, deals, tickets and custom objects")

    def create_label(self, a: str, b: str, name: str, label: str,
                     inverse_label: str | None) -> list[AssociationType]:
        """A user label from ``a`` to ``b`` (and its inverse); the new types, forward first."""
        self._check_labelled_pair(a, b)
        users = [at for at in self.pair(a, b) if at.category == USER_DEFINED]
        if len(users) >= MAX_ASSOCIATION_LABELS_PER_PAIR:
            raise validation_error(
                f"At most {MAX_ASSOCIATION_LABELS_PER_PAIR} association labels may be defined "
                f"between {a} and {b}")
        if any(at.name == name for at in users):
            raise ApiError(409, "CONFLICT",
                           f"An association label named '{name}' already exists between "
                           f"{a} and {b}")
        forward_id = next(self._ids)
        if a == b and not inverse_label:
            self._add(AssociationType(category=USER_DEFINED, type_id=forward_id, from_name=a,
                                      to_name=b, label=label, name=name,
                                      inverse=(USER_DEFINED, forward_id)))
            return [self.types[(USER_DEFINED, forward_id)]]
        back_id = next(self._ids)
        forward = AssociationType(category=USER_DEFINED, type_id=forward_id, from_name=a,
                                  to_name=b, label=label, name=name,
                                  inverse=(USER_DEFINED, back_id))
        back = AssociationType(category=USER_DEFINED, type_id=back_id, from_name=b,
                               to_name=a, label=inverse_label or label, name=name,
                               inverse=(USER_DEFINED, forward_id))
        self._add(forward)
        self._add(back)
        return [forward, back]

    def user_label(self, a: str, b: str, type_id: int) -> AssociationType:
        """The user label ``type_id`` from ``a`` to ``b``; 400 for HubSpot's, 404 for none."""
        at = self.get(a, b, USER_DEFINED, type_id)
        if at is None:
            hubspot = self.get(a, b, HUBSPOT_DEFINED, type_id)
            if hubspot is not None:
                raise validation_error(
                    f"Association type {type_id} is defined by HubSpot and cannot be changed")
            raise ApiError(404, "OBJECT_NOT_FOUND",
                           f"No association label with id {type_id} from {a} to {b}")
        return at

    def update_label(self, a: str, b: str, type_id: int, label: str,
                     inverse_label: str | None) -> None:
        at = self.user_label(a, b, type_id)
        at.label = label
        if inverse_label is not None and at.inverse != at.spec:
            self.types[at.inverse].label = inverse_label

    def delete_label(self, a: str, b: str, type_id: int) -> list[Spec]:
        """Remove a user label (and its inverse); the specs removed."""
        at = self.user_label(a, b, type_id)
        removed = [at.spec] if at.inverse == at.spec else [at.spec, at.inverse]
        for spec in removed:
            gone = self.types.pop(spec)
            self.by_pair[(gone.from_name, gone.to_name)].remove(spec)
            for key in [k for k in self.limits if k[2] == spec]:
                del self.limits[key]
        return removed

    # -- limits (the definitions configurations API) --------------------------------------

    def limit(self, a: str, b: str, spec: Spec) -> int | None:
        return self.limits.get((a, b, spec))

    def set_limit(self, a: str, b: str, category: str, type_id: int, limit: object, *,
                  create: bool) -> AssociationType:
        """Configure ``maxToObjectIds`` for a type; raises ``ApiError`` for a bad one.

        A label's limit must stay below the limit on the unlabeled type, and the unlabeled
        type's above every label's (the examples of HubSpot's changelog, CL-ALIMITS).
        """
        at = self.get(a, b, category, type_id)
        if at is None:
            raise validation_error(
                f"No association type {category} {type_id} from {a} to {b}")
        if isinstance(limit, bool) or not isinstance(limit, int) \
                or not 1 <= limit <= MAX_ASSOCIATION_LIMIT:
            raise validation_error(
                f"maxToObjectIds must be an integer from 1 to {MAX_ASSOCIATION_LIMIT}")
        key = (a, b, at.spec)
        if create and key in self.limits:
            raise validation_error(
                f"A limit is already configured for {category} {type_id} from {a} to {b}; "
                "update it instead")
        if not create and key not in self.limits:
            raise validation_error(
                f"No limit is configured for {category} {type_id} from {a} to {b}")
        default = self.default(a, b)
        if default is not None and at.spec != default.spec:
            whole = self.limits.get((a, b, default.spec))
            if whole is not None and limit >= whole:
                raise validation_error(
                    f"A label limit must be below the object limit: use 1-{whole - 1}")
        elif default is not None:
            labels = [v for (x, y, s), v in self.limits.items()
                      if (x, y) == (a, b) and s != default.spec]
            if labels and limit <= max(labels):
                raise validation_error(
                    f"The object limit must be above every label limit: use >{max(labels)}")
        self.limits[key] = limit
        return at

    def remove_limit(self, a: str, b: str, category: str, type_id: int) -> None:
        at = self.get(a, b, category, type_id)
        if at is not None:
            self.limits.pop((a, b, at.spec), None)

    def configured(self, pair: tuple[str, str] | None = None
                   ) -> Iterable[tuple[AssociationType, int]]:
        """Every configured limit with its type (of one pair of types, when given)."""
        for (a, b, spec), limit in self.limits.items():
            if pair is None or pair == (a, b):
                yield self.types[spec], limit
