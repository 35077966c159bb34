"""When did failures rise: the failure rate per time bucket with its interval band, incidents shaded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

from catena_nb.analysis import rates_over_time
from catena_nb.analysis.buckets import bucket_end
from catena_nb.analysis.grouping import By, label
from catena_nb.charts import style as st
from catena_nb.charts.outcomes import RATE_COLUMNS
from catena_nb.frames.checks import require_by, require_frame_or_table

_TIMELINE_TABLES = {
    "rates_over_time": ("period", "settled", "failures", "failure_rate", "failure_ci_low", "failure_ci_high",
                        "small_sample"),
}  # fmt: skip


def plot_failure_rate_over_time(
    data: pd.DataFrame,
    *,
    freq: str = "D",
    by: By = None,
    incidents: Any = None,
    ax: Axes | None = None,
    max_groups: int = 6,
    **kw: Any,
) -> Axes:
    """The failure rate per time bucket with its 95% Wilson band, incidents shaded.

    Args:
        data: an operations frame, or the result of :func:`catena_nb.rates_over_time`.
        freq: the bucket size when ``data`` is an operations frame.
        by: an optional grouping (one line per group, the ``max_groups`` with most failures).
        incidents: periods to shade: the frame of :func:`catena_nb.find_incidents`, or objects with
            ``start``/``end`` (e.g. a sandbox's ``incidents``).
        ax: where to draw; a new Axes by default.
        max_groups: the most lines drawn.
        **kw: ``title`` to replace the question.

    Returns:
        The Axes. Without ``by``, a second y axis (light bars) shows the settled operations per bucket.

    Raises:
        TypeError: ``data`` is neither an operations frame nor a rates-over-time table.
        ValueError: a column is missing, ``created_at`` is naive or missing (NaT), ``by`` names no column,
            or ``incidents`` is a frame without ``start`` and ``end``.
    """
    if require_frame_or_table(data, "operations", "plot_failure_rate_over_time", "data", _TIMELINE_TABLES,
                              columns=["status"], times=["created_at"]):  # fmt: skip
        table = data
    else:
        require_by(data, by, "plot_failure_rate_over_time", "data")
        table = rates_over_time(data, freq, by=by)
    if isinstance(incidents, pd.DataFrame) and not {"start", "end"} <= set(incidents.columns):
        raise ValueError(
            "plot_failure_rate_over_time needs incidents with start and end: the table of "
            "cn.find_incidents(ops_df) or cn.locate_incidents(ops_df), or a sandbox's incidents"
        )
    names = [c for c in table.columns if c not in RATE_COLUMNS]
    unit = {"D": "Daily", "h": "Hourly", "W": "Weekly"}.get(freq, f"Per-{freq}")
    question = kw.get("title") or (
        "When did failures rise?" if not names else f"When did failures rise, by {st.by_title(names)}?"
    )
    ax = st.new_axes(ax, (9.0, 4.5))
    if not len(table) or table["settled"].sum() == 0:
        return st.no_data(ax, question)
    entries = _shade_incidents(ax, incidents)
    shaded = bool(entries)
    if names:
        order = (
            table.groupby(names, dropna=False, observed=True)["failures"].sum().sort_values(ascending=False)
        )
        groups = list(order.index[:max_groups])
        colors = st.group_colors(label(k if isinstance(k, tuple) else (k,)) for k in order.index)
        for key in groups:
            values = key if isinstance(key, tuple) else (key,)
            mask = np.ones(len(table), dtype=bool)
            for name, value in zip(names, values, strict=True):
                col = table[name]
                mask &= (col.isna() if pd.isna(value) else (col == value)).to_numpy(dtype=bool)
            name = label(values)
            entries.append((_rate_line(ax, table.loc[mask], colors[name], name, freq), name))
        dropped = len(order) - len(groups)
        st.legend(
            ax, entries, loc="upper left", fontsize=st.TEXT_SIZE, frameon=False, ncol=min(4, len(groups) + 1)
        )
    else:
        _rate_line(ax, table, st.outcome_color("failed"), "failure rate", freq)
        _counts_axis(ax, table, freq)
        dropped = 0
    top = float(np.nanmax(table["failure_ci_high"].to_numpy(float)))
    ax.set_ylim(0, min(1.0, top * (1.3 if names else 1.1)) or 0.05)  # headroom for the legend
    st.percent_axis(ax, "y")
    ax.set_ylabel("Failure rate (settled operations)", fontsize=st.TEXT_SIZE)
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("Time (UTC)", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "y")
    detail = f"{unit} failure rate, band: 95% interval; n = {st.fmt_n(table['settled'].sum())} settled"
    if shaded:
        detail += "; shaded: incidents"
    if dropped:
        detail += f"; {dropped} more groups not drawn"
    st.set_title(ax, question, detail)
    return ax


def _centres(periods: pd.Series, freq: str) -> np.ndarray[Any, Any]:
    """The middle of each bucket, where its rate is drawn (so that it sits inside a shaded incident)."""
    starts = pd.to_datetime(periods, utc=True)
    ends = pd.Series([bucket_end(t, freq) for t in starts], index=starts.index)
    return st.naive_utc(starts + (ends - starts) / 2)


def _rate_line(ax: Axes, part: pd.DataFrame, color: str, name: str, freq: str) -> Artist:
    """The rate line of one group with its band; returns the line."""
    part = part.sort_values("period")
    x = _centres(part["period"], freq)
    rate = part["failure_rate"].to_numpy(float)
    ax.fill_between(
        x,
        part["failure_ci_low"].to_numpy(float),
        part["failure_ci_high"].to_numpy(float),
        color=color,
        alpha=0.2,
        linewidth=0,
    )
    (line,) = ax.plot(x, rate, color=color, linewidth=1.6, marker="o", markersize=3, label=st.plain(name))
    small = part["small_sample"].to_numpy(dtype=bool) & ~np.isnan(rate)
    if small.any():  # hollow markers: a small sample in the bucket
        ax.plot(
            x[small],
            rate[small],
            linestyle="none",
            marker="o",
            markersize=5,
            markerfacecolor="white",
            markeredgecolor=color,
        )
    return line


def _counts_axis(ax: Axes, table: pd.DataFrame, freq: str) -> None:
    twin = ax.twinx()
    x = _centres(table["period"], freq)
    width = np.median(np.diff(x)) * 0.8 if len(x) > 1 else np.timedelta64(1, "h")
    twin.bar(x, table["settled"].to_numpy(float), width=width, color="#E8E8E8", zorder=0)
    twin.set_ylabel("Settled operations per bucket", fontsize=st.TEXT_SIZE, color=st.MUTED)
    twin.tick_params(labelsize=st.TEXT_SIZE, colors=st.MUTED)
    twin.spines["top"].set_visible(False)
    # the rate line is drawn above the bars of the twin axis
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)


def _shade_incidents(ax: Axes, incidents: Any) -> list[st.LegendEntry]:
    """Shade each incident's period; the legend entry of the first (none without incidents)."""
    entries: list[st.LegendEntry] = []
    for i, (start, end) in enumerate(_incident_periods(incidents)):
        span = ax.axvspan(
            start, end, color=st.INCIDENT_COLOR, alpha=0.12, linewidth=0, label="incident" if i == 0 else None
        )
        if i == 0:
            entries.append((span, "incident"))
    return entries


def _incident_periods(incidents: Any) -> list[tuple[Any, Any]]:
    if incidents is None:
        return []
    if isinstance(incidents, pd.DataFrame):
        pairs: Iterable[tuple[Any, Any]] = zip(incidents["start"], incidents["end"], strict=True)
    else:
        pairs = ((getattr(i, "start", None), getattr(i, "end", None)) for i in incidents)
    out = []
    for start, end in pairs:
        if start is None or end is None or pd.isna(start) or pd.isna(end):
            continue
        s, e = pd.Timestamp(start), pd.Timestamp(end)
        s = s.tz_convert("UTC").tz_localize(None) if s.tzinfo else s
        e = e.tz_convert("UTC").tz_localize(None) if e.tzinfo else e
        out.append((s.to_datetime64(), e.to_datetime64()))
    return out
