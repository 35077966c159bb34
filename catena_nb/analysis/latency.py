"""How long sends take to settle: percentiles of the time from creation to a final status."""

from __future__ import annotations

import numpy as np
import pandas as pd

from catena_nb.analysis.grouping import SETTLED, By, is_time_key, keys_of, names_of
from catena_nb.analysis.intervals import small_sample
from catena_nb.frames.checks import mark_table, require, require_by


def latency_summary(ops_df: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """Time to a final status (``duration_s`` of settled operations): p50, p95, p99 per group.

    Percentiles, not the mean, because retries with backoff give latency a long tail.

    Args:
        ops_df: an operations frame.
        by: an optional grouping.

    Returns:
        One row per group: ``n`` (settled operations with a duration), ``p50_s``, ``p95_s``, ``p99_s``,
        ``mean_s``, ``max_s`` (seconds), ``small_sample``. Slowest p95 first, unless grouped by time.

    Raises:
        TypeError: ``ops_df`` is not an operations frame.
        ValueError: it lacks ``status`` or ``duration_s``, or ``by`` names no column of it.
    """
    require(ops_df, "operations", "latency_summary", "ops_df", columns=["status", "duration_s"])
    require_by(ops_df, by, "latency_summary")
    keys = keys_of(by)
    names = names_of(keys)
    durations = ops_df["duration_s"].astype("float64")
    mask = (ops_df["status"].isin(SETTLED) & durations.notna()).to_numpy(dtype=bool)
    work = ops_df.loc[mask].assign(_d=durations[mask])
    if keys:
        out = (
            work.groupby(keys, observed=True, dropna=False)
            .agg(
                n=("_d", "size"),
                p50_s=("_d", lambda s: s.quantile(0.50)),
                p95_s=("_d", lambda s: s.quantile(0.95)),
                p99_s=("_d", lambda s: s.quantile(0.99)),
                mean_s=("_d", "mean"),
                max_s=("_d", "max"),
            )
            .reset_index()
        )
    else:
        d = work["_d"]
        some = bool(len(d))
        out = pd.DataFrame(
            [
                {
                    "n": len(d),
                    "p50_s": d.quantile(0.50) if some else np.nan,
                    "p95_s": d.quantile(0.95) if some else np.nan,
                    "p99_s": d.quantile(0.99) if some else np.nan,
                    "mean_s": d.mean() if some else np.nan,
                    "max_s": d.max() if some else np.nan,
                }
            ]
        )
    out["n"] = out["n"].astype("int64")
    out["small_sample"] = small_sample(out["n"])
    if keys and not any(is_time_key(ops_df, k) for k in keys):
        out = out.sort_values(["p95_s", "n"], ascending=False, kind="stable")
    columns = [*names, "n", "p50_s", "p95_s", "p99_s", "mean_s", "max_s", "small_sample"]
    return mark_table(out[columns].reset_index(drop=True), "latency_summary")
