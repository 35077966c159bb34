"""The HTML the widgets show: notes under inputs, boxes, an operation's outcome, a table of operations.

Each is a pure function from data to an HTML string, so that the widget classes hold state and wiring only.
Every value that reaches HTML goes through :mod:`catena_nb._html` (``escape_html``, ``frame_html`` for
tables, ``operation_html`` for an operation's card), and the boxes take their colours from its one status
palette: message text and TSP error details come from outside.
"""

from __future__ import annotations

import pandas as pd

from catena_nb._html import STATUS_COLOURS, escape_html, frame_html, operation_html
from catena_nb.frames import operations_frame
from catena_nb.models import ResourceOperation

_BOX = "padding:6px 10px;margin:4px 0;border-radius:4px;border:1px solid {border};background:{bg}"
_BOXES = {
    "failed": _BOX.format(border=STATUS_COLOURS["failed"], bg="#fdecea"),
    "success": _BOX.format(border=STATUS_COLOURS["success"], bg="#eaf6ea"),
    "pending": _BOX.format(border=STATUS_COLOURS["pending"], bg="#fff4e5"),
    "unknown": _BOX.format(border=STATUS_COLOURS["unknown"], bg="#f5f5f5"),
}
# the operations table shows these columns of ``operations_frame``; the rest is one pick away
TABLE_COLUMNS = (
    "operation_id", "created_at", "source_name", "connection_id", "resource", "status", "attempts",
    "error_type", "http_status", "payload_message_text",
)  # fmt: skip


def field_error(message: str) -> str:
    """The small red note shown under an input."""
    return f'<span style="color:{STATUS_COLOURS["failed"]};font-size:90%">{escape_html(message)}</span>'


def info_box(message: str) -> str:
    """A grey box holding ``message``."""
    return _box("unknown", escape_html(message))


def error_box_text(message: str) -> str:
    """A red box holding ``message``."""
    return _box("failed", escape_html(message))


def error_box(exc: BaseException, *, context: str) -> str:
    """A red box naming what failed and the error's own (secret-free) message."""
    inner = f"<b>{escape_html(context)}</b>: {escape_html(type(exc).__name__)}: {escape_html(str(exc))}"
    return _box("failed", inner)


def _box(status: str, inner_html: str) -> str:
    return f'<div style="{_BOXES[status]}">{inner_html}</div>'


def operation_headline(op: ResourceOperation) -> str:
    """One line above an operation: what happened, and for a failure the TSP's answer."""
    if op.succeeded:
        return _box("success", "<b>Sent</b>: the TSP accepted the message.")
    if op.pending:
        return _box(
            "pending",
            "<b>Queued</b>: Catena will deliver it to the TSP and retry if needed; look it up later to see "
            "the outcome.",
        )
    if not op.failed:
        return info_box(f"Status: {op.status or 'unknown'}")
    log = op.last_error
    if log is None:
        return error_box_text("Failed, with no attempt logged.")
    error_type = escape_html(log.error_type or "?")
    code = escape_html("—" if log.http_status is None else log.http_status)
    line = (
        f"<b>Failed at the TSP</b>: error_type <code>{error_type}</code>, TSP status code <code>{code}</code>"
    )
    if log.error_details:
        line += f": {escape_html(log.error_details)}"
    return _box("failed", line)


def operation_result_html(op: ResourceOperation) -> str:
    """The headline, the message text, then the operation's card with its log table."""
    message = op.payload.get("message_text")
    quoted = f"<div><b>Message text</b>: <q>{escape_html(message)}</q></div>" if message else ""
    return operation_headline(op) + quoted + operation_html(op)


def operations_table_html(ops: list[ResourceOperation], *, first_row: int = 1) -> str:
    """The page's operations as an escaped HTML table, rows numbered from ``first_row``."""
    frame = operations_frame(ops)
    frame = frame[[c for c in TABLE_COLUMNS if c in frame.columns]]
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    return frame_html(frame, na_rep="", border=0, classes="catena-table")
