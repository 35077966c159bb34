"""The pieces the widgets of ``catena_nb.notebook`` share: picker options, escaped HTML boxes, tables, charts.

Everything here is a small pure function from data to options or to an HTML string, so the widget classes
hold state and wiring only. Each value that reaches HTML goes through ``catena_nb._html`` (``escape_html``, or
``frame_html`` for tables): message text and TSP error details come from outside.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd

from catena_nb._html import escape_html, frame_html, neutralize_bidi

WIDE = widgets.Layout(width="36em")
# Labels wide enough for "Operation id" or "Until (incl.)" in full, the same on every input.
LABEL = {"description_width": "7.5em"}

_BOX = "padding:6px 10px;margin:4px 0;border-radius:4px;border:1px solid {border};background:{bg}"
_ERROR_STYLE = _BOX.format(border="#d62728", bg="#fdecea")
_INFO_STYLE = _BOX.format(border="#9e9e9e", bg="#f5f5f5")
_OK_STYLE = _BOX.format(border="#2ca02c", bg="#eaf6ea")
_WARN_STYLE = _BOX.format(border="#ff7f0e", bg="#fff4e5")

# the operations table shows these columns of ``operations_frame``; the rest is one pick away
TABLE_COLUMNS = (
    "operation_id", "created_at", "source_name", "connection_id", "resource", "status", "attempts",
    "error_type", "http_status", "payload_message_text",
)  # fmt: skip
# group-by choices of the dashboard -> the operations_frame column they group on
_GROUP_COLUMNS = {"priority": "payload_priority"}
# the failure-side mirror of the rate columns: the success rate and its interval say the same thing
_HIDDEN_RATE_COLUMNS = frozenset({"failure_rate", "failure_ci_low", "failure_ci_high"})


# -- reading models and dicts alike --------------------------------------------------------------
def field(obj: Any, name: str, default: Any = None) -> Any:
    """``obj.name`` for a model, ``obj[name]`` for a wire dict."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def text(value: Any) -> str:
    """A value as plain text: an enum by its value, None as an empty string."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def take(items: Iterable[Any], limit: int) -> tuple[list[Any], bool]:
    """The first ``limit`` items, and whether there were more."""
    got = list(itertools.islice(iter(items), limit + 1))
    return got[:limit], len(got) > limit


# -- picker options ------------------------------------------------------------------------------
def connection_options(connections: Iterable[Any]) -> list[tuple[str, str]]:
    """``("samsara · Fleet name", connection_id)`` for each connection, sorted by label."""
    options = []
    for conn in connections:
        cid = text(field(conn, "id"))
        name = field(conn, "description") or field(conn, "fleet_ref") or cid[:8]
        options.append((neutralize_bidi(f"{text(field(conn, 'source_name')) or '?'} · {name}"), cid))
    return sorted(options)


def labelled(values: Iterable[str]) -> list[tuple[str, str]]:
    """``(label, value)`` options whose labels show bidi controls (a picker shows its labels as text)."""
    return [(neutralize_bidi(v), v) for v in values]


def tsp_names(connections: Iterable[Any]) -> list[str]:
    """The distinct ``source_name``s of the connections, sorted."""
    return sorted({text(field(c, "source_name")) for c in connections} - {""})


def user_label(user: Any) -> str:
    """``"Ana Ruiz (driver)"``: the user's name, else the username, then the role."""
    name = " ".join(p for p in (field(user, "first_name"), field(user, "last_name")) if p)
    name = name or field(user, "username") or text(field(user, "id"))[:8]
    is_driver = field(user, "is_driver")
    role = "driver" if is_driver else "dispatcher" if is_driver is not None else "user"
    return neutralize_bidi(f"{name} ({role})")


def user_options(users: Iterable[Any], *, drivers_first: bool) -> list[tuple[str, str]]:
    """Dropdown options for users, drivers first (recipients) or dispatchers first (senders)."""

    def key(user: Any) -> tuple[bool, str]:
        return (bool(field(user, "is_driver")) != drivers_first, user_label(user))

    return [(user_label(u), text(field(u, "id"))) for u in sorted(users, key=key)]


def operation_label(op: Any, row: int) -> str:
    """A row picker's label: row number, status, error type, creation time and the start of the id."""
    created = field(op, "created_at")
    when = created.strftime("%Y-%m-%d %H:%M") if isinstance(created, dt.datetime) else text(created)[:16]
    status = text(field(op, "status"))
    error = _last_failed_log(op)
    if error is not None and field(error, "error_type"):
        status += f" ({text(field(error, 'error_type'))})"
    return neutralize_bidi(f"{row}. {status} · {when} · {text(field(op, 'id'))[:8]}")


