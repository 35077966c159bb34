"""The Bernoulli CUSUM of the incident finder: its recursion, its threshold's false alarms, its periods."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catena_nb.analysis import changepoints as cp


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=60))
def test_the_vectorised_cusum_is_the_recursion(w: list[float]) -> None:
    """cusum() equals S[t] = max(0, S[t-1] + w[t]) computed one step at a time."""
    s, expected = 0.0, []
    for value in w:
        s = max(0.0, s + value)
        expected.append(s)
    assert np.allclose(cp.cusum(np.asarray(w)), expected, atol=1e-9)


def test_the_raised_rate_has_the_odds_ratio() -> None:
    """p1 has ratio times the odds of p0, and stays below 1 however high p0 is."""
    p1 = cp.raised_rate(0.2, 3.0)
    assert (p1 / (1 - p1)) / (0.2 / 0.8) == pytest.approx(3.0)
    assert cp.raised_rate(0.9, 10.0) < 1.0


def test_the_threshold_keeps_its_false_alarm_rate() -> None:
    """Series drawn afresh under the baseline cross the simulated threshold about false_alarm of the time."""
    rng = np.random.default_rng(1)
    hours = np.arange(24 * 7)
    n = np.where((hours % 24 >= 12) | (hours % 24 < 1), 30.0, 3.0)  # busy days, quiet nights
    p0 = 0.03
    p1 = cp.raised_rate(p0, 2.5)
    h = cp.threshold(n, p0, p1, false_alarm=0.05, simulations=2000)
    x = rng.binomial(n.astype(np.int64), p0, size=(3000, len(n))).astype(np.float64)
    crossed = (cp.cusum(cp.increments(n, x, p0, p1)).max(axis=1) > h).mean()
    assert 0.035 < crossed < 0.065


def test_two_sends_at_night_cannot_raise_an_alarm_alone() -> None:
    """A night hour in which both of its two sends failed moves the CUSUM by less than its threshold."""
    n = np.full(24 * 30, 2.0)
    p0 = 0.02
    p1 = cp.raised_rate(p0, 2.5)
    h = cp.threshold(n, p0, p1)
    x = np.zeros_like(n)
    x[100] = 2.0
    assert cp.increments(n, x, p0, p1).max() < h
    assert cp.detect(n, x, p0, p1, h) == []


def test_a_raised_run_is_found_with_its_onset_and_end() -> None:
    """Eight buckets at 30% in a series at 2% are one period, found to the bucket."""
    n = np.full(200, 40.0)
    x = np.zeros(200)
    x[::50] = 1.0  # the usual few failures
    x[120:128] = 12.0
    p0 = 0.02
    p1 = cp.raised_rate(p0, 2.5)
    found = cp.detect(n, x, p0, p1, cp.threshold(n, p0, p1))
    assert [(s.start, s.stop) for s in found] == [(120, 128)]
    assert 120 <= found[0].alarm < 128


def test_empty_buckets_move_nothing() -> None:
    """A series without operations has an infinite threshold and no period."""
    n = np.zeros(10)
    assert cp.threshold(n, 0.02, 0.05) == float("inf")
    assert cp.detect(n, np.zeros(10), 0.02, 0.05, float("inf")) == []


def test_a_series_seen_again_gets_the_same_threshold() -> None:
    """The threshold of volumes and rates already simulated is the one simulated, also for a copy."""
    n = np.random.default_rng(3).integers(0, 30, 200).astype(float)
    first = cp.threshold(n, 0.05, cp.raised_rate(0.05, 3.0))
    assert cp.threshold(n.copy(), 0.05, cp.raised_rate(0.05, 3.0)) == first
    assert cp.threshold(n, 0.05, cp.raised_rate(0.05, 3.0), false_alarm=0.2) < first
