"""The object-type table: names, type ids and default association type ids (wire notes §5)."""

from __future__ import annotations

import pytest

from hubengage._objecttypes import default_association_type_id, resolve_object_type


@pytest.mark.parametrize(
    ("name", "type_id"),
    [
        ("emails", "0-49"),
        ("postal_mail", "0-116"),
        ("communications", "0-18"),
        ("calls", "0-48"),
        ("meetings", "0-47"),
        ("notes", "0-46"),
        ("tasks", "0-27"),
        ("contacts", "0-1"),
        ("companies", "0-2"),
        ("deals", "0-3"),
        ("tickets", "0-5"),
    ],
)
def test_names_and_type_ids_resolve_to_the_same_type(name: str, type_id: str) -> None:
    by_name = resolve_object_type(name)
    by_id = resolve_object_type(type_id)
    assert by_name is not None
    assert by_name is by_id
    assert by_name.type_id == type_id


def test_unknown_type_is_none() -> None:
    assert resolve_object_type("2-12345") is None


def test_default_association_type_ids() -> None:
    assert default_association_type_id("emails", "contacts") == 198
    assert default_association_type_id("notes", "contacts") == 202
    assert default_association_type_id("emails", "nonsense") is None
