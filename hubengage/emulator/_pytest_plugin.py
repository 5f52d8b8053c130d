"""pytest plugin (entry point ``pytest11``): the ``hubspot_emulator`` fixture.

::

    async def test_logs_an_email(hubspot_emulator):
        async with HubSpot(access_token="test", base_url=hubspot_emulator.url) as hs:
            ...

    @pytest.mark.hubspot_emulator(burst_limit=20, burst_interval=0.2)
    async def test_under_a_tight_limit(hubspot_emulator): ...

    @pytest.mark.hubspot_emulator(seed_records=True)
    async def test_logs_an_email_on_contact_601(hubspot_emulator): ...

The marker's keyword arguments are :class:`~hubengage.emulator.EmulatorConfig` fields; without a
``seed`` the fixture seeds the emulator's random source from the test's id, so shuffling and
faults repeat. The emulator starts empty; ``seed_records=True`` (or ``seed_contacts=N``)
creates the sandbox records first (:data:`~hubengage.emulator.SANDBOX_SEED`: contacts
601–630, companies 901–910, deals 1201–1205, tickets 1501–1505), as the standalone emulator
does by default.
The fixture is async: it needs an asyncio pytest plugin (pytest-asyncio in auto mode).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ._server import Emulator


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``hubspot_emulator`` marker."""
    config.addinivalue_line(
        "markers",
        "hubspot_emulator(**config): EmulatorConfig fields for the hubspot_emulator fixture",
    )


try:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def hubspot_emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
        """A running emulator (config from the ``hubspot_emulator`` marker), fresh per test."""
        marker = request.node.get_closest_marker("hubspot_emulator")
        kwargs: dict[str, Any] = dict(marker.kwargs) if marker else {}
        # Reproducible shuffling and faults: a seed of the test's own unless one is given.
        kwargs.setdefault("seed", zlib.crc32(request.node.nodeid.encode()))
        async with Emulator(**kwargs) as emu:
            yield emu

except ImportError:  # pragma: no cover - pytest-asyncio is not installed
    pass
