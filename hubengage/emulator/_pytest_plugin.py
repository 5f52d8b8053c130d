"""pytest plugin: the ``hubspot_emulator`` fixture (filled in by the emulator work)."""
