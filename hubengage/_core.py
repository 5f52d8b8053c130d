"""What a resource needs from its client: an executor, a pipeline to send through, a check.

A Protocol, so resources do not import the client class (no cycles), and tests can drive a
resource with any object that has these members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ._limiter import Bucket
from ._transport import Request, Response

if TYPE_CHECKING:
    from ._execution import Executor
    from ._labels import LabelCatalog

__all__ = ["ClientCore"]


class ClientCore(Protocol):
    """The client as its resources see it."""

    @property
    def executor(self) -> Executor:
        """Carries out single-record calls: the batcher, or the direct executor."""
        ...

    @property
    def labels(self) -> LabelCatalog:
        """Association labels by name, cached per pair of object types."""
        ...

    def check_open(self) -> None:
        """Raise ``ClientClosedError`` when the client no longer accepts calls."""
        ...

    async def send(self, request: Request, *, bucket: Bucket = Bucket.BURST) -> Response:
        """Send one request through the pipeline (budget, transport, retry)."""
        ...
