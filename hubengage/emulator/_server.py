"""``Emulator``: the emulator as an async context manager on a real loopback port.

Tests, benchmarks and the CLI's ``--sandbox`` talk to it over HTTP exactly as they would to
HubSpot; assertions read its store directly (``records``, ``get_record``) and seed it with
``put_record``. ``arrivals`` tells when each request was counted against its token's burst
window (and when a burst 429 was answered), on ``time.monotonic()``, the clock of the
emulator's windows: draw it, or check it with ``max_in_window``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from aiohttp import web

from ._app import EmulatorApp
from ._config import EmulatorConfig

__all__ = ["Emulator"]


class Emulator:
    """A local HubSpot. ``async with Emulator(EmulatorConfig(...)) as emu:`` then ``emu.url``.

    Keyword arguments are shorthand for :class:`EmulatorConfig` fields:
    ``Emulator(burst_limit=20, burst_interval=0.2)``.
    """

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        if config is None:
            config = EmulatorConfig(**overrides)
        elif overrides:
            import attrs

            config = attrs.evolve(config, **overrides)
        self.config = config
        self._app = EmulatorApp(config)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (use it as the client's ``base_url``)."""
        if self._url is None:
            raise RuntimeError("the emulator is not running; use 'async with Emulator()'")
        return self._url

    async def start(self) -> None:
        """Bind and serve (port 0 picks a free port)."""
        runner = web.AppRunner(self._app.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port, backlog=1024)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop serving and close connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._url = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- assertions and seeding -----------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Requests by endpoint and status, 429s by policy, objects stored, faults injected."""
        return self._app.stats()

    def reset(self) -> None:
        """Forget every record, window, counter, arrival and pending injected fault."""
        self._app.reset()

    def arrivals(self, token: str | None = None) -> dict[str, Any]:
        """When requests were counted against the burst window, and burst 429s answered.

        For one ``token``: ``{"counted": [t, …], "rejected": [{"t": t, "policy": p}, …]}``;
        without one, that for every token seen, keyed by token. Times are
        ``time.monotonic()`` seconds (the clock the emulator's windows use; on Linux the
        same across processes), oldest first. ``counted`` holds every non-search request
        admitted past the burst window (also when ``burst_limit`` is 0, unlimited), the
        moment it was admitted; ``rejected`` each 429 of that window (``policy``
        ``TEN_SECONDLY_ROLLING``) and each injected ``429`` fault (``TEN_SECONDLY_ROLLING
        (injected)``, a request that was counted first). Search requests (their own window)
        and daily 429s are in neither. Each list keeps the latest 1,000,000 entries;
        :meth:`reset` clears them. ``GET /__emulator__/arrivals`` serves the same, keyed by
        ``sha256(token)[:12]`` (hex), with ``burst_limit``, ``burst_interval`` and the
        emulator's monotonic ``now``.
        """
        if token is not None:
            return self._app.arrivals_of(token)
        return self._app.arrivals()

    def records(self, object_type: str, *, archived: bool | None = None) -> list[dict[str, Any]]:
        """Every stored record of a type (all properties, ``archived`` flag), oldest first.

        ``archived=None`` returns both live and archived records.
        """
        store = self._app.store
        t = store.type(object_type)
        return [
            store.to_wire(t, rec, all_properties=True, associations=list(rec.assoc))
            for rec in t.records.values()
            if archived is None or rec.archived == archived
        ]

    def get_record(self, object_type: str, record_id: str | int) -> dict[str, Any] | None:
        """One stored record (live or archived) by id, or None."""
        store = self._app.store
        t = store.type(object_type)
        rec = t.records.get(str(record_id))
        if rec is None:
            return None
        return store.to_wire(t, rec, all_properties=True, associations=list(rec.assoc))

    def put_record(
        self,
        object_type: str,
        properties: Mapping[str, Any],
        *,
        id: str | int | None = None,
        associations: Iterable[tuple[str, str | int]] = (),
    ) -> str:
        """Store a record directly (no auth, no limits, no required-property checks); its id.

        ``id`` chooses its id (e.g. contact 601); ``associations`` are ``(to_type, to_id)``
        pairs with their default type ids.
        """
        from .._objecttypes import default_association_type_id

        store = self._app.store
        t = store.type(object_type)
        props = {str(k): str(v) for k, v in properties.items()}
        rid = str(id) if id is not None else store.next_id()
        if rid in t.records:
            raise ValueError(f"{t.name} {rid} already exists")
        from ._store import Record

        rec = Record(rid, props, store.now())
        t.add(rec)
        for to_type, to_id in associations:
            to_t = store.type(to_type)
            type_id = default_association_type_id(t.name, to_t.name) or 0
            store.associate(t, rec, to_t.name, str(to_id), type_id)
        return rid

    def inject(self, kind: str, count: int = 1, endpoint: str | None = None) -> None:
        """Make the next ``count`` requests to ``endpoint`` (None: any) fail with ``kind``.

        A response fault (``RESPONSE_FAULT_KINDS``, e.g. ``drop-result``) corrupts the next
        ``count`` successful batch responses to ``endpoint`` it can apply to; it stays
        pending through errors and other endpoints.
        """
        self._app.inject(kind, count, endpoint)
