"""The report of a store full of hostile text: every name shown as text, nothing run, nothing fetched.

Also a notebook that produces every kind of output the template can show, each one hostile: the policy holds
whatever the notebook produced, and the final check of the page has nothing left to remove.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from catena_nb._html import escape_html, neutralize_bidi
from catena_nb.report import render as report
from catena_nb.report.sanitize import CONTENT_SECURITY_POLICY, enforce_page_policy
from tests.support.hostile_store import (
    SINCE,
    UNTIL,
    BrowserRecord,
    HostileStore,
    Tracker,
    build_hostile_store,
    findings,
    open_in_chromium,
    page_counts,
    tracker,
    visible_text,
)

_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


class _Warnings(logging.Handler):
    """Collects what the report logs at warning level (the final check says there what it removed)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class Rendered:
    tracker: Tracker
    store: HostileStore
    path: Path
    page: str
    warnings: list[str]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    """The hostile store's report, rendered once, with the tracker it points at still listening."""
    folder = tmp_path_factory.mktemp("hostile")
    with tracker() as t:
        store = build_hostile_store(folder, t)
        handler = _Warnings()
        logging.getLogger("catena_nb.report").addHandler(handler)
        try:
            out = report.render_report(
                folder / "report.html", store=store.path, since=SINCE, until=UNTIL, progress=False
            )
        finally:
            logging.getLogger("catena_nb.report").removeHandler(handler)
        yield Rendered(t, store, out, out.read_text(encoding="utf-8"), handler.messages)


@pytest.mark.slow
def test_the_findings_name_each_hostile_tsp_as_text(hostile: Rendered) -> None:
    """Each seeded incident is a finding naming its hostile TSP (and fleet) as text, as the store has it."""
    items = findings(hostile.page)
    names = hostile.store.names
    assert len(hostile.store.incidents) == 3
    for incident in hostile.store.incidents:
        tsp = neutralize_bidi(names["source_name"][incident.source_name])
        error_type = neutralize_bidi(names["error_type"][incident.error_type])
        named = [f for f in items if tsp in f and error_type in f]
        assert named, f"no finding names {tsp!r} with {error_type!r}"
    # the one incident on a single connection names the fleet too, markup and Markdown shown as they are
    fleet = names["fleet_ref"]["FLT-BRH-02"]
    assert any(fleet in f for f in items)
    shown = visible_text(hostile.page)
    assert hostile.store.path.name in shown  # the store's name, in the banner and the first line


@pytest.mark.slow
def test_error_types_in_code_spans_are_escaped_once(hostile: Rendered) -> None:
    """A backticked error type is a <code> with its text escaped once: no `&amp;lt;` anywhere."""
    assert "<code>auth`&lt;script&gt;alert(4)&lt;/script&gt;`</code>" in hostile.page
    assert "&amp;lt;" not in hostile.page


@pytest.mark.slow
def test_no_link_leads_off_the_page(hostile: Rendered) -> None:
    """Every <a> with an href points at an anchor of the page (`#...`)."""
    counts = page_counts(hostile.page)
    assert counts.links > 0  # the headings' anchors
    assert counts.links_off_page == 0


@pytest.mark.slow
def test_nothing_is_fetched_and_nothing_runs(hostile: Rendered) -> None:
    """No URL but data:, no CSS url(), no handler or style attribute, no script, frame, form, svg, refresh."""
    counts = page_counts(hostile.page)
    assert counts.remote_resources == 0
    assert counts.handlers == 0
    assert counts.styles_attributes == 0
    assert counts.dangerous_elements == {}
    assert counts.meta_refresh == 0
    assert "<script" not in hostile.page  # the template carries none
    assert counts.images >= 6  # the charts are still there


@pytest.mark.slow
def test_bidi_overrides_are_shown_not_obeyed(hostile: Rendered) -> None:
    """No raw bidi control is left in the page; the overrides show as ⟨U+202E⟩ where the text had them."""
    assert page_counts(hostile.page).raw_bidi == 0
    assert "⟨U+202E⟩" in visible_text(hostile.page)