# -- small HTML boxes ----------------------------------------------------------------------------
def field_error(message: str) -> str:
    """The small red note shown under an input."""
    return f'<span style="color:#d62728;font-size:90%">{escape_html(message)}</span>'


def error_box_text(message: str) -> str:
    """A red box holding ``message``."""
    return f'<div style="{_ERROR_STYLE}">{escape_html(message)}</div>'


def info_box(message: str) -> str:
    """A grey box holding ``message``."""
    return f'<div style="{_INFO_STYLE}">{escape_html(message)}</div>'


def error_box(exc: BaseException, *, context: str) -> str:
    """A red box naming what failed and the error's own (secret-free) message."""
    return (
        f'<div style="{_ERROR_STYLE}"><b>{escape_html(context)}</b>: '
        f"{escape_html(type(exc).__name__)}: {escape_html(str(exc))}</div>"
    )


def request_field_errors(exc: BaseException) -> list[tuple[str, str]] | None:
    """``(field, message)`` pairs when ``exc`` is a validation error that names fields, else None.

    Covers the client's own check before sending (``InvalidRequestError.errors``) and the server's 422
    (``ValidationError.field_errors``).
    """
    from catena_nb.errors import InvalidRequestError, ValidationError

    if isinstance(exc, InvalidRequestError):
        items = exc.errors
    elif isinstance(exc, ValidationError):
        items = exc.field_errors
    else:
        return None
    return [(str(e.get("field") or ""), str(e.get("message") or "invalid")) for e in items]


def refused_before_sending(exc: BaseException) -> bool:
    """Whether ``exc`` is the client's own validation, raised before any request left."""
    from catena_nb.errors import InvalidRequestError

    return isinstance(exc, InvalidRequestError)


def maybe_sent(exc: BaseException) -> bool:
    """Whether ``exc`` is a connection failure after which the request may have reached the API."""
    from catena_nb.errors import APIConnectionError

    return isinstance(exc, APIConnectionError) and exc.maybe_sent


def is_not_found(exc: BaseException) -> bool:
    """Whether ``exc`` is the API's 404."""
    from catena_nb.errors import NotFoundError

    return isinstance(exc, NotFoundError)


# -- operations ----------------------------------------------------------------------------------
def _last_failed_log(op: Any) -> Any:
    failed = [log for log in field(op, "logs") or [] if text(field(log, "status")) == "failed"]
    if not failed:
        return None
    return max(failed, key=lambda log: text(field(log, "created_at")))


def operation_headline(op: Any) -> str:
    """One line above an operation: what happened, and for a failure the TSP's answer."""
    status = text(field(op, "status"))
    if status == "success":
        return f'<div style="{_OK_STYLE}"><b>Sent</b>: the TSP accepted the message.</div>'
    if status == "pending":
        return (
            f'<div style="{_WARN_STYLE}"><b>Queued</b>: Catena will deliver it to the TSP and retry if '
            "needed; look it up later to see the outcome.</div>"
        )
    if status != "failed":
        return info_box(f"Status: {status or 'unknown'}")
    log = _last_failed_log(op)
    if log is None:
        return error_box_text("Failed, with no attempt logged.")
    code = field(log, "response_status_code")
    error_type = escape_html(text(field(log, "error_type")) or "?")
    parts = [
        f"<b>Failed at the TSP</b>: error_type <code>{error_type}</code>",
        f"TSP status code <code>{escape_html(text(code) or '—')}</code>",
    ]
    details = text(field(log, "error_details"))
    line = ", ".join(parts)
    if details:
        line += f": {escape_html(details)}"
    return f'<div style="{_ERROR_STYLE}">{line}</div>'


def operation_result_html(op: Any) -> str:
    """The headline, then the operation with its status badge and log table (``_html.operation_html``)."""
    from catena_nb._html import operation_html

    payload = field(op, "payload") or {}
    message = text(field(payload, "message_text"))
    quoted = f"<div><b>Message text</b>: <q>{escape_html(message)}</q></div>" if message else ""
    return operation_headline(op) + quoted + operation_html(op)


def operations_table_html(ops: list[Any], *, first_row: int = 1) -> str:
    """The page's operations as an escaped HTML table, rows numbered from ``first_row``."""
    from catena_nb.frames import operations_frame

    frame = operations_frame(ops)
    frame = frame[[c for c in TABLE_COLUMNS if c in frame.columns]]
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    return frame_html(frame, na_rep="", border=0, classes="catena-table")


