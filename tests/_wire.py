"""Raw HTTP against the emulator for tests that check the wire itself (not the SDK)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import attrs

TS = "2026-01-15T10:00:00.000Z"


@attrs.frozen
class Exchange:
    """One request and its response."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Wire:
    """A tiny HTTP client that records every exchange (for conformance checks)."""

    def __init__(self, base_url: str, token: str | None = "test-token") -> None:
        self.base_url = base_url
        self.token = token
        self.exchanges: list[Exchange] = []
        self.session = aiohttp.ClientSession()
        self.on_exchange: Callable[[Exchange], None] | None = None

    async def __call__(self, method: str, path: str, body: Any = None,
                       params: dict[str, str] | None = None,
                       token: str | bool | None = True) -> Exchange:
        headers = {}
        use = self.token if token is True else token
        if use:
            headers["Authorization"] = f"Bearer {use}"
        async with self.session.request(method, self.base_url + path, json=body, params=params,
                                        headers=headers) as resp:
            raw = await resp.read()
            ex = Exchange(method, resp.url.path, resp.status,
                          {k.lower(): v for k, v in resp.headers.items()}, raw)
        self.exchanges.append(ex)
        return ex

    async def close(self) -> None:
        await self.session.close()


def email_props(subject: str = "hello", **extra: str) -> dict[str, str]:
    return {"hs_timestamp": TS, "hs_email_direction": "EMAIL", "hs_email_subject": subject,
            **extra}
