"""``max_in_window`` and ``window_counts``: sliding-window counts, checked against a brute
force that tests each window's membership ``t - interval < x <= t`` directly."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubengage.emulator import max_in_window, window_counts


def brute_count(times: list[float], interval: float, t: float) -> int:
    return sum(1 for x in times if t - interval < x <= t)


def brute_max(times: list[float], interval: float) -> int:
    # O(n^2): every window ending on one of the times (the maximum is always among them),
    # and, to check that claim too, windows ending just after each time.
    ends = [*times, *(math.nextafter(x, math.inf) for x in times)]
    return max((brute_count(times, interval, t) for t in ends), default=0)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
intervals = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False, allow_infinity=False)
#: Times on a coarse, exact grid, so that many fall exactly on a window's edge.
grid = st.integers(min_value=0, max_value=40).map(lambda k: k * 0.25)
grid_intervals = st.sampled_from([0.25, 0.5, 0.75, 1.0, 2.5])


@settings(derandomize=True, max_examples=300)
@given(st.lists(finite, max_size=60), intervals)
def test_max_in_window_matches_the_brute_force(times: list[float], interval: float) -> None:
    assert max_in_window(times, interval) == brute_max(times, interval)


@settings(derandomize=True, max_examples=300)
@given(st.lists(grid, max_size=60), grid_intervals)
def test_max_in_window_on_window_edges(times: list[float], interval: float) -> None:
    assert max_in_window(times, interval) == brute_max(times, interval)
    assert max_in_window(sorted(times), interval) == max_in_window(times, interval)


@settings(derandomize=True, max_examples=200)
@given(st.lists(grid, max_size=40), grid_intervals,
       st.sampled_from([0.05, 0.125, 0.25, 0.3, 1.0]))
def test_window_counts_match_the_brute_force(times: list[float], interval: float,
                                             step: float) -> None:
    points = window_counts(times, interval, step)
    if not times:
        assert points == []
        return
    start, end = min(times), max(times) + interval
    assert points[0][0] == start
    assert [t for t, _ in points] == [start + k * step for k in range(len(points))]
    assert points[-1][0] <= end < points[-1][0] + step
    for t, count in points:
        assert count == brute_count(times, interval, t)
    assert max(count for _, count in points) <= max_in_window(times, interval)


def test_examples_and_edges() -> None:
    assert max_in_window([], 1.0) == 0
    assert max_in_window([5.0], 1.0) == 1
    assert max_in_window([0.0, 1.0, 2.0], 1.0) == 1  # (t - 1, t] leaves t - 1 out
    assert max_in_window([0.0, 0.5, 1.0, 1.2], 1.0) == 3
    assert max_in_window([3.0, 3.0, 3.0], 0.001) == 3
    assert max_in_window([2.0, 0.1, 1.9, 0.0], 1.0) == 2  # unsorted input
    assert window_counts([0.0, 0.5], 1.0, 0.5) == [(0.0, 1), (0.5, 2), (1.0, 1), (1.5, 0)]
    assert window_counts([0.0], 1.0, 0.5, start=-1.0, end=0.0) == [
        (-1.0, 0), (-0.5, 0), (0.0, 1)]
    assert window_counts([], 1.0, 1.0, start=0.0, end=1.0) == [(0.0, 0), (1.0, 0)]
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            max_in_window([1.0], bad)
        with pytest.raises(ValueError):
            window_counts([1.0], 1.0, bad)
    with pytest.raises(ValueError):
        max_in_window([1.0, math.nan], 1.0)
