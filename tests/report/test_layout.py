"""The report's reading aids: contents, tables without row numbers, numbers aligned, dark and print styles."""

from __future__ import annotations

import re

import pandas as pd

from catena_nb.report.layout import dark_theme_css, lay_out
from catena_nb.report.sanitize import sanitize_html

PLACEHOLDER = '<div aria-label="Contents" class="catena-toc" role="navigation"></div>'


def _cell(inner: str) -> str:
    return f'<div class="jp-Cell jp-MarkdownCell">{inner}</div>'


def _heading(anchor: str, title: str) -> str:
    return f'<h2 id="{anchor}">{title}<a class="anchor-link" href="#{anchor}">¶</a></h2>'


def _page(*cells: str) -> str:
    return f"<main>{PLACEHOLDER}{''.join(cells)}</main>"


def test_contents_list_each_section_in_order_after_the_introduction() -> None:
    """The contents link every section's anchor, in order, and sit before the first section's cell."""
    page = lay_out(
        _page(
            _cell("<h1>Title</h1><p>intro</p>"),
            _cell(_heading("Findings", "Findings")),
            _cell(_heading("Did-retries-help?", "Did retries <code>help</code>?")),
        )
    )
    assert re.findall(r'<li><a href="#([^"]+)">(.*?)</a></li>', page) == [
        ("Findings", "Findings"),
        ("Did-retries-help?", "Did retries help?"),
    ]
    assert page.index("<p>intro</p>") < page.index("Contents") < page.index('<h2 id="Findings">')
    assert PLACEHOLDER not in page


def test_contents_keep_a_hostile_heading_as_escaped_text() -> None:
    """A heading whose text is markup (escaped by the export) stays escaped in the contents."""
    title = sanitize_html("&lt;script&gt;alert(1)&lt;/script&gt; rates")
    page = lay_out(_page(_cell(_heading("x", title))))
    entry = re.search(r"<li>(.*?)</li>", page)
    assert entry is not None
    assert "<script" not in entry.group(1)
    assert "&lt;script&gt;" in entry.group(1)


def test_a_page_without_sections_gets_no_contents() -> None:
    """No h2, no contents box: the placeholder goes and nothing is added."""
    page = lay_out(_page(_cell("<p>only text</p>")))
    assert "catena-toc" not in page


def _frame_html(df: pd.DataFrame) -> str:
    return sanitize_html(df.to_html())


def test_row_numbers_go_and_a_meaningful_index_stays() -> None:
    """pandas' 0, 1, 2… row numbers are dropped with their header corner; a named index (days) is kept."""
    numbered = lay_out(_frame_html(pd.DataFrame({"tsp": ["a", "b", "c"], "n": [5, 10, 15]})))
    assert "<th>0</th>" not in numbered
    assert "<th></th>" not in numbered
    assert re.findall(r"<th>([^<]*)</th>", numbered) == ["tsp", "n"]
    days = pd.DataFrame({"n": [1, 2]}, index=pd.Index(["2026-10-01", "2026-10-02"], name="day"))
    assert "<th>2026-10-01</th>" in lay_out(_frame_html(days))
    shuffled = pd.DataFrame({"n": [1, 2]}, index=[1, 0])
    assert "<th>1</th>" in lay_out(_frame_html(shuffled))


def test_numbers_are_marked_for_right_alignment_and_text_is_not() -> None:
    """Counts, shares with intervals, ratios and durations get the numeric class; names and dates do not."""
    df = pd.DataFrame(
        {
            "where": ["motive (TSP)"],
            "day": ["2026-10-29"],
            "n": ["1,234"],
            "rate": ["24.4% (21.5%–27.5%)"],
            "ratio": ["3.2x"],
            "median": ["1.5 s"],
        }
    )
    cells = re.findall(r'<td( class="num")?>([^<]*)</td>', lay_out(_frame_html(df)))
    assert len(cells) == 6
    assert {text for numeric, text in cells if numeric} == {"1,234", "24.4% (21.5%–27.5%)", "3.2x", "1.5 s"}


def test_the_dark_theme_is_variables_only() -> None:
    """The dark theme taken from nbconvert's lab template sets variables on :root and fetches nothing."""
    css = dark_theme_css()
    assert ":root" in css
    assert "--jp-layout-color0" in css
    assert "url(" not in css
    assert "@import" not in css
    assert "</" not in css


def test_a_table_without_a_body_is_left_as_it_is() -> None:
    """A dataframe table with no <tbody> (not pandas' shape) passes through unchanged."""
    table = '<table class="dataframe"><tr><th>0</th><td>x</td></tr></table>'
    assert lay_out(table) == table
