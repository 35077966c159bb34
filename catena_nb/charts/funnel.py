"""Which groups fail more than chance allows: the funnel plot of failure rate against size (Spiegelhalter)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from catena_nb.analysis.funnel import FUNNEL_COLUMNS, compute_funnel, funnel_limits, mark_funnel
from catena_nb.charts import style as st
from catena_nb.frames.checks import require_frame_or_table

_FUNNEL_TABLES = {"funnel_table": ("n", "failures", "rate", "target", "outside_95", "outside_998")}
_CURVE_POINTS = 160
_LABEL_CHARS = 28  # a label longer than this (a connection's UUID) is cut, its start kept
_OUTSIDE_998 = st.INCIDENT_COLOR
_OUTSIDE_95 = "#E69F00"
_WITHIN = "#777777"


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def group_names(table: pd.DataFrame, columns: tuple[str, ...] = FUNNEL_COLUMNS) -> list[str]:
    """Each row's group as a short label; a connection as its TSP and the start of its id."""
    names = [c for c in table.columns if c not in columns]
    if names == ["connection_id", "source_name"]:  # a connection reads best as its TSP and the id's start
        pairs = zip(table["connection_id"], table["source_name"], strict=True)
        return [f"{tsp} · {str(cid)[:8]}" for cid, tsp in pairs]
    return [_short(text) for text in st.group_labels(table, names)]


def plot_funnel(
    data: pd.DataFrame, *, by: Any = "connection_id", ax: Axes | None = None, max_labels: int = 12, **kw: Any
) -> Axes:
    """A funnel plot: each group's failure rate against its settled operations, with 95% and 99.8% limits.

    The limits are exact binomial ones around the overall failure rate, interpolated as Spiegelhalter (2005)
    gives them (see :mod:`catena_nb.analysis.funnel`); a group above the 99.8% funnel failed more than one
    sharing the overall rate would in 999 of 1,000 cases. The groups outside the 95% funnel are labelled
    (the ``max_labels`` farthest out), their names drawn as text.

    Args:
        data: an operations frame, or the table of :func:`catena_nb.funnel_table`.
        by: the groups when ``data`` is a frame: ``"connection_id"`` (or ``"connection"``),
            ``"source_name"`` (or ``"tsp"``), any columns.
        ax: where to draw; a new Axes by default.
        max_labels: the most groups labelled.
        **kw: ``title`` to replace the question.

    Returns:
        The Axes; the x axis (settled operations) is logarithmic when sizes span more than a decade.

    Raises:
        TypeError: ``data`` is neither an operations frame nor a funnel table.
        ValueError: it lacks ``status``, or ``by`` names no column of it.

    Example:
        >>> ax = plot_funnel(ops_df, by="connection")  # doctest: +SKIP
    """
    if require_frame_or_table(data, "operations", "plot_funnel", "data", _FUNNEL_TABLES, columns=["status"]):
        table = data
    else:
        table = mark_funnel(compute_funnel(data, by, "plot_funnel", "data"))
    question = kw.get("title") or "Which groups fail more than chance allows?"
    ax = st.new_axes(ax, (8.0, 5.0))
    if not len(table):
        return st.no_data(ax, question)
    target = float(table["target"].iloc[0])
    n = table["n"].to_numpy(dtype=np.float64)
    rate = table["rate"].to_numpy(dtype=np.float64)
    low, high = max(1.0, n.min() / 1.5), n.max() * 1.5
    log_x = high / low > 10
    grid = np.unique(
        (np.geomspace(low, high, _CURVE_POINTS) if log_x else np.linspace(low, high, _CURVE_POINTS)).round()
    ).astype(np.int64)
    limits = funnel_limits(target, grid)
    entries: list[st.LegendEntry] = []
    for level, style, text in (("998", "-", "99.8% limits"), ("95", "--", "95% limits")):
        (line,) = ax.plot(grid, limits[f"high_{level}"], color=st.MUTED, linestyle=style, linewidth=1.0)
        ax.plot(grid, limits[f"low_{level}"], color=st.MUTED, linestyle=style, linewidth=1.0)
        entries.append((line, text))
    centre = ax.axhline(target, color=st.INTERVAL_COLOR, linewidth=1.0)
    entries.insert(0, (centre, f"overall failure rate {st.fmt_pct(target)}"))
    out95 = table["outside_95"].to_numpy(dtype=bool)
    out998 = table["outside_998"].to_numpy(dtype=bool)
    colors = np.where(out998, _OUTSIDE_998, np.where(out95, _OUTSIDE_95, _WITHIN))
    for color, text in ((_OUTSIDE_998, "outside 99.8%"), (_OUTSIDE_95, "outside 95%"), (_WITHIN, "within")):
        mask = colors == color
        if mask.any():
            points = ax.scatter(n[mask], rate[mask], s=28, color=color, zorder=3, edgecolors="white")
            entries.append((points, f"{text} ({mask.sum()})"))
    _label_outliers(ax, table, n, rate, out95, max_labels)
    if log_x:
        ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    st.percent_axis(ax, "y")
    ax.set_xlabel("Settled operations (n)", fontsize=st.TEXT_SIZE)
    ax.set_ylabel("Failure rate", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "both")
    st.legend(ax, entries, fontsize=st.TEXT_SIZE, frameon=False, loc="upper right")
    groups = st.fmt_n(len(table))
    st.set_title(ax, question, f"{groups} groups; exact binomial limits around the overall rate")
    return ax


def _label_outliers(ax: Axes, table: pd.DataFrame, n: Any, rate: Any, outside: Any, max_labels: int) -> None:
    z = np.abs(table["z"].to_numpy(dtype=np.float64)) if "z" in table.columns else np.abs(rate)
    order = [i for i in np.argsort(-np.nan_to_num(z)) if outside[i]][:max_labels]
    labels = group_names(table)
    for i in order:
        ax.annotate(
            st.plain(labels[i]),
            (n[i], rate[i]),
            xytext=(5, 4),
            textcoords="offset points",
            fontsize=st.TEXT_SIZE - 1,
            color=st.INTERVAL_COLOR,
        )
