"""Charts of the reliability tables: each ``plot_x(data, *, ax=None, **kw) -> Axes``.

Every chart takes either the frame of operations (and computes its table with :mod:`~catena_nb.analysis`)
or that table itself, draws on ``ax`` (or on a new Axes of a fixed size with constrained layout), and
returns the Axes. None calls ``plt.show()`` or changes matplotlib's global settings; a new figure is not
registered with ``pyplot``, so nothing is left open. Titles ask the question the chart answers, rates are in
percent with their 95% Wilson interval, and ``n`` is always shown, so a rate over three operations reads
as the guess it is. Colours are fixed per outcome, error type and funnel stage (:mod:`~.style`).

Example:
    >>> ax = plot_outcomes(ops_df, by="source_name")  # doctest: +SKIP
    >>> ax.figure.savefig("outcomes.png", dpi=150)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.patches import Patch
from matplotlib.transforms import ScaledTranslation

from catena_nb.analysis import (
    FUNNEL_STAGES,
    attempts_distribution,
    delivery_funnel,
    error_breakdown,
    latency_summary,
    outcome_rates,
    rates_over_time,
    retry_effect,
)
from catena_nb.analysis._rates import By, keys_of, label, names_of
from catena_nb.analysis._timebuckets import bucket_end
from catena_nb.charts import style as st

__all__ = [
    "plot_attempts",
    "plot_delivery_funnel",
    "plot_error_types",
    "plot_failure_rate_over_time",
    "plot_latency",
    "plot_outcomes",
]

_NO_DATA = "no settled operations"


def _group_labels(table: pd.DataFrame, names: list[str]) -> list[str]:
    if not names:
        return ["all operations"] * len(table)
    return [label(row) for row in table[names].itertuples(index=False, name=None)]


def _by_title(by: By) -> str:
    names = names_of(keys_of(by))
    return " and ".join(n.removeprefix("payload_").replace("_", " ") for n in names) or "all operations"


def _empty(ax: Axes, question: str) -> Axes:
    st.set_title(ax, question, _NO_DATA)
    ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes, color=st.MUTED)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _below(ax: Axes) -> Any:
    """A transform with its origin 32 points under the Axes' bottom edge: room for tick labels and x label."""
    return ax.transAxes + ScaledTranslation(0, -32 / 72, ax.figure.dpi_scale_trans)


def _naive_utc(times: pd.Series) -> np.ndarray[Any, Any]:
    """UTC datetimes as naive numpy datetime64, which matplotlib plots without a converter."""
    t = pd.to_datetime(times, utc=True)
    return np.asarray(t.dt.tz_localize(None).to_numpy(dtype="datetime64[us]"))


