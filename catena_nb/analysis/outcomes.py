"""What share of the sends failed, and why: outcome rates per group and over time, failures by error type.

Example:
    >>> outcome_rates(ops_df, by="source_name")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catena_nb.analysis.buckets import period_grid, time_buckets
from catena_nb.analysis.grouping import (
    SETTLED,
    By,
    counts_by,
    flag,
    group_sum,
    group_totals,
    keys_of,
    names_of,
    sort_worst_first,
)
from catena_nb.analysis.intervals import safe_ratio, small_sample, wilson_interval
from catena_nb.frames.checks import mark_table, require, require_by

UNKNOWN_ERROR = "unknown"  # the error_type shown for a failure whose logs name none


def outcome_rates(ops_df: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """Success and failure rates of settled operations, with 95% Wilson intervals, per group.

    Args:
        ops_df: an operations frame (:func:`catena_nb.operations_frame`); only ``status`` and the ``by``
            columns are read.
        by: the grouping (see :mod:`catena_nb.analysis`).

    Returns:
        One row per group: the group columns, then ``n`` (all operations), ``successes``, ``failures``,
        ``pending`` (counted apart, not in any rate), ``settled``, ``rate`` (successes / settled), ``ci_low``,
        ``ci_high``, ``failure_rate``, ``failure_ci_low``, ``failure_ci_high``, ``small_sample`` (fewer than
        30 settled). A group with no settled operation has NaN rates. Most failures first, unless grouped by
        time.

    Raises:
        TypeError: ``ops_df`` is not an operations frame (None, a logs or messages frame, a table...).
        ValueError: it lacks ``status``, or ``by`` names no column of it.

    Example:
        >>> outcome_rates(ops_df, by=["source_name", "payload_priority"])  # doctest: +SKIP
    """
    require(ops_df, "operations", "outcome_rates", "ops_df", columns=["status"])
    require_by(ops_df, by, "outcome_rates")
    keys = keys_of(by)
    out = add_rates(outcome_counts(ops_df, keys))
    return mark_table(sort_worst_first(out, ops_df, keys, "failures"), "outcome_rates")


def rates_over_time(
    ops_df: pd.DataFrame, freq: str = "D", by: By = None, *, time_col: str = "created_at"
) -> pd.DataFrame:
    """:func:`outcome_rates` per time bucket (and group), every bucket present, empty ones with ``n == 0``.

    Args:
        ops_df: an operations frame.
        freq: the bucket size, a pandas frequency: ``"D"``, ``"h"``, ``"15min"``, ``"W"``, ``"MS"``...
        by: an optional grouping on top of time (see :mod:`catena_nb.analysis`).
        time_col: the timestamp that places an operation in a bucket.

    Returns:
        The columns of :func:`outcome_rates` with ``period`` (the bucket's start, UTC) after the group
        columns, ordered by group then period.

    Raises:
        TypeError: ``ops_df`` is not an operations frame.
        ValueError: it lacks ``status`` or ``time_col``, its times are naive or missing (NaT), or ``by``
            names no column of it.
    """
    require(ops_df, "operations", "rates_over_time", "ops_df", columns=["status"], times=[time_col])
    require_by(ops_df, by, "rates_over_time")
    return mark_table(rates_by_period(ops_df, freq, keys_of(by), time_col), "rates_over_time")


def outcome_counts(ops_df: pd.DataFrame, keys: list[Any]) -> pd.DataFrame:
    """``n``, ``successes``, ``failures`` and ``pending`` (any other status) per group."""
    status = ops_df["status"]
    work = ops_df.assign(
        n=1,
        successes=flag(status, "success").astype("int64"),
        failures=flag(status, "failed").astype("int64"),
    )
    out = group_sum(work, keys, ["n", "successes", "failures"])
    out["pending"] = out["n"] - out["successes"] - out["failures"]
    return out


def add_rates(out: pd.DataFrame) -> pd.DataFrame:
    """Add settled, rate and its Wilson interval, the failure rate and its interval, the small-sample flag."""
    s = out["successes"].to_numpy(dtype=np.float64)
    f = out["failures"].to_numpy(dtype=np.float64)
    settled = s + f
    low, high = wilson_interval(s, settled)
    out["settled"] = settled.astype(np.int64)
    out["rate"] = safe_ratio(s, settled)
    out["ci_low"] = low
    out["ci_high"] = high
    out["failure_rate"] = safe_ratio(f, settled)
    # Wilson's interval is symmetric under complement: the failure bounds mirror the success bounds.
    out["failure_ci_low"] = 1.0 - high
    out["failure_ci_high"] = 1.0 - low
    out["small_sample"] = small_sample(settled)
    return out


def rates_by_period(ops_df: pd.DataFrame, freq: str, keys: list[Any], time_col: str) -> pd.DataFrame:
    """Outcome counts and rates per group and time bucket, every bucket of the window present."""
    names = names_of(keys)
    work = ops_df.assign(period=time_buckets(ops_df[time_col], freq))
    counts = outcome_counts(work, [*keys, "period"])
    if not len(work) or work["period"].isna().all():
        return add_rates(counts)
    grid = pd.DataFrame({"period": period_grid(work["period"].min(), work["period"].max(), freq)})
    if keys:
        groups = counts[names].drop_duplicates()
        grid = groups.merge(grid, how="cross")
    full = grid.merge(counts, on=[*names, "period"], how="left")
    for col in ("n", "successes", "failures", "pending"):
        full[col] = full[col].fillna(0).astype("int64")
    return add_rates(full).reset_index(drop=True)


def error_breakdown(ops_df: pd.DataFrame, logs_df: pd.DataFrame | None = None, by: By = None) -> pd.DataFrame:
    """Failures by ``error_type``: how many, their share of all failures, and what became of them.

    An operation counts under the error_type of its last failed attempt (the ``error_type`` column of the
    operations frame). A failed operation whose logs name no error_type counts as ``"unknown"``; error types
    the API adds later simply get their own rows.

    Args:
        ops_df: an operations frame.
        logs_df: the logs frame of the same operations; when given, failed attempts are counted too.
        by: an optional grouping; shares are then within each group.

    Returns:
        One row per (group, error_type): ``failures`` (operations that ended failed), ``share`` (of all
        failed operations in the group) with its Wilson ``ci_low``/``ci_high``, ``rescued`` (operations that
        met this error and still succeeded after a retry), ``pending``, ``operations`` (all that met it);
        with ``logs_df``: ``failed_attempts`` and ``attempt_share`` (of all failed attempts in the group).
        Most failures first within each group.

    Only the failed attempts of ``logs_df`` are read, so the table is the same whether Catena logged the
    successful attempts or not.

    Raises:
        TypeError: ``ops_df`` is not an operations frame, or ``logs_df`` not a logs frame (or the two were
            swapped).
        ValueError: a column either needs is missing, or ``by`` names no column of ``ops_df``.
    """
    check_breakdown(ops_df, logs_df, by, "error_breakdown")
    keys = keys_of(by)
    names = names_of(keys)
    status = ops_df["status"]
    failed = flag(status, "failed")
    error = ops_df["error_type"].astype("string")
    met = (error.notna() | failed).to_numpy(dtype=bool)
    sub = ops_df.loc[met].assign(
        error_type=error[met].fillna(UNKNOWN_ERROR),
        failures=failed[met].astype("int64"),
        rescued=flag(status[met], "success").astype("int64"),
        pending=(~status[met].isin(SETTLED)).astype("int64"),
        operations=1,
    )
    out = counts_by(sub, [*keys, "error_type"], ["failures", "rescued", "pending", "operations"])
    if logs_df is not None:
        out = _with_attempts(out, ops_df, logs_df, keys, names)
    out["error_type"] = out["error_type"].astype("string")
    values = out["failures"].to_numpy(dtype=np.float64)
    totals = group_totals(out, names, "failures")
    out["share"] = safe_ratio(values, totals)
    out["ci_low"], out["ci_high"] = wilson_interval(values, totals)
    cols = [
        *names,
        "error_type",
        "failures",
        "share",
        "ci_low",
        "ci_high",
        "rescued",
        "pending",
        "operations",
    ]
    if logs_df is not None:
        attempts = out["failed_attempts"].to_numpy(dtype=np.float64)
        out["attempt_share"] = safe_ratio(attempts, group_totals(out, names, "failed_attempts"))
        cols += ["failed_attempts", "attempt_share"]
    ascending = [True] * len(names) + [False, False, True]
    out = out.sort_values(
        [*names, "failures", "operations", "error_type"], ascending=ascending, kind="stable"
    )
    return mark_table(out[cols].reset_index(drop=True), "error_breakdown")


def check_breakdown(ops_df: Any, logs_df: Any, by: By, function: str, argument: str = "ops_df") -> None:
    """The input checks of :func:`error_breakdown` (its chart makes them too, under its own name)."""
    others = {"logs_df": logs_df}
    ops_columns = ["status", "error_type"] + (["operation_id"] if logs_df is not None else [])
    require(ops_df, "operations", function, argument, columns=ops_columns, others=others)
    if logs_df is not None:
        columns = ["operation_id", "status", "error_type"]
        require(logs_df, "logs", function, "logs_df", columns=columns, others={argument: ops_df})
    require_by(ops_df, by, function, argument)


def _with_attempts(
    out: pd.DataFrame, ops_df: pd.DataFrame, logs_df: pd.DataFrame, keys: list[Any], names: list[str]
) -> pd.DataFrame:
    logs = logs_df.loc[flag(logs_df["status"], "failed").to_numpy(dtype=bool)]
    missing = [n for n in names if n not in logs.columns]
    if missing:  # the grouping lives on the operations only: bring it over by operation id
        lookup = ops_df[["operation_id", *missing]].drop_duplicates("operation_id")
        logs = logs.merge(lookup, on="operation_id", how="left")
    logs = logs.assign(
        error_type=logs["error_type"].astype("string").fillna(UNKNOWN_ERROR), failed_attempts=1
    )
    att = counts_by(logs, [*keys, "error_type"], ["failed_attempts"])
    for frame in (out, att):
        frame["error_type"] = frame["error_type"].astype(object)
    merged = out.merge(att, on=[*names, "error_type"], how="outer")
    for col in ("failures", "rescued", "pending", "operations", "failed_attempts"):
        merged[col] = merged[col].fillna(0).astype("int64")
    return merged
