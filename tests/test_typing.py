"""User code type-checks: the README's examples pass ``mypy --strict`` and pyright, and the
library's annotations say what it accepts at run time (and refuse what it refuses).

Both checkers run as a user's would, on files outside the package that import
``hubengage``. The negative file proves the annotations carry information: each line marked
``# E`` must be reported by both checkers, and nothing else may be.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_EXAMPLE = re.compile(r"<!-- readme-example: (\S+) -->\s*```python\n(.*?)```", re.DOTALL)

#: What the library accepts at run time and must accept in a type checker; and what it
#: refuses at run time and a type checker must refuse too (lines ending ``# E``).
ACCEPTS_AND_REFUSES = '''
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from hubengage import (
    Association, BucketSnapshot, Communication, CrmObject, Email, EmailDirection, HubSpot,
    NewRecord, Note, Outcome, StatsSnapshot,
)


async def accepted(hs: HubSpot) -> None:
    Note(timestamp=1714557600000)
    Note(timestamp="2024-05-01T10:00:00Z", body="epoch ms, ISO text or an aware datetime")
    Email(timestamp=datetime.now(UTC), direction="EMAIL", status="SENT")
    Email(timestamp=datetime.now(UTC), direction=EmailDirection.INCOMING_EMAIL)
    Communication(timestamp=1, channel="SMS")
    NewRecord({"hs_note_body": "x"}, associations=[Association.contact(601)])
    record: CrmObject = await hs.emails.create(
        Email(timestamp=1, direction="EMAIL"), associations=[Association.deal(1201)])
    await hs.contacts.create({"email": "a@example.com"})
    await hs.objects("p_cars").create({"name": "x"})
    stats: StatsSnapshot = hs.stats.as_dict()
    burst: BucketSnapshot = (await hs.limiter.snapshot())["burst"]
    used: int = burst["used"] + stats["total_requests"] + len(record.id)
    assert used >= 0
    async for outcome in hs.notes.create_many([Note(timestamp=1), Note(timestamp=2)]):
        written: Note = outcome.input
        assert written.timestamp is not None and outcome.record is not None
    async for gone in hs.notes.archive_many([1, 2]):
        assert gone.input in (1, 2)
    async for linked in hs.emails.associate_many([("1", Association.contact(601))]):
        assert linked.input[1].to_id == "601"


async def refused(hs: HubSpot, outcomes: AsyncIterator[Outcome[Note]]) -> None:
    Email(timestamp=datetime.now(UTC))  # E
    Email(timestamp=datetime.now(UTC), direction="MAIL")  # E
    Note(timestamp=[2024])  # E
    await hs.emails.create(Note(timestamp=1))  # E
    await hs.contacts.create(Note(timestamp=1))  # E
    (await hs.limiter.snapshot())["burst"]["nosuch"]  # E
    hs.notes.archive_many([1.5])  # E
    async for outcome in hs.notes.create_many([Note(timestamp=1)]):
        outcome.input.subject  # E
'''


def examples() -> dict[str, str]:
    return dict(_EXAMPLE.findall((ROOT / "README.md").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def user_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's examples and the accept/refuse file, as a user's project."""
    where = tmp_path_factory.mktemp("user_code")
    for name, source in examples().items():
        (where / f"example_{name}.py").write_text(source, encoding="utf-8")
    (where / "accepts_and_refuses.py").write_text(ACCEPTS_AND_REFUSES, encoding="utf-8")
    return where


def expected_lines(path: Path) -> set[int]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {i for i, line in enumerate(lines, start=1) if line.rstrip().endswith("# E")}


def reported(output: str, pattern: str) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for match in re.finditer(pattern, output, re.MULTILINE):
        found.setdefault(Path(match["file"]).name, set()).add(int(match["line"]))
    return found


def test_mypy_strict(user_code: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(ROOT / ".mypy_cache"), "."],
        cwd=user_code, capture_output=True, text=True, timeout=240,
        env={"MYPYPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    errors = reported(result.stdout, r"^(?P<file>[^:\n]+\.py):(?P<line>\d+): error")
    assert errors == {"accepts_and_refuses.py": expected_lines(
        user_code / "accepts_and_refuses.py")}, result.stdout


def test_pyright(user_code: Path) -> None:
    pyright = shutil.which("basedpyright", path=str(Path(sys.executable).parent))
    assert pyright is not None, "basedpyright is in the dev extra"
    result = subprocess.run(
        [pyright, "--pythonpath", sys.executable, "--level", "error", "."],
        cwd=user_code, capture_output=True, text=True, timeout=240,
        env={"PYTHONPATH": str(ROOT), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
             "HOME": str(user_code)},
    )
    errors = reported(result.stdout, r"^\s*(?P<file>/[^:\n]+\.py):(?P<line>\d+):\d+ - error")
    assert errors == {"accepts_and_refuses.py": expected_lines(
        user_code / "accepts_and_refuses.py")}, result.stdout