# ------------------------------------------------------------------------------------------ outcomes


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
    """
    question = kw.get("title") or f"What share of operations failed, by {_by_title(by)}?"
    rates = data if "successes" in data.columns else outcome_rates(data, by=by)
    names = [c for c in rates.columns if c not in _RATE_COLUMNS]
    rates = rates.loc[rates["settled"] > 0].head(top)
    ax = st.new_axes(ax, (8.0, max(3.0, 1.5 + 0.42 * len(rates))))
    if not len(rates):
        return _empty(ax, question)
    y = np.arange(len(rates))[::-1]  # most failures on top
    fail = rates["failure_rate"].to_numpy(dtype=float)
    small = rates["small_sample"].to_numpy(dtype=bool)
    alpha = np.where(small, 0.45, 1.0)
    for yi, f, a, sm in zip(y, fail, alpha, small, strict=True):
        hatch = "///" if sm else None
        ax.barh(yi, f, color=st.OUTCOME_COLORS["failed"], alpha=a, hatch=hatch, edgecolor="white", height=0.7)
        ax.barh(yi, 1 - f, left=f, color=st.OUTCOME_COLORS["success"], alpha=a, hatch=hatch,
                edgecolor="white", height=0.7)  # fmt: skip
    low, high = rates["failure_ci_low"].to_numpy(float), rates["failure_ci_high"].to_numpy(float)
    # the interval as a (2, n) array: matplotlib warns about a list of one-element arrays under numpy < 2.4
    ax.errorbar(fail, y, xerr=np.vstack((fail - low, high - fail)), fmt="none", ecolor=st.INTERVAL_COLOR,
                elinewidth=1.2, capsize=3, zorder=3)  # fmt: skip
    for yi, (_, row) in zip(y, rates.iterrows(), strict=True):
        text = f"{st.fmt_pct(row['failure_rate'])} failed · n={st.fmt_n(row['settled'])}"
        if row["pending"]:
            text += f" (+{st.fmt_n(row['pending'])} pending)"
        if row["small_sample"]:
            text += " · small sample"
        ax.text(1.01, yi, text, transform=ax.get_yaxis_transform(), va="center", fontsize=st.TEXT_SIZE)
    ax.set_yticks(y, _group_labels(rates, names))
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
    handles = [
        Patch(color=st.OUTCOME_COLORS["failed"], label="failed"),
        Patch(color=st.OUTCOME_COLORS["success"], label="succeeded"),
    ]
    if small.any():
        handles.append(Patch(facecolor="white", edgecolor=st.MUTED, hatch="///", label="fewer than 30"))
    # below the x label, clear of it whatever the figure's height
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0), ncol=len(handles), frameon=False,
              fontsize=st.TEXT_SIZE, bbox_transform=_below(ax))  # fmt: skip
    return ax


_RATE_COLUMNS = frozenset(
    {"n", "successes", "failures", "pending", "settled", "rate", "ci_low", "ci_high", "failure_rate",
     "failure_ci_low", "failure_ci_high", "small_sample", "period"}
)  # fmt: skip


# ---------------------------------------------------------------------------------------- error types


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
    """
    table = data if "share" in data.columns and "error_type" in data.columns else error_breakdown(data, by=by)
    names = [c for c in table.columns if c not in _BREAKDOWN_COLUMNS]
    question = kw.get("title") or (
        "Which error types cause the failures?" if not names else f"Which error types, by {_by_title(names)}?"
    )
    table = table.loc[table["failures"] > 0]
    colors = st.error_colors(table["error_type"].astype(str))
    if names:
        return _error_types_by_group(table, names, colors, st.new_axes(ax, (8.0, 4.5)), question)
    ax = st.new_axes(ax, (8.0, max(2.4, 1.2 + 0.45 * len(table))))
    if not len(table):
        return _empty(ax, question)
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
    ax.set_yticks(y, kinds)
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
        return _empty(ax, question)
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
    for kind in order:
        share = wide[kind].to_numpy(float) / totals
        ax.barh(y, share, left=left, color=colors[str(kind)], label=str(kind), height=0.7, edgecolor="white")
        left += share
    for yi, total in zip(y, totals, strict=True):
        ax.text(1.01, float(yi), f"n={st.fmt_n(total)}", transform=ax.get_yaxis_transform(), va="center",
                fontsize=st.TEXT_SIZE)  # fmt: skip
    index = wide.index.to_frame(index=False)
    ax.set_yticks(y, _group_labels(index, names))
    ax.set_xlim(0, 1)
    st.percent_axis(ax, "x")
    ax.set_xlabel("Share of the group's failed operations", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "x")
    st.set_title(ax, question, f"n = {st.fmt_n(totals.sum())} failed operations")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), ncol=min(len(order), 6), frameon=False,
              fontsize=st.TEXT_SIZE, bbox_transform=_below(ax))  # fmt: skip
    return ax


_BREAKDOWN_COLUMNS = frozenset(
    {"error_type", "failures", "share", "ci_low", "ci_high", "rescued", "pending", "operations",
     "failed_attempts", "attempt_share"}
)  # fmt: skip


