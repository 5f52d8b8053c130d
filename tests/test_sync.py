"""``hubengage.sync.HubSpot``: the synchronous facade over the async client, for scripts and
notebooks. Scripts run in a worker thread (``asyncio.to_thread``) so that the test's event
loop keeps serving the emulator, as a script talks to a HubSpot elsewhere."""

from __future__ import annotations

import asyncio
import gc
import inspect
import threading

import pytest

import hubengage
from hubengage import (
    ClientClosedError,
    Filter,
    InvalidInputError,
    NotFoundError,
    Outcome,
    RequestOptions,
)
from hubengage import sync as hubsync
from hubengage.emulator import Emulator
from tests._fakes import MiniHubSpot, ScriptedTransport, email, fast_retry
from tests.test_client import FAST

TS = "2026-01-15T10:00:00.000Z"


def make(url: str, **kwargs: object) -> hubsync.HubSpot:
    return hubsync.HubSpot(access_token="test-token", base_url=url, rate_limits=FAST,
                           retry=fast_retry(), **kwargs)  # type: ignore[arg-type]


def sync_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hubengage-sync"]


async def test_a_script_creates_reads_updates_lists_and_searches(
    hubspot_emulator: Emulator,
) -> None:
    def script(url: str) -> None:
        with make(url) as hs:
            rec = hs.emails.create(email("from a script"))
            assert rec.properties["hs_email_subject"] == "from a script"
            got = hs.emails.get(rec.id, properties=["hs_email_subject"])
            assert got.id == rec.id
            updated = hs.emails.update(rec.id, {"hs_email_subject": "changed"})
            assert updated.properties["hs_email_subject"] == "changed"
            listed = hs.emails.list(properties=["hs_email_subject"], page_size=1)
            assert not isinstance(listed, list) and iter(listed) is listed  # an iterator
            assert [r.id for r in listed] == [rec.id]
            found = list(hs.emails.search(filters=[Filter("hs_email_subject", "EQ",
                                                          "changed")]))
            assert [r.id for r in found] == [rec.id]
            hs.emails.archive(rec.id)
            assert hs.stats.total_requests >= 5
        assert hs.state is hubengage.ClientState.CLOSED

    await asyncio.to_thread(script, hubspot_emulator.url)
    assert not sync_threads()


async def test_bulk_methods_return_iterators_of_outcomes(hubspot_emulator: Emulator) -> None:
    def script(url: str) -> list[Outcome[object]]:
        with make(url) as hs:
            rows = [email(f"row {i}") for i in range(150)] + [{"hs_timestamp": "not a date"}]
            outcomes = list(hs.emails.create_many(rows, ordered=True))
            ids = [o.record.id for o in outcomes if o.ok and o.record is not None]
            archived = list(hs.emails.archive_many(ids))
            assert len(archived) == 150 and all(o.ok for o in archived)
            return outcomes  # type: ignore[return-value]

    outcomes = await asyncio.to_thread(script, hubspot_emulator.url)
    assert [o.ok for o in outcomes] == [True] * 150 + [False]
    assert isinstance(outcomes[-1].error, InvalidInputError)
    assert hubspot_emulator.stats()["requests"]  # batches went to the emulator


async def test_errors_are_the_async_clients_errors(hubspot_emulator: Emulator) -> None:
    def script(url: str) -> None:
        with make(url) as hs:
            with pytest.raises(NotFoundError):
                hs.emails.get("999999")
            with pytest.raises(InvalidInputError):
                hs.emails.create({"hs_email_subject": "no timestamp"})
        with pytest.raises(ClientClosedError):
            hs.emails.create(email("after close"))
        with pytest.raises(ClientClosedError), hs:
            pass

    await asyncio.to_thread(script, hubspot_emulator.url)


async def test_with_options_views_and_raw_resources(hubspot_emulator: Emulator) -> None:
    contact = hubspot_emulator.put_record("contacts", {"email": "ada@example.com"})

    def script(url: str) -> None:
        with make(url) as hs:
            view = hs.with_options(timeout=20, max_attempts=2)
            assert isinstance(view, hubsync.HubSpotView)
            assert view.options == RequestOptions(timeout=20,
                                                  retry=fast_retry(max_attempts=2))
            rec = view.notes.create({"hs_timestamp": TS, "hs_note_body": "n"})
            view.notes.associate(rec.id, "contacts", contact)
            assert [a.id for a in hs.notes.associations(rec.id, "contacts")] == [str(contact)]
            deals = hs.objects("deals")
            assert isinstance(deals, hubsync.RecordResource)
            assert hs.contacts.get(contact).id == str(contact)
            assert hs.properties("notes").get("hs_note_body") is not None
            assert list(hs.owners.list()) == list(hs.owners.list())

    await asyncio.to_thread(script, hubspot_emulator.url)


