"""HubSpot's limits and caps, and the client's defaults: each named once, here.

Both the SDK and the emulator read HubSpot's numbers from this module, so a cap the client
keeps to is the cap the emulator enforces. Sources are in ``docs/hubspot-wire.md``.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_RETRY_AFTER"]

#: The longest a ``Retry-After`` header or a rate-limit pause is obeyed, in seconds. A proxy
#: answering ``Retry-After: 100000`` must not stop the client for a day (HubSpot's own 477
#: may say "up to 24 hours"; the retry deadline then decides).
DEFAULT_MAX_RETRY_AFTER = 60.0
