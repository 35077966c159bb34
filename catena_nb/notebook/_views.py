"""The dashboard's views: its selection of the operations, and their tables and charts as HTML.

The analysis and the charts are imported when a view is first drawn, so that a notebook that only sends
messages never loads matplotlib.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

import pandas as pd

from catena_nb._html import escape_html, frame_html
from catena_nb._time import as_utc
from catena_nb.notebook._panes import info_box

# group-by choices of the dashboard -> the operations_frame column they group on
_GROUP_COLUMNS = {"priority": "payload_priority"}
# the failure-side mirror of the rate columns: the success rate and its interval say the same thing
_HIDDEN_RATE_COLUMNS = frozenset({"failure_rate", "failure_ci_low", "failure_ci_high"})


def sorted_values(frame: pd.DataFrame, column: str) -> list[str]:
    """The distinct non-missing values of ``column``, sorted, as strings."""
    if column not in frame.columns:
        return []
    return sorted({str(v) for v in frame[column].dropna().unique()})


def day_range(ops_df: pd.DataFrame) -> tuple[dt.date | None, dt.date | None]:
    """The first and last UTC day of ``created_at``, or ``(None, None)`` for an empty frame."""
    created = ops_df["created_at"].dropna()
    if created.empty:
        return None, None
    return created.min().date(), created.max().date()


def filter_operations(
    ops_df: pd.DataFrame,
    *,
    source_names: list[str],
    connection_id: str | None,
    since: dt.date | None,
    until: dt.date | None,
) -> pd.DataFrame:
    """The rows on those TSPs and that connection, created from day ``since`` to day ``until`` included."""
    mask = ops_df["source_name"].astype("string").isin(source_names).fillna(False)
    if connection_id:
        mask &= (ops_df["connection_id"] == connection_id).fillna(False)
    if since is not None:
        mask &= (ops_df["created_at"] >= as_utc(since)).fillna(False)
    if until is not None:
        mask &= (ops_df["created_at"] < as_utc(until) + dt.timedelta(days=1)).fillna(False)
    return ops_df[mask.astype(bool)]


def logs_of(logs_df: pd.DataFrame | None, ops_df: pd.DataFrame) -> pd.DataFrame | None:
    """The attempts of the operations in ``ops_df``."""
    if logs_df is None:
        return None
    return logs_df[logs_df["operation_id"].isin(ops_df["operation_id"])]


def group_key(choice: str) -> Any:
    """What the analysis groups on for a dashboard group-by choice: a column name, or a day bucket."""
    if choice == "day":
        return pd.Grouper(key="created_at", freq="D")
    return _GROUP_COLUMNS.get(choice, choice)


def _missing_column(ops_df: pd.DataFrame, by: Any) -> str | None:
    if isinstance(by, str) and by not in ops_df.columns:
        return info_box(f"The operations have no {by!r} column to group on.")
    return None


def outcome_rates_html(ops_df: pd.DataFrame, by: Any) -> str:
    """``outcome_rates`` of the selection as an escaped table (a day bucket as its date)."""
    from catena_nb.analysis import outcome_rates

    missing = _missing_column(ops_df, by)
    if missing is not None:
        return missing
    table = outcome_rates(ops_df, by=by)
    if isinstance(by, pd.Grouper):
        table = table.rename(columns={by.key: "day"})
        table["day"] = table["day"].dt.strftime("%Y-%m-%d")
    return table_html(table[[c for c in table.columns if c not in _HIDDEN_RATE_COLUMNS]])


def error_breakdown_html(ops_df: pd.DataFrame, logs_df: pd.DataFrame | None) -> str:
    """``error_breakdown`` of the selection as an escaped table."""
    from catena_nb.analysis import error_breakdown

    table = error_breakdown(ops_df, logs_df)
    if len(table) == 0:
        return info_box("No failures in this selection.")
    return table_html(table)


def delivery_funnel_html(ops_df: pd.DataFrame, messages_df: pd.DataFrame) -> str:
    """``delivery_funnel`` of the selection as an escaped table."""
    from catena_nb.analysis import delivery_funnel

    return table_html(delivery_funnel(ops_df, messages_df))


def outcomes_chart_html(ops_df: pd.DataFrame, by: Any) -> str:
    """``plot_outcomes`` of the selection, as an embedded PNG."""
    from catena_nb.charts import plot_outcomes

    if _missing_column(ops_df, by) is not None:
        return ""
    fig, ax = _figure()
    plot_outcomes(ops_df, by=by, ax=ax)
    return figure_png_html(fig, alt=f"Outcomes by {by}")


def timeline_chart_html(ops_df: pd.DataFrame) -> str:
    """``plot_failure_rate_over_time`` of the selection by day (by hour if shorter), as a PNG."""
    from catena_nb.charts import plot_failure_rate_over_time

    created = ops_df["created_at"].dropna()
    # a day or two of traffic is one or two points by day: go down to hours so the chart shows a shape
    short = created.empty or created.max() - created.min() < pd.Timedelta(days=2)
    fig, ax = _figure()
    plot_failure_rate_over_time(ops_df, freq="h" if short else "D", ax=ax)
    return figure_png_html(fig, alt="Failure rate by hour" if short else "Failure rate by day")


def window_of(ops_df: pd.DataFrame, since: dt.date | None, until: dt.date | None) -> tuple[Any, Any] | None:
    """The selected days as a half-open window ``[since, until + 1 day)``; the data's days where unset."""
    first, last = day_range(ops_df)
    start, end = since or first, until or last
    if start is None or end is None or end < start:
        return None
    return as_utc(start), as_utc(end) + dt.timedelta(days=1)


