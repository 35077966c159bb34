"""The one home of escaping (`catena_nb._html`), and every renderer of the package fed hostile API text.

Properties: Markdown escaped by `escape_markdown` renders, by the report's renderer and by a CommonMark one,
to exactly its text (bidi controls shown, line breaks as spaces) and no tag, link or image; `markdown_code`
renders to one code span of exactly its text. The `_repr_html_` cards, the tables and the widgets' HTML
show hostile values as text: no script element, no handler attribute, no `javascript:` URL, no raw bidi.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from nbconvert.filters.markdown_mistune import markdown2html_mistune

import catena_nb as cn
from catena_nb._html import (
    BIDI_CONTROLS,
    batch_html,
    escape_html,
    escape_markdown,
    frame_html,
    logs_table_html,
    markdown_code,
    neutralize_bidi,
    operation_html,
)
from catena_nb.analysis import error_breakdown, format_table, outcome_rates
from catena_nb.client import BatchResult, RowOutcome
from catena_nb.errors import CatenaError
from catena_nb.frames import logs_frame, operations_frame
from catena_nb.models import Connection, MessageCreate, ResourceOperation, User
from catena_nb.notebook import OperationBrowser, ReliabilityDashboard, SendMessageForm
from catena_nb.notebook import _panes as parts

RLO = "\u202e"
HOSTILE = (
    '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">a</a>'
    f"[m](javascript:alert(4))![t](http://127.0.0.1:9/t.png) java&#115;cript:alert(5) {RLO}evil"
)
SHOWN = neutralize_bidi(HOSTILE)  # the text a reader must see
_URL_NAMES = ("href", "src", "action", "formaction", "srcset", "poster", "background", "data", "xlink:href")
_MARKDOWN_IT = MarkdownIt("commonmark").enable(["table", "strikethrough"])


class _Fragment(HTMLParser):
    """The tags, attributes and text of an HTML fragment."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _assert_inert(fragment: str, where: str, *, shows: str | None = SHOWN) -> None:
    """No script, handler, javascript: URL or raw bidi control in ``fragment``; ``shows`` is in its text."""
    parsed = _Fragment(fragment)
    assert "script" not in parsed.tags, f"{where}: a script element"
    assert not [a for a in parsed.attrs if a[1].startswith("on")], f"{where}: a handler attribute"
    for tag, name, value in parsed.attrs:
        compact = re.sub(r"[\s\x00-\x1f]", "", value).lower()
        assert not compact.startswith(("javascript:", "vbscript:")), f"{where}: <{tag} {name}={value!r}>"
        if name in _URL_NAMES:
            assert compact.startswith(("data:", "#")), f"{where}: <{tag} {name}={value!r}> fetches"
    assert not BIDI_CONTROLS & set(fragment), f"{where}: a raw bidi control"
    if shows is not None:
        assert shows in "".join(parsed.text), f"{where}: the text is not shown as text"


# -- the functions ----------------------------------------------------------------------------------------
def test_escape_html_escapes_quotes_and_shows_bidi_controls() -> None:
    """Markup and both quotes become entities, None is empty, datetimes are ISO, long text is shortened."""
    assert escape_html("<a title=\"x\" alt='y'>&") == "&lt;a title=&quot;x&quot; alt=&#x27;y&#x27;&gt;&amp;"
    assert escape_html(None) == ""
    assert escape_html(dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)) == "2026-10-01T09:00:00+00:00"
    assert escape_html("x" * 10, max_chars=4) == "xxx…"
    assert escape_html(f"a{RLO}b") == "a⟨U+202E⟩b"


def test_every_bidi_control_is_shown_by_its_code_point() -> None:
    """Each override, embedding, isolate and mark becomes a visible ⟨U+XXXX⟩; other text is untouched."""
    assert len(BIDI_CONTROLS) == 12
    for char in BIDI_CONTROLS:
        assert neutralize_bidi(f"x{char}y") == f"x⟨U+{ord(char):04X}⟩y"
    assert neutralize_bidi("العربية ‍ é") == "العربية ‍ é"  # right-to-left letters and joiners stay


@pytest.mark.parametrize(
    "text",
    [
        "[fleet](javascript:alert(3))",
        "![t](http://127.0.0.1:9/track.png)",
        "<script>alert(1)</script>",
        "<http://127.0.0.1:9/auto> http://127.0.0.1:9/bare www.example.com ops@example.com",
        "[r][1]\n\n[1]: http://127.0.0.1:9/ref",
        "# heading\n===\n- item\n1. item\n> quote\n    code\n| a | b |\n|---|---|",
        "*em* **strong** _u_ ~~s~~ `code` $x$ $$y$$ \\(z\\)",
        "javascript&colon;alert(1) &lt;b&gt; &#x6A;",
        f"{RLO}gnp.exe",
    ],
)
def test_escaped_markdown_renders_as_its_text_and_nothing_else(text: str) -> None:
    """Links, images, autolinks, raw HTML, blocks, emphasis, math and entities all render as plain text."""
    for render in (markdown2html_mistune, _MARKDOWN_IT.render):
        html = render(escape_markdown(text))
        parsed = _Fragment(html)
        assert set(parsed.tags) <= {"p"}, (render, html)
        assert _words("".join(parsed.text)) == _words(_flat(text))


