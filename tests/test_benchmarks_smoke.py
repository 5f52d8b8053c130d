"""Smoke runs of the benchmarks on tiny sizes: they must run from a clean checkout.

Only that they run and print their table is checked; speed is never asserted here. The soak
is the exception that proves something: its ``--quick`` run (3,000 mixed calls against an
emulator injecting every fault kind) exits non-zero unless every call resolved exactly once
and every record in the emulator's store is explained by a reported outcome.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ["throughput.py", "latency.py", "overhead.py", "memory.py",
           "emulator_throughput.py"]


def run_quick(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_quick_run(script: str) -> None:
    result = run_quick(script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "---" in result.stdout  # the table's rule line


@pytest.mark.slow
def test_soak_quick_reconciles() -> None:
    result = run_quick("soak.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: every call resolved once" in result.stdout
    rows = dict(line.rsplit(None, 1) for line in result.stdout.splitlines()
                if line.startswith(("unexplained", "stored as reported")))
    assert rows and all(v == "0" for k, v in rows.items() if k.startswith("unexplained"))
    assert int(rows["stored as reported"].replace(",", "")) > 2_000
