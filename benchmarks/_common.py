"""Shared helpers for the benchmarks: the emulator as a subprocess, process CPU/RSS, a table.

- :class:`EmulatorProcess` starts ``python -m hubengage.emulator`` (optionally under cProfile)
  with given command-line arguments, waits for its first line ``listening on http://HOST:PORT``,
  keeps draining its output, and stops it with SIGINT (so a profile is written), escalating to
  SIGTERM and SIGKILL only if it does not exit.
- :func:`cpu_seconds`, :func:`rss_bytes` and :func:`peak_rss_bytes` read ``/proc`` (Linux) and
  return None elsewhere; :class:`CpuMeter` turns two readings into a CPU percentage.
- :func:`format_table` / :func:`print_table` render a plain-text table.
- :func:`email` / :func:`emails` are the valid emails every benchmark writes; ``UNLIMITED``
  the emulator arguments for a run without rate limits, ``UNLIMITED_RATE`` the client's;
  :func:`bench_client` the client every benchmark measures; :func:`emulator_stats` reads
  ``GET /__emulator__/stats`` of an emulator process.

Benchmarks only measure and print; nothing here asserts a speed.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "TS",
    "UNLIMITED",
    "UNLIMITED_RATE",
    "CpuMeter",
    "EmulatorProcess",
    "bench_client",
    "counted_times",
    "cpu_seconds",
    "email",
    "emails",
    "emulator_arrivals",
    "emulator_stats",
    "format_table",
    "peak_rss_bytes",
    "physical_limit",
    "plot_window",
    "print_table",
    "rss_bytes",
]

_LISTENING = re.compile(r"^listening on (http://\S+?):(\d+)\s*$")
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # the scripts import hubengage from this checkout
    sys.path.insert(1, str(REPO_ROOT))

from hubengage import HubSpot, RateLimits, RetryConfig  # noqa: E402

#: The timestamp of every generated engagement.
TS = "2026-01-15T10:00:00.000Z"
#: Emulator arguments: any free port, no burst window, no daily quota.
UNLIMITED = ("--port", "0", "--burst", "0", "--daily", "0")


#: Client limits no benchmark reaches (the emulator runs without limits too).
UNLIMITED_RATE = RateLimits(requests_per_interval=10**6, interval_seconds=10.0, daily=None)


def bench_client(url: str, rate_limits: RateLimits = UNLIMITED_RATE, **options: Any) -> HubSpot:
    """The client the benchmarks measure, on the emulator at ``url``.

    Defaults: 8 attempts per request, a 30 s timeout; ``options`` override them (and may set
    any other ``HubSpot`` argument).
    """
    options.setdefault("retry", RetryConfig(max_attempts=8))
    options.setdefault("timeout", 30.0)
    options.setdefault("access_token", "bench")
    return HubSpot(base_url=url, rate_limits=rate_limits, **options)


def emulator_stats(url: str) -> dict[str, Any]:
    """``GET /__emulator__/stats`` of the emulator at ``url``."""
    with urllib.request.urlopen(f"{url}/__emulator__/stats") as resp:
        stats: dict[str, Any] = json.load(resp)
    return stats


def emulator_arrivals(url: str) -> dict[str, Any]:
    """``GET /__emulator__/arrivals``: per hashed token, when each request was counted
    against the burst window and when each 429 was sent (the emulator's monotonic clock)."""
    with urllib.request.urlopen(f"{url}/__emulator__/arrivals") as resp:
        arrivals: dict[str, Any] = json.load(resp)
    return arrivals


def counted_times(arrivals: dict[str, Any]) -> tuple[list[float], list[float]]:
    """(every counted arrival, every 429) over all tokens, sorted."""
    counted: list[float] = []
    rejected: list[float] = []
    for token in arrivals["tokens"].values():
        counted += token["counted"]
        rejected += [r["t"] for r in token["rejected"]]
    return sorted(counted), sorted(rejected)


def physical_limit(seconds: float, maximum: int, interval: float) -> float:
    """The physical limit of a rolling window of ``maximum`` per ``interval`` over a span of
    ``seconds``: ``maximum`` at once, then ``maximum / interval`` per second, i.e.
    ``maximum * (seconds / interval + 1)`` (what the issues and earlier results quote)."""
    return maximum * (seconds / interval + 1)


def plot_window(path: str, series: dict[str, list[float]], rejected: dict[str, list[float]],
                maximum: int, interval: float, title: str) -> None:
    """Draw, for each client, what HubSpot counted in its rolling window over time against
    the limit, with the 429s (``matplotlib``, in the ``bench`` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hubengage.emulator import window_counts

    # Each client ran against its own emulator: each series counts from its own first arrival.
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    step = interval / 50
    end = 0.0
    for label, times in series.items():
        if not times:
            continue
        origin = times[0]
        points = window_counts(times, interval, step)
        ax.plot([t - origin for t, _ in points], [n for _, n in points], label=label, lw=1.4)
        end = max(end, times[-1] - origin)
        refused = rejected.get(label, [])
        if refused:
            ax.scatter([t - origin for t in refused], [maximum * 1.04] * len(refused),
                       marker="x", color="red", s=18, label=f"429s ({label}): {len(refused)}")
    ax.axhline(maximum, color="black", ls="--", lw=1, label=f"limit: {maximum} / {interval:g} s")
    ax.set_xlim(0, max(end, interval) * 1.02)
    ax.set_ylim(0, maximum * 1.15)
    ax.set_xlabel("seconds since the client's first counted request")
    ax.set_ylabel(f"requests counted in the last {interval:g} s")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def email(i: int, tag: str = "bench") -> dict[str, str]:
    """The properties of a valid email, its subject ``"{tag} {i}"``."""
    return {"hs_timestamp": TS, "hs_email_direction": "EMAIL", "hs_email_subject": f"{tag} {i}"}


def emails(n: int, tag: str = "bench") -> Iterator[dict[str, str]]:
    """``n`` emails, generated lazily (nothing is held in memory)."""
    return (email(i, tag) for i in range(n))


# ---------------------------------------------------------------------------------------------
# Process measurements (Linux /proc; None elsewhere)


def cpu_seconds(pid: int | None = None) -> float | None:
    """User + system CPU seconds used so far by process ``pid`` (default: this process)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _status_kib(pid: int | None, key: str) -> int | None:
    try:
        text = Path(f"/proc/{pid if pid is not None else 'self'}/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def rss_bytes(pid: int | None = None) -> int | None:
    """Resident set size of ``pid`` (default: this process) in bytes."""
    kib = _status_kib(pid, "VmRSS")
    return None if kib is None else kib * 1024


def peak_rss_bytes(pid: int | None = None) -> int | None:
    """Peak resident set size ("high water mark") of ``pid`` in bytes."""
    kib = _status_kib(pid, "VmHWM")
    return None if kib is None else kib * 1024


@dataclass
class CpuMeter:
    """CPU use of one process between :meth:`start` and :meth:`stop`, as a percentage of a core."""

    pid: int | None = None
    _cpu0: float | None = field(default=None, init=False)
    _wall0: float = field(default=0.0, init=False)
    cpu: float | None = field(default=None, init=False)
    wall: float = field(default=0.0, init=False)

    def start(self) -> None:
        self._cpu0 = cpu_seconds(self.pid)
        self._wall0 = time.perf_counter()

    def stop(self) -> None:
        self.wall = time.perf_counter() - self._wall0
        now = cpu_seconds(self.pid)
        self.cpu = None if now is None or self._cpu0 is None else now - self._cpu0

    @property
    def percent(self) -> float | None:
        """CPU seconds per wall second × 100 (100 means one core fully busy)."""
        if self.cpu is None or self.wall <= 0:
            return None
        return 100.0 * self.cpu / self.wall


# ---------------------------------------------------------------------------------------------
# The emulator in its own process


class EmulatorProcess:
    """``python -m hubengage.emulator ARGS`` as a child process; use as a context manager."""

    def __init__(
        self,
        args: Sequence[str] = ("--port", "0", "--burst", "0", "--daily", "0"),
        *,
        profile_to: Path | None = None,
        startup_timeout: float = 20.0,
        python: str = sys.executable,
    ) -> None:
        self.args = list(args)
        self.profile_to = profile_to
        self.startup_timeout = startup_timeout
        self.python = python
        self.url = ""
        self.output: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader: threading.Thread | None = None

    @property
    def command(self) -> list[str]:
        """The command line that starts the emulator."""
        profile = ["-m", "cProfile", "-o", str(self.profile_to)] if self.profile_to else []
        return [self.python, *profile, "-m", "hubengage.emulator", *self.args]

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("emulator not started")
        return self._proc.pid

    def start(self) -> str:
        """Start the process and return its base URL once it prints ``listening on ...``."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        self._proc = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=env,
        )
        self._reader = threading.Thread(target=self._drain, name="emulator-output", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                self.stop()
                raise RuntimeError(
                    f"emulator did not print 'listening on' within {self.startup_timeout}s"
                ) from None
            if line is None:
                code = self._proc.wait()
                raise RuntimeError(f"emulator exited ({code}) before listening:\n{self.log}")
            match = _LISTENING.match(line)
            if match:
                self.url = f"{match.group(1)}:{match.group(2)}"
                return self.url
            if remaining <= 0:  # pragma: no cover - only on a wedged child
                self.stop()
                raise RuntimeError(f"emulator did not start:\n{self.log}")

    def _drain(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.output.append(line.rstrip("\n"))
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    @property
    def log(self) -> str:
        """Everything the emulator printed so far."""
        return "\n".join(self.output)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the emulator: SIGINT, then SIGTERM, then SIGKILL. Returns its exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            for sig in (signal.SIGINT, signal.SIGTERM):
                proc.send_signal(sig)
                try:
                    proc.wait(timeout=timeout)
                    break
                except subprocess.TimeoutExpired:
                    continue
            else:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=timeout)
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# Output


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: a header, a rule, one line per row; numbers right-aligned."""

    def cell(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:,.1f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text)]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in text)])


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print :func:`format_table` followed by a blank line, flushing stdout."""
    print(format_table(headers, rows), end="\n\n", flush=True)
