"""The public API: ``__all__`` lists exactly the public names, each documented."""

from __future__ import annotations

import inspect
from typing import is_typeddict

import hubengage


def test_all_is_sorted_unique_and_complete() -> None:
    exported = hubengage.__all__
    assert len(exported) == len(set(exported))
    public = {
        name for name, value in vars(hubengage).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    } | {"__version__"}
    assert set(exported) == public


def test_every_public_name_has_a_docstring() -> None:
    for name in hubengage.__all__:
        value = getattr(hubengage, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name} has no docstring"
            for attr, member in vars(value).items():
                if attr.startswith("_") or not callable(member):
                    continue
                assert inspect.getdoc(member), f"{name}.{attr} has no docstring"


def test_no_module_but_the_transport_and_emulator_imports_aiohttp() -> None:
    from pathlib import Path

    root = Path(hubengage.__file__).parent
    offenders = [
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if "aiohttp" in path.read_text()
        and path.name != "_transport.py"
        and "emulator" not in path.parts
        and ("import aiohttp" in path.read_text() or "from aiohttp" in path.read_text())
    ]
    assert offenders == []


async def test_the_types_of_public_attributes_are_exported() -> None:
    from hubengage.testing import MockTransport, json_response

    transport = MockTransport(lambda request: json_response(200, {}))
    async with hubengage.HubSpot(transport=transport) as hs:
        returned = {
            "state": hs.state, "stats": hs.stats, "limiter": hs.limiter,
            "batcher": hs.batcher, "executor": hs.executor, "emails": hs.emails,
            "contacts": hs.contacts, "objects": hs.objects("p_cars"),
            "with_options": hs.with_options(timeout=5), "options": hs.options,
        }
        for attribute, value in returned.items():
            exported = [getattr(hubengage, name) for name in hubengage.__all__]
            classes = [t for t in exported
                       if isinstance(t, type) and not getattr(t, "_is_protocol", False)
                       and not is_typeddict(t)]
            assert any(isinstance(value, t) for t in classes), (
                f"hs.{attribute} returns a {type(value).__name__}, which is not exported")


def test_the_testing_module_is_documented_and_public() -> None:
    import hubengage.testing as testing

    assert inspect.getdoc(testing)
    for name in testing.__all__:
        assert inspect.getdoc(getattr(testing, name)) or name == "Handler"
