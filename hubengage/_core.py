"""What a resource needs from its client: a pipeline to send through, a batcher, a state check.

A Protocol, so resources and the batcher do not import the client class (no cycles), and
tests can drive a resource with any object that has these three members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ._limiter import Bucket
from ._transport import Request, Response

if TYPE_CHECKING:
    from ._batcher import Batcher

__all__ = ["ClientCore"]


class ClientCore(Protocol):
    """The client as its resources see it."""

    @property
    def batcher(self) -> Batcher | None:
        """The batcher, or None when the client was made with ``batching=False``."""
        ...

    def check_open(self) -> None:
        """Raise ``ClientClosedError`` when the client no longer accepts calls."""
        ...

    async def send(self, request: Request, *, bucket: Bucket = Bucket.BURST) -> Response:
        """Send one request through the pipeline (limiter, transport, retry)."""
        ...
