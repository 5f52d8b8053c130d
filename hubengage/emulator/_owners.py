"""The account's owners (HubSpot users who can own records): ``GET /crm/v3/owners``.

:data:`DEFAULT_OWNERS` seeds every emulator; ``EmulatorConfig(owners=...)`` replaces them and
``--owner EMAIL[:FIRST[:LAST]]`` adds more. An owner id is what ``hubspot_owner_id`` takes
(``docs/hubspot-wire.md`` §9). Shapes follow S-OWN (``PublicOwner``): ids are strings that
the spec types as int32 in the path, so every id here fits an int32; an archived owner has
``userIdIncludingInactive`` but no ``userId`` (I-PY314). No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

__all__ = ["DEFAULT_OWNERS", "Owner", "OwnerBook", "parse_owner"]

#: When the seeded owners were created (fixed, so responses repeat).
_CREATED = "2024-01-02T09:00:00.000Z"


@attrs.frozen(kw_only=True)
class Owner:
    """One owner (HubSpot's ``PublicOwner``)."""

    id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    user_id: int | None = None
    archived: bool = False
    teams: tuple[tuple[str, str, bool], ...] = ()  # (id, name, primary)

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "type": "PERSON",
            "createdAt": _CREATED,
            "updatedAt": _CREATED,
            "archived": self.archived,
        }
        if self.user_id is not None:
            out["userIdIncludingInactive"] = self.user_id
            if not self.archived:
                out["userId"] = self.user_id
        if self.teams:
            out["teams"] = [{"id": t, "name": n, "primary": p} for t, n, p in self.teams]
        return out


#: The owners every emulator starts with (the last one archived).
DEFAULT_OWNERS: tuple[Owner, ...] = (
    Owner(id="75121001", email="ada@example.com", first_name="Ada", last_name="Lovelace",
          user_id=9100001, teams=(("178588", "West Coast Sales", True),)),
    Owner(id="75121002", email="grace@example.com", first_name="Grace",
          last_name="Hopper", user_id=9100002),
    Owner(id="75121003", email="alan@example.com", first_name="Alan", last_name="Turing",
          user_id=9100003),
    Owner(id="75121009", email="former@example.com", first_name="Former",
          last_name="Employee", user_id=9100009, archived=True),
)
_FIRST_EXTRA_ID = 75121100
_FIRST_EXTRA_USER = 9100100


def parse_owner(text: str, index: int = 0) -> Owner:
    """``EMAIL[:FIRST[:LAST]]`` → an owner with the ``index``-th extra id."""
    email, _, rest = text.strip().partition(":")
    first, _, last = rest.partition(":")
    if "@" not in email:
        raise ValueError(f"expected EMAIL[:FIRST[:LAST]], got {text!r}")
    return Owner(id=str(_FIRST_EXTRA_ID + index), email=email, first_name=first,
                 last_name=last, user_id=_FIRST_EXTRA_USER + index)


class OwnerBook:
    """The owners, in id order, with the lookups the API and the store need."""

    def __init__(self, owners: Iterable[Owner]) -> None:
        self.owners = sorted(owners, key=lambda o: _key(o.id))
        self.live_ids = frozenset(o.id for o in self.owners if not o.archived)

    def find(self, key: str, *, by_user_id: bool = False, archived: bool = False) -> Owner | None:
        for owner in self.owners:
            value = str(owner.user_id) if by_user_id else owner.id
            if value == key and owner.archived == archived:
                return owner
        return None

    def page(self, *, email: str | None, archived: bool, after: str | None,
             limit: int) -> tuple[list[Owner], str | None]:
        """A page of owners from the cursor ``after`` (the id of the first owner of the page,
        as the objects list's cursor is), and the next cursor."""
        chosen = [o for o in self.owners if o.archived == archived
                  and (email is None or o.email.lower() == email.lower())]
        if after:
            chosen = [o for o in chosen if _key(o.id) >= _key(after)]
        page = chosen[:limit]
        more = len(chosen) > limit
        return page, (chosen[limit].id if more else None)


def _key(owner_id: str) -> tuple[int, str]:
    return (int(owner_id), "") if owner_id.isdigit() else (0, owner_id)