def test_markdown_code_picks_a_fence_longer_than_the_text_has() -> None:
    """Backticks in the text lengthen the fence, and a text that starts or ends with one is padded."""
    assert markdown_code("auth") == "`auth`"
    assert markdown_code("a`b") == "``a`b``"
    assert markdown_code("`x") == "`` `x ``"
    assert markdown_code("x```y") == "````x```y````"
    assert markdown_code(None) == ""
    assert markdown_code(f"<b>{RLO}") == "`<b>⟨U+202E⟩`"


def test_frame_html_escapes_and_shows_bidi_controls_that_pandas_leaves() -> None:
    """A table's cells, index and column names are escaped and their bidi controls shown."""
    frame = pd.DataFrame({f"col{RLO}": [HOSTILE]}, index=[f"i{RLO}"])
    assert BIDI_CONTROLS & set(str(frame.to_html(escape=True)))  # what pandas leaves raw
    html = frame_html(frame)
    _assert_inert(html, "frame_html")
    assert "col⟨U+202E⟩" in html
    assert "i⟨U+202E⟩" in html


def _flat(text: str) -> str:
    return re.sub(r"\r\n|[\r\n\t\v\f\x85\u2028\u2029]", " ", neutralize_bidi(text))


def _words(text: str) -> str:
    return " ".join(text.split())


# text weighted towards what Markdown reads as syntax, with bidi controls and line breaks mixed in
_SYNTAX = st.sampled_from([*"\\`*_{}[]()#+-.!|~<>&\"':;=$^%@/?,", "\n", "\r\n", "\t", "    ", RLO])
_TEXT = st.lists(st.one_of(_SYNTAX, st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))


@settings(max_examples=300, deadline=None)
@given(_TEXT.map("".join))
@example("[x](javascript:alert(1))")
@example("<a href=x>y</a>")
@example("\\")
@example("  leading")
def test_escape_markdown_round_trips_through_both_renderers(text: str) -> None:
    """Whatever the text, its escaped Markdown renders to that text in one paragraph: no tag, link, image."""
    for render in (markdown2html_mistune, _MARKDOWN_IT.render):
        html = render(escape_markdown(text))
        parsed = _Fragment(html)
        assert set(parsed.tags) <= {"p"}, html
        assert _words("".join(parsed.text)) == _words(_flat(text)), html


@settings(max_examples=300, deadline=None)
@given(_TEXT.map("".join))
@example("`")
@example(" `` ")
@example("a``b```c")
def test_markdown_code_round_trips_through_both_renderers(text: str) -> None:
    """Whatever the text, ``markdown_code`` renders to one code span holding exactly it."""
    expected = _flat(text)
    code = markdown_code(text)
    if not expected:
        assert code == ""
        return
    for render in (markdown2html_mistune, _MARKDOWN_IT.render):
        html = render(code)
        parsed = _Fragment(html)
        assert parsed.tags == ["p", "code"], html
        assert "".join(parsed.text).removesuffix("\n") == expected, html


def test_notebooks_reach_the_escapers_from_the_package() -> None:
    """`cn.escape_markdown`, `cn.markdown_code` and `cn.escape_html` are the functions of `_html`."""
    assert cn.escape_markdown is escape_markdown
    assert cn.markdown_code is markdown_code
    assert cn.escape_html is escape_html


# -- the renderers -----------------------------------------------------------------------------------------
T0 = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)


def _uid(n: int) -> str:
    return str(uuid.UUID(int=n))


def _hostile_op(i: int = 0) -> ResourceOperation:
    return ResourceOperation.model_validate(
        {
            "id": _uid(500 + i),
            "created_at": T0 + dt.timedelta(hours=i),
            "updated_at": T0 + dt.timedelta(hours=i, seconds=3),
            "connection_id": _uid(1 + i % 2),
            "source_name": HOSTILE,
            "fleet_ref": HOSTILE,
            "resource": "message",
            "operation_type": "create",
            "resource_id": HOSTILE,
            "source_id": HOSTILE,
            "payload": {"message_text": HOSTILE, "priority": "low"},
            "status": "failed",
            "logs": [
                {
                    "id": _uid(900 + i),
                    "created_at": T0 + dt.timedelta(hours=i, seconds=1),
                    "status": "failed",
                    "error_type": HOSTILE,
                    "error_details": HOSTILE,
                    "response_status_code": 400,
                }
            ],
        }
    )


def test_the_operation_card_and_its_logs_show_hostile_values_as_text() -> None:
    """`ResourceOperation._repr_html_`, `operation_html` and the log table escape every field."""
    op = _hostile_op()
    _assert_inert(op._repr_html_(), "ResourceOperation._repr_html_")
    _assert_inert(operation_html(op), "operation_html")
    _assert_inert(logs_table_html(op.logs), "logs_table_html")
    _assert_inert(parts.operation_result_html(op), "operation_result_html")


