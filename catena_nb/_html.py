"""Escaping for where API text lands: HTML, Markdown, and the bidi controls that would reorder either.

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
from typing import Any

__all__ = [
    "BIDI_CONTROLS",
    "escape_html",
    "escape_markdown",
    "frame_html",
    "markdown_code",
    "neutralize_bidi",
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
