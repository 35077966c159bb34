"""Binomial intervals and the small-sample threshold, for every rate of the analysis and the charts.

Wilson's score interval is used everywhere instead of the textbook Wald interval, whose coverage is erratic
near 0% and 100% (Brown, Cai and DasGupta 2001), which is exactly where delivery success rates live.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Z_95 = 1.959963984540054  # the two-sided 95% quantile of the standard normal

SMALL_SAMPLE = 30  # below this many settled operations a rate is flagged as a small sample


def small_sample(n: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each count of settled operations is below :data:`SMALL_SAMPLE` (its rate a rough guess)."""
    return np.asarray(n) < SMALL_SAMPLE


def wilson_interval(
    successes: npt.ArrayLike, n: npt.ArrayLike, *, z: float = Z_95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Wilson score interval of a binomial proportion, vectorised.

    Args:
        successes: counts of the event, scalar or array.
        n: numbers of trials, broadcastable with ``successes``.
        z: the normal quantile; the default gives a two-sided 95% interval.

    Returns:
        ``(low, high)`` as float arrays in ``[0, 1]``; NaN where ``n`` is 0 (no rate exists).

    Raises:
        ValueError: if a count is negative or exceeds its ``n``.
    """
    k = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    k, m = np.broadcast_arrays(k, m)
    if np.any(k < 0) or np.any(k > m):
        raise ValueError("wilson_interval needs 0 <= successes <= n")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / m
        z2 = z * z
        denom = 1.0 + z2 / m
        centre = (p + z2 / (2.0 * m)) / denom
        half = (z / denom) * np.sqrt(p * (1.0 - p) / m + z2 / (4.0 * m * m))
        low = np.clip(centre - half, 0.0, 1.0)
        high = np.clip(centre + half, 0.0, 1.0)
    # The closed forms are exactly 0 and 1 at k=0 and k=n; rounding would otherwise leave 1e-17 residues.
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == m, 1.0, high)
    empty = m == 0
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    return low.astype(np.float64), high.astype(np.float64)


def safe_ratio(num: npt.ArrayLike, den: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``num / den`` as floats, NaN where ``den`` is 0."""
    a = np.asarray(num, dtype=np.float64)
    b = np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: npt.NDArray[np.float64] = np.where(b == 0, np.nan, a / b)
    return out