async def test_it_works_inside_a_running_event_loop_like_a_notebook() -> None:
    # This test's own loop is running in this thread, as a notebook's is: the facade never
    # touches it (the transport is in memory, answered on the facade's own loop).
    asyncio.get_running_loop()
    with hubsync.HubSpot(transport=ScriptedTransport(MiniHubSpot()),
                         retry=fast_retry()) as hs:
        rec = hs.emails.create(email("in a notebook"))
        outcomes = list(hs.emails.create_many([email("a"), email("b")]))
    assert rec.properties["hs_email_subject"] == "in a notebook"
    assert all(o.ok for o in outcomes) and len(outcomes) == 2


async def test_an_iterator_left_early_is_closed_on_the_facades_loop() -> None:
    transport = ScriptedTransport(MiniHubSpot())
    with hubsync.HubSpot(transport=transport, retry=fast_retry()) as hs:
        many = hs.emails.create_many(email(f"e{i}") for i in range(300))
        first = next(many)
        assert first.ok
        many.close()  # generator's finally: the bulk run is closed on the facade's loop
        assert hs.emails.create(email("after")).id
    assert not sync_threads()


def test_a_client_never_closed_is_closed_when_collected() -> None:
    hs = hubsync.HubSpot(transport=ScriptedTransport(MiniHubSpot()), retry=fast_retry())
    transport = hs.aio._transport
    assert sync_threads()
    del hs
    gc.collect()
    assert not sync_threads()
    assert transport.closed  # type: ignore[attr-defined]


def test_close_is_idempotent_and_a_bad_argument_leaves_no_thread() -> None:
    hs = hubsync.HubSpot(transport=ScriptedTransport(MiniHubSpot()))
    hs.close()
    hs.close()
    with pytest.raises(InvalidInputError):
        hubsync.HubSpot(transport=ScriptedTransport(), max_pending=0)
    assert not sync_threads()


def test_the_sync_client_takes_the_async_clients_arguments() -> None:
    def params(f: object) -> list[tuple[str, object, object]]:
        sig = inspect.signature(f)  # type: ignore[arg-type]
        return [(p.name, p.kind, p.default) for p in sig.parameters.values()]

    assert params(hubsync.HubSpot.__init__) == params(hubengage.HubSpot.__init__)
    async_methods = {name for name, member in vars(hubengage.ObjectResource).items()
                     if not name.startswith("_") and callable(member)}
    sync_methods = {name for name, member in vars(hubsync.ObjectResource).items()
                    if not name.startswith("_") and callable(member)}
    assert async_methods == sync_methods
    for name in async_methods:
        assert params(getattr(hubsync.ObjectResource, name)) == params(
            getattr(hubengage.ObjectResource, name)), name
        assert inspect.getdoc(getattr(hubsync.ObjectResource, name))
    from functools import cached_property

    from hubengage._client import _Resources

    resources = {name for name, member in vars(_Resources).items()
                 if isinstance(member, cached_property)} | {"objects", "properties"}
    assert {"emails", "contacts", "owners"} <= resources
    for name in resources | {"with_options", "send", "flush"}:
        assert hasattr(hubsync.HubSpot, name), name


def test_calling_the_facade_from_its_own_loop_thread_is_refused() -> None:
    from hubengage import Request

    inside: list[BaseException] = []
    holder: list[hubsync.HubSpot] = []

    def hook(request: Request) -> None:
        try:
            holder[0].emails.get("1")
        except RuntimeError as exc:
            inside.append(exc)

    with hubsync.HubSpot(transport=ScriptedTransport(MiniHubSpot()),
                         event_hooks={"request": [hook]}) as hs:
        holder.append(hs)
        hs.emails.create(email("x"))
    assert inside and "would wait for itself" in str(inside[0])


def test_the_sync_module_is_documented() -> None:
    assert inspect.getdoc(hubsync)
    for name in hubsync.__all__:
        value = getattr(hubsync, name)
        assert inspect.getdoc(value), name
        for attr, member in vars(value).items():
            if not attr.startswith("_") and callable(member):
                assert inspect.getdoc(member), f"{name}.{attr}"
