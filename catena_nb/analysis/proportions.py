"""Two independent binomial proportions, vectorised over groups: the difference, the ratio, the score test.

Each function takes arrays of counts, ``k1`` failures of ``n1`` (the later window, say) against ``k0`` of
``n0`` (the earlier one), and compares ``p1 = k1 / n1`` with ``p0 = k0 / n0``. The methods are those with
good coverage at the rates delivery audits see (a few percent, a few dozen operations), and they agree with
statsmodels (the tests check it, on thousands of random cases and on the counts 0 and n):

- the difference ``p1 - p0`` with Newcombe's hybrid score interval (Newcombe 1998, method 10), built from the
  two Wilson intervals: statsmodels' ``confint_proportions_2indep(method="newcomb")``;
- the ratio ``p1 / p0`` with the Miettinen–Nurminen score interval (1985): Koopman's (1984) score interval
  with the variance corrected by ``N / (N - 1)``, statsmodels' ``compare="ratio", method="score"``;
- the two-sided score test of ``p1 == p0`` (the Miettinen–Nurminen statistic with the pooled rate, which is
  the constrained maximum-likelihood estimate under equality): ``test_proportions_2indep(method="score")``;
- Benjamini–Hochberg q-values over many such tests: ``multipletests(method="fdr_bh")``.

The ratio interval and the test share one statistic, so a ratio interval that excludes 1 goes with a p-value
under ``1 - level``. numpy only: scipy is needed by none of it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from catena_nb.analysis.intervals import Z_95, safe_ratio, wilson_interval

Floats = npt.NDArray[np.float64]

_LOG_BOUND = 40.0  # ratios searched in [e^-40, e^40]: beyond, the bound is reported as 0 or infinity
_BISECTIONS = 120  # halvings of that range: far below float resolution
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _floats(*values: npt.ArrayLike) -> list[Floats]:
    return [np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(*values)]


def newcombe_interval(
    k1: npt.ArrayLike, n1: npt.ArrayLike, k0: npt.ArrayLike, n0: npt.ArrayLike, *, z: float = Z_95
) -> tuple[Floats, Floats]:
    """Newcombe's hybrid score interval for ``p1 - p0``; NaN where ``n1`` or ``n0`` is 0."""
    a, m1, b, m0 = _floats(k1, n1, k0, n0)
    p1, p0 = safe_ratio(a, m1), safe_ratio(b, m0)
    low1, high1 = wilson_interval(a, m1, z=z)
    low0, high0 = wilson_interval(b, m0, z=z)
    diff = p1 - p0
    low = diff - np.sqrt((p1 - low1) ** 2 + (high0 - p0) ** 2)
    high = diff + np.sqrt((high1 - p1) ** 2 + (p0 - low0) ** 2)
    return low, high


def normal_two_sided(z: npt.ArrayLike) -> Floats:
    """The two-sided p-value ``2 * P(Z > |z|)`` of standard normal statistics (NaN stays NaN)."""
    values = np.abs(np.asarray(z, dtype=np.float64))
    out = np.full(values.shape, np.nan)
    finite = ~np.isnan(values)
    out[finite] = np.asarray(_erfc(values[finite] / math.sqrt(2.0)), dtype=np.float64)
    return out


def score_test(
    k1: npt.ArrayLike, n1: npt.ArrayLike, k0: npt.ArrayLike, n0: npt.ArrayLike
) -> tuple[Floats, Floats]:
    """The two-sided score test of ``p1 == p0``: ``(statistic, p_value)``.

    The statistic is ``(p1 - p0) / sqrt(p(1 - p)(1/n1 + 1/n0) N/(N - 1))`` with ``p`` the pooled rate and
    ``N = n1 + n0``. NaN where ``n1`` or ``n0`` is 0. Where both windows are all failures or all successes
    the statistic is 0/0: it is reported as 0 with a p-value of 1 (the observed difference is exactly 0 and
    no table is less likely), where statsmodels answers NaN.
    """
    a, m1, b, m0 = _floats(k1, n1, k0, n0)
    total = m1 + m0
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (a + b) / total
        var = pooled * (1.0 - pooled) * (1.0 / m1 + 1.0 / m0) * total / (total - 1.0)
        stat = (a / m1 - b / m0) / np.sqrt(var)
    defined = (m1 > 0) & (m0 > 0)
    stat = np.where(defined & (var <= 0), 0.0, stat)
    stat = np.where(defined, stat, np.nan)
    return stat, normal_two_sided(stat)


