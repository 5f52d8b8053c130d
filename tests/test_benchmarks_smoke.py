"""Smoke runs of the benchmarks on tiny sizes: they must run from a clean checkout.

Speed is never asserted here, but what each benchmark prints is: its table (the header it
promises, the rule line and the hubengage row), every call or item accounted for, and a
positive measurement where a number was measured. The soak proves something more: its
``--quick`` run (3,000 mixed calls against an emulator injecting every fault kind) exits
non-zero unless every call resolved exactly once and every record in the emulator's store is
explained by a reported outcome.

The quick runs are independent processes that spend much of their time starting interpreters
and waiting on their emulators, so the first test of this module starts the selected ones,
``PARALLEL`` at a time, and each test then checks its own output (the numbers they print are
not asserted, so sharing the CPU changes nothing that is checked).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

Row = dict[str, str]

ALL_SCRIPTS = ["throughput.py", "latency.py", "overhead.py", "memory.py",
               "emulator_throughput.py", "multiprocess.py", "associations.py", "soak.py"]


#: Quick runs at a time (each is a few processes; this machine may have two cores).
PARALLEL = 3


def run_script(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


def selected_scripts(request: pytest.FixtureRequest) -> list[str]:
    """The scripts whose tests in this module this session runs."""
    scripts = []
    for item in request.session.items:
        if item.path != request.path:
            continue
        callspec = getattr(item, "callspec", None)
        scripts.append(callspec.params["script"] if callspec else "soak.py")
    return [s for s in ALL_SCRIPTS if s in scripts]


Runs = dict[str, "Future[subprocess.CompletedProcess[str]]"]


@pytest.fixture(scope="module")
def quick_runs(request: pytest.FixtureRequest) -> Iterator[Runs]:
    """Every selected benchmark's ``--quick`` run, ``PARALLEL`` at a time, in test order."""
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        yield {script: pool.submit(run_script, script) for script in selected_scripts(request)}


@pytest.fixture
def run_quick(quick_runs: Runs) -> Callable[[str], str]:
    """``run_quick(script)``: the stdout of its ``--quick`` run, which must exit 0."""

    def finish(script: str) -> str:
        run = quick_runs.get(script)
        result = run.result() if run is not None else run_script(script)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    return finish


def tables(stdout: str) -> list[tuple[list[str], list[Row]]]:
    """Every table ``benchmarks/_common.format_table`` printed: (header, rows as dicts).

    The rule line under the header gives each column's span; rows run to the blank line.
    """
    lines = stdout.splitlines()
    found = []
    for i in range(1, len(lines)):
        if not re.fullmatch(r"-+(  -+)*", lines[i]):
            continue
        spans = [m.span() for m in re.finditer(r"-+", lines[i])]
        spans[-1] = (spans[-1][0], len(max(lines, key=len)))  # the last cell: to the end

        def cells(line: str, spans: list[tuple[int, int]] = spans) -> list[str]:
            return [line[a:b].strip() for a, b in spans]

        header = cells(lines[i - 1])
        rows = []
        for line in lines[i + 1:]:
            if not line.strip():
                break
            rows.append(dict(zip(header, cells(line), strict=True)))
        found.append((header, rows))
    assert found, f"no table in the output:\n{stdout}"
    return found


def number(cell: str) -> float:
    """``"1,500"`` → 1500.0, ``"13.6%"`` → 13.6; anything else fails the test."""
    text = cell.replace(",", "").removesuffix("%")
    assert re.fullmatch(r"-?\d+(\.\d+)?", text), f"not a number: {cell!r}"
    return float(text)


def the_table(stdout: str, first_column: str) -> tuple[list[str], list[Row]]:
    """The one table whose header starts with ``first_column``."""
    matching = [t for t in tables(stdout) if t[0][0] == first_column]
    assert len(matching) == 1, stdout
    return matching[0]


def row_starting(rows: list[Row], column: str, prefix: str) -> Row:
    matching = [r for r in rows if r[column].startswith(prefix)]
    assert len(matching) == 1, (prefix, rows)
    return matching[0]


def check_throughput(out: str) -> None:
    header, rows = the_table(out, "client")
    assert header == ["client", "items", "ok", "seconds", "items/s", "of limit",
                      "of limit, counted", "requests", "429s", "retries", "vs ours"]
    ours = row_starting(rows, "client", "hubengage create() x N")
    assert number(ours["items"]) == number(ours["ok"]) == 1_500  # every email created
    assert number(ours["seconds"]) > 0 and number(ours["items/s"]) > 0
    assert 0 < number(ours["of limit, counted"]) <= 100
    assert number(ours["requests"]) >= 15  # at most 100 emails a request
    assert "hubengage's first request left" in out


