"""Email headers: ``hs_email_headers`` as typed senders and recipients, and its JSON.

:class:`EmailHeaders` is the value of :class:`~hubengage.Email`'s ``headers`` field; the
converter (``_converter``) maps it to and from the JSON string HubSpot stores with
:meth:`EmailHeaders.to_json` and :meth:`EmailHeaders.from_json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .._errors import InvalidInputError

__all__ = ["EmailAddress", "EmailHeaders"]


@attrs.frozen(kw_only=True)
class EmailAddress:
    """A sender or recipient in :class:`EmailHeaders`."""

    email: str
    first_name: str | None = None
    last_name: str | None = None

    def to_wire(self) -> dict[str, str]:
        """HubSpot's ``{"email", "firstName", "lastName"}`` object."""
        out = {"email": self.email}
        if self.first_name is not None:
            out["firstName"] = self.first_name
        if self.last_name is not None:
            out["lastName"] = self.last_name
        return out

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> EmailAddress:
        """From HubSpot's object."""
        return cls(
            email=str(raw.get("email", "")),
            first_name=raw.get("firstName"),
            last_name=raw.get("lastName"),
        )


def _addresses(value: Iterable[EmailAddress | str]) -> tuple[EmailAddress, ...]:
    return tuple(v if isinstance(v, EmailAddress) else EmailAddress(email=str(v)) for v in value)


@attrs.frozen(kw_only=True)
class EmailHeaders:
    """``hs_email_headers``: HubSpot fills the read-only ``hs_email_from_*``/``to_*`` from it."""

    from_: EmailAddress
    to: tuple[EmailAddress, ...] = attrs.field(default=(), converter=_addresses)
    cc: tuple[EmailAddress, ...] = attrs.field(default=(), converter=_addresses)
    bcc: tuple[EmailAddress, ...] = attrs.field(default=(), converter=_addresses)

    def to_json(self) -> str:
        """The JSON string HubSpot expects in ``hs_email_headers``."""
        return json.dumps(
            {
                "from": self.from_.to_wire(),
                "to": [a.to_wire() for a in self.to],
                "cc": [a.to_wire() for a in self.cc],
                "bcc": [a.to_wire() for a in self.bcc],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> EmailHeaders:
        """Parse ``hs_email_headers``."""
        try:
            raw = json.loads(text)
            return cls(
                from_=EmailAddress.from_wire(raw.get("from") or {}),
                to=tuple(EmailAddress.from_wire(a) for a in raw.get("to") or ()),
                cc=tuple(EmailAddress.from_wire(a) for a in raw.get("cc") or ()),
                bcc=tuple(EmailAddress.from_wire(a) for a in raw.get("bcc") or ()),
            )
        except (ValueError, AttributeError, TypeError) as exc:
            raise InvalidInputError(
                f"not valid email headers JSON: {exc}", field="headers"
            ) from exc