def _ratio_statistic(theta: Floats, a: Floats, m1: Floats, b: Floats, m0: Floats) -> Floats:
    """The Miettinen–Nurminen score statistic of ``p1 / p0 == theta``, decreasing in ``theta``."""
    total = m1 + m0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # the constrained MLE of p0 is the smaller root of a quadratic; written as 2c / (-b + sqrt(disc))
        # it keeps its precision when theta is very large or very small
        minus_b = m1 * theta + a + m0 + b * theta
        disc = np.maximum(minus_b * minus_b - 4.0 * total * theta * (a + b), 0.0)
        q0 = 2.0 * (a + b) / (minus_b + np.sqrt(disc))
        q1 = np.minimum(q0 * theta, 1.0)
        var = (q1 * (1.0 - q1) / m1 + theta * theta * q0 * (1.0 - q0) / m0) * total / (total - 1.0)
        stat: Floats = (a / m1 - theta * b / m0) / np.sqrt(np.maximum(var, 0.0))
    return stat


def _solve_ratio(target: float, a: Floats, m1: Floats, b: Floats, m0: Floats) -> Floats:
    """The ``theta`` at which the ratio statistic equals ``target``, by bisection on ``log(theta)``."""
    lo = np.full(a.shape, -_LOG_BOUND)
    hi = np.full(a.shape, _LOG_BOUND)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        stat = _ratio_statistic(np.exp(mid), a, m1, b, m0)
        # 0/0 happens only at the estimate itself, where both windows are all failures: the statistic is 0
        above = np.where(np.isnan(stat), 0.0, stat) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    root = np.exp(0.5 * (lo + hi))
    root = np.where(hi <= -_LOG_BOUND + 1e-9, 0.0, root)
    return np.where(lo >= _LOG_BOUND - 1e-9, np.inf, root)


def ratio_interval(
    k1: npt.ArrayLike, n1: npt.ArrayLike, k0: npt.ArrayLike, n0: npt.ArrayLike, *, z: float = Z_95
) -> tuple[Floats, Floats, Floats]:
    """The risk ratio ``p1 / p0`` and its Miettinen–Nurminen score interval: ``(ratio, low, high)``.

    No failure in either window (``k1 == k0 == 0``) gives a NaN ratio and the interval ``(0, inf)``; none in
    the earlier window only gives an infinite ratio and upper bound; none in the later one a ratio and lower
    bound of 0. NaN where ``n1`` or ``n0`` is 0.
    """
    a, m1, b, m0 = _floats(k1, n1, k0, n0)
    defined = (m1 > 0) & (m0 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (a / m1) / (b / m0)
    ratio = np.where(defined & (a == 0) & (b > 0), 0.0, ratio)
    ratio = np.where(defined & (a > 0) & (b == 0), np.inf, ratio)
    solvable = defined & ((a > 0) | (b > 0))
    # the statistic needs positive sizes everywhere: dummy ones where nothing is solved
    sizes = [np.where(solvable, v, 1.0) for v in (a, m1, b, m0)]
    low = np.where(solvable, _solve_ratio(z, *sizes), 0.0)
    high = np.where(solvable, _solve_ratio(-z, *sizes), np.inf)
    low = np.where(solvable & (a == 0), 0.0, low)
    high = np.where(solvable & (b == 0), np.inf, high)
    nan = ~defined
    return np.where(nan, np.nan, ratio), np.where(nan, np.nan, low), np.where(nan, np.nan, high)


def bh_qvalues(p_values: npt.ArrayLike) -> Floats:
    """Benjamini–Hochberg adjusted p-values (q-values) over the non-NaN ``p_values``; NaN stays NaN.

    Computed as statsmodels' ``multipletests(method="fdr_bh")`` does, operation for operation, so that the
    two agree exactly: ``p_(i) / (i / m)``, then the running minimum from the largest, capped at 1.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    rows = np.flatnonzero(~np.isnan(p))
    m = len(rows)
    if not m:
        return out
    values = p[rows]
    order = np.argsort(values)
    raw = values[order] / (np.arange(1, m + 1) / float(m))
    q = np.minimum.accumulate(raw[::-1])[::-1]
    q[q > 1] = 1
    adjusted = np.empty(m)
    adjusted[order] = q
    out[rows] = adjusted
    return out
