"""Did Catena's retries help: first-attempt against final success, and how many attempts sends took."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catena_nb.analysis.grouping import (
    SETTLED,
    By,
    counts_by,
    flag,
    group_totals,
    keys_of,
    names_of,
)
from catena_nb.analysis.intervals import safe_ratio, small_sample, wilson_interval
from catena_nb.frames.checks import mark_table, require, require_by


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

    The answer is the same whether Catena logged the successful attempts or not: ``attempts`` and
    ``first_attempt_ok`` do not count the success log (see :func:`catena_nb.operations_frame`), and an
    operation whose attempt 1 has no row in ``logs_df`` takes its first outcome from its status (a success
    with nothing logged before it succeeded at once).

    Raises:
        TypeError: ``ops_df`` is not an operations frame, or ``logs_df`` not a logs frame (or the two were
            swapped).
        ValueError: a column either needs is missing, or ``by`` names no column of ``ops_df``.
    """
    check_retries(ops_df, logs_df, by, "retry_effect")
    keys = keys_of(by)
    names = names_of(keys)
    settled = ops_df["status"].isin(SETTLED).to_numpy(dtype=bool)
    first_ok = _first_attempt_ok(ops_df, logs_df)
    final_ok = flag(ops_df["status"], "success")
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
    out = counts_by(work, keys, sums)
    if keys:
        maxes = work.groupby(keys, observed=True, dropna=False)["_attempts"].max()
        out["max_attempts"] = maxes.to_numpy(dtype=np.float64) if len(out) else np.zeros(0)
    else:
        out["max_attempts"] = float(work["_attempts"].max()) if len(work) else np.nan
    n = out["n"].to_numpy(dtype=np.float64)
    first = out["first_attempt_successes"].to_numpy(dtype=np.float64)
    final = out["final_successes"].to_numpy(dtype=np.float64)
    out["first_attempt_rate"] = safe_ratio(first, n)
    out["first_ci_low"], out["first_ci_high"] = wilson_interval(first, n)
    out["final_rate"] = safe_ratio(final, n)
    out["final_ci_low"], out["final_ci_high"] = wilson_interval(final, n)
    out["rescued_share"] = safe_ratio(out["rescued"].to_numpy(dtype=np.float64), n - first)
    out["mean_attempts"] = safe_ratio(out["_attempts"].to_numpy(dtype=np.float64), n)
    out["small_sample"] = small_sample(n)
    cols = [*names, "n", "first_attempt_successes", "first_attempt_rate", "first_ci_low", "first_ci_high"]
    cols += ["final_successes", "final_rate", "final_ci_low", "final_ci_high", "rescued", "rescued_share"]
    cols += ["retried", "mean_attempts", "max_attempts", "small_sample"]
    return mark_table(out[cols].reset_index(drop=True), "retry_effect")


def check_retries(ops_df: Any, logs_df: Any, by: By, function: str, argument: str = "ops_df") -> None:
    """The input checks of :func:`retry_effect` (its chart makes them too, under its own name)."""
    columns = ["status", "attempts"] + (["operation_id"] if logs_df is not None else ["first_attempt_ok"])
    require(ops_df, "operations", function, argument, columns=columns, others={"logs_df": logs_df})
    if logs_df is not None:
        needed = ["operation_id", "attempt", "status"]
        require(logs_df, "logs", function, "logs_df", columns=needed, others={argument: ops_df})
    require_by(ops_df, by, function, argument)


def _first_attempt_ok(ops_df: pd.DataFrame, logs_df: pd.DataFrame | None) -> pd.Series:
    """Whether each operation's first attempt succeeded, as a bool Series aligned on ``ops_df``."""
    if logs_df is not None:
        first = logs_df.loc[(logs_df["attempt"] == 1).fillna(False).to_numpy(dtype=bool)]
        ok = flag(first["status"], "success").to_numpy()
        by_id = pd.Series(ok, index=first["operation_id"].to_numpy())
        by_id = by_id[~by_id.index.duplicated()]
        known = pd.Series(ops_df["operation_id"].map(by_id), index=ops_df.index)
    else:
        known = ops_df["first_attempt_ok"].astype("boolean")
    # assumed: a success without logs succeeded at its first attempt (the sync 200 answer of the API's own
    # example carries `logs: []`); a failure without logs had no successful attempt.
    fallback = flag(ops_df["status"], "success")
    return known.astype("boolean").fillna(fallback).astype(bool)


def attempts_distribution(ops_df: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """How many operations took 0, 1, 2... attempts, and how they ended.

    Args:
        ops_df: an operations frame.
        by: an optional grouping.

    Returns:
        One row per (group, attempts): ``attempts``, ``n``, ``success``, ``failed``, ``pending`` (any other
        status), and ``share`` (of the group's operations). ``attempts`` counts the failed attempts and one
        for a success, logged or not.

    Raises:
        TypeError: ``ops_df`` is not an operations frame.
        ValueError: it lacks ``status`` or ``attempts``, or ``by`` names no column of it.
    """
    require(ops_df, "operations", "attempts_distribution", "ops_df", columns=["status", "attempts"])
    require_by(ops_df, by, "attempts_distribution")
    keys = keys_of(by)
    names = names_of(keys)
    status = ops_df["status"]
    work = ops_df.assign(
        attempts=ops_df["attempts"].astype("Int64").fillna(0).astype("int64"),
        n=1,
        success=flag(status, "success").astype("int64"),
        failed=flag(status, "failed").astype("int64"),
    )
    out = counts_by(work, [*keys, "attempts"], ["n", "success", "failed"])
    out["pending"] = out["n"] - out["success"] - out["failed"]
    out["share"] = safe_ratio(out["n"].to_numpy(dtype=np.float64), group_totals(out, names, "n"))
    return mark_table(out.reset_index(drop=True), "attempts_distribution")
