"""The README's Python examples run against the emulator, so they cannot rot.

Each example in README.md is preceded by ``<!-- readme-example: NAME -->``. The examples are
written for a real account (token from ``HUBSPOT_ACCESS_TOKEN``); here the environment points
``HubSpot()`` at an in-process emulator seeded with the records the examples mention.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from hubengage.emulator import Emulator

README = Path(__file__).resolve().parent.parent / "README.md"
_EXAMPLE = re.compile(r"<!-- readme-example: (\S+) -->\s*```python\n(.*?)```", re.DOTALL)


def examples() -> dict[str, str]:
    return dict(_EXAMPLE.findall(README.read_text(encoding="utf-8")))


def test_the_readme_opens_with_exactly_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert first_block == [
        "python -m pip install -e '.[cli]' && hubengage import examples/emails.jsonl "
        "--object emails --sandbox",
        "python -m pip install -e '.[dev,cli]' && python -m pytest",
    ]


@pytest.fixture
def seeded(hubspot_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "readme-token")
    monkeypatch.setenv("HUBSPOT_BASE_URL", hubspot_emulator.url)
    for n in range(601, 607):
        hubspot_emulator.put_record("contacts", {"email": f"c{n}@example.com"}, id=str(n))
    return hubspot_emulator


def run_module(source: str) -> dict[str, Any]:
    """Execute an example as a module that is not ``__main__`` and return its namespace."""
    source = source.replace("asyncio.run(main())", "")
    module = types.ModuleType("readme_example")
    sys.modules[module.__name__] = module  # as an imported module is (dataclasses look)
    try:
        exec(compile(source, str(README), "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


async def test_quickstart(seeded: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    await run_module(examples()["quickstart"])["main"]()
    out = capsys.readouterr().out
    assert "Let's talk" in out and "found" in out
    (email,) = seeded.records("emails")
    assert email["archived"] is True


async def test_etl(seeded: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    await run_module(examples()["etl"])["main"]()
    out = capsys.readouterr().out
    assert "2 written, 1 failed" in out
    assert "row 2: hs_timestamp" in out
    assert len(seeded.records("notes")) == 2


async def test_backfill(seeded: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    await run_module(examples()["backfill"])["main"]()
    assert "6 contacts updated" in capsys.readouterr().out
    assert all(seeded.get_record("contacts", str(n))["properties"]["lifecyclestage"]
               == "customer" for n in range(601, 607))


async def test_webapp(seeded: Emulator) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    app = run_module(examples()["webapp"])["app"]
    async with TestClient(TestServer(app)) as http:
        ok = await http.post("/emails", json={"subject": "Hi", "text": "Hello",
                                              "contact_id": 601})
        assert ok.status == 201
        record_id = (await ok.json())["id"]
    assert seeded.get_record("emails", record_id)["properties"]["hs_email_subject"] == "Hi"


async def test_fastapi(seeded: Emulator) -> None:
    from fastapi.testclient import TestClient

    app = run_module(examples()["fastapi"])["app"]

    def requests() -> list[tuple[int, dict[str, str]]]:
        # The app runs in the TestClient's own loop and thread, as under a server.
        with TestClient(app) as http:
            answers = [http.post("/emails", json={"subject": "Hi", "text": "Hello",
                                                  "contact_id": 601}),
                       http.post("/emails", json={"subject": "Hi", "text": "Hello",
                                                  "contact_id": 999}),
                       http.post("/emails", json={"subject": "x" * 2, "text": "y",
                                                  "contact_id": "abc"})]
            return [(r.status_code, r.json()) for r in answers]

    (ok, unknown_contact, bad_input) = await asyncio.to_thread(requests)
    assert ok[0] == 201
    assert seeded.get_record("emails", ok[1]["id"])["properties"]["hs_email_subject"] == "Hi"
    assert unknown_contact[0] == 400 and "999" in unknown_contact[1]["detail"]
    assert bad_input[0] == 422


async def test_oauth(seeded: Emulator, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HUBSPOT_CLIENT_ID", "hubengage-emulator-client-id")
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", "hubengage-emulator-client-secret")
    monkeypatch.setenv("HUBSPOT_REFRESH_TOKEN", "readme-install")
    await run_module(examples()["oauth"])["main"]()
    assert "token saved: True" in capsys.readouterr().out
    assert seeded.stats()["requests"]["oauth/token 200"] == 1


async def test_options(seeded: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    await run_module(examples()["options"])["main"]()
    out = capsys.readouterr().out
    assert "contact 601" in out and "note " in out
    assert len(seeded.records("notes")) == 1


async def test_hooks(seeded: Emulator, caplog: pytest.LogCaptureFixture,
                     capsys: pytest.CaptureFixture[str]) -> None:
    with caplog.at_level(logging.INFO, logger="myapp.hubspot"):
        await run_module(examples()["hooks"])["main"]()
    assert "note " in capsys.readouterr().out
    assert any("POST /crm/v3/objects/notes" in r.getMessage() and "201" in r.getMessage()
               for r in caplog.records)


async def test_tracing(seeded: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    await run_module(examples()["tracing"])["main"]()
    assert sorted(capsys.readouterr().out.splitlines()) == sorted(
        ["HubSpot POST batch/create 100 201"] * 2 + ["HubSpot POST batch/create 50 201"])


async def test_sync(seeded: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    # The emulator serves on this test's loop: the blocking script runs in a thread.
    await asyncio.to_thread(run_module(examples()["sync"])["main"])
    out = capsys.readouterr().out
    assert "created" in out and "250 notes written" in out and "601 c601@example.com" in out
    assert "not found: 404" in out


async def test_etl_journal(seeded: Emulator, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    main = run_module(examples()["etl-journal"])["main"]
    path = tmp_path / "notes.csv"
    path.write_text("timestamp,body,contact\n2026-01-15T10:00:00Z,Welcome,601\n"
                    "yesterday,Follow-up,602\n2026-01-15T11:30:00Z,Invoice,603\n")
    await main(str(path))
    assert capsys.readouterr().out.strip() == "2 written, 1 failed, 0 of unknown fate"
    await main(str(path))  # resumed: nothing left to send
    assert capsys.readouterr().out.strip() == "2 written, 1 failed, 0 of unknown fate"
    with path.open("a") as stream:  # the export grew
        stream.write("2026-01-16T09:00:00Z,Renewal,604\n")
    await main(str(path))
    assert capsys.readouterr().out.strip() == "3 written, 1 failed, 0 of unknown fate"
    assert sorted(r["properties"]["hs_note_body"] for r in seeded.records("notes")) \
        == ["Invoice", "Renewal", "Welcome"]


def test_emulator_example_is_a_valid_test() -> None:
    namespace = run_module(examples()["emulator"])
    assert callable(namespace["test_logs_a_note"])


async def test_mocktransport_example_runs() -> None:
    await run_module(examples()["mocktransport"])["main"]()


async def test_associations(seeded: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    import aiohttp

    seeded.put_record("deals", {"dealname": "Renewal", "pipeline": "default",
                                "dealstage": "appointmentscheduled"}, id="1201")
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer readme-token"}) as http:
        made = await http.post(f"{seeded.url}/crm/v4/associations/deals/contacts/labels",
                               json={"label": "Decision maker", "name": "decision_maker"})
        assert made.status == 200, await made.text()
    await run_module(examples()["associations"])["main"]()
    out = capsys.readouterr().out
    assert "602 ('Decision maker',)" in out
    assert "['602', '603', '604', '605', '606']" in out
    assert len(seeded.records("emails")) == 1
    assert seeded.stats()["requests"].get("v4/batch/associate/default 200", 0) >= 2


async def test_properties(seeded: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    await run_module(examples()["properties"])["main"]()
    out = capsys.readouterr().out
    assert "tier ('gold', 'silver')" in out
    assert "CTO" in out


def test_every_readme_example_is_tested() -> None:
    tested = {"quickstart", "webapp", "fastapi", "etl", "backfill", "emulator",
              "mocktransport", "associations", "properties", "oauth", "options", "hooks",
              "tracing", "sync", "etl-journal"}
    assert set(examples()) == tested