def test_the_batch_card_shows_hostile_errors_as_text() -> None:
    """`BatchResult._repr_html_` escapes the operation's error type and a refused row's error message."""
    batch = BatchResult(
        outcomes=[
            RowOutcome(index=0, row={}, operation=_hostile_op(), status="failed", created=True),
            RowOutcome(index=1, row={}, error=CatenaError(HOSTILE), status="error", created=False),
        ]
    )
    _assert_inert(batch._repr_html_(), "BatchResult._repr_html_")
    rows = [o.summary() | {"operation_id": HOSTILE} for o in batch.outcomes]
    _assert_inert(batch_html({HOSTILE: 1}, rows, total=2), "batch_html")


def _hostile_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    ops = [_hostile_op(i) for i in range(6)]
    return operations_frame(ops), logs_frame(ops)


def test_format_table_shows_bidi_controls_and_pandas_escapes_the_rest() -> None:
    """A formatted reliability table keeps the hostile names as values, bidi controls shown, HTML escaped."""
    ops_df, logs_df = _hostile_frames()
    for table in (outcome_rates(ops_df, by="source_name"), error_breakdown(ops_df, logs_df)):
        shown = format_table(table)
        assert SHOWN in set(shown.iloc[:, 0].astype(str))
        # pandas shortens long cells in its notebook view: the start of the text is there
        _assert_inert(shown._repr_html_(), "format_table", shows=SHOWN[:40])  # type: ignore[operator]


def test_the_dashboard_panes_show_hostile_values_as_text() -> None:
    """The dashboard's summary, rates, errors and funnel panes, and its picker labels, are inert."""
    ops_df, logs_df = _hostile_frames()
    dash = ReliabilityDashboard(ops_df, logs_df)
    _assert_inert(dash.rates.value, "dashboard rates")
    _assert_inert(dash.errors.value, "dashboard errors")
    _assert_inert(dash.summary.value, "dashboard summary", shows=None)
    dash.group_by.value = "error_type"
    _assert_inert(dash.rates.value, "dashboard rates by error_type")
    assert [label for label, _ in dash.tsp.options] == [SHOWN]
    assert dash.tsp.value == (HOSTILE,)  # the filter still matches the real value


class _HostileClient:
    """A client whose every text is hostile: connections, users, listed and created operations."""

    def __init__(self) -> None:
        self.conns = [
            Connection(id=_uid(1), source_name=HOSTILE, description=HOSTILE),
            Connection(id=_uid(2), source_name=f"b{RLO}", fleet_ref=HOSTILE),
        ]
        users = [
            User(id=_uid(11), first_name=HOSTILE, last_name="x", is_driver=True),
            User(id=_uid(12), username=HOSTILE, is_driver=False),
        ]
        self.ops = [_hostile_op(i) for i in range(3)]
        self.connections = SimpleNamespace(list=lambda: list(self.conns))
        self.users = SimpleNamespace(list=lambda connection_id: list(users))
        self.operations = SimpleNamespace(list=lambda **kw: list(self.ops), get=self._get)
        self.messages = SimpleNamespace(create=self._create)

    def _get(self, op_id: str, *, connection_id: str) -> ResourceOperation:
        return next(op for op in self.ops if op.id == op_id)

    def _create(self, *, sync: bool, **fields: Any) -> ResourceOperation:
        MessageCreate.build(**fields)
        return _hostile_op()


def test_the_browser_shows_hostile_operations_as_text() -> None:
    """The operation browser's table, page label, row details and picker labels are inert."""
    browser = OperationBrowser(_HostileClient())
    browser.search_button.click()
    _assert_inert(browser.table.value, "browser table", shows=None)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in browser.table.value
    _assert_inert(browser.page_label.value, "browser page label", shows=None)
    browser.picker.value = browser.picker.options[1][1]
    _assert_inert(browser.detail.value, "browser detail")
    labels = [label for label, _ in browser.connection.options] + [
        label for label, _ in browser.picker.options
    ]
    assert not [label for label in labels if BIDI_CONTROLS & set(label)]


def test_the_send_form_shows_a_hostile_answer_and_error_as_text() -> None:
    """The send form's result for a hostile operation, and an error box quoting hostile text, are inert."""
    client = _HostileClient()
    form = SendMessageForm(client)
    assert not [label for label, _ in form.connection.options if BIDI_CONTROLS & set(label)]
    assert not [label for label, _ in form.recipient.options if BIDI_CONTROLS & set(label)]
    form.message_text.value = HOSTILE
    assert form.send() is not None
    _assert_inert(form.result.value, "send form result")
    _assert_inert(parts.error_box(CatenaError(HOSTILE), context=HOSTILE), "error box")
    _assert_inert(parts.field_error(HOSTILE), "field error")
    _assert_inert(parts.info_box(HOSTILE), "info box")
