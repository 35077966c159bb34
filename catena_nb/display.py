"""Escaped HTML renderers behind every `_repr_html_`: pure functions that return strings, no I/O.

Every value that came from the API or from a row goes through `catena_nb._html.escape_html`, so a message
text such as `<script>` shows as text in a notebook or a report and never runs, and a right-to-left override
in it cannot reorder the card.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from catena_nb._html import escape_html

if TYPE_CHECKING:  # display sits below the models at runtime; it only reads their attributes
    from catena_nb.models import OperationLog, ResourceOperation

__all__ = ["batch_html", "logs_table_html", "operation_html", "status_badge"]

# one colour per outcome, the same in every table of the package
STATUS_COLOURS: dict[str, str] = {
    "success": "#1a7f37",
    "failed": "#cf222e",
    "pending": "#9a6700",
    "error": "#cf222e",
    "invalid": "#8250df",
    "unknown": "#6e7781",
    "not_sent": "#6e7781",
}
_DEFAULT_COLOUR = "#57606a"
_TABLE_STYLE = "border-collapse:collapse;font-size:12px"
_CELL_STYLE = "padding:2px 8px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top"
_MAX_TEXT = 400


def esc(value: Any) -> str:
    """The value as escaped text (``escape_html``): None as an empty string, datetimes in ISO form, long
    text shortened."""
    return escape_html(value, max_chars=_MAX_TEXT)


def status_badge(status: Any) -> str:
    """A coloured badge for an operation or row status."""
    text = str(status) if status is not None else "unknown"
    colour = STATUS_COLOURS.get(text, _DEFAULT_COLOUR)
    return (
        f'<span class="catena-badge" style="background:{colour};color:#fff;padding:1px 6px;'
        f'border-radius:3px;font-size:11px;font-weight:600">{esc(text)}</span>'
    )


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table whose cells are already escaped HTML."""
    head = "".join(f'<th style="{_CELL_STYLE}">{esc(h)}</th>' for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL_STYLE}">{cell}</td>' for cell in row) + "</tr>" for row in rows
    )
    return f'<table style="{_TABLE_STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _key_values(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = [(f"<b>{esc(k)}</b>", f"<code>{esc(v)}</code>") for k, v in pairs if v is not None]
    return _table(("field", "value"), rows)


def logs_table_html(logs: Sequence[OperationLog]) -> str:
    """The attempt logs as a table: attempt, time, status, error type, HTTP status, details."""
    if not logs:
        return "<p><i>no attempts logged</i></p>"
    rows = [
        (
            esc(i),
            esc(log.created_at),
            status_badge(log.status),
            esc(log.error_type),
            esc(log.response_status_code),
            esc(log.error_details),
        )
        for i, log in enumerate(logs, start=1)
    ]
    return _table(("attempt", "created_at", "status", "error_type", "http_status", "error_details"), rows)


def operation_html(op: ResourceOperation) -> str:
    """A card for one resource operation: status badge, ids, and the log table."""
    ids = _key_values(
        [
            ("id", op.id),
            ("connection_id", op.connection_id),
            ("source_name", op.source_name),
            ("resource", op.resource),
            ("operation_type", op.operation_type),
            ("resource_id", op.resource_id),
            ("source_id", op.source_id),
            ("created_at", op.created_at),
            ("updated_at", op.updated_at),
        ]
    )
    return (
        '<div class="catena-operation">'
        f"<div><b>ResourceOperation</b> {status_badge(op.status)} "
        f"<span>{esc(op.attempts)} attempt{'s' if op.attempts != 1 else ''}</span></div>"
        f"{ids}{logs_table_html(op.sorted_logs)}</div>"
    )


def batch_html(
    counts: Mapping[str, int],
    rows: Sequence[Mapping[str, Any]],
    *,
    total: int,
    interrupted: bool = False,
    max_rows: int = 20,
) -> str:
    """A batch summary: counts per outcome, then the first rows (index, status, operation id, error)."""
    badges = " ".join(f"{status_badge(k)}&nbsp;{esc(v)}" for k, v in counts.items() if v)
    note = " <b>(interrupted: rows after the stop were not sent)</b>" if interrupted else ""
    table = _table(
        ("row", "status", "operation_id", "error_type", "error"),
        [
            (
                esc(r.get("index")),
                status_badge(r.get("status")),
                f"<code>{esc(r.get('operation_id'))}</code>",
                esc(r.get("error_type")),
                esc(r.get("error")),
            )
            for r in rows[:max_rows]
        ],
    )
    more = f"<p><i>… {esc(len(rows) - max_rows)} more rows</i></p>" if len(rows) > max_rows else ""
    return (
        f'<div class="catena-batch"><div><b>BatchResult</b> {esc(total)} rows: {badges}{note}</div>'
        f"{table}{more}</div>"
    )
