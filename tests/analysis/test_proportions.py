"""Two proportions compared, against statsmodels: Newcombe's interval, the score test, the ratio's score
interval, Benjamini–Hochberg; on random counts, on the counts 0 and n, and on hypothesis' cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats import proportion as sm
from statsmodels.stats.multitest import multipletests

from catena_nb.analysis.proportions import bh_qvalues, newcombe_interval, ratio_interval, score_test
from tests.support.comparisons import agreement, random_counts


@st.composite
def _counts(draw: st.DrawFn) -> tuple[int, int, int, int]:
    n1 = draw(st.integers(1, 2000))
    n0 = draw(st.integers(1, 2000))
    k1 = draw(st.one_of(st.just(0), st.just(n1), st.integers(0, n1)))
    k0 = draw(st.one_of(st.just(0), st.just(n0), st.integers(0, n0)))
    return k1, n1, k0, n0


def test_random_cases_agree_with_statsmodels() -> None:
    """On 400 random cases (a fifth each with k1=0, k0=0, k1=n1, k0=n0): Newcombe within 1e-9, the score
    p-value within 1e-6, the ratio interval within 1e-6 (log scale) where statsmodels' is right (0 < k < n),
    and each
    ratio bound is where statsmodels' own score test gives p = 0.05."""
    found = agreement(random_counts(400, seed=3), bh_sets=20)
    assert found.newcombe < 1e-9
    assert found.score_p < 1e-6
    assert found.score_cases > 300
    assert found.ratio_log < 1e-6
    assert found.ratio_cases > 50
    assert found.ratio_inversion < 1e-6
    assert found.bh_equal


@settings(max_examples=150, deadline=None)
@given(_counts())
def test_any_counts_agree_with_statsmodels(case: tuple[int, int, int, int]) -> None:
    """Newcombe's interval to 1e-9 and the score test's p-value to 1e-6, whatever the counts."""
    k1, n1, k0, n0 = case
    low, high = newcombe_interval(k1, n1, k0, n0)
    ref_low, ref_high = sm.confint_proportions_2indep(k1, n1, k0, n0, method="newcomb")
    assert abs(float(low) - ref_low) < 1e-9
    assert abs(float(high) - ref_high) < 1e-9
    _, p = score_test(k1, n1, k0, n0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_p = sm.test_proportions_2indep(k1, n1, k0, n0, method="score").pvalue
    if np.isfinite(ref_p):
        assert abs(float(p) - ref_p) < 1e-6
    else:  # both windows all failures or all successes: 0/0 for statsmodels, no difference for us
        assert k1 * n0 == k0 * n1
        assert float(p) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=80))
def test_benjamini_hochberg_equals_statsmodels_exactly(p_values: list[float]) -> None:
    """The q-values are bit for bit statsmodels' fdr_bh adjusted p-values."""
    p = np.array(p_values)
    assert np.array_equal(bh_qvalues(p), multipletests(p, method="fdr_bh")[1])


def test_benjamini_hochberg_leaves_missing_p_values_out() -> None:
    """A NaN p-value stays NaN and does not count among the tests."""
    q = bh_qvalues([0.01, np.nan, 0.04])
    assert np.isnan(q[1])
    assert q[[0, 2]] == pytest.approx(multipletests([0.01, 0.04], method="fdr_bh")[1])


def test_zero_counts_give_defined_answers() -> None:
    """0/0 in a window gives NaN everywhere; no failures anywhere gives p = 1 and a (0, inf) ratio interval;
    none before gives an infinite ratio; none after a ratio of 0; never a crash or a warning."""
    k1, n1, k0, n0 = [3, 0, 0, 5, 0], [10, 10, 0, 20, 50], [0, 0, 0, 0, 4], [10, 10, 5, 20, 40]
    ratio, low, high = ratio_interval(k1, n1, k0, n0)
    _, p = score_test(k1, n1, k0, n0)
    diff_low, diff_high = newcombe_interval(k1, n1, k0, n0)
    assert ratio[0] == np.inf
    assert high[0] == np.inf
    assert 0 < low[0] < np.inf
    assert np.isnan(ratio[1])
    assert low[1] == 0.0
    assert high[1] == np.inf
    assert p[1] == 1.0
    assert np.isnan(ratio[2])
    assert np.isnan(low[2])
    assert np.isnan(p[2])
    assert np.isnan(diff_low[2])
    assert ratio[4] == 0.0
    assert low[4] == 0.0
    assert 0 < high[4] < np.inf
    assert diff_low[1] < 0 < diff_high[1]


def test_ratio_interval_inverts_the_test_where_statsmodels_cubic_does_not() -> None:
    """2 of 2 against 27 of 291: the lower bound is where the score test gives p = 0.05 (statsmodels'
    Koopman root returns the estimate 10.1 itself, at which its own test gives p = 0.72)."""
    ratio, low, high = ratio_interval(2, 2, 27, 291)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels divides by its zero variance at k = n
        at_low = sm.test_proportions_2indep(2, 2, 27, 291, value=float(low), method="score", compare="ratio")
    assert float(ratio) == pytest.approx(291 / 27)
    assert at_low.pvalue == pytest.approx(0.05, abs=1e-9)
    assert float(low) < float(ratio) < float(high)