def check_multiprocess(out: str) -> None:
    header, rows = the_table(out, "run")
    assert header == ["run", "workers", "items", "ok", "seconds", "requests counted", "429s",
                      "of limit, counted", "of limit, whole run"]
    for prefix in ("uncoordinated", "shared (Redis)"):
        row = row_starting(rows, "run", prefix)
        assert number(row["items"]) == number(row["ok"]) == 4 * 600  # every email created
        assert 0 < number(row["of limit, counted"]) <= 100
    assert number(row_starting(rows, "run", "shared")["429s"]) == 0  # one budget: no 429


def check_latency(out: str) -> None:
    header, rows = the_table(out, "run")
    assert header == ["run", "calls", "ok", "p50 ms", "p99 ms", "max ms", "mean ms",
                      "requests"]
    for prefix in ("idle: hubengage create()", "idle: raw aiohttp POST",
                   "loaded: 500/s for 0.2 s, burst 100/1s, pacing on",
                   "loaded: 500/s for 0.2 s, burst 100/1s, pacing off"):
        row = row_starting(rows, "run", prefix)
        assert number(row["calls"]) == number(row["ok"]) > 0, row  # every call succeeded
        assert 0 < number(row["p50 ms"]) <= number(row["p99 ms"]) <= number(row["max ms"])
    assert re.search(r"^hubengage overhead over raw aiohttp \(p50\): -?\d+\.\d{3} ms per call$",
                     out, re.MULTILINE), out


def check_overhead(out: str) -> None:
    header, rows = the_table(out, "client")
    assert header[:5] == ["client", "items", "ok", "wall s", "CPU s"]
    assert header[-1] == "items/s"
    ours = row_starting(rows, "client", "hubengage create_many")
    assert number(ours["items"]) == number(ours["ok"]) == 2_000
    assert number(ours["wall s"]) > 0 and number(ours["items/s"]) > 0
    assert number(ours["CPU µs/item (median)"]) > 0


def check_memory(out: str) -> None:
    header, rows = the_table(out, "N")
    assert header == ["N", "ok", "seconds", "RSS before MB", "peak RSS MB", "growth MB",
                      "bytes/item"]
    assert [number(r["N"]) for r in rows] == [1_000, 2_000]
    for row in rows:
        assert number(row["ok"]) == number(row["N"]), row  # every email created
        assert number(row["peak RSS MB"]) >= number(row["RSS before MB"]) > 0


def check_emulator_throughput(out: str) -> None:
    header, rows = the_table(out, "clients")
    assert header[:7] == ["clients", "requests", "items", "seconds", "requests/s", "items/s",
                          "errors"]
    (row,) = rows
    assert row["clients"] == "1x2"
    assert number(row["requests"]) > 0 and number(row["requests/s"]) > 0
    assert number(row["errors"]) == 0  # no limits, no faults: every request stored 100
    assert number(row["items"]) == 100 * number(row["requests"])
    assert "WARNING" not in out


def check_associations(out: str) -> None:
    header, rows = the_table(out, "handler")
    assert header == ["handler", "handlers", "succeeded", "requests", "429s", "seconds"]
    separate = row_starting(rows, "handler", "create, then associate")
    inline = row_starting(rows, "handler", "create with inline associations")
    for row in (separate, inline):
        assert number(row["handlers"]) == number(row["succeeded"]) == 200
        assert number(row["429s"]) == 0
    # 200 creates and 2 x 200 associations, 100 a request: coalesced, not one per call
    assert number(separate["requests"]) == 6
    assert number(inline["requests"]) == 2


CHECKS = {"throughput.py": check_throughput, "associations.py": check_associations,
          "latency.py": check_latency,
          "overhead.py": check_overhead, "memory.py": check_memory,
          "emulator_throughput.py": check_emulator_throughput,
          "multiprocess.py": check_multiprocess}
SCRIPTS = list(CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_quick_run(script: str, run_quick: Callable[[str], str]) -> None:
    CHECKS[script](run_quick(script))


@pytest.mark.slow
def test_soak_quick_reconciles(run_quick: Callable[[str], str]) -> None:
    out = run_quick("soak.py")
    assert "OK: every call resolved once" in out
    (calls_table,) = [rows for header, rows in tables(out)
                      if header == ["operation", "attempted", "succeeded", "failed", "resolved"]]
    calls = {r["operation"]: r for r in calls_table}
    assert number(calls["total"]["attempted"]) == number(calls["total"]["resolved"]) == 3_000
    rows = dict(line.rsplit(None, 1) for line in out.splitlines()
                if line.startswith(("unexplained", "stored as reported")))
    assert rows and all(v == "0" for k, v in rows.items() if k.startswith("unexplained"))
    stored = int(rows["stored as reported"].replace(",", ""))
    # Every create reported as succeeded is in the store under the id it was reported with.
    assert stored == number(calls["create"]["succeeded"]) > 2_000
