"""Which TSPs or connections fail more than chance allows: the funnel plot's limits (Spiegelhalter 2005).

A league table of failure rates ranks groups whose rates differ only by chance, and the small ones land at
both ends. A funnel plot instead draws each group's rate against its size, with control limits around the
overall rate that narrow as ``n`` grows: a group outside them failed more (or less) than the overall rate
explains. The limits are Spiegelhalter's (2005, "Funnel plots for comparing institutional performance",
*Statistics in Medicine* 24:1185-1202, appendix A.1.1): **exact binomial** quantiles of Binomial(n, p0),
interpolated between the integers so that the limits are smooth curves in ``n``,

    r = the smallest count with P(R <= r) >= q;  a = (P(R <= r) - q) / (P(R <= r) - P(R <= r - 1));
    limit = (r - a) / n,

at ``q = 0.025, 0.975`` (95%: about 1 group in 20 outside by chance) and ``q = 0.001, 0.999`` (99.8%: 1 in
500). Exact rather than normal limits, because failure rates sit near 0, where the normal approximation
gives lower limits below 0 and upper ones too low for groups of a few dozen operations.

The limits assume that every group shares one rate. With many groups and real differences between TSPs
(overdispersion) many groups land outside; Spiegelhalter's overdispersion adjustments are not applied, so
read a point far outside as "look here", and the table's ``z`` as how far.

Example:
    >>> funnel_table(ops_df, by="connection_id")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb.analysis.comparisons import column_keys
from catena_nb.analysis.grouping import By, names_of, sort_worst_first
from catena_nb.analysis.intervals import safe_ratio, small_sample
from catena_nb.analysis.outcomes import outcome_counts
from catena_nb.frames.checks import mark_table, require, require_by

__all__ = ["FUNNEL_COLUMNS", "FUNNEL_LEVELS", "funnel_limits", "funnel_table"]

# the two funnels: (name, lower quantile, upper quantile)
FUNNEL_LEVELS: tuple[tuple[str, float, float], ...] = (("95", 0.025, 0.975), ("998", 0.001, 0.999))
FUNNEL_COLUMNS = (
    "n", "failures", "rate", "target", "expected", "z", "low_95", "high_95", "low_998", "high_998",
    "outside_95", "outside_998", "position", "small_sample",
)  # fmt: skip
# aliases of the columns a funnel is usually drawn for
_ALIASES = {"connection": "connection_id", "tsp": "source_name"}
_TAIL_SD = 12.0  # the pmf is summed this many standard deviations around the mean: the rest is < 1e-30


def _binomial_cdfs(n: int, p0: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The counts ``k`` around the mean of Binomial(n, p0), and ``P(R <= k)`` at each."""
    mean, sd = n * p0, math.sqrt(n * p0 * (1.0 - p0))
    lo = max(0, math.floor(mean - _TAIL_SD * sd - 10))
    hi = min(n, math.ceil(mean + _TAIL_SD * sd + 10))
    k = np.arange(lo, hi + 1, dtype=np.int64)
    first = math.lgamma(n + 1.0) - math.lgamma(lo + 1.0) - math.lgamma(n - lo + 1.0)
    first += lo * math.log(p0) + (n - lo) * math.log1p(-p0)
    # pmf(k + 1) / pmf(k) = (n - k) / (k + 1) * p0 / (1 - p0): one lgamma per n, the rest in numpy
    steps = np.log((n - k[:-1]) / (k[:-1] + 1.0)) + (math.log(p0) - math.log1p(-p0))
    log_pmf = first + np.concatenate([[0.0], np.cumsum(steps)])
    return k, np.minimum(np.cumsum(np.exp(log_pmf)), 1.0)


def _limit(k: npt.NDArray[np.int64], cdf: npt.NDArray[np.float64], n: int, q: float) -> float:
    r = int(np.searchsorted(cdf, q, side="left"))  # the first count whose cdf reaches q
    r = min(r, len(k) - 1)
    below = cdf[r - 1] if r > 0 else 0.0
    alpha = (cdf[r] - q) / (cdf[r] - below) if cdf[r] > below else 0.0
    return float(min(max((k[r] - alpha) / n, 0.0), 1.0))


def funnel_limits(p0: float, n: npt.ArrayLike) -> pd.DataFrame:
    """The 95% and 99.8% limits of a failure rate around ``p0`` for each group size in ``n``.

    Args:
        p0: the target rate, in [0, 1].
        n: group sizes (settled operations), positive integers.

    Returns:
        One row per size: ``n``, ``low_95``, ``high_95``, ``low_998``, ``high_998`` (rates in [0, 1]).
    """
    sizes = np.asarray(n, dtype=np.int64).ravel()
    rows: dict[str, list[float]] = {
        f"{side}_{name}": [] for name, _, _ in FUNNEL_LEVELS for side in ("low", "high")
    }
    cache: dict[int, tuple[float, ...]] = {}
    for size in sizes.tolist():
        if size not in cache:
            if size <= 0 or p0 <= 0.0 or p0 >= 1.0:  # a degenerate target: the limits are the target
                values: tuple[float, ...] = (float(p0),) * 4 if size > 0 else (math.nan,) * 4
            else:
                k, cdf = _binomial_cdfs(size, p0)
                values = tuple(_limit(k, cdf, size, q) for _, low, high in FUNNEL_LEVELS for q in (low, high))
            cache[size] = values
        for key, value in zip(rows, cache[size], strict=True):
            rows[key].append(value)
    return pd.DataFrame({"n": sizes, **rows})


