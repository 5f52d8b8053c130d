"""The README's Python examples run against the emulator, so they cannot rot.

Each example in README.md is preceded by ``<!-- readme-example: NAME -->``. The examples are
written for a real account (token from ``HUBSPOT_ACCESS_TOKEN``); here the environment points
``HubSpot()`` at an in-process emulator seeded with the records the examples mention.
"""

from __future__ import annotations

import re
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
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(source, str(README), "exec"), namespace)
    return namespace


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
    tested = {"quickstart", "webapp", "etl", "backfill", "emulator", "mocktransport",
              "associations", "properties"}
    assert set(examples()) == tested
