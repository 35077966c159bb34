"""The report's reading aids: a table of contents, tables without the frame's row numbers, numbers aligned.

They work on the exported page, before the page policy's last pass (so what they add is held to the same
allow-list), and only on the shapes nbconvert and pandas produce: a heading with the anchor nbconvert gives
it, a ``<table class="dataframe">`` with its index in ``<th>`` cells.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = ["dark_theme_css", "lay_out"]

# The template leaves an empty one under the banner (the exporter may write its attributes in another order);
# the contents go after the title and its introduction, before the cell of the first section.
_TOC_PLACEHOLDER = re.compile(r'<div(?=[^>]*\bclass="catena-toc")[^>]*></div>')
_CELL_START = '<div class="jp-Cell '

_SECTION = re.compile(r'<h2 id="([^"]+)">(.*?)<a class="anchor-link" href="#\1">', re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_TABLE = re.compile(r'<table class="dataframe">.*?</table>', re.DOTALL)
_BODY_ROW_HEADER = re.compile(r"<tr>\s*<th>(\d+)</th>")
_HEAD_ROW_CORNER = re.compile(r"<tr>(\s*)<th></th>")
_CELL = re.compile(r"<td>([^<]*)</td>")
# A count, a decimal, a share ("5.6%"), a share with its interval ("5.6% (5.3–5.9%)"), a ratio ("3.2x") or a
# duration in seconds: what reads best right-aligned, digits under digits.
_NUMERIC = re.compile(
    r"\s*[-−+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+|inf|nan)(?:%|x| s)?"
    r"(?:\s*\([-−+]?[\d.,]+%?\s*[–-]\s*[-−+]?[\d.,]+%?\))?\s*"
)


def _table_of_contents(page: str) -> str:
    entries = [
        # the heading's text is already escaped HTML, sanitised with the page: only its tags are dropped
        f'<li><a href="#{anchor}">{_TAG.sub("", title).strip()}</a></li>'
        for anchor, title in _SECTION.findall(page)
    ]
    if not entries:
        return ""
    return (
        '<div class="catena-toc" role="navigation" aria-label="Contents"><strong>Contents</strong>'
        f"<ol>{''.join(entries)}</ol></div>"
    )


def _without_row_numbers(table: str) -> str:
    """The table without its index when that index is only the row numbers 0, 1, 2… pandas adds."""
    if "<tbody>" not in table:
        return table
    head, body = table.split("<tbody>", 1)
    numbers = _BODY_ROW_HEADER.findall(body)
    rows = body.count("<tr>")
    if not numbers or len(numbers) != rows or numbers != [str(i) for i in range(len(numbers))]:
        return table  # an index that means something (a day, a TSP) stays
    if len(_HEAD_ROW_CORNER.findall(head)) != head.count("<tr>"):
        return table  # a header shape this does not know: left as it is
    return _HEAD_ROW_CORNER.sub(r"<tr>", head) + "<tbody>" + _BODY_ROW_HEADER.sub("<tr>", body)


def _numbers_aligned(table: str) -> str:
    def cell(m: re.Match[str]) -> str:
        return f'<td class="num">{m.group(1)}</td>' if _NUMERIC.fullmatch(m.group(1)) else m.group(0)

    return _CELL.sub(cell, table)


def lay_out(page: str) -> str:
    """The exported page with its table of contents filled in and its tables made for reading."""
    page = _TABLE.sub(lambda m: _numbers_aligned(_without_row_numbers(m.group(0))), page)
    toc = _table_of_contents(page)
    page = _TOC_PLACEHOLDER.sub("", page, count=1)
    first = page.find('<h2 id="')
    at = page.rfind(_CELL_START, 0, first) if first >= 0 else -1
    return page[:at] + toc + page[at:] if toc and at >= 0 else page


@functools.cache
def dark_theme_css() -> str:
    """JupyterLab's dark theme variables (nbconvert ships them beside the lab template), for the report's
    ``prefers-color-scheme: dark``; empty when the file cannot be found, and the page stays light."""
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("nbconvert", "templates", "lab", "static"):
        path = Path(base) / "theme-dark.css"
        if path.is_file():
            css = path.read_text(encoding="utf-8")
            # only variables on :root, which cannot fetch anything; anything else would not be kept
            return css if "</" not in css else ""
    return ""