def resolve_by(frame: pd.DataFrame, by: Any) -> Any:
    """``by`` with the aliases ``"connection"`` and ``"tsp"`` read as their columns, when the frame has no
    column of that name."""
    if isinstance(by, str) and by in _ALIASES and by not in frame.columns:
        return _ALIASES[by]
    return by


def funnel_table(ops_df: pd.DataFrame, by: By = "connection_id") -> pd.DataFrame:
    """Each group's failure rate against the funnel's 95% and 99.8% limits around the overall rate.

    Args:
        ops_df: an operations frame; settled operations only are counted (pending ones are left out).
        by: the groups: ``"connection_id"`` (also ``"connection"``), ``"source_name"`` (``"tsp"``), any
            columns. Grouped by connection, the table also names each connection's TSP.

    Returns:
        One row per group with settled operations: the ``by`` columns (and ``source_name`` for
        connections), then :data:`FUNNEL_COLUMNS`: ``rate`` the failure rate, ``target`` the overall one,
        ``expected`` failures at it, ``z`` the standardised difference ``(rate - target) /
        sqrt(target (1 - target) / n)``, the limits, ``outside_95``/``outside_998``, and ``position``
        (``"above 99.8%"``, ``"above 95%"``, ``"within"``, ``"below 95%"``, ``"below 99.8%"``). Most failures
        first. ``table.attrs["target"]`` holds the overall rate.

    Raises:
        TypeError: ``ops_df`` is not an operations frame.
        ValueError: ``status`` is missing, or ``by`` names no column of it (or is a time Grouper).

    Example:
        >>> funnel_table(ops_df, by="connection")  # doctest: +SKIP
    """
    function = "funnel_table"
    return mark_funnel(compute_funnel(ops_df, by, function, "ops_df"))


def mark_funnel(table: pd.DataFrame) -> pd.DataFrame:
    """Mark ``table`` as ``funnel_table``'s (a chart computing it keeps the name), keeping its target."""
    target = table.attrs.get("target", math.nan)
    mark_table(table, "funnel_table")
    table.attrs["target"] = target
    return table


def compute_funnel(ops_df: Any, by: Any, function: str, argument: str) -> pd.DataFrame:
    """The table of :func:`funnel_table`, with the input checks named for ``function``."""
    require(ops_df, "operations", function, argument, columns=["status"])
    by = resolve_by(ops_df, by)
    require_by(ops_df, by, function, argument)
    keys = column_keys(by, function)
    names = names_of(keys)
    counts = outcome_counts(ops_df, keys)
    settled = (counts["successes"] + counts["failures"]).to_numpy(dtype=np.int64)
    failures = counts["failures"].to_numpy(dtype=np.int64)
    total = int(settled.sum())
    target = float(failures.sum() / total) if total else math.nan
    keep = settled > 0
    out = counts.loc[keep, names].reset_index(drop=True)
    n, k = settled[keep], failures[keep]
    if names == ["connection_id"] and "source_name" in ops_df.columns:
        out = with_tsp(out, ops_df)
    out["n"] = n
    out["failures"] = k
    out["rate"] = safe_ratio(k, n)
    out["target"] = target
    out["expected"] = n * target
    with np.errstate(divide="ignore", invalid="ignore"):
        out["z"] = (out["rate"] - target) / np.sqrt(target * (1.0 - target) / n)
    limits = funnel_limits(target, n) if len(n) else funnel_limits(0.5, [])
    for col in ("low_95", "high_95", "low_998", "high_998"):
        out[col] = limits[col].to_numpy(dtype=np.float64)
    rate = out["rate"].to_numpy(dtype=np.float64)
    above95, above998 = rate > out["high_95"].to_numpy(), rate > out["high_998"].to_numpy()
    below95, below998 = rate < out["low_95"].to_numpy(), rate < out["low_998"].to_numpy()
    out["outside_95"] = above95 | below95
    out["outside_998"] = above998 | below998
    out["position"] = np.select(
        [above998, above95, below998, below95],
        ["above 99.8%", "above 95%", "below 99.8%", "below 95%"],
        default="within",
    )
    out["small_sample"] = small_sample(n)
    out = sort_worst_first(out, ops_df, keys, "failures")
    out.attrs = {"target": target}
    return out


def with_tsp(out: pd.DataFrame, ops_df: pd.DataFrame) -> pd.DataFrame:
    """``out`` (a table by ``connection_id``) with each connection's TSP, its most frequent ``source_name``,
    beside it."""
    pairs = ops_df[["connection_id", "source_name"]].astype("string").value_counts(dropna=False)
    tsp = pairs.reset_index().drop_duplicates("connection_id").set_index("connection_id")["source_name"]
    ids = out["connection_id"].astype("string")
    out.insert(1, "source_name", ids.map(tsp).to_numpy())
    return out
