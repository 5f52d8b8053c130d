"""A faithful local HubSpot for tests, benchmarks and the CLI's ``--sandbox`` mode."""
