"""Did it get worse, and for whom: two windows' failure rates compared per group, corrected for many groups.

Example:
    >>> compare_periods(ops_df, after=("2026-10-25", "2026-11-01"), by="source_name")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from catena_nb.analysis.grouping import SETTLED, By, empty_table, flag, group_sum, keys_of, names_of
from catena_nb.analysis.intervals import Z_95, safe_ratio, small_sample
from catena_nb.analysis.proportions import (
    bh_qvalues,
    newcombe_interval,
    ratio_interval,
    score_test,
)
from catena_nb.frames.checks import mark_table, require, require_by

__all__ = ["COMPARE_COLUMNS", "compare_periods", "previous_window"]

Bound = str | dt.date | dt.datetime | pd.Timestamp
WindowArg = tuple[Bound, Bound]
Window = tuple[pd.Timestamp, pd.Timestamp]

_COUNTS = ["n_before", "failures_before", "n_after", "failures_after"]
COMPARE_COLUMNS = (
    "n_before", "failures_before", "rate_before", "n_after", "failures_after", "rate_after", "difference",
    "diff_ci_low", "diff_ci_high", "risk_ratio", "rr_ci_low", "rr_ci_high", "p_value", "q_value",
    "small_sample",
)  # fmt: skip


def compare_periods(
    ops_df: pd.DataFrame,
    before: WindowArg | None = None,
    after: WindowArg | None = None,
    by: By = None,
    *,
    time_col: str = "created_at",
) -> pd.DataFrame:
    """The failure rate of each group in two windows, its change with 95% intervals, and a test per group.

    Each window is half-open, ``[start, end)`` on ``time_col``. Only settled operations count (``pending``
    ones are left out, as in every rate of the analysis). Per group:

    - ``difference`` is ``rate_after - rate_before`` with Newcombe's hybrid score interval (Newcombe 1998),
      which keeps its coverage near 0% and with few operations, where the Wald interval does not;
    - ``risk_ratio`` is ``rate_after / rate_before`` with the Miettinen–Nurminen score interval (Koopman's
      score interval with the ``N/(N-1)`` correction, the one of statsmodels'
      ``confint_proportions_2indep(compare="ratio", method="score")``);
    - ``p_value`` is the two-sided score test of equal rates (Miettinen–Nurminen; statsmodels'
      ``test_proportions_2indep(method="score")``), and ``q_value`` the Benjamini–Hochberg adjusted p-value
      over the groups that have one: a group with ``q_value < 0.05`` changed, with at most 5% of such
      findings expected to be false across all the groups tested.

    Zero counts are answers, not errors: no failure in one window gives a rate of 0, a ratio of 0 or
    infinity and a one-sided ratio interval; no failure in either window gives a NaN ratio with the interval
    ``(0, inf)`` and a p-value of 1. A group with no settled operation in one of the windows (0/0) has NaN
    for its rate there and for every comparison, and is left out of the q-values' count.

    Args:
        ops_df: an operations frame.
        before: the earlier window ``(start, end)``; by default the window of the same length that ends
            where ``after`` starts (:func:`previous_window`).
        after: the later window ``(start, end)``, required. Bounds are ISO strings, dates (midnight UTC),
            datetimes or Timestamps; a bound without a time zone is taken as UTC, as everywhere in the
            package.
        by: the grouping: columns (``"source_name"``, ``"connection_id"``, a list), or ``None`` for one row.
            Time is the windows' business: a ``pd.Grouper`` is refused.
        time_col: the timestamp that places an operation in a window.

    Returns:
        One row per group seen in either window: the ``by`` columns, then :data:`COMPARE_COLUMNS`
        (``rate_*`` are failure rates; ``small_sample`` when either window has fewer than 30). Smallest
        p-value first. ``table.attrs["windows"]`` holds the two windows used.

    Raises:
        TypeError: ``ops_df`` is not an operations frame; a window is not a pair of times.
        ValueError: ``status`` or ``time_col`` missing, naive or missing times, a ``by`` naming no column or
            a time Grouper, no ``after``, a window whose end is not after its start, or windows that overlap
            (the test takes the two as independent samples; an operation in both would count twice).

    Example:
        >>> compare_periods(ops_df, after=("2026-10-25", "2026-11-01"), by="source_name")  # doctest: +SKIP
    """
    function = "compare_periods"
    require(ops_df, "operations", function, "ops_df", columns=["status"], times=[time_col])
    require_by(ops_df, by, function)
    keys = column_keys(by, function)
    early, late = windows(before, after, function)
    names = names_of(keys)
    times = ops_df[time_col]
    settled = ops_df["status"].isin(SETTLED).fillna(False).to_numpy(dtype=bool)
    failed = flag(ops_df["status"], "failed").to_numpy(dtype=bool)
    in_before = settled & (times >= early[0]).to_numpy(dtype=bool) & (times < early[1]).to_numpy(dtype=bool)
    in_after = settled & (times >= late[0]).to_numpy(dtype=bool) & (times < late[1]).to_numpy(dtype=bool)
    rows = in_before | in_after
    work = ops_df.loc[rows, names].assign(
        n_before=in_before[rows].astype("int64"),
        failures_before=(in_before & failed)[rows].astype("int64"),
        n_after=in_after[rows].astype("int64"),
        failures_after=(in_after & failed)[rows].astype("int64"),
    )
    counts = group_sum(work, keys, _COUNTS) if len(work) or not keys else empty_table(names, _COUNTS)
    out = _compared(counts, names)
    out.attrs = {}
    mark_table(out, function)
    out.attrs["windows"] = {"before": early, "after": late}
    return out


def _compared(counts: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    k0 = counts["failures_before"].to_numpy(dtype=np.float64)
    n0 = counts["n_before"].to_numpy(dtype=np.float64)
    k1 = counts["failures_after"].to_numpy(dtype=np.float64)
    n1 = counts["n_after"].to_numpy(dtype=np.float64)
    out = counts[[*names]].copy()
    out["n_before"] = n0.astype(np.int64)
    out["failures_before"] = k0.astype(np.int64)
    out["rate_before"] = safe_ratio(k0, n0)
    out["n_after"] = n1.astype(np.int64)
    out["failures_after"] = k1.astype(np.int64)
    out["rate_after"] = safe_ratio(k1, n1)
    out["difference"] = out["rate_after"] - out["rate_before"]
    out["diff_ci_low"], out["diff_ci_high"] = newcombe_interval(k1, n1, k0, n0, z=Z_95)
    out["risk_ratio"], out["rr_ci_low"], out["rr_ci_high"] = ratio_interval(k1, n1, k0, n0, z=Z_95)
    _, p_values = score_test(k1, n1, k0, n0)
    out["p_value"] = p_values
    out["q_value"] = bh_qvalues(p_values)
    out["small_sample"] = small_sample(np.minimum(n0, n1))
    out = out.sort_values(["p_value", "n_after"], ascending=[True, False], na_position="last", kind="stable")
    return out.reset_index(drop=True)


def column_keys(by: By, function: str) -> list[Any]:
    """``by`` as its keys, refusing a time Grouper (checked by ``require_by`` before)."""
    keys = keys_of(by)
    if any(isinstance(k, pd.Grouper) for k in keys):
        raise ValueError(
            f"{function} needs an operations frame (cn.operations_frame(ops)) and by= columns "
            "('source_name', 'connection_id'...): time is set by the windows, not by a pd.Grouper"
        )
    return keys


def as_bound(value: Any, function: str, argument: str) -> pd.Timestamp:
    """A window bound as a UTC Timestamp (naive taken as UTC)."""
    if isinstance(value, bool) or not isinstance(value, str | dt.date | dt.datetime | pd.Timestamp):
        raise TypeError(
            f"{function} needs {argument} as a pair (start, end) of ISO strings, dates or datetimes; "
            f"got {type(value).__name__} {value!r}"
        )
    try:
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise ValueError(f"{function}: {argument} has a bound that is not a time: {value!r}") from exc
    if pd.isna(stamp):
        raise ValueError(f"{function}: {argument} has a missing bound (NaT)")
    # assumed: a bound without a time zone is UTC, as every timestamp of the API and of the client's windows
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def as_window(value: Any, function: str, argument: str) -> Window:
    """``(start, end)`` as UTC Timestamps, the end after the start."""
    if isinstance(value, str) or not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(
            f"{function} needs {argument} as a pair (start, end) of ISO strings, dates or datetimes; "
            f"got {value!r}"
        )
    start, end = (as_bound(v, function, argument) for v in value)
    if end <= start:
        raise ValueError(
            f"{function}: {argument} ends ({end.isoformat()}) before or when it starts "
            f"({start.isoformat()}): give (start, end) with end later than start"
        )
    return start, end


def previous_window(start: Bound, end: Bound) -> Window:
    """The window of the same length as ``[start, end)`` that ends where it starts.

    Example:
        >>> previous_window("2026-10-25", "2026-11-01")  # doctest: +SKIP
        (Timestamp('2026-10-18 00:00:00+0000', tz='UTC'), Timestamp('2026-10-25 00:00:00+0000', tz='UTC'))
    """
    first, last = as_window((start, end), "previous_window", "the window")
    return first - (last - first), first


def windows(before: Any, after: Any, function: str) -> tuple[Window, Window]:
    """The two windows checked: each a proper interval, ``before`` by default the one just before."""
    if after is None:
        raise ValueError(
            f"{function} needs the window to compare as after=(start, end); before=(start, end) is optional "
            "(by default the window of the same length just before)"
        )
    late = as_window(after, function, "after")
    early = previous_window(*late) if before is None else as_window(before, function, "before")
    if early[0] < late[1] and late[0] < early[1]:
        raise ValueError(
            f"{function}: the windows overlap (before {early[0].isoformat()} to {early[1].isoformat()}, "
            f"after {late[0].isoformat()} to {late[1].isoformat()}); the comparison needs two separate "
            "sets of operations: give windows that at most touch"
        )
    return early, late
