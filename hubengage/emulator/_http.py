"""What every endpoint of the emulator reads from a request and writes into a page alike.

The query's ``archived`` flag as HubSpot reads it, and a list page's ``paging.next`` (an
``after`` cursor and the link to the next page, with the request's other query parameters).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

__all__ = ["archived_query", "with_next_page"]


def archived_query(request: web.Request) -> bool:
    """The ``archived`` query parameter: ``true`` in any case (HubSpot's Python SDK sends
    ``True``; §9, I-PY64); anything else, or none, is false."""
    return request.query.get("archived", "").strip().lower() == "true"


def with_next_page(request: web.Request, body: dict[str, Any],
                   after: str | None) -> dict[str, Any]:
    """``body`` with ``paging.next`` (``after`` and the next page's link) unless it is the
    last page (``after`` None)."""
    if after is not None:
        query = [(k, v) for k, v in request.query.items() if k != "after"]
        query.append(("after", after))
        link = f"{request.scheme}://{request.host}{request.path}?{urlencode(query)}"
        body["paging"] = {"next": {"after": after, "link": link}}
    return body
