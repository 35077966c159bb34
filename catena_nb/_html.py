"""HTML in one place: escaping for where API text lands, the status palette, and the cards of `_repr_html_`.

The one home of escaping: every renderer of the package (the ``_repr_html_`` cards, the widgets, the report's
tables and findings) goes through these functions, and the audit notebook uses them as ``cn.escape_markdown``
and ``cn.markdown_code``. This module imports nothing from catena_nb, so any layer may use it.

Bidi controls (the right-to-left overrides, embeddings, isolates and marks) are shown as a visible
``⟨U+202E⟩`` rather than removed: an audit reader should see that a TSP name or a message carried one (it is
what a spoofed name looks like), and removing them would silently turn the text into another string that
looks genuine. Either way the text can no longer reorder what is around it.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # this module sits below the models; the cards only read their attributes
    from catena_nb.models import OperationLog, ResourceOperation

__all__ = [
    "BIDI_CONTROLS",
    "STATUS_COLOURS",
    "batch_html",
    "escape_html",
    "escape_markdown",
    "frame_html",
    "logs_table_html",
    "markdown_code",
    "neutralize_bidi",
    "operation_html",
    "status_badge",
]

# U+202A-U+202E (embeddings, overrides, pop), U+2066-U+2069 (isolates), U+200E/U+200F (LRM/RLM), U+061C (ALM)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
# every line break Markdown or a browser may honour, and the tab (four spaces would start a code block)
_BREAKS = re.compile("\r\n|[\r\n\t\v\f\x85\u2028\u2029]")
# CommonMark lets any ASCII punctuation be backslash-escaped; all of it is, so that no renderer's extension
# (tables, strikethrough, bare-URL links, math, footnotes...) can find syntax in the text. & < > " ' become
# entities instead, which also keeps raw HTML and <autolinks> out.
_MD_PUNCTUATION = re.compile(r"""([!#$%()*+,\-./:;=?@\[\\\]^_`{|}~])""")
_BACKTICKS = re.compile("`+")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def neutralize_bidi(text: str) -> str:
    """``text`` with each bidi control shown as ``⟨U+XXXX⟩``, so that it cannot reorder what a reader sees."""
    return _BIDI.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def escape_html(value: Any, *, max_chars: int | None = None) -> str:
    """``value`` as HTML text: None as ``""``, datetimes in ISO form, quotes escaped, bidi controls shown.

    Args:
        value: any value, shown as ``str(value)``.
        max_chars: shorten longer text to this many characters, the last one an ellipsis.

    Example:
        >>> escape_html('<b onclick="x">')
        '&lt;b onclick=&quot;x&quot;&gt;'
    """
    text = _text(value)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return neutralize_bidi(html.escape(text, quote=True))


def escape_markdown(value: Any) -> str:
    """``value`` as literal text inside Markdown that is later rendered to HTML (findings, notes, headings).

    Markdown punctuation is backslash-escaped, ``& < > " '`` become entities, line breaks and tabs become
    spaces and bidi controls are shown as ``⟨U+XXXX⟩``: the rendered text reads as ``value`` does, with no
    link, image, emphasis, raw HTML or new block. Not for code spans (use :func:`markdown_code`).

    Example:
        >>> print(escape_markdown("[fleet](javascript:alert(3)) <b>"))
        \\[fleet\\]\\(javascript\\:alert\\(3\\)\\) &lt;b&gt;
    """
    text = _BREAKS.sub(" ", neutralize_bidi(_text(value)))
    text = html.escape(_MD_PUNCTUATION.sub(r"\\\1", text), quote=True)
    # a leading space would let four of them start an indented code block: an entity is not indentation
    return "&#32;" + text[1:] if text.startswith(" ") else text


def markdown_code(value: Any) -> str:
    """``value`` as a Markdown code span (shown in monospace, literally): ``markdown_code("<x>")`` is
    ``"`<x>`"``. The fence is longer than any run of backticks in the text, line breaks become spaces and
    bidi controls are shown as ``⟨U+XXXX⟩``. An empty value gives an empty string."""
    text = _BREAKS.sub(" ", neutralize_bidi(_text(value)))
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    # CommonMark strips one space at each end of a span that has one at both: pad so the text survives whole
    if text.strip(" ") and (text[0] in "` " or text[-1] in "` "):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def frame_html(frame: Any, **to_html: Any) -> str:
    """A DataFrame as an HTML table with its text escaped (``to_html(escape=True)``) and bidi controls shown,
    which pandas leaves raw. Keyword arguments go to ``DataFrame.to_html``."""
    to_html["escape"] = True
    return neutralize_bidi(str(frame.to_html(**to_html)))


# -------------------------------------------------------- the cards behind every `_repr_html_`

# one colour per outcome, the same in every table of the package
STATUS_COLOURS: dict[str, str] = {
    # Okabe & Ito's colour-blind-safe set: success and failure stay apart under every common colour-vision
    # deficiency (bluish green against vermillion differ in lightness and in blue, not only in hue)
    "success": "#009E73",
    "failed": "#D55E00",
    "pending": "#E69F00",
    "error": "#D55E00",
    "invalid": "#CC79A7",
    "unknown": "#6E7781",
    "not_sent": "#6E7781",
}
_DEFAULT_COLOUR = "#57606a"
_TABLE_STYLE = "border-collapse:collapse;font-size:12px"
_CELL_STYLE = "padding:2px 8px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top"
_MAX_TEXT = 400


def esc(value: Any) -> str:
    """The value as escaped text (``escape_html``): None as an empty string, datetimes in ISO form, long
    text shortened."""
    return escape_html(value, max_chars=_MAX_TEXT)


def _text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (``#RRGGBB``), by WCAG relative luminance."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # contrast against white (1.05) and against black (luminance + 0.05) over the same 0.05 offset
    return "#000" if (luminance + 0.05) ** 2 > 1.05 * 0.05 else "#fff"


def status_badge(status: Any) -> str:
    """A coloured badge for an operation or row status."""
    text = str(status) if status is not None else "unknown"
    colour = STATUS_COLOURS.get(text, _DEFAULT_COLOUR)
    return (
        f'<span class="catena-badge" style="background:{colour};color:{_text_on(colour)};padding:1px 6px;'
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
            esc(log.http_status),
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
