"""Counting times in a sliding window, as a rolling rate limit does: for tests and benchmarks.

A rolling limit of N per ``interval`` counts, at time ``t``, the requests that arrived in the
half-open window ``(t - interval, t]`` (the emulator forgets a request at exactly
``arrival + interval``, as its own windows do). :func:`max_in_window` is the most such a
window ever held, e.g. of ``Emulator.arrivals(token)["counted"]``, to check that a client
never had more than N requests counted at once; :func:`window_counts` samples the count on a
grid, for plotting. A time ``x`` is in the window ending at ``t`` exactly when
``t - interval < x <= t``, computed in that form (the same float expression everywhere).
Pure functions, no I/O.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

__all__ = ["max_in_window", "window_counts"]


def _sorted(times: Sequence[float]) -> list[float]:
    values = list(times)
    if any(math.isnan(x) for x in values):
        raise ValueError("times must not contain NaN")
    if any(values[i] > values[i + 1] for i in range(len(values) - 1)):
        values.sort()
    return values


def _check_positive(name: str, value: float) -> None:
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def max_in_window(times: Sequence[float], interval: float) -> int:
    """The largest number of ``times`` in any half-open window ``(t - interval, t]``.

    Exact over every real ``t`` (the largest count is always reached at a window ending on
    one of the times); O(n) on sorted input, O(n log n) otherwise. 0 for no times.
    """
    _check_positive("interval", interval)
    values = _sorted(times)
    best = 0
    lo = 0
    for hi, t in enumerate(values):
        cutoff = t - interval
        while values[lo] <= cutoff:  # values[hi] > cutoff, so lo never passes hi
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def window_counts(
    times: Sequence[float],
    interval: float,
    step: float,
    *,
    start: float | None = None,
    end: float | None = None,
) -> list[tuple[float, int]]:
    """``(t, count)`` at ``t = start, start + step, …`` up to ``end``: how many ``times`` lie
    in the window ``(t - interval, t]`` ending at each ``t``.

    ``start`` defaults to the earliest time and ``end`` to the latest plus ``interval`` (the
    count is back to 0 there). No times and no ``start``/``end``: an empty list.
    """
    _check_positive("interval", interval)
    _check_positive("step", step)
    values = _sorted(times)
    if start is None:
        if not values:
            return []
        start = values[0]
    if end is None:
        if not values:
            return []
        end = values[-1] + interval
    out: list[tuple[float, int]] = []
    k = 0
    while (t := start + k * step) <= end:
        inside = bisect.bisect_right(values, t) - bisect.bisect_right(values, t - interval)
        out.append((t, inside))
        k += 1
    return out