# -------------------------------------------------------------------------------------------- timeline


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
    """
    table = data if "period" in data.columns else rates_over_time(data, freq, by=by)
    names = [c for c in table.columns if c not in _RATE_COLUMNS]
    unit = {"D": "Daily", "h": "Hourly", "W": "Weekly"}.get(freq, f"Per-{freq}")
    question = kw.get("title") or (
        "When did failures rise?" if not names else f"When did failures rise, by {_by_title(names)}?"
    )
    ax = st.new_axes(ax, (9.0, 4.5))
    if not len(table) or table["settled"].sum() == 0:
        return _empty(ax, question)
    shaded = _shade_incidents(ax, incidents)
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
            _rate_line(ax, table.loc[mask], colors[label(values)], label(values), freq)
        dropped = len(order) - len(groups)
        ax.legend(loc="upper left", fontsize=st.TEXT_SIZE, frameon=False, ncol=min(4, len(groups) + 1))
    else:
        _rate_line(ax, table, st.OUTCOME_COLORS["failed"], "failure rate", freq)
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
    return _naive_utc(starts + (ends - starts) / 2)


def _rate_line(ax: Axes, part: pd.DataFrame, color: str, name: str, freq: str) -> None:
    part = part.sort_values("period")
    x = _centres(part["period"], freq)
    rate = part["failure_rate"].to_numpy(float)
    ax.fill_between(x, part["failure_ci_low"].to_numpy(float), part["failure_ci_high"].to_numpy(float),
                    color=color, alpha=0.2, linewidth=0)  # fmt: skip
    ax.plot(x, rate, color=color, linewidth=1.6, marker="o", markersize=3, label=name)
    small = part["small_sample"].to_numpy(dtype=bool) & ~np.isnan(rate)
    if small.any():  # hollow markers: fewer than 30 settled operations in the bucket
        ax.plot(x[small], rate[small], linestyle="none", marker="o", markersize=5, markerfacecolor="white",
                markeredgecolor=color)  # fmt: skip


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


def _shade_incidents(ax: Axes, incidents: Any) -> int:
    periods = _incident_periods(incidents)
    for i, (start, end) in enumerate(periods):
        ax.axvspan(
            start, end, color=st.INCIDENT_COLOR, alpha=0.12, linewidth=0, label="incident" if i == 0 else None
        )
    return len(periods)


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


# -------------------------------------------------------------------------------------------- attempts


def plot_attempts(data: pd.DataFrame, logs_df: pd.DataFrame | None = None, *, ax: Axes | None = None,
                  **kw: Any) -> Axes:  # fmt: skip
    """How many attempts operations took, and how each count ended (succeeded / failed / pending).

    Bars are side by side on a log scale, because almost every operation takes one attempt; the subtitle
    gives first-attempt against final success on the same operations.

    Args:
        data: an operations frame.
        logs_df: its logs frame, to read first attempts from (see :func:`catena_nb.retry_effect`).
        ax: where to draw; a new Axes by default.
        **kw: ``title`` to replace the question.

    Returns:
        The Axes.
    """
    question = kw.get("title") or "How many attempts did operations need, and did retries help?"
    ax = st.new_axes(ax, (8.0, 4.5))
    dist = attempts_distribution(data)
    if not len(dist):
        return _empty(ax, question)
    x = dist["attempts"].to_numpy(int)
    outcomes = [o for o in ("success", "failed", "pending") if dist[o].sum() > 0]
    width = 0.8 / len(outcomes)
    for i, outcome in enumerate(outcomes):
        counts = dist[outcome].to_numpy(float)
        pos = x + (i - (len(outcomes) - 1) / 2) * width
        shown = counts > 0
        bars = ax.bar(pos[shown], counts[shown], width=width, color=st.OUTCOME_COLORS[outcome],
                      label=st.OUTCOME_LABELS[outcome])  # fmt: skip
        ax.bar_label(bars, labels=[st.fmt_n(c) for c in counts[shown]], fontsize=st.TEXT_SIZE - 1, padding=2)
    ax.set_yscale("log")
    ax.set_ylim(0.7, float(dist[outcomes].to_numpy().max()) * 4)
    ax.set_xticks(x, [str(v) for v in x])
    ax.set_xlabel("Attempts (logs) per operation", fontsize=st.TEXT_SIZE)
    ax.set_ylabel("Operations (log scale)", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "y")
    ax.legend(fontsize=st.TEXT_SIZE, frameon=False, loc="upper right")
    effect = retry_effect(data, logs_df).iloc[0]
    if effect["n"]:
        detail = (
            f"First attempt {st.fmt_pct(effect['first_attempt_rate'])} → final "
            f"{st.fmt_pct(effect['final_rate'])} success; {st.fmt_n(effect['rescued'])} rescued by a retry "
            f"(n = {st.fmt_n(effect['n'])} settled)"
        )
    else:
        detail = _NO_DATA
    st.set_title(ax, question, detail)
    return ax


# --------------------------------------------------------------------------------------------- latency


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
    """
    question = kw.get("title") or "How long until an operation settles?"
    ax = st.new_axes(ax, (8.0, 4.5))
    summary = latency_summary(data, by=by)
    summary = summary.loc[summary["n"] > 0].sort_values("n", ascending=False, kind="stable")
    names = names_of(keys_of(by))
    colors = st.group_colors(_group_labels(summary, names))
    summary = summary.head(max_groups)
    if not len(summary):
        return _empty(ax, question)
    settled = data["status"].isin(("success", "failed")).to_numpy(dtype=bool)
    durations = data["duration_s"].astype("float64")
    positive: list[float] = []
    for _, row in summary.iterrows():
        mask = settled & durations.notna().to_numpy(dtype=bool)
        for name in names:
            value = row[name]
            col = data[name]
            mask &= (col.isna() if pd.isna(value) else (col == value)).to_numpy(dtype=bool)
        values = np.sort(durations.to_numpy()[mask])
        ys = np.arange(1, len(values) + 1) / len(values)
        if len(values) > 2000:  # the curve's shape needs no more points than the pixels it spans
            keep = np.unique(np.linspace(0, len(values) - 1, 2000).astype(int))
            values, ys = values[keep], ys[keep]
        name = label([row[n] for n in names]) if names else "all operations"
        color = colors[name]
        p50, p95 = st.fmt_seconds(row["p50_s"]), st.fmt_seconds(row["p95_s"])
        text = f"{name} (n={st.fmt_n(row['n'])}; p50 {p50}, p95 {p95})"
        ax.step(values, ys, where="post", color=color, linewidth=1.6, label=text)
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
    ax.legend(fontsize=st.TEXT_SIZE, frameon=False, loc="lower right")
    st.set_title(ax, question, "Cumulative share of settled operations; dots mark p95")
    return ax


