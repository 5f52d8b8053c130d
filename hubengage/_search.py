"""Search query values: :class:`Filter`, :class:`Sort`, and the search request body.

Pure: builds HubSpot's ``PublicObjectSearchRequest`` body (``docs/hubspot-wire.md`` §3) and checks
the limits HubSpot enforces (5 filter groups, 6 filters per group, 18 in all, one sort, 3,000
characters) before anything is sent, so a bad query is an ``InvalidInputError`` naming the field.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import attrs

from ._constants import (
    MAX_FILTER_GROUPS,
    MAX_FILTERS,
    MAX_FILTERS_PER_GROUP,
    MAX_SEARCH_BODY_CHARS,
    SEARCH_RESULT_CAP,
)
from ._errors import InvalidInputError

__all__ = [
    "Filter",
    "SearchResultsTruncatedWarning",
    "Sort",
    "build_search_body",
]


OPERATORS = frozenset(
    {
        "LT",
        "LTE",
        "GT",
        "GTE",
        "EQ",
        "NEQ",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
_NO_VALUE = frozenset({"HAS_PROPERTY", "NOT_HAS_PROPERTY"})
_MULTI_VALUE = frozenset({"IN", "NOT_IN"})


class SearchResultsTruncatedWarning(UserWarning):
    """A search matched more than HubSpot's 10,000-result cap; iteration stopped at the cap."""


FilterValue = str | int | float | bool | datetime | Enum


def _wire_value(value: FilterValue, field: str) -> str:
    """HubSpot wants filter values as strings; datetimes as epoch milliseconds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInputError("naive datetime; give a timezone-aware one", field=field)
        return str(int(value.timestamp() * 1000))
    if isinstance(value, int | float | str):
        return str(value)
    raise InvalidInputError(f"unsupported filter value type {type(value).__name__}", field=field)


def _check_operator(filter_: Filter, _attr: attrs.Attribute[str], operator: str) -> None:
    if operator not in OPERATORS:
        raise InvalidInputError(
            f"unknown operator {operator!r}; one of {', '.join(sorted(OPERATORS))}",
            field="operator",
        )


@attrs.frozen
class Filter:
    """One search filter: ``Filter("hs_email_subject", "EQ", "Let's talk")``.

    ``BETWEEN`` takes ``value`` and ``high_value``; ``IN`` / ``NOT_IN`` take ``values``;
    ``HAS_PROPERTY`` / ``NOT_HAS_PROPERTY`` take neither. Datetime values are sent as epoch
    milliseconds, as HubSpot expects.
    """

    property_name: str
    operator: str = attrs.field(default="EQ", validator=_check_operator)
    value: FilterValue | None = None
    high_value: FilterValue | None = attrs.field(default=None, kw_only=True)
    values: Sequence[FilterValue] | None = attrs.field(default=None, kw_only=True)

    def to_wire(self) -> dict[str, Any]:
        """HubSpot's filter object; raises ``InvalidInputError`` when values don't fit."""
        if not self.property_name:
            raise InvalidInputError("must be a non-empty property name", field="property_name")
        out: dict[str, Any] = {"propertyName": self.property_name, "operator": self.operator}
        where = f"filter {self.property_name} {self.operator}"
        if self.operator in _NO_VALUE:
            return out
        if self.operator in _MULTI_VALUE:
            if not self.values:
                raise InvalidInputError(f"{where} needs values=[...]", field="values")
            out["values"] = [_wire_value(v, "values") for v in self.values]
            return out
        if self.value is None:
            raise InvalidInputError(f"{where} needs a value", field="value")
        out["value"] = _wire_value(self.value, "value")
        if self.operator == "BETWEEN":
            if self.high_value is None:
                raise InvalidInputError(f"{where} needs high_value", field="high_value")
            out["highValue"] = _wire_value(self.high_value, "high_value")
        return out


@attrs.frozen
class Sort:
    """A search sort: ``Sort("hs_timestamp", "DESCENDING")``. HubSpot allows one."""

    property_name: str
    direction: str = "ASCENDING"

    def to_wire(self) -> dict[str, str]:
        """HubSpot's sort object."""
        if self.direction not in ("ASCENDING", "DESCENDING"):
            raise InvalidInputError(
                f"must be ASCENDING or DESCENDING, not {self.direction!r}", field="direction"
            )
        return {"propertyName": self.property_name, "direction": self.direction}


def _groups(
    filters: Sequence[Filter] | None, filter_groups: Sequence[Sequence[Filter]] | None
) -> list[list[Filter]]:
    if filters and filter_groups:
        raise InvalidInputError("give filters or filter_groups, not both", field="filters")
    groups = [list(g) for g in filter_groups] if filter_groups else []
    if filters:
        groups = [list(filters)]
    if len(groups) > MAX_FILTER_GROUPS:
        raise InvalidInputError(
            f"at most {MAX_FILTER_GROUPS} filter groups, got {len(groups)}", field="filter_groups"
        )
    for i, group in enumerate(groups):
        if not group:
            raise InvalidInputError("a filter group is empty", field=f"filter_groups[{i}]")
        if len(group) > MAX_FILTERS_PER_GROUP:
            raise InvalidInputError(
                f"at most {MAX_FILTERS_PER_GROUP} filters per group, got {len(group)}",
                field=f"filter_groups[{i}]",
            )
    if sum(len(g) for g in groups) > MAX_FILTERS:
        raise InvalidInputError(f"at most {MAX_FILTERS} filters in all", field="filter_groups")
    return groups


def build_search_body(
    *,
    filters: Sequence[Filter] | None,
    filter_groups: Sequence[Sequence[Filter]] | None,
    sorts: Sequence[Sort] | None,
    query: str | None,
    properties: Sequence[str] | None,
    limit: int,
) -> dict[str, Any]:
    """The search request body without ``after`` (the iterator adds it per page)."""
    body: dict[str, Any] = {
        "filterGroups": [
            {"filters": [f.to_wire() for f in group]} for group in _groups(filters, filter_groups)
        ],
        "limit": limit,
    }
    if sorts:
        if len(sorts) > 1:
            raise InvalidInputError("HubSpot allows one sort", field="sorts")
        body["sorts"] = [s.to_wire() for s in sorts]
    if query:
        body["query"] = query
    if properties:
        body["properties"] = list(properties)
    if len(json.dumps(body)) > MAX_SEARCH_BODY_CHARS:
        raise InvalidInputError(
            f"the search request is over HubSpot's {MAX_SEARCH_BODY_CHARS}-character limit",
            field="query",
        )
    return body


def warn_truncated(object_type: str, total: int) -> None:
    """Tell the caller a search stopped at HubSpot's cap."""
    warnings.warn(
        f"search on {object_type} matched {total} records; HubSpot returns at most "
        f"{SEARCH_RESULT_CAP}. Narrow the filters (e.g. by hs_timestamp ranges) to see the rest.",
        SearchResultsTruncatedWarning,
        stacklevel=3,
    )
