"""How much error budget is left: the budget of an SLO over time per group, the pages shaded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.patches import Patch

from catena_nb.analysis.buckets import bucket_end
from catena_nb.analysis.budgets import SUMMARY_COLUMNS, ErrorBudget, compute_budget
from catena_nb.analysis.grouping import By
from catena_nb.charts import style as st
from catena_nb.charts.funnel import group_names

_PAGE_SHADE = "#F4C7C3"


def plot_error_budget(
    data: Any,
    *,
    target: float = 0.99,
    by: By = None,
    freq: str = "h",
    ax: Axes | None = None,
    max_groups: int = 8,
    **kw: Any,
) -> Axes:
    """The error budget left over time per group (100% at the start, 0% when spent), page alerts shaded.

    Args:
        data: an operations frame, or the :class:`~catena_nb.analysis.budgets.ErrorBudget` of
            :func:`catena_nb.error_budget` (then ``target``, ``by`` and ``freq`` are its own).
        target: the SLO when ``data`` is a frame, in (0, 1).
        by: the groups when ``data`` is a frame (``"source_name"`` for one line per TSP).
        freq: the budget's buckets when ``data`` is a frame.
        ax: where to draw; a new Axes by default.
        max_groups: the most lines drawn (the groups with most operations).
        **kw: ``title`` to replace the question.

    Returns:
        The Axes. A line below 0% is a budget overspent.

    Raises:
        TypeError: ``data`` is neither an operations frame nor an ErrorBudget; ``target`` not a number.
        ValueError: as :func:`catena_nb.error_budget`.

    Example:
        >>> ax = plot_error_budget(ops_df, target=0.99, by="source_name")  # doctest: +SKIP
    """
    if isinstance(data, ErrorBudget):
        result = data
    else:
        result = compute_budget(data, target, by, freq, "created_at", "plot_error_budget", "data")
    question = kw.get("title") or f"How much of the {st.fmt_pct(result.target)} SLO's error budget is left?"
    ax = st.new_axes(ax, (9.0, 4.5))
    summary, budget = result.summary, result.budget
    if not len(summary) or summary["n"].sum() == 0:
        return st.no_data(ax, question)
    labels = group_names(summary, SUMMARY_COLUMNS)
    colors = st.group_colors(labels)
    order = np.argsort(-summary["n"].to_numpy(dtype=np.int64), kind="stable")[:max_groups]
    entries: list[st.LegendEntry] = []
    periods = len(budget) // len(summary)  # every group has every bucket, in the summary's order
    for i in order:
        part = budget.iloc[i * periods : (i + 1) * periods]
        # the budget left at each bucket's end, from 100% at the first bucket's start
        ends = [bucket_end(start, result.freq) for start in part["period"]]
        xs = st.naive_utc(pd.Series([part["period"].iloc[0], *ends]))
        ys = np.r_[1.0, part["budget_left"].to_numpy(dtype=np.float64)]
        (line,) = ax.plot(xs, ys, color=colors[labels[i]], linewidth=1.5)
        left = st.fmt_pct(float(summary["budget_left"].iloc[i]))
        entries.append((line, f"{labels[i]}: {left} left"))
    pages = result.alerts.loc[result.alerts["severity"] == "page"] if len(result.alerts) else result.alerts
    spans = _merged(pages)
    if spans:
        # one artist for all the spans: thousands of axvspans would take seconds to draw
        ax.broken_barh(spans, (0, 1), transform=ax.get_xaxis_transform(), color=_PAGE_SHADE, zorder=0)
        entries.append((Patch(color=_PAGE_SHADE), f"page alert firing ({len(pages):,})"))
    ax.axhline(0.0, color=st.INTERVAL_COLOR, linewidth=0.9)
    st.percent_axis(ax, "y")
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_ylabel("Error budget left", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "y")
    st.legend(ax, entries, fontsize=st.TEXT_SIZE, frameon=False, loc="lower left")
    detail = f"Budget: {st.fmt_pct(1 - result.target)} of the window's settled sends may fail (UTC)"
    st.set_title(ax, question, detail)
    return ax


def _merged(alerts: pd.DataFrame) -> list[tuple[float, float]]:
    """The alerts' periods, overlapping ones merged, as (start, width) in matplotlib's date numbers."""
    if not len(alerts):
        return []
    starts = date2num(st.naive_utc(alerts["start"]))  # type: ignore[no-untyped-call]
    ends = date2num(st.naive_utc(alerts["end"]))  # type: ignore[no-untyped-call]
    order = np.argsort(starts, kind="stable")
    merged: list[list[float]] = []
    for begin, end in zip(starts[order].tolist(), ends[order].tolist(), strict=True):
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    return [(begin, max(end - begin, 1e-6)) for begin, end in merged]
