"""Wilson intervals against the formula, statsmodels and scipy; the one small-sample threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from catena_nb.analysis.intervals import SMALL_SAMPLE, small_sample, wilson_interval


def test_wilson_matches_values_computed_by_hand() -> None:
    """8 of 10 gives (0.4902, 0.9433); 0 of 10 and 10 of 10 end exactly at 0 and 1; 0 of 3 reaches 56%."""
    low, high = wilson_interval([8, 0, 10, 0, 3], [10, 10, 10, 3, 3])
    assert low == pytest.approx([0.4902, 0.0, 0.7225, 0.0, 0.4385], abs=5e-5)
    assert high == pytest.approx([0.9433, 0.2775, 1.0, 0.5615, 1.0], abs=5e-5)
    assert low[1] == 0.0
    assert high[2] == 1.0
    assert high[4] == 1.0


def test_wilson_by_the_formula() -> None:
    """The vectorised bounds equal the textbook formula evaluated one value at a time."""
    z = 1.959963984540054
    for k, n in [(1, 7), (45, 50), (500, 1000), (3, 4000)]:
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        low, high = wilson_interval(k, n)
        assert float(low) == pytest.approx(centre - half, rel=1e-12)
        assert float(high) == pytest.approx(centre + half, rel=1e-12)


# statsmodels 0.15.0 proportion_confint(k, n, alpha=0.05, method="wilson"), recorded; scipy 1.17.1 agrees
RECORDED_WILSON = [
    (0, 5, 0.0, 0.43448246478317487),
    (5, 5, 0.5655175352168252, 1.0),
    (17, 40, 0.28509392559950375, 0.5780493145800893),
    (1, 1000, 0.00017654637062607765, 0.005642558597957937),
    (8, 10, 0.49016247153664183, 0.9433178485456247),
    (0, 3, 0.0, 0.5614970317550455),
    (3, 3, 0.43850296824495444, 1.0),
    (145, 554, 0.22685895066555012, 0.2998883073132495),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), RECORDED_WILSON)
def test_wilson_matches_recorded_statsmodels_values(k: int, n: int, low: float, high: float) -> None:
    """The bounds equal statsmodels' Wilson interval, k=0 and k=n included."""
    ours = wilson_interval(k, n)
    assert (float(ours[0]), float(ours[1])) == pytest.approx((low, high), abs=1e-12)


def test_wilson_matches_statsmodels_when_installed() -> None:
    """Where statsmodels is installed, its method='wilson' gives the same bounds, k=0 and k=n included."""
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    for k, n in [(0, 5), (5, 5), (17, 40), (1, 1000)]:
        ref = proportion.proportion_confint(k, n, alpha=0.05, method="wilson")
        assert [float(b) for b in wilson_interval(k, n)] == pytest.approx(list(ref), abs=1e-9)


def test_wilson_matches_scipy_when_installed() -> None:
    """Where scipy is installed, binomtest(...).proportion_ci(method='wilson') gives the same bounds."""
    stats = pytest.importorskip("scipy.stats")
    for k, n in [(0, 5), (5, 5), (17, 40), (1, 1000)]:
        ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert [float(b) for b in wilson_interval(k, n)] == pytest.approx([ref.low, ref.high], abs=1e-9)


def test_wilson_nan_without_trials_and_rejects_bad_counts() -> None:
    """No trials give NaN bounds; a count above n or below 0 is an error."""
    low, high = wilson_interval(0, 0)
    assert np.isnan(low)
    assert np.isnan(high)
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(4, 3)
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(-1, 3)


def test_small_sample_is_below_thirty_settled_operations() -> None:
    """A count below 30 settled operations is a small sample, 30 itself is not."""
    assert SMALL_SAMPLE == 30
    assert small_sample([0, 29, 30, 1000]).tolist() == [True, True, False, False]
