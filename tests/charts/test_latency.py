"""plot_latency: one Kaplan–Meier curve per group, the median and p90 in the legend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catena_nb.analysis.settle import time_to_settle
from catena_nb.charts import (
    plot_latency,
)
from tests.support.chart_records import label


def test_plot_latency_km_curves(ops_df: pd.DataFrame) -> None:
    """One rising curve per group, ending at the share settled, with n, the median and p90 in the legend."""
    ax = plot_latency(ops_df, by="source_name")
    curves = [line for line in ax.get_lines() if label(line).startswith(("motive", "samsara", "rare"))]
    assert len(curves) == 3
    table = time_to_settle(ops_df, by="source_name").set_index("source_name")
    for curve in curves:
        group = label(curve).split(" (")[0]
        row = table.loc[group]
        ys = np.asarray(curve.get_ydata())
        assert np.all(np.diff(ys) >= 0)
        assert ys[-1] == pytest.approx(row["events"] / row["n"])
    assert any("n=160" in label(c) and "median" in label(c) and "p90" in label(c) for c in curves)


def test_plot_latency_counts_the_pending_as_censored(ops_df: pd.DataFrame) -> None:
    """With most operations still pending, the curve stays low and the legend says how many are pending."""
    ops = ops_df.copy()
    ops["status"] = ops["status"].astype(object)
    pending = ops.index[: int(len(ops) * 0.7)]
    ops.loc[pending, "status"] = "pending"
    ax = plot_latency(ops)
    (curve,) = [line for line in ax.get_lines() if label(line).startswith("all operations")]
    assert np.asarray(curve.get_ydata())[-1] < 0.5
    assert "pending" in label(curve)
    assert "median not reached" in label(curve)
