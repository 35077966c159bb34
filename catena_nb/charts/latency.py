"""How long sends took to settle: the Kaplan–Meier share settled within each duration, per group, the
operations still pending counted as censored (not left out)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from catena_nb.analysis.grouping import By, keys_of, label, names_of
from catena_nb.analysis.settle import settle_curves, time_to_settle
from catena_nb.charts import style as st
from catena_nb.frames.checks import require, require_by

_MAX_POINTS = 2000  # a curve's shape needs no more points than the pixels it spans


def plot_latency(
    data: pd.DataFrame, *, by: By = None, ax: Axes | None = None, max_groups: int = 6, **kw: Any
) -> Axes:
    """How long operations took to settle: one Kaplan–Meier curve of the share settled within each duration
    per group (:func:`catena_nb.time_to_settle`), the median, its 95% interval and p90 in the legend.

    Pending operations are censored at the latest time in the frame, so a slow TSP's curve stays below
    100% instead of looking fast on the few that settled.

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
        ValueError: it lacks ``status``, ``created_at`` or ``duration_s``, its times are naive or missing,
            or ``by`` names no column of it.
    """
    columns = ["status", "duration_s"]
    require(data, "operations", "plot_latency", "data", columns=columns, times=["created_at"])
    require_by(data, by, "plot_latency", "data")
    question = kw.get("title") or "How long until an operation settles?"
    ax = st.new_axes(ax, (8.0, 4.5))
    names = names_of(keys_of(by))
    summary = time_to_settle(data, by=by)
    summary = summary.loc[summary["events"] > 0].sort_values("n", ascending=False, kind="stable")
    colors = st.group_colors(st.group_labels(summary, names))
    summary = summary.head(max_groups)
    if not len(summary):
        return st.no_data(ax, question)
    curves = settle_curves(data, by=by)
    positive: list[float] = []
    entries: list[st.LegendEntry] = []
    for _, row in summary.iterrows():
        mask = np.ones(len(curves), dtype=bool)
        for name in names:
            value, col = row[name], curves[name]
            mask &= (col.isna() if pd.isna(value) else (col == value)).to_numpy(dtype=bool)
        times = curves["time_s"].to_numpy()[mask]
        settled = 1.0 - curves["survival"].to_numpy()[mask]
        if len(times) > _MAX_POINTS:
            keep = np.unique(np.linspace(0, len(times) - 1, _MAX_POINTS).astype(int))
            times, settled = times[keep], settled[keep]
        group = label([row[n] for n in names]) if names else "all operations"
        color = colors[group]
        text = f"{group} ({_counts(row)}; {_median(row)}, p90 {st.fmt_seconds(row['p90_s'])})"
        (curve,) = ax.step(times, settled, where="post", color=color, linewidth=1.6, label=st.plain(text))
        entries.append((curve, text))
        if np.isfinite(row["median_s"]):
            low, high = row["median_ci_low"], row["median_ci_high"]
            if np.isfinite(low) and np.isfinite(high):
                ax.plot(
                    [low, high], [0.5, 0.5], color=color, linewidth=3.0, alpha=0.45, solid_capstyle="butt"
                )
            ax.plot([row["median_s"]], [0.5], marker="o", color=color, markersize=4)
        positive.extend(times[times > 0][[0, -1]] if (times > 0).any() else [])
    if positive and max(positive) / min(positive) > 100:
        ax.set_xscale("log")
    ax.axhline(0.5, color=st.MUTED, linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 1.02)
    st.percent_axis(ax, "y")
    ax.set_xlabel("Seconds from creation to final status", fontsize=st.TEXT_SIZE)
    ax.set_ylabel("Share settled within", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "both")
    st.legend(ax, entries, fontsize=st.TEXT_SIZE, frameon=False, loc="lower right")
    subtitle = "Kaplan–Meier, the pending censored; dots mark the median, bars its 95% CI"
    st.set_title(ax, question, subtitle)
    return ax


def _counts(row: pd.Series) -> str:
    pending = int(row["censored"])
    return f"n={st.fmt_n(row['n'])}" + (f", {st.fmt_n(pending)} pending" if pending else "")


def _median(row: pd.Series) -> str:
    if not np.isfinite(row["median_s"]):
        return "median not reached"
    return f"median {st.fmt_seconds(row['median_s'])}"
