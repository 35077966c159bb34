"""Grouped outcome counts and rates: the arithmetic shared by :mod:`catena_nb.analysis.reliability` and
:mod:`catena_nb.analysis.incidents`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from catena_nb.analysis._stats import SMALL_SAMPLE, safe_ratio, wilson_interval
from catena_nb.analysis._timebuckets import period_grid, time_buckets

By = str | pd.Grouper | Sequence[str | pd.Grouper] | None

SETTLED = ("success", "failed")


# ---------------------------------------------------------------------------------------------- helpers


def keys_of(by: By) -> list[Any]:
    if by is None:
        return []
    if isinstance(by, str | pd.Grouper):
        return [by]
    return list(by)


def names_of(keys: list[Any]) -> list[str]:
    """The output column name of each group key."""
    return [str(k.key) if isinstance(k, pd.Grouper) else str(k) for k in keys]


def is_time_key(frame: pd.DataFrame, key: Any) -> bool:
    if isinstance(key, pd.Grouper):
        return True
    return key in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[key])


def group_sum(work: pd.DataFrame, keys: list[Any], values: list[str]) -> pd.DataFrame:
    """Sums of ``values`` per group, the group keys as columns (one row when there are no keys)."""
    if not keys:
        return work[values].sum().to_frame().T.reset_index(drop=True).astype("int64")
    return work.groupby(keys, observed=True, dropna=False, sort=True)[values].sum().reset_index()


def outcome_counts(ops_df: pd.DataFrame, keys: list[Any]) -> pd.DataFrame:
    status = ops_df["status"]
    work = ops_df.assign(
        n=1,
        successes=(status == "success").fillna(False).astype("int64"),
        failures=(status == "failed").fillna(False).astype("int64"),
    )
    out = group_sum(work, keys, ["n", "successes", "failures"])
    out["pending"] = out["n"] - out["successes"] - out["failures"]
    return out


def add_rates(out: pd.DataFrame, successes: str = "successes", failures: str = "failures") -> pd.DataFrame:
    """Add settled, rate and its Wilson interval, the failure rate and its interval, the small-sample flag."""
    s = out[successes].to_numpy(dtype=np.float64)
    f = out[failures].to_numpy(dtype=np.float64)
    settled = s + f
    low, high = wilson_interval(s, settled)
    out["settled"] = (s + f).astype(np.int64)
    out["rate"] = safe_ratio(s, settled)
    out["ci_low"] = low
    out["ci_high"] = high
    out["failure_rate"] = safe_ratio(f, settled)
    # Wilson's interval is symmetric under complement: the failure bounds mirror the success bounds.
    out["failure_ci_low"] = 1.0 - high
    out["failure_ci_high"] = 1.0 - low
    out["small_sample"] = settled < SMALL_SAMPLE
    return out


def sort_worst_first(out: pd.DataFrame, frame: pd.DataFrame, keys: list[Any], column: str) -> pd.DataFrame:
    if not keys or any(is_time_key(frame, k) for k in keys):
        return out.reset_index(drop=True)
    return out.sort_values([column, "n"], ascending=False, kind="stable").reset_index(drop=True)


def label(values: Sequence[Any]) -> str:
    return " / ".join("(none)" if pd.isna(v) else str(v) for v in values)


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