# -- the dashboard's data wiring -----------------------------------------------------------------
def day_start(day: dt.date) -> dt.datetime:
    """Midnight UTC at the start of ``day``."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def sorted_values(frame: Any, column: str) -> list[str]:
    """The distinct non-missing values of ``column``, sorted, as strings."""
    if column not in frame.columns:
        return []
    return sorted({str(v) for v in frame[column].dropna().unique()})


def day_range(ops_df: Any) -> tuple[dt.date | None, dt.date | None]:
    """The first and last UTC day of ``created_at``, or ``(None, None)`` for an empty frame."""
    created = ops_df["created_at"].dropna()
    if created.empty:
        return None, None
    return created.min().date(), created.max().date()


def filter_operations(
    ops_df: Any,
    *,
    source_names: list[str],
    connection_id: str | None,
    since: dt.date | None,
    until: dt.date | None,
) -> Any:
    """The rows on those TSPs and that connection, created from day ``since`` to day ``until`` included."""
    mask = ops_df["source_name"].astype("string").isin(source_names).fillna(False)
    if connection_id:
        mask &= (ops_df["connection_id"] == connection_id).fillna(False)
    if since is not None:
        mask &= (ops_df["created_at"] >= day_start(since)).fillna(False)
    if until is not None:
        mask &= (ops_df["created_at"] < day_start(until) + dt.timedelta(days=1)).fillna(False)
    return ops_df[mask.astype(bool)]


def group_key(choice: str) -> Any:
    """What ``reliability`` groups on for a dashboard group-by choice: a column name, or a day bucket."""
    if choice == "day":
        return pd.Grouper(key="created_at", freq="D")
    return _GROUP_COLUMNS.get(choice, choice)


def _missing_column(ops_df: Any, by: Any) -> str | None:
    if isinstance(by, str) and by not in ops_df.columns:
        return info_box(f"The operations have no {by!r} column to group on.")
    return None


def logs_of(logs_df: Any, ops_df: Any) -> Any:
    """The attempts of the operations in ``ops_df``."""
    if logs_df is None:
        return None
    return logs_df[logs_df["operation_id"].isin(ops_df["operation_id"])]


def outcome_rates_html(ops_df: Any, by: Any) -> str:
    """``reliability.outcome_rates`` as an escaped table."""
    from catena_nb.analysis import outcome_rates

    missing = _missing_column(ops_df, by)
    if missing is not None:
        return missing
    table = outcome_rates(ops_df, by=by)
    if isinstance(by, pd.Grouper):
        table = table.rename(columns={by.key: "day"})
        table["day"] = table["day"].dt.strftime("%Y-%m-%d")
    shown = [c for c in table.columns if c not in _HIDDEN_RATE_COLUMNS]
    return _table_html(table[shown])


def error_breakdown_html(ops_df: Any, logs_df: Any) -> str:
    """``reliability.error_breakdown`` as an escaped table."""
    from catena_nb.analysis import error_breakdown

    table = error_breakdown(ops_df, logs_df)
    if len(table) == 0:
        return info_box("No failures in this selection.")
    return _table_html(table)


def delivery_funnel_html(ops_df: Any, messages_df: Any) -> str:
    """``reliability.delivery_funnel`` of the selection as an escaped table."""
    from catena_nb.analysis import delivery_funnel

    return _table_html(delivery_funnel(ops_df, messages_df))


def _table_html(table: Any) -> str:
    return frame_html(table, index=False, na_rep="", border=0, float_format=_percent, classes="catena-table")


def _percent(value: float) -> str:
    return f"{value:.1%}"


def outcomes_chart_html(ops_df: Any, by: Any) -> str:
    """``charts.plot_outcomes`` of the selection, as an embedded PNG."""
    from catena_nb.charts import plot_outcomes

    if _missing_column(ops_df, by) is not None:
        return ""
    fig, ax = _figure()
    plot_outcomes(ops_df, by=by, ax=ax)
    return figure_png_html(fig, alt=f"Outcomes by {by}")


def timeline_chart_html(ops_df: Any) -> str:
    """``charts.plot_failure_rate_over_time`` of the selection by day (by hour if shorter), as a PNG."""
    from catena_nb.charts import plot_failure_rate_over_time

    created = ops_df["created_at"].dropna()
    # a day or two of traffic is one or two points by day: go down to hours so the chart shows a shape
    short = created.empty or created.max() - created.min() < pd.Timedelta(days=2)
    freq = "h" if short else "D"
    fig, ax = _figure()
    plot_failure_rate_over_time(ops_df, freq=freq, ax=ax)
    return figure_png_html(fig, alt="Failure rate by hour" if short else "Failure rate by day")


def _figure() -> tuple[Any, Any]:
    # a bare Figure, not pyplot: it is never registered as an open figure, so nothing piles up in a kernel
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.5), layout="constrained")
    return fig, fig.subplots()


def figure_png_html(fig: Any, *, alt: str) -> str:
    """The figure as an ``<img>`` with a base64 PNG ``data:`` URI (the figure is cleared afterwards)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    fig.clear()
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{escape_html(alt)}" src="data:image/png;base64,{data}" style="max-width:100%"/>'
