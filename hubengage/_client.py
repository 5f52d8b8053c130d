"""The client: ``HubSpot``, an async context manager that owns one pipeline and one executor.

It wires the parts of the data path together (transport → budget → retry → pipeline →
executor, batched or direct, chosen once), exposes a resource per object type, and owns the
lifecycle: OPEN → CLOSING (no new calls; what is queued is sent) → CLOSED (every call raises
``ClientClosedError``).
"""

from __future__ import annotations

import abc
import asyncio
import enum
import hashlib
import os
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Never

import attrs

from ._account import OwnersResource, PropertiesResource
from ._auth import AccessToken, AuthTransport, token_source
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
from ._execution import DirectExecutor, Executor, OnSent
from ._hooks import EventHooks, HookRunner, Tracer
from ._labels import LabelCatalog
from ._limiter import Bucket, RateLimiter, RateLimits
from ._objecttypes import resolve_object_type
from ._pipeline import RequestOptions, RequestPipeline
from ._resources import ObjectResource, RecordResource
from ._retry import RetryConfig, RetryPolicy
from ._stats import ClientStats
from ._transport import AiohttpTransport, Request, Response, Transport
from .models import Call as CallModel
from .models import (
    Communication,
    Email,
    Meeting,
    Note,
    PostalMail,
    PropertyModel,
    Task,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from ._calls import Call
    from .models import CrmObject

__all__ = ["ClientState", "HubSpot", "HubSpotView"]


class ClientState(enum.Enum):
    """Where a client is in its life."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class _Resources(abc.ABC):
    """The resources API, shared by a client and its views (``hs.with_options(...)``).

    Each resource is built on ``self`` as its :class:`~hubengage._core.ClientCore`: a
    client's resources send under the client's options, a view's under the view's.
    """

    @property
    @abc.abstractmethod
    def executor(self) -> Executor:
        """What carries out single-record calls."""

    @property
    @abc.abstractmethod
    def labels(self) -> LabelCatalog:
        """Association labels by name, cached per pair of object types."""

    @abc.abstractmethod
    def check_open(self) -> None:
        """Raise ``ClientClosedError`` when the client no longer accepts calls."""

    @abc.abstractmethod
    async def send(self, request: Request, *, bucket: Bucket = Bucket.BURST) -> Response:
        """Send one raw request through the pipeline (limiter, transport, retry policy)."""

    @property
    @abc.abstractmethod
    def options(self) -> RequestOptions:
        """The per-call options in force (a client's: none set)."""

    @abc.abstractmethod
    def _owner(self) -> HubSpot:
        """The client whose pipeline, budget and batcher carry the calls."""

    def with_options(
        self,
        *,
        timeout: float | None = None,
        retry: RetryConfig | None = None,
        max_attempts: int | None = None,
    ) -> HubSpotView:
        """A view of this client whose calls are sent under other options::

            patient = hs.with_options(timeout=60, retry=RetryConfig(max_attempts=8))
            await patient.emails.create(Email(...))

            await hs.with_options(max_attempts=1).contacts.get(601)   # fail fast

        ``timeout`` bounds each HTTP attempt in seconds (shorter or longer than the
        client's); ``retry`` replaces the retry configuration; ``max_attempts`` sets just
        that field (of ``retry``, or of the configuration in force). Options not given are
        kept: a view of a view adds to its options.

        The view has the same resources (``view.emails.create(...)``, ``view.objects(...)``,
        ``view.send(...)``) and shares everything else with the client: its pipeline, rate
        budget, batcher, connection pool, hooks and stats; it has no ``aclose`` (closing
        belongs to the client, and ends the view's calls with the client's). Views are
        cheap, but each distinct set of options has batch queues of its own for the
        client's life: keep a few fixed views (``quick = hs.with_options(...)``) rather
        than computing a timeout per call.

        **Batching.** Per-call options are part of the batch queue key: calls made under
        different options never share a batch request, so every batch is sent under the
        options of every call in it (the timeout bounds each attempt of the batch, the
        retry configuration its retries and its waits for the budget). Calls under equal
        options, from the client or from any of its views, are batched together as before.
        """
        options = self.options
        if retry is None:
            retry = options.retry
        if max_attempts is not None:
            base = retry or self._owner()._retry_config
            retry = attrs.evolve(base, max_attempts=max_attempts)
        new = RequestOptions(timeout=options.timeout if timeout is None else timeout,
                             retry=retry)
        return HubSpotView(self._owner(), new)

    # -- resources ------------------------------------------------------------------------

    def properties(self, object_type: str) -> PropertiesResource:
        """The property definitions of an object type, by name or type id: list, get,
        create (``hs.properties("emails").create(...)``)."""
        return PropertiesResource(self, object_type)

    @cached_property
    def owners(self) -> OwnersResource:
        """The account's owners: who ``hubspot_owner_id`` can name."""
        return OwnersResource(self)

    def objects(self, object_type: str) -> ObjectResource[PropertyModel]:
        """The resource for any object type, by name (``"deals"``) or type id (``"0-3"``)."""
        if not isinstance(object_type, str) or not object_type.strip():
            raise InvalidInputError(
                f"must be an object type name or id, not {object_type!r}", field="object_type"
            )
        known = resolve_object_type(object_type)
        if known is not None and known.name in ("contacts", "companies", "deals", "tickets"):
            return RecordResource[PropertyModel](self, object_type)
        return ObjectResource[PropertyModel](self, object_type)

    @cached_property
    def emails(self) -> ObjectResource[Email]:
        """Email engagements (``0-49``)."""
        return ObjectResource[Email](self, "emails")

    @cached_property
    def postal_mail(self) -> ObjectResource[PostalMail]:
        """Postal mail engagements (``0-116``)."""
        return ObjectResource[PostalMail](self, "postal_mail")

    @cached_property
    def communications(self) -> ObjectResource[Communication]:
        """Communications: WhatsApp, LinkedIn and SMS messages (``0-18``)."""
        return ObjectResource[Communication](self, "communications")

    @cached_property
    def calls(self) -> ObjectResource[CallModel]:
        """Call engagements (``0-48``)."""
        return ObjectResource[CallModel](self, "calls")

    @cached_property
    def meetings(self) -> ObjectResource[Meeting]:
        """Meeting engagements (``0-47``)."""
        return ObjectResource[Meeting](self, "meetings")

    @cached_property
    def notes(self) -> ObjectResource[Note]:
        """Note engagements (``0-46``)."""
        return ObjectResource[Note](self, "notes")

    @cached_property
    def tasks(self) -> ObjectResource[Task]:
        """Task engagements (``0-27``)."""
        return ObjectResource[Task](self, "tasks")

    @cached_property
    def contacts(self) -> RecordResource[Never]:
        """Contacts (``0-1``)."""
        return RecordResource[Never](self, "contacts")

    @cached_property
    def companies(self) -> RecordResource[Never]:
        """Companies (``0-2``)."""
        return RecordResource[Never](self, "companies")

    @cached_property
    def deals(self) -> RecordResource[Never]:
        """Deals (``0-3``)."""
        return RecordResource[Never](self, "deals")

    @cached_property
    def tickets(self) -> RecordResource[Never]:
        """Tickets (``0-5``)."""
        return RecordResource[Never](self, "tickets")


class HubSpot(_Resources):
    """An asyncio client for HubSpot's CRM object APIs.

    ::

        async with HubSpot(access_token=token) as hs:
            rec = await hs.emails.create(Email(...), associations=[Association.contact(601)])

    ``access_token`` is a private app's token (a string), a callable or async callable
    returning the current token (called before every request, so a web app can rotate
    tokens under one client), or :class:`~hubengage.OAuth` for a public app's expiring
    tokens, refreshed before they expire and once more when HubSpot answers a request with
    an expired-token 401 (that request is then sent again: nothing is lost or sent twice). A
    callable is called again after such a 401 and the request resent once if its answer
    changed. It defaults to the ``HUBSPOT_ACCESS_TOKEN`` environment variable, and
    ``base_url`` to ``HUBSPOT_BASE_URL``, else ``https://api.hubapi.com``. One client per
    HubSpot account: each has its own rate budget (HubSpot's limits are per app and
    account). A custom ``transport`` receives each request with its token in
    ``request.token``.
    ``rate_limits`` and ``retry`` tune the limiter and the retry policy; ``timeout`` bounds
    each HTTP request in seconds. ``batching=False`` sends every write and read on the
    single-record endpoints. ``max_in_flight`` caps concurrent batch requests and
    ``max_pending`` caps calls accepted but not yet completed (further calls wait for room).
    ``transport`` replaces the aiohttp transport (tests, proxies); ``clock`` replaces the
    event loop's clock (tests).

    ``rate_limit_store="redis://host:6379/0"`` (or the ``HUBENGAGE_RATE_LIMIT_STORE``
    environment variable) keeps the rate budget in Redis, shared by every process and
    machine on the token (``pip install 'hubengage[redis]'``); its keys are named after
    ``rate_limit_key``, by default a hash of the token (``OAuth`` and a callable need
    ``rate_limit_key``, e.g. the portal id: their tokens change). If Redis cannot be reached, calls
    fail with ``BudgetStoreError`` (nothing sent), or with ``rate_limit_fallback=True`` the
    client warns and keeps a budget of its own.

    ``event_hooks={"request": [...], "response": [...], "retry": [...]}`` calls functions of
    yours (sync or async) for every HTTP attempt (see :class:`~hubengage.RetryEvent`; a hook
    that raises is logged and ignored). ``tracer_provider=`` / ``meter_provider=`` (or
    ``instrument=True`` for OpenTelemetry's global providers) trace every HTTP request as a
    span and count requests, 429s and retries (``pip install 'hubengage[otel]'``).
    ``hs.with_options(timeout=..., retry=...)`` gives a view whose calls are sent under
    other options, on this client's budget, batcher and connections.
    """

    def __init__(
        self,
        access_token: AccessToken | None = None,
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
        event_hooks: EventHooks | None = None,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        instrument: bool = False,
    ) -> None:
        if base_url is None:
            base_url = os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL
        token = access_token if access_token is not None else os.environ.get(TOKEN_ENV_VAR)
        source = token_source(token) if token is not None and token != "" else None
        if transport is None:
            if source is None:
                raise InvalidInputError(
                    f"no access token: pass access_token=... or set {TOKEN_ENV_VAR}",
                    field="access_token",
                )
            transport = AiohttpTransport(base_url=base_url, timeout=timeout)
        if source is not None:
            # Below the pipeline: stamps each request with the current token and completes
            # an expired-token 401 (refresh, send again once) as one send (see ``_auth``).
            transport = AuthTransport(transport, source)
        self._clock: Clock = clock or LoopClock()
        #: Counters of requests, 429s, retries, batches and item outcomes.
        self.stats = ClientStats()
        self._transport = transport
        retry = retry or RetryConfig()
        self._retry_config = retry
        store = _budget_store(
            rate_limit_store or os.environ.get(RATE_LIMIT_STORE_ENV_VAR), rate_limit_key,
            source.budget_identity if source is not None else None, self._clock,
            fallback=rate_limit_fallback,
        )
        self._limiter = RateLimiter(rate_limits or RateLimits(), clock=self._clock,
                                    max_pause=retry.max_retry_after, store=store)
        self._pipeline = RequestPipeline(
            transport=transport,
            limiter=self._limiter,
            retry=RetryPolicy(retry),
            clock=self._clock,
            stats=self.stats,
            hooks=HookRunner(event_hooks),
            tracer=_tracer(base_url, tracer_provider, meter_provider, instrument=instrument),
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

    @property
    def options(self) -> RequestOptions:
        """The client's own calls set no per-call options (see :meth:`with_options`)."""
        return _NO_OPTIONS

    def _owner(self) -> HubSpot:
        return self

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

_NO_OPTIONS = RequestOptions()


class HubSpotView(_Resources):
    """A view of a :class:`HubSpot` client with per-call options (``hs.with_options(...)``).

    The same resources as the client, sent under :attr:`options` through the client's
    pipeline, rate budget, batcher and connections. A view has no lifecycle of its own: it
    works while its client is open and raises ``ClientClosedError`` after, like the client.
    """

    def __init__(self, client: HubSpot, options: RequestOptions) -> None:
        self._client = client
        self._options = options
        #: What the view stamps on its calls and requests: None when its options are the
        #: client's (nothing set), so that they share the client's batch queues.
        self._stamp: RequestOptions | None = None if options == _NO_OPTIONS else options
        self._executor = _OptionsExecutor(client.executor, self._stamp)

    def __repr__(self) -> str:
        return f"HubSpotView({self._client!r}, {self._options!r})"

    @property
    def client(self) -> HubSpot:
        """The client this is a view of (it owns the lifecycle: ``aclose``)."""
        return self._client

    @property
    def options(self) -> RequestOptions:
        """The per-call options this view's calls are sent under."""
        return self._options

    def _owner(self) -> HubSpot:
        return self._client

    @property
    def executor(self) -> Executor:
        """The client's executor, with this view's options on every call it is given."""
        return self._executor

    @property
    def labels(self) -> LabelCatalog:
        """The client's association labels (one cache for the client and its views)."""
        return self._client.labels

    def check_open(self) -> None:
        """As the client's :meth:`HubSpot.check_open`."""
        self._client.check_open()

    async def send(self, request: Request, *, bucket: Bucket = Bucket.BURST) -> Response:
        """Send one raw request through the client's pipeline, under this view's options."""
        self._client.check_open()
        return await self._client._pipeline.send(request, bucket=bucket, options=self._stamp)

    async def flush(self) -> None:
        """Wait until every call queued so far on the client has completed."""
        await self._client.flush()


class _OptionsExecutor:
    """An executor that hands every call on with a view's options (calls are values: each
    is copied with its options set). Closing is the client's: :meth:`aclose` only waits."""

    __slots__ = ("_inner", "_options")

    def __init__(self, inner: Executor, options: RequestOptions | None) -> None:
        self._inner = inner
        self._options = options

    @property
    def pending(self) -> int:
        """The client's executor's pending calls (a view has none of its own)."""
        return self._inner.pending

    async def run(self, call: Call) -> CrmObject | None:
        """Carry out ``call`` under the view's options."""
        return await self._inner.run(call.with_options(self._options))

    async def submit(self, call: Call, on_sent: OnSent | None = None) -> asyncio.Future[Any]:
        """Accept ``call`` under the view's options."""
        return await self._inner.submit(call.with_options(self._options), on_sent)

    async def flush(self) -> None:
        """Wait for every call accepted so far (the client's)."""
        await self._inner.flush()

    async def aclose(self) -> None:
        """Closing belongs to the client: this only waits as :meth:`flush` does."""
        await self._inner.flush()


def _tracer(
    base_url: str,
    tracer_provider: TracerProvider | None,
    meter_provider: MeterProvider | None,
    *,
    instrument: bool,
) -> Tracer | None:
    """The OpenTelemetry integration, when asked for (imports OpenTelemetry only then)."""
    if not instrument and tracer_provider is None and meter_provider is None:
        return None
    from ._otel import OtelTracer

    return OtelTracer(base_url=base_url, tracer_provider=tracer_provider,
                      meter_provider=meter_provider)


def _budget_store(
    url: str | None, key: str | None, token: str | None, clock: Clock, *, fallback: bool
) -> BudgetStore | None:
    """The store for ``rate_limit_store`` (None: this process's own budget)."""
    if not url:
        return None
    if key is None:
        if not token:
            raise InvalidInputError(
                "a shared rate budget needs rate_limit_key= (e.g. the account's portal id) "
                "unless access_token is a fixed string: the key of a token that changes "
                "(a callable, OAuth) would change with it", field="rate_limit_key")
        key = budget_key(token)
    from ._budget_redis import RedisStore

    return RedisStore(url, key=key, clock=clock, fallback=fallback)


def budget_key(token: str) -> str:
    """The Redis key prefix of a token's shared budget: a hash of the token, never the token."""
    return "hubengage:" + hashlib.sha256(token.encode()).hexdigest()[:24]
