"""Random two-window counts and statsmodels' answers for them: the cross-checks of compare_periods.

Shared by ``tests/analysis/test_proportions.py`` (which asserts the agreement) and
``benchmarks/compare_crosscheck.py`` (which prints the largest differences).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from catena_nb.analysis.proportions import bh_qvalues, newcombe_interval, ratio_interval, score_test

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Counts:
    """``k1`` failures of ``n1`` (after) against ``k0`` of ``n0`` (before), one case per index."""

    k1: Ints
    n1: Ints
    k0: Ints
    n0: Ints


def random_counts(cases: int, seed: int = 0, max_n: int = 500) -> Counts:
    """Random sizes and rates, with a fifth of the cases at each edge: k1=0, k0=0, k1=n1, k0=n0."""
    rng = np.random.default_rng(seed)
    n1 = rng.integers(1, max_n, cases)
    n0 = rng.integers(1, max_n, cases)
    # rates from near 0 (the usual) to 1, so that both the tails and the middle are exercised
    k1 = rng.binomial(n1, rng.beta(0.5, 3.0, cases))
    k0 = rng.binomial(n0, rng.beta(0.5, 3.0, cases))
    fifth = cases // 5
    k1[:fifth] = 0
    k0[fifth : 2 * fifth] = 0
    k1[2 * fifth : 3 * fifth] = n1[2 * fifth : 3 * fifth]
    k0[3 * fifth : 4 * fifth] = n0[3 * fifth : 4 * fifth]
    return Counts(k1, n1, k0, n0)


@dataclass(frozen=True)
class Agreement:
    """The largest absolute differences from statsmodels over the cases, and how many cases each covers."""

    cases: int
    newcombe: float
    score_p: float
    score_cases: int  # the cases where statsmodels gives a p-value (not 0/0)
    # |log bound - log statsmodels' bound| where statsmodels' cubic is right: 0 < k1 < n1 and 0 < k0 < n0
    # (at k = n its roots are complex or the estimate itself; our bounds invert its test there too)
    ratio_log: float
    ratio_cases: int
    ratio_inversion: float  # |statsmodels' score p-value at our bounds - 0.05|, every case with finite bounds
    inversion_cases: int
    bh_equal: bool
    bh_groups: int


def agreement(counts: Counts, *, bh_sets: int = 50) -> Agreement:
    """Each statistic of :mod:`catena_nb.analysis.proportions` against statsmodels, case by case."""
    k1, n1, k0, n0 = counts.k1, counts.n1, counts.k0, counts.n0
    low, high = newcombe_interval(k1, n1, k0, n0)
    _, p_values = score_test(k1, n1, k0, n0)
    _, rr_low, rr_high = ratio_interval(k1, n1, k0, n0)
    newcombe = score_p = ratio_log = inversion = 0.0
    score_cases = ratio_cases = inversion_cases = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns of its own 0/0 at the edges
        for i in range(len(k1)):
            a, b, c, d = int(k1[i]), int(n1[i]), int(k0[i]), int(n0[i])
            ref_low, ref_high = confint_proportions_2indep(a, b, c, d, method="newcomb")
            newcombe = max(newcombe, abs(ref_low - low[i]), abs(ref_high - high[i]))
            ref_p = test_proportions_2indep(a, b, c, d, method="score").pvalue
            if np.isfinite(ref_p):
                score_p = max(score_p, abs(ref_p - p_values[i]))
                score_cases += 1
            if 0 < a < b and 0 < c < d:
                ref = confint_proportions_2indep(a, b, c, d, method="score", compare="ratio")
                ours = (rr_low[i], rr_high[i])
                ratio_log = max(
                    ratio_log, *(abs(np.log(r) - np.log(o)) for r, o in zip(ref, ours, strict=True))
                )
                ratio_cases += 1
            for bound in (rr_low[i], rr_high[i]):
                if 0 < bound < np.inf:
                    at = test_proportions_2indep(a, b, c, d, value=bound, method="score", compare="ratio")
                    inversion = max(inversion, abs(at.pvalue - 0.05))
                    inversion_cases += 1
    rng = np.random.default_rng(1)
    bh_equal, groups = True, 0
    for size in rng.integers(1, 200, bh_sets):
        p = rng.uniform(0, 1, size) ** 3  # many small p-values, and ties
        p[: size // 4] = p[size // 4]
        groups += size
        bh_equal &= bool(np.array_equal(bh_qvalues(p), multipletests(p, method="fdr_bh")[1]))
    return Agreement(
        len(k1), newcombe, score_p, score_cases, ratio_log, ratio_cases, inversion, inversion_cases, bh_equal,
        groups,
    )  # fmt: skip
