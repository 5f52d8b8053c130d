"""The account's definitions: properties of an object type, and owners.

``hs.properties("emails")`` lists, reads and creates property definitions (to find custom
and unique-value properties before an upsert, or create one a job needs); ``hs.owners``
lists owners (to map a sender's email address to ``hubspot_owner_id``). Neither has batch
semantics worth coalescing: each call is one request through the client's pipeline (rate
limits, retries), on the endpoints of ``docs/hubspot-wire.md`` §9.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from ._calls import Target
from ._constants import MAX_LIST_PAGE_SIZE
from ._errors import InvalidInputError, NotFoundError
from ._multistatus import next_after, page_results
from ._transport import Request, Response, path_segment
from .models import Owner, Property, PropertyOption

if TYPE_CHECKING:
    from ._core import ClientCore

__all__ = ["OwnersResource", "PropertiesResource"]

#: HubSpot's property data types (the properties API's ``type``).
PROPERTY_TYPES = ("string", "number", "bool", "enumeration", "date", "datetime",
                  "phone_number")
#: The field type a new property gets for each data type unless one is given.
_DEFAULT_FIELD_TYPE = {"string": "text", "number": "number", "bool": "booleancheckbox",
                       "enumeration": "select", "date": "date", "datetime": "date",
                       "phone_number": "phonenumber"}
#: A property's internal name: lower case letters, digits and underscores, from a letter.
_NAME = re.compile(r"[a-z][a-z0-9_]*")


async def _get(core: ClientCore, path: str, endpoint: str,
               params: Sequence[tuple[str, str]] = ()) -> Response:
    core.check_open()
    return await core.send(Request(method="GET", path=path, params=params, endpoint=endpoint))


def _options(values: Sequence[str | PropertyOption] | None) -> list[dict[str, Any]]:
    if values is None:
        return []
    if isinstance(values, str):
        raise InvalidInputError("must be a list of values or PropertyOption, not a string",
                                field="options")
    out = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            value = PropertyOption(label=value, value=value)
        if not isinstance(value, PropertyOption) or not value.value:
            raise InvalidInputError("must be a non-empty value or a PropertyOption",
                                    field=f"options[{i}]")
        out.append(value.to_wire(i))
    return out


class PropertiesResource:
    """The property definitions of one object type (``hs.properties("emails")``)."""

    def __init__(self, core: ClientCore, object_type: str) -> None:
        if not isinstance(object_type, str) or not object_type.strip():
            raise InvalidInputError("must be an object type name or id", field="object_type")
        self._core = core
        target = Target(object_type)
        #: The object type, as it appears in paths.
        self.object_type = target.name
        self._path = f"/crm/v3/properties/{target.segment}"

    def __repr__(self) -> str:
        return f"PropertiesResource({self.object_type!r})"

    async def list(self, *, archived: bool = False) -> list[Property]:
        """Every property of the type (HubSpot's and custom ones); ``archived=True`` lists
        the archived ones instead."""
        response = await _get(self._core, self._path, "properties",
                              [("archived", "true" if archived else "false")])
        results, _ = page_results(response)
        return [Property.from_wire(raw) for raw in results]

    async def get(self, name: str) -> Property | None:
        """The property named ``name``, or None when the type has no such property."""
        segment = path_segment(_check_name(name, "name", strict=False), field="name")
        try:
            response = await _get(self._core, f"{self._path}/{segment}", "property")
        except NotFoundError:
            return None
        return Property.from_wire(response.json_object())

    async def unique(self) -> builtins.list[Property]:
        """The properties whose values identify a record (usable as ``id_property``)."""
        return [p for p in await self.list() if p.has_unique_value]

    async def create(
        self,
        name: str,
        *,
        label: str,
        type: str,
        group_name: str,
        field_type: str | None = None,
        description: str = "",
        options: Sequence[str | PropertyOption] | None = None,
        has_unique_value: bool = False,
        hidden: bool = False,
    ) -> Property:
        """Create a custom property and return it as HubSpot stored it.

        ``type`` is one of ``string``, ``number``, ``bool``, ``enumeration``, ``date``,
        ``datetime``, ``phone_number``; ``field_type`` defaults to the usual one for it
        (``text``, ``number``, ``booleancheckbox``, ``select``, ``date``, ``phonenumber``).
        An enumeration needs ``options`` (values, or :class:`PropertyOption` with labels).
        ``has_unique_value=True`` makes it usable as an upsert's ``id_property``.
        """
        _check_name(name, "name", strict=True)
        if not isinstance(label, str) or not label.strip():
            raise InvalidInputError("must be a non-empty label", field="label")
        if type not in PROPERTY_TYPES:
            raise InvalidInputError(f"must be one of {', '.join(PROPERTY_TYPES)}",
                                    field="type")
        if not isinstance(group_name, str) or not group_name.strip():
            raise InvalidInputError("must name a property group", field="group_name")
        wire_options = _options(options)
        if type == "enumeration" and not wire_options:
            raise InvalidInputError("an enumeration needs options", field="options")
        if type == "bool" and not wire_options:
            wire_options = [{"label": "Yes", "value": "true", "displayOrder": 0},
                            {"label": "No", "value": "false", "displayOrder": 1}]
        body: dict[str, Any] = {
            "name": name, "label": label, "type": type,
            "fieldType": field_type or _DEFAULT_FIELD_TYPE[type],
            "groupName": group_name, "hasUniqueValue": bool(has_unique_value),
            "hidden": bool(hidden), "options": wire_options,
        }
        if description:
            body["description"] = description
        self._core.check_open()
        response = await self._core.send(Request(method="POST", path=self._path, json=body,
                                                 endpoint="property create"))
        return Property.from_wire(response.json_object())

    async def archive(self, name: str) -> None:
        """Archive a custom property (HubSpot keeps archived properties for 90 days)."""
        segment = path_segment(_check_name(name, "name", strict=False), field="name")
        self._core.check_open()
        await self._core.send(Request(method="DELETE", path=f"{self._path}/{segment}",
                                      endpoint="property archive"))


def _check_name(name: object, field: str, *, strict: bool) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInputError("must be a property name", field=field)
    if strict and not _NAME.fullmatch(name):
        raise InvalidInputError(
            "must start with a lower-case letter and hold only lower-case letters, digits "
            "and underscores", field=field)
    return name


class OwnersResource:
    """The account's owners (``hs.owners``): the users records can be assigned to."""

    def __init__(self, core: ClientCore) -> None:
        self._core = core

    def __repr__(self) -> str:
        return "OwnersResource()"

    async def list(self, *, email: str | None = None,
                   archived: bool = False) -> AsyncIterator[Owner]:
        """Every owner, page by page; ``email`` keeps the owner with that address."""
        params: list[tuple[str, str]] = [("limit", str(MAX_LIST_PAGE_SIZE)),
                                         ("archived", "true" if archived else "false")]
        if email is not None:
            if not isinstance(email, str) or not email.strip():
                raise InvalidInputError("must be an email address", field="email")
            params.append(("email", email.strip()))
        after: str | None = None
        while True:
            response = await _get(self._core, "/crm/v3/owners", "owners",
                                  [*params, ("after", after)] if after else params)
            results, page = page_results(response)
            for raw in results:
                yield Owner.from_wire(raw)
            after = next_after(page)
            if after is None:
                return

    async def get(self, owner_id: str | int, *, by_user_id: bool = False,
                  archived: bool = False) -> Owner | None:
        """One owner by its owner id (or, with ``by_user_id``, its user id); None when
        there is none."""
        if isinstance(owner_id, bool) or not isinstance(owner_id, str | int) \
                or not str(owner_id).strip():
            raise InvalidInputError("must be an owner id", field="owner_id")
        segment = path_segment(str(owner_id).strip(), field="owner_id")
        params = [("idProperty", "userId" if by_user_id else "id"),
                  ("archived", "true" if archived else "false")]
        try:
            response = await _get(self._core, f"/crm/v3/owners/{segment}", "owner", params)
        except NotFoundError:
            return None
        return Owner.from_wire(response.json_object())

    async def find(self, email: str) -> Owner | None:
        """The owner with this email address (case-insensitive), or None: what
        ``hubspot_owner_id`` should hold for a sender."""
        wanted = email.strip().casefold() if isinstance(email, str) else ""
        if not wanted:
            raise InvalidInputError("must be an email address", field="email")
        async for owner in self.list(email=email):
            if owner.email.casefold() == wanted:
                return owner
        return None
