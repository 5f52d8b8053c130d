"""hubengage: an asyncio SDK for HubSpot's CRM object APIs, engagements first."""

from __future__ import annotations

__all__: list[str] = []
__version__ = "0.1.0"