def _column_grouping(ops_df: pd.DataFrame, by: Any) -> Any:
    """The grouping of the comparison and the budget: a column grouping as chosen, by TSP otherwise (a day
    grouping has no meaning across two windows, and one by error type splits successes from failures)."""
    if isinstance(by, str) and by in ops_df.columns and by != "error_type":
        return by
    return "source_name"


def _fixed(values: pd.Series, template: str) -> list[str]:
    return ["" if pd.isna(v) else template.format(v) for v in values]


def comparison_html(ops_df: pd.DataFrame, window: tuple[Any, Any] | None, by: Any) -> str:
    """``compare_periods`` of the selected window against the one of equal length before it, escaped."""
    from catena_nb.analysis import compare_periods

    if window is None:
        return info_box("Choose a date range to compare with the one before it.")
    column = _column_grouping(ops_df, by)
    table = compare_periods(ops_df, after=window, by=column)
    if len(table) == 0:
        return info_box("No settled operations in this window or the one before it.")
    before = table.attrs["windows"]["before"]
    shown = table[[column, "n_before", "rate_before", "n_after", "rate_after", "difference", "diff_ci_low",
                   "diff_ci_high"]].copy()  # fmt: skip
    shown["risk_ratio"] = _fixed(table["risk_ratio"], "{:.2f}x")
    shown["p_value"] = _fixed(table["p_value"], "{:.2g}")
    shown["q_value"] = _fixed(table["q_value"], "{:.2g}")
    days = f"{before[0]:%Y-%m-%d} to {(before[1] - dt.timedelta(days=1)):%Y-%m-%d}"
    note = f"Failure rates against {days}, the window of equal length before; q: Benjamini–Hochberg."
    return f"<div>{escape_html(note)}</div>" + table_html(shown)


def budget_html(ops_df: pd.DataFrame, target: float, by: Any) -> str:
    """``error_budget``'s summary of the selection at the SLO ``target``, escaped."""
    from catena_nb.analysis import error_budget

    column = _column_grouping(ops_df, by)
    summary = error_budget(ops_df, target=target, by=column).summary
    if len(summary) == 0:
        return info_box("No settled operations to spend a budget on.")
    shown = summary[[column, "n", "failures", "failure_rate", "budget_left"]].copy()
    for window in ("1h", "6h", "3d"):
        shown[f"burn_{window}"] = _fixed(summary[f"burn_{window}"], "{:.1f}x")
    shown[["pages", "tickets"]] = summary[["pages", "tickets"]]
    return table_html(shown)


def _figure() -> tuple[Any, Any]:
    # a bare Figure, not pyplot: it is never registered as an open figure, so nothing piles up in a kernel
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.5), layout="constrained")
    return fig, fig.subplots()


def table_html(table: pd.DataFrame) -> str:
    """A reliability table, its decimals as percentages, escaped."""
    return frame_html(
        table, index=False, na_rep="", border=0, float_format="{:.1%}".format, classes="catena-table"
    )


def figure_png_html(fig: Any, *, alt: str) -> str:
    """The figure as an ``<img>`` with a base64 PNG ``data:`` URI (the figure is cleared afterwards)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    fig.clear()
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{escape_html(alt)}" src="data:image/png;base64,{data}" style="max-width:100%"/>'