@pytest.mark.slow
def test_the_last_check_has_nothing_left_to_remove(hostile: Rendered) -> None:
    """The sanitising before the export is enough: the final check of the page removes nothing."""
    assert hostile.warnings == []
    assert enforce_page_policy(hostile.page) == (hostile.page, [])


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_opens_the_report_and_every_link_without_a_request_or_dialog(hostile: Rendered) -> None:
    """Opened from disk and with every link clicked: no dialog, no request but data:, the tracker unhit."""
    record = _chromium(hostile.path)
    assert record.links_clicked > 0
    assert record.dialogs == []
    assert record.foreign(hostile.path.as_uri()) == []
    assert record.left_the_page == []
    assert {k: v for k, v in record.dom.items() if k != "links" and v} == {}
    assert hostile.tracker.hits == []


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_itself_refuses_what_is_planted_after_the_export(hostile: Rendered, tmp_path: Path) -> None:
    """The page's Content-Security-Policy holds on its own: markup planted in the written file runs nothing
    and fetches nothing, though every pass is bypassed."""
    assert f'content="{escape_html(CONTENT_SECURITY_POLICY)}"' in hostile.page
    u = hostile.tracker.url
    planted = (
        f'<script>alert("planted")</script><img src="{u("planted.png")}" onerror="alert(2)">'
        f'<a href="javascript:alert(3)">j</a><div style="background:url({u("planted-css")})">s</div>'
        f'<iframe src="{u("planted-frame")}"></iframe><link rel="stylesheet" href="{u("planted.css")}">'
    )
    path = tmp_path / "planted.html"
    path.write_text(hostile.page.replace("<main>", "<main>" + planted, 1), encoding="utf-8")
    record = _chromium(path)
    assert record.dom["scripts"] == 1  # it is there, and did not run:
    assert record.dialogs == []
    assert hostile.tracker.hits == []


