"""How long sends took to settle: the cumulative share settled within each duration, per group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from catena_nb.analysis import latency_summary
from catena_nb.analysis.grouping import SETTLED, By, keys_of, label, names_of
from catena_nb.charts import style as st
from catena_nb.frames.checks import require, require_by

_MAX_POINTS = 2000  # a curve's shape needs no more points than the pixels it spans


def plot_latency(
    data: pd.DataFrame, *, by: By = None, ax: Axes | None = None, max_groups: int = 6, **kw: Any
) -> Axes:
    """How long operations took to settle: the ECDF of ``duration_s`` per group, p50 and p95 in the legend.

    Args:
        data: an operations frame.
        by: an optional grouping (one curve per group, the ``max_groups`` largest).
        ax: where to draw; a new Axes by default.
        max_groups: the most curves drawn.
        **kw: ``title`` to replace the question.

    Returns:
        The Axes. The x axis is logarithmic when durations span more than two decades.

    Raises:
        TypeError: ``data`` is not an operations frame.
        ValueError: it lacks ``status`` or ``duration_s``, or ``by`` names no column of it.
    """
    require(data, "operations", "plot_latency", "data", columns=["status", "duration_s"])
    require_by(data, by, "plot_latency", "data")
    question = kw.get("title") or "How long until an operation settles?"
    ax = st.new_axes(ax, (8.0, 4.5))
    summary = latency_summary(data, by=by)
    summary = summary.loc[summary["n"] > 0].sort_values("n", ascending=False, kind="stable")
    names = names_of(keys_of(by))
    colors = st.group_colors(st.group_labels(summary, names))
    summary = summary.head(max_groups)
    if not len(summary):
        return st.no_data(ax, question)
    settled = data["status"].isin(SETTLED).to_numpy(dtype=bool)
    durations = data["duration_s"].astype("float64")
    positive: list[float] = []
    entries: list[st.LegendEntry] = []
    for _, row in summary.iterrows():
        mask = settled & durations.notna().to_numpy(dtype=bool)
        for name in names:
            value = row[name]
            col = data[name]
            mask &= (col.isna() if pd.isna(value) else (col == value)).to_numpy(dtype=bool)
        values = np.sort(durations.to_numpy()[mask])
        ys = np.arange(1, len(values) + 1) / len(values)
        if len(values) > _MAX_POINTS:
            keep = np.unique(np.linspace(0, len(values) - 1, _MAX_POINTS).astype(int))
            values, ys = values[keep], ys[keep]
        group = label([row[n] for n in names]) if names else "all operations"
        color = colors[group]
        p50, p95 = st.fmt_seconds(row["p50_s"]), st.fmt_seconds(row["p95_s"])
        text = f"{group} (n={st.fmt_n(row['n'])}; p50 {p50}, p95 {p95})"
        (curve,) = ax.step(values, ys, where="post", color=color, linewidth=1.6, label=st.plain(text))
        entries.append((curve, text))
        ax.plot([row["p95_s"]], [0.95], marker="o", color=color, markersize=4)
        positive.extend(values[values > 0][[0, -1]] if (values > 0).any() else [])
    if positive and max(positive) / min(positive) > 100:
        ax.set_xscale("log")
    ax.axhline(0.95, color=st.MUTED, linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 1.02)
    st.percent_axis(ax, "y")
    ax.set_xlabel("Seconds from creation to final status", fontsize=st.TEXT_SIZE)
    ax.set_ylabel("Share settled within", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "both")
    st.legend(ax, entries, fontsize=st.TEXT_SIZE, frameon=False, loc="lower right")
    st.set_title(ax, question, "Cumulative share of settled operations; dots mark p95")
    return ax
