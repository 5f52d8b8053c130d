"""Every single-record operation against the emulator, for every engagement type, with and
without batching, plus contacts and deals through ``objects(...)``."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from hubengage import (
    AuthenticationError,
    ClientClosedError,
    Filter,
    HubSpot,
    InvalidInputError,
    NotFoundError,
    RateLimits,
    SearchResultsTruncatedWarning,
    Sort,
    ValidationError,
)
from hubengage.emulator import Emulator
from tests._fakes import fast_retry

TS = "2026-01-15T10:00:00.000Z"

#: A valid record per engagement type and the text property the tests update.
SAMPLES: dict[str, tuple[dict[str, str], str]] = {
    "emails": ({"hs_timestamp": TS, "hs_email_direction": "EMAIL",
                "hs_email_subject": "hello"}, "hs_email_subject"),
    "postal_mail": ({"hs_timestamp": TS, "hs_postal_mail_body": "hello"},
                    "hs_postal_mail_body"),
    "communications": ({"hs_timestamp": TS, "hs_communication_channel_type": "SMS",
                        "hs_communication_body": "hello"}, "hs_communication_body"),
    "calls": ({"hs_timestamp": TS, "hs_call_title": "hello"}, "hs_call_title"),
    "meetings": ({"hs_timestamp": TS, "hs_meeting_title": "hello"}, "hs_meeting_title"),
    "notes": ({"hs_timestamp": TS, "hs_note_body": "hello"}, "hs_note_body"),
    "tasks": ({"hs_timestamp": TS, "hs_task_subject": "hello"}, "hs_task_subject"),
}

FAST = RateLimits(requests_per_interval=1000, interval_seconds=1.0)


def make(emu: Emulator, **kwargs: Any) -> HubSpot:
    kwargs.setdefault("rate_limits", FAST)
    kwargs.setdefault("retry", fast_retry())
    return HubSpot(access_token="test-token", base_url=emu.url, **kwargs)


@pytest.mark.parametrize("batching", [True, False], ids=["batched", "single"])
@pytest.mark.parametrize("object_type", sorted(SAMPLES))
async def test_every_operation_for_every_engagement_type(
    hubspot_emulator: Emulator, object_type: str, batching: bool
) -> None:
    emu = hubspot_emulator
    contact = emu.put_record("contacts", {"email": "ada@example.com", "firstname": "Ada"})
    props, text = SAMPLES[object_type]
    async with make(emu, batching=batching) as hs:
        res = hs.objects(object_type)
        rec = await res.create(props)
        assert rec.id and rec.properties[text] == "hello" and not rec.archived
        assert rec.created_at is not None

        updated = await res.update(rec.id, {text: "changed"})
        assert updated.id == rec.id and updated.properties[text] == "changed"

        got = await res.get(rec.id, properties=[text])
        assert got.properties[text] == "changed"

        listed = [r async for r in res.list(properties=[text], page_size=1)]
        assert [r.id for r in listed] == [rec.id]

        found = [r async for r in res.search(filters=[Filter(text, "EQ", "changed")],
                                            sorts=[Sort("hs_timestamp", "DESCENDING")],
                                            properties=[text])]
        assert [r.id for r in found] == [rec.id]

        await res.associate(rec.id, "contacts", contact)
        assert [a.id for a in await res.associations(rec.id, "contacts")] == [contact]
        with_assocs = await res.get(rec.id, associations=["contacts"])
        assert [a.id for a in with_assocs.associations["contacts"]] == [contact]
        pinned = await hs.contacts.pin(contact, rec.id)
        assert pinned.properties["hs_pinned_engagement_id"] == rec.id
        await res.unassociate(rec.id, "contacts", contact)
        assert await res.associations(rec.id, "contacts") == []

        await res.archive(rec.id)
        with pytest.raises(NotFoundError):
            await res.get(rec.id)
        await res.archive(rec.id)  # archiving twice is not an error
    assert emu.get_record(object_type, rec.id)["archived"] is True


async def test_create_with_inline_associations_uses_the_default_type(
    hubspot_emulator: Emulator,
) -> None:
    from hubengage import Association

    emu = hubspot_emulator
    contact = emu.put_record("contacts", {"email": "bob@example.com"})
    deal = emu.put_record("deals", {"dealname": "Big one"})
    async with make(emu) as hs:
        rec = await hs.emails.create(SAMPLES["emails"][0],
                                     associations=[Association.contact(contact),
                                                   Association.deal(deal)])
        assocs = await hs.emails.associations(rec.id, "deals")
    assert [a.id for a in assocs] == [deal]


async def test_contacts_and_deals_through_objects_by_name_and_type_id(
    hubspot_emulator: Emulator,
) -> None:
    async with make(hubspot_emulator) as hs:
        contacts = hs.objects("0-1")
        c = await contacts.create({"email": "cy@example.com", "firstname": "Cy"})
        assert (await contacts.get(c.id, properties=["email"])).properties["email"] == (
            "cy@example.com"
        )
        by_email = await contacts.get("cy@example.com", id_property="email",
                                      properties=["firstname"])
        assert by_email.id == c.id
        deals = hs.objects("deals")
        d = await deals.create({"dealname": "Renewal", "amount": 1200,
                                "dealstage": "appointmentscheduled", "pipeline": "default"})
        assert (await deals.update(d.id, {"amount": "1500"})).properties["amount"] == "1500"
        up = await contacts.upsert({"email": "cy@example.com", "lastname": "Young"},
                                   id_property="email")
        assert up.id == c.id and up.new is False


async def test_invalid_input_names_the_field_and_sends_nothing(
    hubspot_emulator: Emulator,
) -> None:
    async with make(hubspot_emulator) as hs:
        with pytest.raises(InvalidInputError) as info:
            await hs.emails.create({"hs_timestamp": TS})
        assert info.value.field == "hs_email_direction"
        with pytest.raises(InvalidInputError) as info:
            await hs.communications.create({"hs_timestamp": TS,
                                            "hs_communication_channel_type": "FAX"})
        assert info.value.field == "hs_communication_channel_type"
        assert hs.stats.total_requests == 0


async def test_server_side_validation_error_carries_correlation_id(
    hubspot_emulator: Emulator,
) -> None:
    async with make(hubspot_emulator, batching=False) as hs:
        with pytest.raises(ValidationError) as info:
            await hs.notes.create({"hs_timestamp": TS, "no_such_property": "x"})
    assert info.value.correlation_id
    assert info.value.correlation_id in str(info.value)
    assert "400" in str(info.value)


@pytest.mark.hubspot_emulator(tokens=("right",))
async def test_wrong_token_is_an_authentication_error_without_the_token(
    hubspot_emulator: Emulator,
) -> None:
    async with HubSpot(access_token="wrong-secret", base_url=hubspot_emulator.url,
                       rate_limits=FAST, retry=fast_retry()) as hs:
        with pytest.raises(AuthenticationError) as info:
            await hs.notes.get("1")
        assert "wrong-secret" not in str(info.value) + repr(info.value) + repr(hs)


# HubSpot's window scaled down from 100 per 10 s to 20 per 20 ms: 500 calls fill 25 windows
# (about half a second), and every one of them must still fit.
@pytest.mark.hubspot_emulator(burst_limit=20, burst_interval=0.02)
async def test_500_concurrent_single_gets_see_zero_429s(hubspot_emulator: Emulator) -> None:
    emu = hubspot_emulator
    ids = [emu.put_record("notes", {"hs_timestamp": TS, "hs_note_body": f"n{i}"})
           for i in range(50)]
    limits = RateLimits(requests_per_interval=20, interval_seconds=0.02)
    async with make(emu, batching=False, rate_limits=limits) as hs:
        recs = await asyncio.gather(*(hs.notes.get(ids[i % 50]) for i in range(500)))
        assert hs.stats.total_rate_limited == 0
        assert hs.stats.requests_for("get") == 500
    assert [r.id for r in recs] == [ids[i % 50] for i in range(500)]


@pytest.mark.hubspot_emulator(burst_limit=20, burst_interval=0.02)
async def test_limiter_calibrates_from_headers_when_configured_too_high(
    hubspot_emulator: Emulator,
) -> None:
    emu = hubspot_emulator
    rid = emu.put_record("notes", {"hs_timestamp": TS, "hs_note_body": "x"})
    # The client believes 1000 per 100 ms; the first response's headers say 20 per 20 ms.
    # (1000/s against 20 per 200 ms, scaled down tenfold: the client's interval is still five
    # times the server's, so the 100 calls take five of its windows, half a second.)
    too_high = RateLimits(requests_per_interval=1000, interval_seconds=0.1)
    async with make(emu, batching=False, rate_limits=too_high) as hs:
        await hs.notes.get(rid)
        await asyncio.gather(*(hs.notes.get(rid) for _ in range(100)))
        assert hs.stats.total_rate_limited <= 1


# This test is about the 10,000-result cap, not the search rate: the emulator has no search
# limit and the client's search budget never makes it wait (50 pages of 200).
@pytest.mark.hubspot_emulator(search_limit=0)
async def test_search_stops_at_the_result_cap_with_a_warning(
    hubspot_emulator: Emulator,
) -> None:
    emu = hubspot_emulator
    for i in range(10_050):
        emu.put_record("notes", {"hs_timestamp": TS, "hs_note_body": f"n{i}"})
    unlimited_search = RateLimits(requests_per_interval=1000, interval_seconds=1.0,
                                  search_per_second=1000)
    async with make(emu, rate_limits=unlimited_search) as hs:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            count = 0
            async for _ in hs.notes.search(properties=["hs_note_body"]):
                count += 1
    assert count == 10_000
    assert any(issubclass(w.category, SearchResultsTruncatedWarning) for w in caught)


async def test_calls_after_close_raise(hubspot_emulator: Emulator) -> None:
    hs = make(hubspot_emulator)
    async with hs:
        pass
    with pytest.raises(ClientClosedError):
        await hs.notes.create(SAMPLES["notes"][0])
    with pytest.raises(ClientClosedError):
        await hs.notes.get("1")


def test_no_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    with pytest.raises(InvalidInputError, match="HUBSPOT_ACCESS_TOKEN"):
        HubSpot()