def _chromium(path: Path) -> BrowserRecord:
    from tests.browser.conftest import CHROMIUM, _missing

    if not CHROMIUM.exists():
        _missing(f"chromium is not installed at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("Playwright is not installed")
    return open_in_chromium(path)


# -- a notebook that produces every kind of output, each one hostile ----------------------------------------
def _hostile_markup(t: Tracker) -> str:
    u = t.url
    return (
        f"[a](javascript:alert(1)) ![i]({u('md.png')}) <img src=x onerror=alert(2)> "
        f'<a href="{u("a")}">a</a> '
        f"<{u('auto')}> {u('bare')} <script>alert(3)</script> <style>*{{background:url({u('css')})}}</style> "
        f'<iframe src="{u("iframe")}"></iframe> <form action="{u("form")}"><button>b</button></form> '
        f'<svg><image href="{u("svg")}"/></svg> <meta http-equiv="refresh" content="0;url={u("refresh")}"> '
        f'<base href="{u("")}"> <link rel="stylesheet" href="{u("l.css")}"> [e](java&#115;cript:alert(4)) '
        f'[p](//127.0.0.1:{t.port}/pr) <a href="&#x6A;avascript:alert(5)">x</a> <img srcset="{u("ss")} 2x"> '
        f'<video poster="{u("poster")}"></video> <table background="{u("bg")}"><tr><td>t</td></tr></table> '
        f'<div style="background:url({u("style")})">s</div> <a href="rel.html">r</a> <img src="rel.png"> '
        "\u202eevil"
    )


# a parser-confusion classic: an unclosed <style> in MathML inside a table (it eats what follows it)
MXSS = "<math><mtext><table><mglyph><style><img src=x onerror=alert(6)>"


def _hostile_notebook(t: Tracker) -> Any:
    markup = _hostile_markup(t)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(10)"><image href="{t.url("svgimg")}"/></svg>'
    )
    cells = [
        new_markdown_cell(f"# Heading\n\n{markup}\n\n| a | b |\n|:-|-:|\n| 1 | 2 |"),
        new_markdown_cell("![embedded](attachment:dot.png)", attachments={"dot.png": {"image/png": _PNG}}),
        new_markdown_cell("![gone](attachment:missing.png)"),
        new_markdown_cell(MXSS),
        new_raw_cell(markup, metadata={"raw_mimetype": "text/html"}),
        new_raw_cell(markup),
        new_code_cell(
            "hostile()",
            outputs=[
                new_output("display_data", data={"text/html": markup, "text/plain": "html"}),
                new_output("display_data", data={"text/html": MXSS, "text/plain": "mxss"}),
                new_output("display_data", data={"text/markdown": markup, "text/plain": "markdown"}),
                new_output("display_data", data={"application/javascript": "alert(8)", "text/plain": "js"}),
                new_output("display_data", data={"text/vnd.mermaid": "<img src=x onerror=alert(9)>"}),
                new_output("display_data", data={"image/svg+xml": svg, "text/plain": "svg"}),
                new_output(
                    "display_data",
                    data={"image/png": _PNG},
                    metadata={
                        "image/png": {"width": "1 onerror=alert(12)"},
                        "filenames": {"image/png": t.url("file.png")},
                    },
                ),
                new_output(
                    "display_data", data={"image/png": 'AAAA" onerror="alert(13)', "text/plain": "png"}
                ),
                new_output("display_data", data={"text/latex": "<img src=x onerror=alert(14)>"}),
                new_output("stream", name="stdout", text=markup),
                new_output("error", ename="Boom", evalue=markup, traceback=[markup]),
                new_output("execute_result", data={"text/plain": markup}, execution_count=1),
            ],
        ),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def every_output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    """The hostile notebook exported as the report exports (no kernel needed: the outputs are given)."""
    folder = tmp_path_factory.mktemp("outputs")
    with tracker() as t:
        handler = _Warnings()
        logging.getLogger("catena_nb.report").addHandler(handler)
        try:
            nb = _hostile_notebook(t)
            report._sanitize_outputs(nb)
            page = report.to_html(nb, title="t", banner={"sandbox": True, "headline": "h", "meta": "m"})
        finally:
            logging.getLogger("catena_nb.report").removeHandler(handler)
        path = folder / "outputs.html"
        path.write_text(page, encoding="utf-8")
        yield Rendered(t, None, path, page, handler.messages)  # type: ignore[arg-type]


def test_every_kind_of_output_is_held_to_the_policy(every_output: Rendered) -> None:
    """Markdown cells and outputs, HTML, raw cells, SVG, images, streams and errors: nothing runs or loads."""
    counts = page_counts(every_output.page)
    assert counts.links_off_page == 0
    assert counts.remote_resources == 0
    assert counts.handlers == 0
    assert counts.styles_attributes == 0
    assert counts.dangerous_elements == {}
    assert counts.meta_refresh == 0
    assert counts.raw_bidi == 0
    assert "<script" not in every_output.page
    assert every_output.warnings == []  # the passes before the last check were enough


def test_the_policy_keeps_what_a_report_needs(every_output: Rendered) -> None:
    """Headings with their anchors, aligned tables, embedded images and attachments, and the text, stay."""
    page = every_output.page
    assert '<h1 id="Heading">Heading<a class="anchor-link" href="#Heading">¶</a></h1>' in page
    assert '<th align="left">a</th>' in page
    assert '<td align="right">2</td>' in page
    assert f'src="data:image/png;base64,{_PNG}"' in page  # the attachment and the PNG output
    assert "data:image/svg+xml;base64," in page  # the SVG, as an image that can run nothing
    assert "alert(10)" not in page  # not inlined: only as base64 inside the image's data URI
    shown = visible_text(page)
    assert "[a](javascript:alert(1))" in shown  # the stream and the error show the text as it is
    assert "![gone](attachment:missing.png)" in shown  # a missing attachment: the Markdown shown as text
    assert "⟨U+202E⟩evil" in shown


VECTORS = [
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" &#14;javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="//127.0.0.1:9/x">x</a>',
    '<a href="http://127.0.0.1:9/x">x</a>',
    '<a href="x.html">x</a>',
    '<img src="http://127.0.0.1:9/x.png">',
    "<img src=x onerror=alert(1)>",
    '<img src="data:text/html,<script>alert(1)</script>">',
    '<img srcset="http://127.0.0.1:9/x.png 2x">',
    "<IMG SRC=JaVaScRiPt:alert(1)>",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    '<iframe src="http://127.0.0.1:9/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="http://127.0.0.1:9/x"></object>',
    '<embed src="http://127.0.0.1:9/x">',
    '<form action="http://127.0.0.1:9/"><input type=submit></form>',
    '<button formaction="javascript:alert(1)">b</button>',
    '<link rel=stylesheet href="http://127.0.0.1:9/x.css">',
    '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">',
    '<base href="http://127.0.0.1:9/">',
    "<style>@import 'http://127.0.0.1:9/x.css';</style>",
    '<div style="background:url(http://127.0.0.1:9/x)">s</div>',
    '<table background="http://127.0.0.1:9/x"><tr><td>t</td></tr></table>',
    '<video poster="http://127.0.0.1:9/x"></video>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<!--<img src=x onerror=alert(1)>-->",
    "<scr<script>ipt>alert(1)</script>",
    "<details open ontoggle=alert(1)>",
    '<a href="#x" onclick="alert(1)">x</a>',
]


@pytest.mark.parametrize("vector", VECTORS)
def test_sanitize_html_leaves_no_vector_live(vector: str) -> None:
    """Classic script and fetch vectors (obfuscated URLs, handlers, frames, CSS, parser tricks) end inert."""
    counts = page_counts(f"<html><head></head><body>{report.sanitize_html(vector)}</body></html>")
    assert counts.hostile() == 0, counts


def test_the_last_check_removes_what_the_passes_before_would_have_missed() -> None:
    """Planted in a page after the export: scripts, handlers, remote URLs, refresh, base, CSS url() all go."""
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=http://x/">'
        '<base href="http://x/"><link rel="stylesheet" href="http://x/a.css"><style>a{color:red}</style>'
        "<style>b{background:u\\72l(http://x/css)}</style><script>alert(1)</script></head>"
        '<body onload="alert(2)"><a href="http://x/">x</a><a href=" javascript:alert(3)">j</a>'
        '<a href="#ok">ok</a><img src="http://x/i.png" onerror="alert(4)">'
        '<img src="data:image/png;base64,AA==">'
        '<div style="background:url(http://x/s)">s</div><style>c{}</style><iframe src="http://x/f"></iframe>'
        "<svg><script>alert(5)</script></svg><!-- <script>alert(6)</script> -->\u202e</body></html>"
    )
    cleaned, removed = enforce_page_policy(page)
    counts = page_counts(cleaned)
    assert counts.hostile() == 0, counts
    assert "<style>a{color:red}</style>" in cleaned  # the head's own style stays
    assert '<a href="#ok">ok</a>' in cleaned
    assert '<img src="data:image/png;base64,AA==">' in cleaned
    assert len(removed) >= 14
    assert enforce_page_policy(cleaned) == (cleaned, [])


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_opens_every_kind_of_output_without_a_request_or_dialog(every_output: Rendered) -> None:
    """The hostile notebook's page in chromium: no dialog, no request but data:, the tracker unhit."""
    record = _chromium(every_output.path)
    assert record.links_clicked > 0
    assert record.dialogs == []
    assert record.foreign(every_output.path.as_uri()) == []
    assert record.left_the_page == []
    assert {k: v for k, v in record.dom.items() if k != "links" and v} == {}
    assert every_output.tracker.hits == []
