"""Conformance of the emulator (and, later, the SDK's request bodies) to HubSpot's OpenAPI specs.

The specs in ``specs/`` are verbatim copies of HubSpot's public OpenAPI 3.0 documents (see
``_spec.SPEC_FILES``); the tests never read anything outside the repository.
"""
