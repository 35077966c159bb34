"""How reliable are the sends, and why do they fail: rates with intervals, breakdowns, timelines, retries.

Every function takes the frames of :mod:`catena_nb.frames` and returns a plain DataFrame. Conventions, the
same everywhere:

- **Settled** operations (``success`` or ``failed``) are the denominator of every rate; ``pending`` ones (and
  any status other than the two) are counted apart and excluded, since their outcome is not known yet.
- Every rate comes with its 95% **Wilson** interval (never the Wald interval, which misbehaves near 0% and
  100%) and with its ``n``; a group with fewer than 30 settled operations is flagged ``small_sample``.
- ``by`` groups the rows: ``None`` (one row for everything), a column name (``"source_name"``,
  ``"error_type"``, ``"connection_id"``, ``"payload_priority"``...), a :class:`pandas.Grouper` (a time
  bucket, e.g. ``pd.Grouper(key="created_at", freq="D")``), or a list of these. Missing values form their
  own group. Tables grouped by categories list the most failures first; time buckets stay in time order.

Example:
    >>> outcome_rates(ops_df, by="source_name")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catena_nb.analysis._rates import (
    SETTLED,
    By,
    add_rates,
    group_sum,
    is_time_key,
    keys_of,
    names_of,
    outcome_counts,
    rates_by_period,
    sort_worst_first,
)
from catena_nb.analysis._stats import safe_ratio, wilson_interval
from catena_nb.analysis.incidents import find_incidents

__all__ = [
    "FUNNEL_STAGES",
    "UNKNOWN_ERROR",
    "attempts_distribution",
    "delivery_funnel",
    "error_breakdown",
    "find_incidents",
    "latency_summary",
    "outcome_rates",
    "rates_over_time",
    "retry_effect",
]

UNKNOWN_ERROR = "unknown"  # the error_type shown for a failure whose logs name none
FUNNEL_STAGES = ("created", "accepted", "delivered", "read")


def _flag(series: pd.Series, value: str) -> pd.Series:
    """``series == value`` as a plain bool Series (NA is False)."""
    return (series == value).fillna(False).astype(bool)


# --------------------------------------------------------------------------------------------- rates


def outcome_rates(ops_df: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """Success and failure rates of settled operations, with 95% Wilson intervals, per group.

    Args:
        ops_df: an operations frame (:func:`catena_nb.operations_frame`); only ``status`` and the ``by``
            columns are read.
        by: the grouping (see the module docstring).

    Returns:
        One row per group: the group columns, then ``n`` (all operations), ``successes``, ``failures``,
        ``pending`` (counted apart, not in any rate), ``settled``, ``rate`` (successes / settled), ``ci_low``,
        ``ci_high``, ``failure_rate``, ``failure_ci_low``, ``failure_ci_high``, ``small_sample`` (fewer than
        30 settled). A group with no settled operation has NaN rates. Most failures first, unless grouped by
        time.

    Example:
        >>> outcome_rates(ops_df, by=["source_name", "payload_priority"])  # doctest: +SKIP
    """
    keys = keys_of(by)
    out = add_rates(outcome_counts(ops_df, keys))
    return sort_worst_first(out, ops_df, keys, "failures")


def rates_over_time(
    ops_df: pd.DataFrame, freq: str = "D", by: By = None, *, time_col: str = "created_at"
) -> pd.DataFrame:
    """:func:`outcome_rates` per time bucket (and group), every bucket present, empty ones with ``n == 0``.

    Args:
        ops_df: an operations frame.
        freq: the bucket size, a pandas frequency: ``"D"``, ``"h"``, ``"15min"``, ``"W"``, ``"MS"``...
        by: an optional grouping on top of time (see the module docstring).
        time_col: the timestamp that places an operation in a bucket.

    Returns:
        The columns of :func:`outcome_rates` with ``period`` (the bucket's start, UTC) after the group
        columns, ordered by group then period.
    """
    return rates_by_period(ops_df, freq, keys_of(by), time_col)


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
    """
    keys = keys_of(by)
    names = names_of(keys)
    status = ops_df["status"]
    failed = _flag(status, "failed")
    error = ops_df["error_type"].astype("string")
    met = (error.notna() | failed).to_numpy(dtype=bool)
    sub = ops_df.loc[met].assign(
        error_type=error[met].fillna(UNKNOWN_ERROR),
        failures=failed[met].astype("int64"),
        rescued=_flag(status[met], "success").astype("int64"),
        pending=(~status[met].isin(SETTLED)).astype("int64"),
        operations=1,
    )
    counts = ["failures", "rescued", "pending", "operations"]
    out = (
        group_sum(sub, [*keys, "error_type"], counts) if len(sub) else _empty([*names, "error_type"], counts)
    )
    if logs_df is not None:
        out = _with_attempts(out, ops_df, logs_df, keys, names)
    out["error_type"] = out["error_type"].astype("string")
    _add_share(out, names, "failures", "share", interval=True)
    if logs_df is not None:
        _add_share(out, names, "failed_attempts", "attempt_share", interval=False)
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
    cols += [c for c in ("failed_attempts", "attempt_share") if c in out.columns]
    ascending = [True] * len(names) + [False, False, True]
    out = out.sort_values(
        [*names, "failures", "operations", "error_type"], ascending=ascending, kind="stable"
    )
    return out[cols].reset_index(drop=True)


def _empty(names: list[str], counts: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    for col in counts:
        frame[col] = pd.Series(dtype="int64")
    return frame


def _add_share(out: pd.DataFrame, names: list[str], col: str, share: str, *, interval: bool) -> None:
    values = out[col].to_numpy(dtype=np.float64)
    if names:
        totals = (
            out.groupby(names, dropna=False, observed=True)[col].transform("sum").to_numpy(dtype=np.float64)
        )
    else:
        totals = np.full(len(out), values.sum())
    out[share] = safe_ratio(values, totals)
    if interval:
        out["ci_low"], out["ci_high"] = wilson_interval(values, totals)


def _with_attempts(
    out: pd.DataFrame, ops_df: pd.DataFrame, logs_df: pd.DataFrame, keys: list[Any], names: list[str]
) -> pd.DataFrame:
    logs = logs_df.loc[_flag(logs_df["status"], "failed").to_numpy(dtype=bool)]
    missing = [n for n in names if n not in logs.columns]
    if missing:  # the grouping lives on the operations only: bring it over by operation id
        lookup = ops_df[["operation_id", *missing]].drop_duplicates("operation_id")
        logs = logs.merge(lookup, on="operation_id", how="left")
    logs = logs.assign(
        error_type=logs["error_type"].astype("string").fillna(UNKNOWN_ERROR), failed_attempts=1
    )
    if len(logs):
        att = group_sum(logs, [*keys, "error_type"], ["failed_attempts"])
    else:
        att = _empty([*names, "error_type"], ["failed_attempts"])
    for frame in (out, att):
        frame["error_type"] = frame["error_type"].astype(object)
    merged = out.merge(att, on=[*names, "error_type"], how="outer")
    for col in ("failures", "rescued", "pending", "operations", "failed_attempts"):
        merged[col] = merged[col].fillna(0).astype("int64")
    return merged


# ------------------------------------------------------------------------------------------- retries


def _first_attempt_ok(ops_df: pd.DataFrame, logs_df: pd.DataFrame | None) -> pd.Series:
    """Whether each operation's first attempt succeeded, as a bool Series aligned on ``ops_df``."""
    if logs_df is not None:
        first = logs_df.loc[(logs_df["attempt"] == 1).fillna(False).to_numpy(dtype=bool)]
        ok = _flag(first["status"], "success").to_numpy()
        by_id = pd.Series(ok, index=first["operation_id"].to_numpy())
        by_id = by_id[~by_id.index.duplicated()]
        known = pd.Series(ops_df["operation_id"].map(by_id), index=ops_df.index)
    else:
        known = ops_df["first_attempt_ok"].astype("boolean")
    # assumed: a success without logs succeeded at its first attempt (the sync 200 answer of the API's own
    # example carries `logs: []`); a failure without logs had no successful attempt.
    fallback = _flag(ops_df["status"], "success")
    return known.astype("boolean").fillna(fallback).astype(bool)


def retry_effect(ops_df: pd.DataFrame, logs_df: pd.DataFrame | None = None, by: By = None) -> pd.DataFrame:
    """Did Catena's retries help? First-attempt success against final success, on the same operations.

    The design is paired: both rates are over the same settled operations, so their difference is exactly
    the share rescued by a retry (``rescued``: succeeded only after a failed attempt).

    Args:
        ops_df: an operations frame.
        logs_df: its logs frame; when given, the first attempt's outcome is read from it (attempt 1),
            otherwise from ``ops_df["first_attempt_ok"]``.
        by: an optional grouping.

    Returns:
        One row per group: ``n`` (settled operations), ``first_attempt_successes``, ``first_attempt_rate``
        with ``first_ci_low``/``first_ci_high``, ``final_successes``, ``final_rate`` with
        ``final_ci_low``/``final_ci_high``, ``rescued``, ``rescued_share`` (of first-attempt failures),
        ``retried`` (more than one attempt), ``mean_attempts``, ``max_attempts``, ``small_sample``.
    """
    keys = keys_of(by)
    names = names_of(keys)
    settled = ops_df["status"].isin(SETTLED).to_numpy(dtype=bool)
    first_ok = _first_attempt_ok(ops_df, logs_df)
    final_ok = _flag(ops_df["status"], "success")
    attempts = ops_df["attempts"].astype("Float64").fillna(0).astype("float64")
    work = ops_df.loc[settled].assign(
        n=1,
        first_attempt_successes=first_ok[settled].astype("int64"),
        final_successes=final_ok[settled].astype("int64"),
        rescued=(final_ok & ~first_ok)[settled].astype("int64"),
        retried=(attempts > 1)[settled].astype("int64"),
        _attempts=attempts[settled],
    )
    sums = ["n", "first_attempt_successes", "final_successes", "rescued", "retried", "_attempts"]
    if len(work) or not keys:
        out = group_sum(work, keys, sums)
        maxes = work.groupby(keys, observed=True, dropna=False)["_attempts"].max() if keys else None
    else:
        out, maxes = _empty(names, sums), None
    n = out["n"].to_numpy(dtype=np.float64)
    first = out["first_attempt_successes"].to_numpy(dtype=np.float64)
    final = out["final_successes"].to_numpy(dtype=np.float64)
    out["first_attempt_rate"] = safe_ratio(first, n)
    out["first_ci_low"], out["first_ci_high"] = wilson_interval(first, n)
    out["final_rate"] = safe_ratio(final, n)
    out["final_ci_low"], out["final_ci_high"] = wilson_interval(final, n)
    out["rescued_share"] = safe_ratio(out["rescued"].to_numpy(dtype=np.float64), n - first)
    out["mean_attempts"] = safe_ratio(out["_attempts"].to_numpy(dtype=np.float64), n)
    if maxes is not None:
        out["max_attempts"] = maxes.to_numpy(dtype=np.float64) if len(out) else np.zeros(0)
    else:
        out["max_attempts"] = float(work["_attempts"].max()) if len(work) else np.nan
    out["small_sample"] = n < 30
    cols = [*names, "n", "first_attempt_successes", "first_attempt_rate", "first_ci_low", "first_ci_high"]
    cols += ["final_successes", "final_rate", "final_ci_low", "final_ci_high", "rescued", "rescued_share"]
    cols += ["retried", "mean_attempts", "max_attempts", "small_sample"]
    return out[cols].reset_index(drop=True)


def attempts_distribution(ops_df: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """How many operations took 0, 1, 2... attempts, and how they ended.

    Args:
        ops_df: an operations frame.
        by: an optional grouping.

    Returns:
        One row per (group, attempts): ``attempts``, ``n``, ``success``, ``failed``, ``pending`` (any other
        status), and ``share`` (of the group's operations).
    """
    keys = keys_of(by)
    names = names_of(keys)
    status = ops_df["status"]
    work = ops_df.assign(
        attempts=ops_df["attempts"].astype("Int64").fillna(0).astype("int64"),
        n=1,
        success=_flag(status, "success").astype("int64"),
        failed=_flag(status, "failed").astype("int64"),
    )
    cols = ["n", "success", "failed"]
    out = group_sum(work, [*keys, "attempts"], cols) if len(work) else _empty([*names, "attempts"], cols)
    out["pending"] = out["n"] - out["success"] - out["failed"]
    values = out["n"].to_numpy(dtype=np.float64)
    if names:
        totals = (
            out.groupby(names, dropna=False, observed=True)["n"].transform("sum").to_numpy(dtype=np.float64)
        )
    else:
        totals = np.full(len(out), values.sum())
    out["share"] = safe_ratio(values, totals)
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------- latency


def latency_summary(ops_df: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """Time to a final status (``duration_s`` of settled operations): p50, p95, p99 per group.

    Percentiles, not the mean, because retries with backoff give latency a long tail.

    Args:
        ops_df: an operations frame.
        by: an optional grouping.

    Returns:
        One row per group: ``n`` (settled operations with a duration), ``p50_s``, ``p95_s``, ``p99_s``,
        ``mean_s``, ``max_s`` (seconds), ``small_sample``. Slowest p95 first, unless grouped by time.
    """
    keys = keys_of(by)
    names = names_of(keys)
    durations = ops_df["duration_s"].astype("float64")
    mask = (ops_df["status"].isin(SETTLED) & durations.notna()).to_numpy(dtype=bool)
    work = ops_df.loc[mask].assign(_d=durations[mask])
    stats = {
        "n": ("_d", "size"),
        "p50_s": ("_d", lambda s: s.quantile(0.50)),
        "p95_s": ("_d", lambda s: s.quantile(0.95)),
        "p99_s": ("_d", lambda s: s.quantile(0.99)),
        "mean_s": ("_d", "mean"),
        "max_s": ("_d", "max"),
    }
    if keys:
        out = work.groupby(keys, observed=True, dropna=False).agg(**stats).reset_index()
    else:
        d = work["_d"]
        row = {
            "n": len(d),
            "p50_s": d.quantile(0.50) if len(d) else np.nan,
            "p95_s": d.quantile(0.95) if len(d) else np.nan,
            "p99_s": d.quantile(0.99) if len(d) else np.nan,
            "mean_s": d.mean() if len(d) else np.nan,
            "max_s": d.max() if len(d) else np.nan,
        }
        out = pd.DataFrame([row])
    out["n"] = out["n"].astype("int64")
    out["small_sample"] = out["n"] < 30
    if keys and not any(is_time_key(ops_df, k) for k in keys):
        out = out.sort_values(["p95_s", "n"], ascending=False, kind="stable")
    return out[[*names, "n", "p50_s", "p95_s", "p99_s", "mean_s", "max_s", "small_sample"]].reset_index(
        drop=True
    )


# -------------------------------------------------------------------------------------------- funnel


def delivery_funnel(ops_df: pd.DataFrame, messages_df: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """From send to driver: created → accepted by the TSP → delivered → read.

    An operation is *accepted* when its status is ``success``; *delivered* when the message it created (the
    message whose ``message_id`` is the operation's ``resource_id``) is ``delivered`` or ``read``, or has a
    ``delivered_at``; *read* when that message is ``read`` or has a ``read_at``. Pending operations count as
    created but not accepted (filter them out first to look at settled sends only).

    Args:
        ops_df: an operations frame of message sends.
        messages_df: a messages frame (:func:`catena_nb.messages_frame`) covering the same period.
        by: an optional grouping of the operations.

    Returns:
        Four rows per group, one per stage (``stage`` is an ordered category): ``n``, ``share`` (of created)
        with its Wilson ``ci_low``/``ci_high``, and ``step_rate`` (of the previous stage) with
        ``step_ci_low``/``step_ci_high``.
    """
    keys = keys_of(by)
    names = names_of(keys)
    status = messages_df["status"]
    delivered_mask = status.isin(("delivered", "read")) | messages_df["delivered_at"].notna()
    read_mask = _flag(status, "read") | messages_df["read_at"].notna()
    delivered_ids = messages_df.loc[delivered_mask.to_numpy(dtype=bool), "message_id"].dropna()
    read_ids = messages_df.loc[read_mask.to_numpy(dtype=bool), "message_id"].dropna()
    accepted = _flag(ops_df["status"], "success")
    resource = ops_df["resource_id"]
    delivered = accepted & resource.isin(set(delivered_ids)).fillna(False).astype(bool)
    read = delivered & resource.isin(set(read_ids)).fillna(False).astype(bool)
    work = ops_df.assign(
        created=1,
        accepted=accepted.astype("int64"),
        delivered=delivered.astype("int64"),
        read=read.astype("int64"),
    )
    stages = list(FUNNEL_STAGES)
    wide = group_sum(work, keys, stages) if len(work) or not keys else _empty(names, stages)
    long = wide.melt(id_vars=names, value_vars=stages, var_name="stage", value_name="n")
    long["stage"] = pd.Categorical(long["stage"], categories=stages, ordered=True)
    long = long.sort_values([*names, "stage"], kind="stable").reset_index(drop=True)
    n = long["n"].to_numpy(dtype=np.float64)
    if names:
        grouped = long.groupby(names, dropna=False, observed=True, sort=False)["n"]
        created = grouped.transform("first").to_numpy(dtype=np.float64)
        previous = grouped.shift(1).to_numpy(dtype=np.float64)
    else:
        created = np.full(len(long), n[0] if len(n) else 0.0)
        previous = np.concatenate(([np.nan], n[:-1])) if len(n) else n
    previous = np.where(np.isnan(previous), n, previous)  # "created" is its own previous stage
    long["n"] = long["n"].astype("int64")
    long["share"] = safe_ratio(n, created)
    long["ci_low"], long["ci_high"] = wilson_interval(n, created)
    long["step_rate"] = safe_ratio(n, previous)
    long["step_ci_low"], long["step_ci_high"] = wilson_interval(n, previous)
    return long
