"""A faithful local HubSpot for tests, benchmarks and the CLI's ``--sandbox`` mode.

``async with Emulator(EmulatorConfig(burst_limit=20, burst_interval=0.2)) as emu:`` serves
HubSpot's CRM v3 object endpoints on a loopback port (``emu.url``) with its rate limits,
multi-status batches, error bodies and injectable faults (see ``docs/hubspot-wire.md`` §8).
It is at least as hard on a client as HubSpot's documentation allows: results come back
shuffled, values are checked and echoed in HubSpot's normal form (``normalize_values``;
``rich_text_html`` for engagement bodies), and besides failed requests (429, HTML 5xx,
dropped connections, commits answered by a failure) it can corrupt successful batch
responses after storing their writes (:data:`RESPONSE_FAULT_KINDS`: garbled bodies,
duplicated, missing, mislabelled or extra results).
``latency`` adds server time to every request after it is counted (so a batch's
``startedAt``/``completedAt`` bound its arrival), ``clock_skew`` moves the emulator's wall
clock, and ``Emulator.arrivals`` (``GET /__emulator__/arrivals``) records when each request
was counted against its token's window; :func:`max_in_window` and :func:`window_counts`
count such times in a sliding window.
Besides the v3 object endpoints it serves the properties API (HubSpot's standard properties,
custom ones created through it or declared with ``EmulatorConfig(properties=...)``, which
then drive validation) and the owners API (``owners``). ``EmulatorConfig(seed_records=True)``
starts it with the sandbox records of :data:`SANDBOX_SEED` (contact 601, …).
``python -m hubengage.emulator`` runs it from the command line, seeded unless ``--no-seed``;
the pytest plugin gives the ``hubspot_emulator`` fixture (empty unless its marker asks
``seed_records=True``).
"""

from ._config import (
    FAULT_KINDS,
    REQUEST_FAULT_KINDS,
    RESPONSE_FAULT_KINDS,
    EmulatorConfig,
    Fault,
    parse_fault,
    parse_rate,
)
from ._owners import DEFAULT_OWNERS, Owner
from ._properties import PropertySpec
from ._seed import SANDBOX_SEED
from ._server import Emulator
from ._window import max_in_window, window_counts

__all__ = [
    "DEFAULT_OWNERS",
    "FAULT_KINDS",
    "REQUEST_FAULT_KINDS",
    "RESPONSE_FAULT_KINDS",
    "SANDBOX_SEED",
    "Emulator",
    "EmulatorConfig",
    "Fault",
    "Owner",
    "PropertySpec",
    "max_in_window",
    "parse_fault",
    "parse_rate",
    "window_counts",
]
