"""A faithful local HubSpot for tests, benchmarks and the CLI's ``--sandbox`` mode.

``async with Emulator(EmulatorConfig(burst_limit=20, burst_interval=0.2)) as emu:`` serves
HubSpot's CRM v3 object endpoints on a loopback port (``emu.url``) with its rate limits,
multi-status batches, error bodies and injectable faults (see ``hubspot-wire.md`` §8).
``python -m hubengage.emulator`` runs it from the command line; the pytest plugin gives the
``hubspot_emulator`` fixture.
"""

from ._config import FAULT_KINDS, EmulatorConfig, Fault, parse_fault, parse_rate
from ._server import Emulator

__all__ = ["FAULT_KINDS", "Emulator", "EmulatorConfig", "Fault", "parse_fault", "parse_rate"]
