"""plot_failure_rate_over_time: the rate line, its band, the incidents and the counts axis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import FillBetweenPolyCollection, PolyCollection

from catena_nb.analysis import find_incidents
from catena_nb.charts import (
    plot_failure_rate_over_time,
)
from tests.support.chart_records import bars, label, legend_texts


def test_plot_failure_rate_over_time_band_line_and_incidents(ops_df: pd.DataFrame) -> None:
    """A failure-rate line with its Wilson band, the incident shaded, and n on a second axis."""
    incidents = find_incidents(ops_df, "D", "source_name")
    assert list(incidents["group"]) == ["motive"]
    ax = plot_failure_rate_over_time(ops_df, freq="D", incidents=incidents)
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "failure rate")
    rates = np.asarray(line.get_ydata())
    assert list(rates) == pytest.approx([14 / 80, 14 / 83, 34 / 80, 14 / 80])
    bands = [c for c in ax.collections if isinstance(c, FillBetweenPolyCollection | PolyCollection)]
    assert bands, "no interval band"
    spans = [p for p in ax.patches if p.get_label() == "incident"]
    assert len(spans) == 1
    assert "shaded: incidents" in ax.get_title(loc="left")
    twin = [other for other in ax.figure.axes if other is not ax]
    assert twin
    assert sum(r.get_height() for r in bars(twin[0])) == 323
    assert ax.yaxis.get_major_formatter()(0.25, 0) == "25%"


def test_plot_failure_rate_over_time_by_group(ops_df: pd.DataFrame) -> None:
    """With by, one line and one band per group, in group colours, labelled in the legend."""
    ax = plot_failure_rate_over_time(ops_df, by="source_name", incidents=[])
    names = {label(line) for line in ax.get_lines() if not label(line).startswith("_")}
    assert names == {"motive", "samsara", "rare"}
    legend = legend_texts(ax)
    assert legend == names