# ---------------------------------------------------------------------------------------------- funnel


def plot_delivery_funnel(
    data: pd.DataFrame, messages_df: pd.DataFrame | None = None, *, ax: Axes | None = None, **kw: Any
) -> Axes:
    """Did the messages reach the drivers: created → accepted by the TSP → delivered → read.

    Args:
        data: an operations frame (with ``messages_df``), or the result of :func:`catena_nb.delivery_funnel`
            without groups.
        messages_df: the messages frame, when ``data`` is an operations frame.
        ax: where to draw; a new Axes by default.
        **kw: ``title`` to replace the question.

    Returns:
        The Axes.

    Raises:
        ValueError: if ``data`` is an operations frame and ``messages_df`` is missing, or the funnel is
            grouped (draw one funnel per group on separate Axes instead).
    """
    question = kw.get("title") or "Did the messages reach the drivers?"
    if "stage" in data.columns:
        funnel = data
    elif messages_df is None:
        raise ValueError("plot_delivery_funnel needs messages_df with an operations frame")
    else:
        funnel = delivery_funnel(data, messages_df)
    if len(funnel) > len(FUNNEL_STAGES):
        raise ValueError("plot_delivery_funnel draws one funnel; select one group first")
    ax = st.new_axes(ax, (8.0, 3.4))
    created = float(funnel["n"].iloc[0]) if len(funnel) else 0.0
    if not created:
        return _empty(ax, question)
    stages = funnel["stage"].astype(str).tolist()
    y = np.arange(len(funnel))[::-1]
    share = funnel["share"].to_numpy(float)
    low, high = funnel["ci_low"].to_numpy(float), funnel["ci_high"].to_numpy(float)
    ax.barh(y, share, color=[st.STAGE_COLORS.get(s, st.MUTED) for s in stages], height=0.7)
    # the first stage is 100% by definition: no interval to show
    ax.errorbar(share[1:], y[1:], xerr=np.vstack(((share - low)[1:], (high - share)[1:])), fmt="none",
                ecolor=st.INTERVAL_COLOR, capsize=3)  # fmt: skip
    for i, (yi, (_, row)) in enumerate(zip(y, funnel.iterrows(), strict=True)):
        if i == 0:
            text = f"{st.fmt_n(row['n'])} sends"
        else:
            text = f"{st.fmt_n(row['n'])} · {st.fmt_pct(row['share'])} of created"
        if i > 1:
            text += f" · {st.fmt_pct(row['step_rate'])} of {stages[i - 1]}"
        ax.text(1.02, yi, text, transform=ax.get_yaxis_transform(), va="center", fontsize=st.TEXT_SIZE)
    ax.set_yticks(y, stages)
    ax.set_xlim(0, 1)
    st.percent_axis(ax, "x")
    ax.set_xlabel("Share of created message operations", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "x")
    st.set_title(ax, question, f"n = {st.fmt_n(created)} sends; whiskers: 95% interval")
    return ax
