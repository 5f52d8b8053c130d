"""A synchronous facade for scripts, cron jobs and notebooks: ``hubengage.sync.HubSpot``.

::

    from hubengage import Email, EmailDirection
    from hubengage.sync import HubSpot

    with HubSpot() as hs:                          # token from HUBSPOT_ACCESS_TOKEN
        rec = hs.emails.create(Email(timestamp=..., direction=EmailDirection.EMAIL,
                                     subject="Hello"))
        for contact in hs.contacts.list(properties=["email"]):
            ...
        for outcome in hs.emails.create_many(rows):
            ...

It is the async :class:`hubengage.HubSpot` underneath, run on an event loop of its own in a
background thread: the same resources with the same arguments, the same batching, rate
budget, retries and errors (``NotFoundError``, ``ValidationError``, ... are raised as they
are). Each call blocks until its answer is in and returns it; ``list``, ``search`` and the
``*_many`` bulk methods return iterators (of records, of :class:`~hubengage.Outcome`) that
fetch as they are read.

Because its loop is its own, it also works where an event loop is already running in the
calling thread (a Jupyter notebook): that loop is simply not used. Blocking calls made one
after another send one request each; for throughput, use the ``*_many`` methods, which
batch 100 inputs per request (or the async client, from async code).

A ``*_many`` run's ``stop=`` is a :class:`threading.Event` here (set it from any thread: the
calling one between outcomes, a signal handler, another thread); an :class:`asyncio.Event`
is accepted too, as a plain flag: the facade only reads it, never awaits it.

Close it (``close()`` or a ``with`` block): what is queued is sent and the thread ends.
A client never closed is closed when it is garbage collected (or its resources and the
iterators they returned are, as they keep it open) or the interpreter exits.
Event hooks run in the background thread. A call made from that thread (from a hook, or
from an input iterable a ``*_many`` method is reading) raises ``RuntimeError``: it would wait
for itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, Never, ParamSpec, TypeVar

from . import _client
from ._account import OwnersResource as AsyncOwnersResource
from ._account import PropertiesResource as AsyncPropertiesResource
from ._auth import AccessToken
from ._bulk import OnProgress, OnSent, Outcome
from ._clock import Clock
from ._constants import (
    DEFAULT_BULK_WINDOW,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_PENDING,
    DEFAULT_TIMEOUT,
)
from ._errors import ClientClosedError, InvalidInputError
from ._hooks import EventHooks
from ._limiter import Bucket, RateLimiter, RateLimits
from ._pipeline import RequestOptions
from ._resources import IdT, Inputs, ModelT, PairT, UpdateT, WriteT
from ._resources import ObjectResource as AsyncObjectResource
from ._resources import RecordResource as AsyncRecordResource
from ._retry import RetryConfig
from ._stats import ClientStats
from ._transport import Request, Response, Transport
from .models import Call as CallModel
from .models import (
    Communication,
    CrmObject,
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

    from ._client import ClientState
    from ._objecttypes import ObjectType

__all__ = [
    "HubSpot",
    "HubSpotView",
    "ObjectResource",
    "OwnersResource",
    "PropertiesResource",
    "RecordResource",
]

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")

#: What a sync ``*_many`` accepts as ``stop``: set from any thread.
Stop = threading.Event | asyncio.Event
#: How often the facade's loop looks at a ``stop`` event while the caller waits for an outcome.
_STOP_POLL_SECONDS = 0.02
#: The longest ``close()`` waits for the loop's leftovers to finish after ``aclose``.
_WIND_DOWN_SECONDS = 5.0


class _Portal:
    """An event loop of its own in a daemon thread, and the way into it from other threads."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="hubengage-sync", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    @property
    def closed(self) -> bool:
        return self._closed

    def run(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Run ``factory()`` (called in the loop's thread) there, and wait for its result."""
        if threading.current_thread() is self._thread:
            raise RuntimeError(
                "a hubengage.sync client was called from its own event loop's thread (from an "
                "event hook, or an input iterable a *_many method reads): it would wait for "
                "itself; use the async client there")
        if self._closed:
            raise ClientClosedError("the client is closed; make a new one")

        async def call() -> T:
            return await factory()

        future = asyncio.run_coroutine_threadsafe(call(), self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # interrupted while waiting (Ctrl-C): stop the call too
            raise

    def iterate(
        self, factory: Callable[[], AsyncIterator[T]], owner: object = None
    ) -> Iterator[T]:
        """The items of the async iterator ``factory()`` (made and read in the loop's
        thread), one by one; closed in the loop when the caller stops early. ``owner`` (the
        sync client) is held until the iterator is done with, so it is not closed under it."""
        source: AsyncIterator[T] = self.run(_async_value(factory))
        done = False

        async def step() -> tuple[bool, T | None]:
            try:
                return True, await anext(source)
            except StopAsyncIteration:
                return False, None

        try:
            while True:
                more, item = self.run(step)
                if not more:
                    done = True
                    return
                yield item  # type: ignore[misc]  # T, when more is True
        finally:
            aclose = getattr(source, "aclose", None)
            if not done and aclose is not None and not self._closed:
                if threading.current_thread() is self._thread:  # collected on the loop
                    self._loop.create_task(aclose())
                else:
                    self.run(aclose)
            del owner  # kept alive (in this frame) until here

    def close(self, last: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run ``last`` (the client's ``aclose``), then stop the loop and its thread."""
        with self._lock:
            if self._closed:
                return
            if threading.current_thread() is self._thread:  # collected in the loop's thread
                self._closed = True
                self._loop.call_soon(self._loop.stop)
                return
            try:
                if last is not None and self._thread.is_alive():
                    self.run(last)
            finally:
                self._closed = True
                if self._thread.is_alive():
                    wound = asyncio.run_coroutine_threadsafe(_wind_down(), self._loop)
                    try:
                        wound.result(timeout=_WIND_DOWN_SECONDS + 1.0)
                    except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
                        wound.cancel()  # something on the loop never lets go: leave it
                    self._loop.call_soon_threadsafe(self._loop.stop)
                    self._thread.join(timeout=_WIND_DOWN_SECONDS)
                if not self._thread.is_alive():  # else a daemon thread stuck in user code
                    self._loop.close()


def _async_value(factory: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    async def make() -> T:
        return factory()

    return make


async def _wind_down() -> None:
    """Cancel what is left on the loop (nothing, after ``aclose``) and finalise generators,
    waiting at most ``_WIND_DOWN_SECONDS`` for either (a task that ignores its cancellation,
    or was never woken, must not keep ``close()`` waiting forever)."""
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks(loop) if t is not current]
    for task in leftovers:
        task.cancel()
    if leftovers:
        await asyncio.wait(leftovers, timeout=_WIND_DOWN_SECONDS)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(loop.shutdown_asyncgens(), timeout=_WIND_DOWN_SECONDS)


def _check_stop(stop: object) -> Stop | None:
    if stop is None or isinstance(stop, threading.Event | asyncio.Event):
        return stop
    raise InvalidInputError(
        f"must be a threading.Event (or an asyncio.Event), not {type(stop).__name__}",
        field="stop")


def _bridged(
    start: Callable[[asyncio.Event | None], AsyncIterator[T]], stop: Stop | None
) -> Callable[[], AsyncIterator[T]]:
    """A factory (called in the loop's thread) of the bulk run ``start(event)``, where
    ``event`` is an asyncio.Event of the loop set once ``stop`` is. ``stop`` is only read
    (``is_set()``, safe from any thread): before each outcome is fetched (a stop set by the
    caller between outcomes takes effect at once) and every ``_STOP_POLL_SECONDS`` while
    the caller waits (a stop set from another thread or a signal handler)."""
    if stop is None:
        return lambda: start(None)
    flag = stop

    async def run() -> AsyncIterator[T]:
        event = asyncio.Event()

        async def watch() -> None:
            # Polled: ``flag`` is set from other threads, so it cannot be awaited here.
            while not flag.is_set():  # noqa: ASYNC110
                await asyncio.sleep(_STOP_POLL_SECONDS)
            event.set()

        watcher = asyncio.create_task(watch())
        source = start(event)
        try:
            while True:
                if flag.is_set():
                    event.set()
                try:
                    item = await anext(source)
                except StopAsyncIteration:
                    return
                yield item
        finally:
            watcher.cancel()
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()

    return run


class _Wrapper(Generic[R]):
    """A sync object over an async one, calling it through a portal."""

    __slots__ = ("__weakref__", "_inner", "_owner", "_portal")

    def __init__(self, inner: R, portal: _Portal, owner: _Client) -> None:
        self._inner = inner
        self._portal = portal
        self._owner = owner  # the sync client stays open (not collected) while this is used

    def __repr__(self) -> str:
        return f"sync.{self._inner!r}"


def _describe(method: Callable[..., Any], original: Callable[..., Any], doc: str) -> None:
    method.__name__ = original.__name__
    method.__qualname__ = original.__qualname__
    method.__doc__ = f"{original.__doc__ or ''}\n\n{doc}".strip()
    method.__signature__ = inspect.signature(original)  # type: ignore[attr-defined]


def _blocking(
    method: Callable[Concatenate[R, P], Awaitable[T]],
) -> Callable[Concatenate[_Wrapper[R], P], T]:
    """The async ``method`` as a sync one: blocks until it returns, and returns that."""

    def call(self: _Wrapper[R], /, *args: P.args, **kwargs: P.kwargs) -> T:
        inner = self._inner
        return self._portal.run(lambda: method(inner, *args, **kwargs))

    _describe(call, method, "(Synchronous: blocks until done, and returns what the async "
                            "method returns.)")
    return call


def _iterating(
    method: Callable[Concatenate[R, P], AsyncIterator[T]],
) -> Callable[Concatenate[_Wrapper[R], P], Iterator[T]]:
    """The async-iterator ``method`` as a sync one returning an iterator."""

    def call(self: _Wrapper[R], /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        inner = self._inner
        return self._portal.iterate(lambda: method(inner, *args, **kwargs), self._owner)

    _describe(call, method, "(Synchronous: returns an iterator that fetches as it is read.)")
    return call


_SYNC_STOP = """(Synchronous: returns an iterator of outcomes that sends and fetches as it is
read. ``stop`` is a ``threading.Event``, which may be set from any thread: the calling one
between outcomes (the run stops before the next is fetched), a signal handler, another
thread (noticed within a few tens of milliseconds). An ``asyncio.Event`` is accepted as a
plain flag: only its ``is_set()`` is read, it is never awaited, so setting it from this
thread is safe too. Anything else raises ``InvalidInputError`` (field ``stop``).)"""


def _bulk_doc(original: Callable[..., Any]) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """The async bulk method's docstring, with the sync facade's note on ``stop``."""
    def describe(method: Callable[P, T]) -> Callable[P, T]:
        method.__doc__ = f"{original.__doc__ or ''}\n\n{_SYNC_STOP}".strip()
        return method

    return describe


class ObjectResource(_Wrapper[AsyncObjectResource[ModelT]]):
    """Operations on one CRM object type, blocking: :class:`hubengage.ObjectResource`'s
    methods with the same arguments; iterators where it has async iterators."""

    __slots__ = ()

    @property
    def object_type(self) -> str:
        """The name used in paths: the plural name of a known type, else as given."""
        return self._inner.object_type

    @property
    def type_info(self) -> ObjectType | None:
        """The known type's description, or None for custom objects."""
        return self._inner.type_info

    create = _blocking(AsyncObjectResource[ModelT].create)
    get = _blocking(AsyncObjectResource[ModelT].get)
    update = _blocking(AsyncObjectResource[ModelT].update)
    archive = _blocking(AsyncObjectResource[ModelT].archive)
    upsert = _blocking(AsyncObjectResource[ModelT].upsert)

    def _bulk(
        self, start: Callable[[asyncio.Event | None], AsyncIterator[T]], stop: object
    ) -> Iterator[T]:
        """The bulk run ``start(event)`` as an iterator, ``stop`` bridged to ``event``."""
        flag = _check_stop(stop)  # refused here, at the call, not at the first next()
        return self._portal.iterate(_bridged(start, flag), self._owner)

    @_bulk_doc(AsyncObjectResource.create_many)
    def create_many(
        self,
        items: Inputs[WriteT],
        *,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: Stop | None = None,
        on_progress: OnProgress | None = None,
    ) -> Iterator[Outcome[WriteT]]:
        inner = self._inner
        return self._bulk(lambda event: inner.create_many(
            items, ordered=ordered, window=window, on_sent=on_sent, stop=event,
            on_progress=on_progress), stop)

    @_bulk_doc(AsyncObjectResource.upsert_many)
    def upsert_many(
        self,
        items: Inputs[WriteT],
        *,
        id_property: str,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: Stop | None = None,
        on_progress: OnProgress | None = None,
    ) -> Iterator[Outcome[WriteT]]:
        inner = self._inner
        return self._bulk(lambda event: inner.upsert_many(
            items, id_property=id_property, ordered=ordered, window=window, on_sent=on_sent,
            stop=event, on_progress=on_progress), stop)

    @_bulk_doc(AsyncObjectResource.update_many)
    def update_many(
        self,
        items: Inputs[UpdateT],
        *,
        id_property: str | None = None,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: Stop | None = None,
        on_progress: OnProgress | None = None,
    ) -> Iterator[Outcome[UpdateT]]:
        inner = self._inner
        return self._bulk(lambda event: inner.update_many(
            items, id_property=id_property, ordered=ordered, window=window, on_sent=on_sent,
            stop=event, on_progress=on_progress), stop)

    @_bulk_doc(AsyncObjectResource.archive_many)
    def archive_many(
        self,
        ids: Inputs[IdT],
        *,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: Stop | None = None,
        on_progress: OnProgress | None = None,
    ) -> Iterator[Outcome[IdT]]:
        inner = self._inner
        return self._bulk(lambda event: inner.archive_many(
            ids, ordered=ordered, window=window, on_sent=on_sent, stop=event,
            on_progress=on_progress), stop)

    @_bulk_doc(AsyncObjectResource.read_many)
    def read_many(
        self,
        ids: Inputs[IdT],
        *,
        properties: Sequence[str] | None = None,
        archived: bool = False,
        id_property: str | None = None,
        properties_with_history: Sequence[str] | None = None,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        stop: Stop | None = None,
        on_progress: OnProgress | None = None,
    ) -> Iterator[Outcome[IdT]]:
        inner = self._inner
        return self._bulk(lambda event: inner.read_many(
            ids, properties=properties, archived=archived, id_property=id_property,
            properties_with_history=properties_with_history, ordered=ordered, window=window,
            stop=event, on_progress=on_progress), stop)

    list = _iterating(AsyncObjectResource[ModelT].list)
    search = _iterating(AsyncObjectResource[ModelT].search)
    associate = _blocking(AsyncObjectResource[ModelT].associate)
    unassociate = _blocking(AsyncObjectResource[ModelT].unassociate)

    @_bulk_doc(AsyncObjectResource.associate_many)
    def associate_many(
        self,
        pairs: Inputs[PairT],
        *,
        ordered: bool = False,
        window: int = DEFAULT_BULK_WINDOW,
        on_sent: OnSent | None = None,
        stop: Stop | None = None,
        on_progress: OnProgress | None = None,
    ) -> Iterator[Outcome[PairT]]:
        inner = self._inner
        return self._bulk(lambda event: inner.associate_many(
            pairs, ordered=ordered, window=window, on_sent=on_sent, stop=event,
            on_progress=on_progress), stop)

    associations = _blocking(AsyncObjectResource[ModelT].associations)
    associations_many = _blocking(AsyncObjectResource[ModelT].associations_many)
    association_labels = _blocking(AsyncObjectResource[ModelT].association_labels)


class RecordResource(ObjectResource[ModelT]):
    """A CRM record type engagements attach to (contacts, companies, deals, tickets),
    blocking: :class:`hubengage.RecordResource`'s methods."""

    __slots__ = ()

    def _record(self) -> AsyncRecordResource[ModelT]:
        inner = self._inner
        assert isinstance(inner, AsyncRecordResource)
        return inner

    def pin(self, record_id: str | int, engagement_id: str | int) -> CrmObject:
        """Pin an engagement to the top of a record's timeline (see
        :meth:`hubengage.RecordResource.pin`)."""
        inner = self._record()
        return self._portal.run(lambda: inner.pin(record_id, engagement_id))

    def unpin(self, record_id: str | int) -> CrmObject:
        """Clear the pinned engagement of a record."""
        inner = self._record()
        return self._portal.run(lambda: inner.unpin(record_id))


class PropertiesResource(_Wrapper[AsyncPropertiesResource]):
    """The property definitions of one object type, blocking (``hs.properties("emails")``)."""

    __slots__ = ()

    list = _blocking(AsyncPropertiesResource.list)
    get = _blocking(AsyncPropertiesResource.get)
    unique = _blocking(AsyncPropertiesResource.unique)
    create = _blocking(AsyncPropertiesResource.create)
    archive = _blocking(AsyncPropertiesResource.archive)


class OwnersResource(_Wrapper[AsyncOwnersResource]):
    """The account's owners, blocking (``hs.owners``)."""

    __slots__ = ()

    list = _iterating(AsyncOwnersResource.list)
    get = _blocking(AsyncOwnersResource.get)
    find = _blocking(AsyncOwnersResource.find)


def _wrap(
    inner: AsyncObjectResource[ModelT], portal: _Portal, owner: _Client
) -> ObjectResource[ModelT]:
    if isinstance(inner, AsyncRecordResource):
        return RecordResource(inner, portal, owner)
    return ObjectResource(inner, portal, owner)


class _Client:
    """The resources of a sync client and of its views.

    Each resource (and each iterator it returns) holds the client it came from, so the client
    is not closed under it when the caller keeps only the resource or the iterator. They are
    made afresh on each access rather than cached on the client: a cached one would make a
    reference cycle, and the client would then be closed by the cyclic garbage collector,
    whenever and in whichever thread it runs, rather than as soon as the last user drops it.
    """

    def __init__(self, core: _client.HubSpot | _client.HubSpotView, portal: _Portal) -> None:
        self._core = core
        self._portal = portal

    @property
    def options(self) -> RequestOptions:
        """The per-call options in force (see :meth:`with_options`)."""
        return self._core.options

    def with_options(
        self,
        *,
        timeout: float | None = None,
        retry: RetryConfig | None = None,
        max_attempts: int | None = None,
    ) -> HubSpotView:
        """A view whose calls are sent under other options, sharing this client's budget,
        batcher and connections (see :meth:`hubengage.HubSpot.with_options`)."""
        view = self._core.with_options(timeout=timeout, retry=retry, max_attempts=max_attempts)
        return HubSpotView(view, self._portal, self)

    def send(self, request: Request, *, bucket: Bucket = Bucket.BURST) -> Response:
        """Send one raw request through the pipeline (limiter, transport, retry policy)."""
        core = self._core
        return self._portal.run(lambda: core.send(request, bucket=bucket))

    def flush(self) -> None:
        """Wait until every call queued so far has completed."""
        core = self._core
        self._portal.run(core.flush)

    def objects(self, object_type: str) -> ObjectResource[PropertyModel]:
        """The resource for any object type, by name (``"deals"``) or type id (``"0-3"``)."""
        return _wrap(self._core.objects(object_type), self._portal, self)

    def properties(self, object_type: str) -> PropertiesResource:
        """The property definitions of an object type."""
        return PropertiesResource(self._core.properties(object_type), self._portal, self)

    @property
    def owners(self) -> OwnersResource:
        """The account's owners."""
        return OwnersResource(self._core.owners, self._portal, self)

    @property
    def emails(self) -> ObjectResource[Email]:
        """Email engagements (``0-49``)."""
        return ObjectResource(self._core.emails, self._portal, self)

    @property
    def postal_mail(self) -> ObjectResource[PostalMail]:
        """Postal mail engagements (``0-116``)."""
        return ObjectResource(self._core.postal_mail, self._portal, self)

    @property
    def communications(self) -> ObjectResource[Communication]:
        """Communications: WhatsApp, LinkedIn and SMS messages (``0-18``)."""
        return ObjectResource(self._core.communications, self._portal, self)

    @property
    def calls(self) -> ObjectResource[CallModel]:
        """Call engagements (``0-48``)."""
        return ObjectResource(self._core.calls, self._portal, self)

    @property
    def meetings(self) -> ObjectResource[Meeting]:
        """Meeting engagements (``0-47``)."""
        return ObjectResource(self._core.meetings, self._portal, self)

    @property
    def notes(self) -> ObjectResource[Note]:
        """Note engagements (``0-46``)."""
        return ObjectResource(self._core.notes, self._portal, self)

    @property
    def tasks(self) -> ObjectResource[Task]:
        """Task engagements (``0-27``)."""
        return ObjectResource(self._core.tasks, self._portal, self)

    @property
    def contacts(self) -> RecordResource[Never]:
        """Contacts (``0-1``)."""
        return RecordResource(self._core.contacts, self._portal, self)

    @property
    def companies(self) -> RecordResource[Never]:
        """Companies (``0-2``)."""
        return RecordResource(self._core.companies, self._portal, self)

    @property
    def deals(self) -> RecordResource[Never]:
        """Deals (``0-3``)."""
        return RecordResource(self._core.deals, self._portal, self)

    @property
    def tickets(self) -> RecordResource[Never]:
        """Tickets (``0-5``)."""
        return RecordResource(self._core.tickets, self._portal, self)


class HubSpot(_Client):
    """A synchronous HubSpot client: :class:`hubengage.HubSpot` on a loop of its own.

    Takes the same arguments as :class:`hubengage.HubSpot`. A context manager; ``close()``
    sends what is queued, then stops the background thread (idempotent).
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
        portal = _Portal()

        def make() -> _client.HubSpot:
            return _client.HubSpot(
                access_token, base_url=base_url, rate_limits=rate_limits, retry=retry,
                timeout=timeout, batching=batching, max_in_flight=max_in_flight,
                max_pending=max_pending, transport=transport, clock=clock,
                rate_limit_store=rate_limit_store, rate_limit_key=rate_limit_key,
                rate_limit_fallback=rate_limit_fallback, event_hooks=event_hooks,
                tracer_provider=tracer_provider, meter_provider=meter_provider,
                instrument=instrument)

        try:
            # Made in the loop's thread: everything it creates belongs to that loop.
            client = portal.run(_async_value(make))
        except BaseException:
            portal.close()
            raise
        super().__init__(client, portal)
        self._client = client
        self._finalizer = weakref.finalize(self, portal.close, client.aclose)

    def __repr__(self) -> str:
        return f"sync.{self._client!r}"

    @property
    def state(self) -> ClientState:
        """OPEN, CLOSING or CLOSED."""
        return self._client.state

    @property
    def stats(self) -> ClientStats:
        """Counters of requests, 429s, retries, batches and item outcomes."""
        return self._client.stats

    @property
    def limiter(self) -> RateLimiter:
        """The rate limiter (its ``snapshot()`` shows the budget in force)."""
        return self._client.limiter

    @property
    def aio(self) -> _client.HubSpot:
        """The async client underneath (usable only from its own loop's thread: hooks)."""
        return self._client

    def close(self) -> None:
        """Send everything queued, wait for every call, close, stop the thread. Idempotent."""
        self._finalizer()

    def __enter__(self) -> HubSpot:
        if self._portal.closed:
            raise ClientClosedError("the client is closed; make a new one")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class HubSpotView(_Client):
    """A view of a sync client with per-call options (``hs.with_options(...)``): the same
    resources, sent under :attr:`options` on the client's budget, batcher and connections.
    Closing belongs to the client."""

    def __init__(self, view: _client.HubSpotView, portal: _Portal, parent: _Client) -> None:
        super().__init__(view, portal)
        self._parent = parent  # the client stays open (not collected) while a view is used

    def __repr__(self) -> str:
        return f"sync.{self._core!r}"
