"""Which sends failed, and of what: outcome shares per group, failures by error type.

Example:
    >>> ax = plot_outcomes(ops_df, by="source_name")  # doctest: +SKIP
    >>> ax.figure.savefig("outcomes.png", dpi=150)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from catena_nb.analysis import error_breakdown, outcome_rates
from catena_nb.analysis.grouping import By
from catena_nb.analysis.intervals import SMALL_SAMPLE
from catena_nb.analysis.outcomes import check_breakdown
from catena_nb.charts import style as st
from catena_nb.frames.checks import require, require_by, require_frame_or_table

# the columns of an outcome_rates table that are not its group columns
RATE_COLUMNS = frozenset(
    {"n", "successes", "failures", "pending", "settled", "rate", "ci_low", "ci_high", "failure_rate",
     "failure_ci_low", "failure_ci_high", "small_sample", "period"}
)  # fmt: skip
# the tables each chart takes instead of a frame, with the columns it reads of them
_RATE_TABLES = {
    "outcome_rates": ("successes", "settled", "failure_rate", "failure_ci_low", "failure_ci_high", "pending"),
    "rates_over_time": (
        "successes",
        "settled",
        "failure_rate",
        "failure_ci_low",
        "failure_ci_high",
        "pending",
    ),
}
_BREAKDOWN_TABLES = {"error_breakdown": ("error_type", "share", "failures", "ci_low", "ci_high")}
_BREAKDOWN_COLUMNS = frozenset(
    {"error_type", "failures", "share", "ci_low", "ci_high", "rescued", "pending", "operations",
     "failed_attempts", "attempt_share"}
)  # fmt: skip


def plot_outcomes(
    data: pd.DataFrame, *, by: By = "source_name", ax: Axes | None = None, top: int = 20, **kw: Any
) -> Axes:
    """Stacked failed/succeeded share of settled operations per group, with n and the failure interval.

    Args:
        data: an operations frame, or the result of :func:`catena_nb.outcome_rates`.
        by: the grouping when ``data`` is an operations frame (ignored for a rates table).
        ax: where to draw; a new 8x4.5 in Axes by default.
        top: at most this many groups, those with the most failures.
        **kw: ``title`` to replace the question.

    Returns:
        The Axes.

    Raises:
        TypeError: ``data`` is neither an operations frame nor an outcome-rates table.
        ValueError: it lacks a column the chart reads, or ``by`` names no column of it.
    """
    table = require_frame_or_table(
        data, "operations", "plot_outcomes", "data", _RATE_TABLES, columns=["status"]
    )
    if table is None:
        require_by(data, by, "plot_outcomes", "data")
    rates = data if table is not None else outcome_rates(data, by=by)
    question = kw.get("title") or f"What share of operations failed, by {st.by_title(by)}?"
    names = [c for c in rates.columns if c not in RATE_COLUMNS]
    rates = rates.loc[rates["settled"] > 0].head(top)
    ax = st.new_axes(ax, (8.0, max(3.0, 1.5 + 0.42 * len(rates))))
    if not len(rates):
        return st.no_data(ax, question)
    failed_color, success_color = st.outcome_color("failed"), st.outcome_color("success")
    y = np.arange(len(rates))[::-1]  # most failures on top
    fail = rates["failure_rate"].to_numpy(dtype=float)
    small = rates["small_sample"].to_numpy(dtype=bool)
    alpha = np.where(small, 0.45, 1.0)
    for yi, f, a, sm in zip(y, fail, alpha, small, strict=True):
        hatch = "///" if sm else None
        ax.barh(yi, f, color=failed_color, alpha=a, hatch=hatch, edgecolor="white", height=0.7)
        ax.barh(yi, 1 - f, left=f, color=success_color, alpha=a, hatch=hatch, edgecolor="white", height=0.7)
    low, high = rates["failure_ci_low"].to_numpy(float), rates["failure_ci_high"].to_numpy(float)
    # the interval as a (2, n) array: matplotlib warns about a list of one-element arrays under numpy < 2.4
    ax.errorbar(
        fail,
        y,
        xerr=np.vstack((fail - low, high - fail)),
        fmt="none",
        ecolor=st.INTERVAL_COLOR,
        elinewidth=1.2,
        capsize=3,
        zorder=3,
    )
    for yi, (_, row) in zip(y, rates.iterrows(), strict=True):
        text = f"{st.fmt_pct(row['failure_rate'])} failed · n={st.fmt_n(row['settled'])}"
        if row["pending"]:
            text += f" (+{st.fmt_n(row['pending'])} pending)"
        if row["small_sample"]:
            text += " · small sample"
        ax.text(1.01, yi, text, transform=ax.get_yaxis_transform(), va="center", fontsize=st.TEXT_SIZE)
    st.set_ticks(ax, "y", y, st.group_labels(rates, names))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(rates) - 0.4)
    st.percent_axis(ax, "x")
    ax.set_xlabel("Share of settled operations", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "x")
    settled = int(rates["settled"].sum())
    st.set_title(
        ax,
        question,
        f"n = {st.fmt_n(settled)} settled operations; whiskers: 95% interval of the failure rate",
    )
    entries: list[st.LegendEntry] = [
        (Patch(color=failed_color), "failed"),
        (Patch(color=success_color), "succeeded"),
    ]
    if small.any():
        entries.append(
            (Patch(facecolor="white", edgecolor=st.MUTED, hatch="///"), f"fewer than {SMALL_SAMPLE}")
        )
    # below the x label, clear of it whatever the figure's height
    st.legend(
        ax,
        entries,
        loc="upper center",
        bbox_to_anchor=(0.5, 0),
        ncol=len(entries),
        frameon=False,
        fontsize=st.TEXT_SIZE,
        bbox_transform=st.below(ax),
    )
    return ax


def plot_error_types(
    data: pd.DataFrame,
    logs_df: pd.DataFrame | None = None,
    *,
    by: By = None,
    ax: Axes | None = None,
    **kw: Any,
) -> Axes:
    """Which error types cause the failures: share of failed operations per ``error_type``.

    Without ``by``: one bar per error type (share of all failures, 95% interval, count). With ``by``: one
    100% bar per group, split by error type.

    Args:
        data: an operations frame, or the result of :func:`catena_nb.error_breakdown`.
        logs_df: unused by the chart; accepted so that the call mirrors :func:`catena_nb.error_breakdown`.
        by: an optional grouping when ``data`` is an operations frame.
        ax: where to draw; a new Axes by default.
        **kw: ``title`` to replace the question.

    Returns:
        The Axes.

    Raises:
        TypeError: ``data`` is neither an operations frame nor an error-breakdown table, or ``logs_df`` is
            not a logs frame.
        ValueError: a column the chart reads is missing, or ``by`` names no column of ``data``.
    """
    if require_frame_or_table(data, "operations", "plot_error_types", "data", _BREAKDOWN_TABLES,
                              columns=["status", "error_type"], others={"logs_df": logs_df}):  # fmt: skip
        table = data
    else:
        check_breakdown(data, logs_df, by, "plot_error_types", "data")
        table = error_breakdown(data, by=by)
    if logs_df is not None:
        require(logs_df, "logs", "plot_error_types", "logs_df", others={"data": data})
    names = [c for c in table.columns if c not in _BREAKDOWN_COLUMNS]
    question = kw.get("title") or (
        "Which error types cause the failures?"
        if not names
        else f"Which error types, by {st.by_title(names)}?"
    )
    table = table.loc[table["failures"] > 0]
    colors = st.error_colors(table["error_type"].astype(str))
    if names:
        return _error_types_by_group(table, names, colors, st.new_axes(ax, (8.0, 4.5)), question)
    ax = st.new_axes(ax, (8.0, max(2.4, 1.2 + 0.45 * len(table))))
    if not len(table):
        return st.no_data(ax, question)
    kinds = table["error_type"].astype(str).tolist()
    y = np.arange(len(table))[::-1]
    share = table["share"].to_numpy(float)
    low, high = table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float)
    ax.barh(y, share, color=[colors[k] for k in kinds], height=0.7)
    ax.errorbar(
        share, y, xerr=np.vstack((share - low, high - share)), fmt="none", ecolor=st.INTERVAL_COLOR, capsize=3
    )
    for yi, (_, row) in zip(y, table.iterrows(), strict=True):
        text = f"{st.fmt_pct(row['share'])} · {st.fmt_n(row['failures'])} failed"
        if row.get("rescued", 0):
            text += f" · {st.fmt_n(row['rescued'])} more rescued by a retry"
        ax.text(float(row["ci_high"]) + 0.01, yi, text, va="center", fontsize=st.TEXT_SIZE)
    st.set_ticks(ax, "y", y, kinds)
    ax.set_xlim(0, 1)
    st.percent_axis(ax, "x")
    ax.set_xlabel("Share of failed operations", fontsize=st.TEXT_SIZE)
    ax.set_ylabel("error_type", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "x")
    total = int(table["failures"].sum())
    st.set_title(ax, question, f"n = {st.fmt_n(total)} failed operations, by the error of their last attempt")
    return ax


def _error_types_by_group(
    table: pd.DataFrame, names: list[str], colors: dict[str, str], ax: Axes, question: str
) -> Axes:
    if not len(table):
        return st.no_data(ax, question)
    wide = table.pivot_table(
        index=names, columns="error_type", values="failures", aggfunc="sum", fill_value=0, observed=True
    )
    wide = wide.loc[wide.sum(axis=1).sort_values(ascending=True).index]
    order = [k for k in st.ERROR_COLORS if k in wide.columns] + sorted(
        set(wide.columns) - st.ERROR_COLORS.keys()
    )
    totals = wide.sum(axis=1).to_numpy(float)
    y = np.arange(len(wide))
    left = np.zeros(len(wide))
    entries: list[st.LegendEntry] = []
    for kind in order:
        share = wide[kind].to_numpy(float) / totals
        bars = ax.barh(
            y, share, left=left, color=colors[str(kind)], label=st.plain(kind), height=0.7, edgecolor="white"
        )
        entries.append((bars, str(kind)))
        left += share
    for yi, total in zip(y, totals, strict=True):
        ax.text(
            1.01,
            float(yi),
            f"n={st.fmt_n(total)}",
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=st.TEXT_SIZE,
        )
    st.set_ticks(ax, "y", y, st.group_labels(wide.index.to_frame(index=False), names))
    ax.set_xlim(0, 1)
    st.percent_axis(ax, "x")
    ax.set_xlabel("Share of the group's failed operations", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "x")
    st.set_title(ax, question, f"n = {st.fmt_n(totals.sum())} failed operations")
    st.legend(
        ax,
        entries,
        loc="upper center",
        bbox_to_anchor=(0.5, 0),
        ncol=min(len(order), 6),
        frameon=False,
        fontsize=st.TEXT_SIZE,
        bbox_transform=st.below(ax),
    )
    return ax
