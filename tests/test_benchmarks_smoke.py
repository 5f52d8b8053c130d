"""Smoke runs of the benchmarks on tiny sizes: they must run from a clean checkout.

Only that they run and print their table is checked; speed is never asserted here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("script", ["throughput.py", "emulator_throughput.py"])
def test_benchmark_quick_run(script: str) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
                            capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "---" in result.stdout  # the table's rule line
