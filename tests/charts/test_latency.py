"""plot_latency: one cumulative curve per group, percentiles in the legend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catena_nb.charts import (
    plot_latency,
)
from tests.support.chart_records import label


def test_plot_latency_ecdf(ops_df: pd.DataFrame) -> None:
    """One ECDF per group ending at 100%, with n and percentiles in the legend."""
    ax = plot_latency(ops_df, by="source_name")
    curves = [line for line in ax.get_lines() if label(line).startswith(("motive", "samsara", "rare"))]
    assert len(curves) == 3
    for curve in curves:
        assert np.asarray(curve.get_ydata())[-1] == pytest.approx(1.0)
        assert np.all(np.diff(curve.get_ydata()) >= 0)
    assert any("n=160" in label(c) and "p95" in label(c) for c in curves)
