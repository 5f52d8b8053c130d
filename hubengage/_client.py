"""The client: ``HubSpot``, an async context manager that owns one pipeline and one executor.

It wires the parts of the data path together (transport → budget → retry → pipeline →
executor, batched or direct, chosen once), exposes a resource per object type, and owns the
lifecycle: OPEN → CLOSING (no new calls; what is queued is sent) → CLOSED (every call raises
``ClientClosedError``).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import os
from functools import cached_property
from types import TracebackType

from ._account import OwnersResource, PropertiesResource
from ._batching import Batcher
from ._budget import BudgetStore
from ._clock import Clock, LoopClock
from ._constants import (
    BASE_URL_ENV_VAR,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_PENDING,
    DEFAULT_TIMEOUT,
    RATE_LIMIT_STORE_ENV_VAR,
    TOKEN_ENV_VAR,
)
from ._errors import ClientClosedError, EventLoopError, InvalidInputError
from ._execution import DirectExecutor, Executor
from ._labels import LabelCatalog
from ._limiter import Bucket, RateLimiter, RateLimits
from ._objecttypes import resolve_object_type
from ._pipeline import RequestPipeline
from ._resources import ObjectResource, RecordResource
from ._retry import RetryConfig, RetryPolicy
from ._stats import ClientStats
from ._transport import AiohttpTransport, Request, Response, Transport

__all__ = ["ClientState", "HubSpot"]


class ClientState(enum.Enum):
    """Where a client is in its life."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class HubSpot:
    """An asyncio client for HubSpot's CRM object APIs.

    ::

        async with HubSpot(access_token=token) as hs:
            rec = await hs.emails.create(Email(...), associations=[Association.contact(601)])

    ``access_token`` defaults to the ``HUBSPOT_ACCESS_TOKEN`` environment variable and
    ``base_url`` to ``HUBSPOT_BASE_URL``, else ``https://api.hubapi.com``.
    ``rate_limits`` and ``retry`` tune the limiter and the retry policy; ``timeout`` bounds
    each HTTP request in seconds. ``batching=False`` sends every write and read on the
    single-record endpoints. ``max_in_flight`` caps concurrent batch requests and
    ``max_pending`` caps calls accepted but not yet completed (further calls wait for room).
    ``transport`` replaces the aiohttp transport (tests, proxies); ``clock`` replaces the
    event loop's clock (tests).

    ``rate_limit_store="redis://host:6379/0"`` (or the ``HUBENGAGE_RATE_LIMIT_STORE``
    environment variable) keeps the rate budget in Redis, shared by every process and
    machine on the token (``pip install 'hubengage[redis]'``); its keys are named after
    ``rate_limit_key``, by default a hash of the token. If Redis cannot be reached, calls
    fail with ``BudgetStoreError`` (nothing sent), or with ``rate_limit_fallback=True`` the
    client warns and keeps a budget of its own.
    """

    def __init__(
        self,
        access_token: str | None = None,
        *,
        base_url: str | None = None,
        rate_limits: RateLimits | None = None,
        retry: RetryConfig | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        batching: bool = True,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_pending: int = DEFAULT_MAX_PENDING,
        transport: Transport | None = None,
        clock: Clock | None = None,
        rate_limit_store: str | None = None,
        rate_limit_key: str | None = None,
        rate_limit_fallback: bool = False,
    ) -> None:
        if base_url is None:
            base_url = os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL
        token = access_token if access_token is not None else os.environ.get(TOKEN_ENV_VAR)
        if transport is None:
            if not token:
                raise InvalidInputError(
                    f"no access token: pass access_token=... or set {TOKEN_ENV_VAR}",
                    field="access_token",
                )
            transport = AiohttpTransport(base_url=base_url, access_token=token, timeout=timeout)
        self._clock: Clock = clock or LoopClock()
        #: Counters of requests, 429s, retries, batches and item outcomes.
        self.stats = ClientStats()
        self._transport = transport
        retry = retry or RetryConfig()
        store = _budget_store(
            rate_limit_store or os.environ.get(RATE_LIMIT_STORE_ENV_VAR), rate_limit_key,
            token, self._clock, fallback=rate_limit_fallback,
        )
        self._limiter = RateLimiter(rate_limits or RateLimits(), clock=self._clock,
                                    max_pause=retry.max_retry_after, store=store)
        self._pipeline = RequestPipeline(
            transport=transport,
            limiter=self._limiter,
            retry=RetryPolicy(retry),
            clock=self._clock,
            stats=self.stats,
        )
        direct = DirectExecutor(self._pipeline)
        self._batcher: Batcher | None = (
            Batcher(self._pipeline, stats=self.stats, direct=direct,
                    max_in_flight=max_in_flight, max_pending=max_pending)
            if batching
            else None
        )
        self._executor: Executor = self._batcher if self._batcher is not None else direct
        self._state = ClientState.OPEN
        self._base_url = base_url
        self._labels = LabelCatalog(self.send)
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"HubSpot(base_url={self._base_url!r}, state={self._state.value})"

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        """OPEN, CLOSING or CLOSED."""
        return self._state

    @property
    def limiter(self) -> RateLimiter:
        """The rate limiter (its ``snapshot()`` shows the budget in force)."""
        return self._limiter

    @property
    def batcher(self) -> Batcher | None:
        """The batcher, or None with ``batching=False``."""
        return self._batcher

    @property
    def executor(self) -> Executor:
        """What carries out single-record calls: the batcher, or the direct executor."""
        return self._executor

    @property
    def labels(self) -> LabelCatalog:
        """Association labels by name (``Association.contact(601, label=...)``), looked up
        once per pair of object types and cached."""
        return self._labels

    def check_open(self) -> None:
        """Raise ``ClientClosedError`` once ``aclose()`` has begun, and ``EventLoopError``
        when called from another event loop than the one the client first ran in."""
        if self._state is not ClientState.OPEN:
            raise ClientClosedError(f"the client is {self._state.value}; make a new one")
        self._check_loop()

    def _check_loop(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # synchronous use (building resources): nothing bound yet
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise EventLoopError(
                "this HubSpot client was first used in another event loop and is bound to it "
                "(its connections and timers live there); make one client per event loop"
            )

    async def send(self, request: Request, *, bucket: Bucket = Bucket.BURST) -> Response:
        """Send one raw request through the pipeline (limiter, transport, retry policy)."""
        self.check_open()
        return await self._pipeline.send(request, bucket=bucket)

    async def flush(self) -> None:
        """Wait until every call queued so far has completed (success or error)."""
        await self._executor.flush()

    async def aclose(self) -> None:
        """Send everything queued, wait for every call in flight, then close. Idempotent.

        New calls raise ``ClientClosedError`` from the moment closing begins. Calls already
        made (batched or not, a page of a list or search included) complete, except that
        closing waits out no retry backoff and no rate-limit pause after a 429: a call that
        would have to wait for one ends with its last error, or ``ClientClosedError`` when
        it was never sent.
        """
        if self._state is ClientState.CLOSED:
            return
        if self._state is ClientState.OPEN:
            self._check_loop()
        self._state = ClientState.CLOSING
        try:
            self._pipeline.begin_close()
            await self._executor.aclose()
            await self._pipeline.wait_idle()
        finally:
            await self._limiter.aclose()
            await self._transport.aclose()
            self._state = ClientState.CLOSED

    async def __aenter__(self) -> HubSpot:
        self.check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- resources ------------------------------------------------------------------------

    def properties(self, object_type: str) -> PropertiesResource:
        """The property definitions of an object type, by name or type id: list, get,
        create (``hs.properties("emails").create(...)``)."""
        return PropertiesResource(self, object_type)

    @cached_property
    def owners(self) -> OwnersResource:
        """The account's owners: who ``hubspot_owner_id`` can name."""
        return OwnersResource(self)

    def objects(self, object_type: str) -> ObjectResource:
        """The resource for any object type, by name (``"deals"``) or type id (``"0-3"``)."""
        if not isinstance(object_type, str) or not object_type.strip():
            raise InvalidInputError(
                f"must be an object type name or id, not {object_type!r}", field="object_type"
            )
        known = resolve_object_type(object_type)
        if known is not None and known.name in ("contacts", "companies", "deals", "tickets"):
            return RecordResource(self, object_type)
        return ObjectResource(self, object_type)

    @cached_property
    def emails(self) -> ObjectResource:
        """Email engagements (``0-49``)."""
        return ObjectResource(self, "emails")

    @cached_property
    def postal_mail(self) -> ObjectResource:
        """Postal mail engagements (``0-116``)."""
        return ObjectResource(self, "postal_mail")

    @cached_property
    def communications(self) -> ObjectResource:
        """Communications: WhatsApp, LinkedIn and SMS messages (``0-18``)."""
        return ObjectResource(self, "communications")

    @cached_property
    def calls(self) -> ObjectResource:
        """Call engagements (``0-48``)."""
        return ObjectResource(self, "calls")

    @cached_property
    def meetings(self) -> ObjectResource:
        """Meeting engagements (``0-47``)."""
        return ObjectResource(self, "meetings")

    @cached_property
    def notes(self) -> ObjectResource:
        """Note engagements (``0-46``)."""
        return ObjectResource(self, "notes")

    @cached_property
    def tasks(self) -> ObjectResource:
        """Task engagements (``0-27``)."""
        return ObjectResource(self, "tasks")

    @cached_property
    def contacts(self) -> RecordResource:
        """Contacts (``0-1``)."""
        return RecordResource(self, "contacts")

    @cached_property
    def companies(self) -> RecordResource:
        """Companies (``0-2``)."""
        return RecordResource(self, "companies")

    @cached_property
    def deals(self) -> RecordResource:
        """Deals (``0-3``)."""
        return RecordResource(self, "deals")

    @cached_property
    def tickets(self) -> RecordResource:
        """Tickets (``0-5``)."""
        return RecordResource(self, "tickets")


def _budget_store(
    url: str | None, key: str | None, token: str | None, clock: Clock, *, fallback: bool
) -> BudgetStore | None:
    """The store for ``rate_limit_store`` (None: this process's own budget)."""
    if not url:
        return None
    if key is None:
        if not token:
            raise InvalidInputError(
                "a shared rate budget needs rate_limit_key= when no access token is known "
                "(the key is derived from a hash of the token)", field="rate_limit_key")
        key = budget_key(token)
    from ._budget_redis import RedisStore

    return RedisStore(url, key=key, clock=clock, fallback=fallback)


def budget_key(token: str) -> str:
    """The Redis key prefix of a token's shared budget: a hash of the token, never the token."""
    return "hubengage:" + hashlib.sha256(token.encode()).hexdigest()[:24]
