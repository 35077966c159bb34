"""A hostile message text round-trips as data and is shown as text everywhere: reprs, widgets, the report."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest

from catena_nb._html import batch_html, logs_table_html, operation_html
from catena_nb.client import CatenaClient
from catena_nb.frames import logs_frame, messages_frame, operations_frame
from catena_nb.models import ResourceOperation
from catena_nb.notebook import ReliabilityDashboard, SendMessageForm
from catena_nb.report import render_report
from catena_nb.sandbox import Sandbox
from tests.support.rounds import XSS, client_for, rows_for

ESCAPED = html.escape(XSS, quote=False)
# live markup the text would become if it were not escaped: a script element, or an element with a handler
LIVE = re.compile(r"<script>alert\(1\)|<img\b[^>]*\bonerror\b", re.IGNORECASE)


def _shown_as_text(fragment: str, where: str) -> None:
    assert not LIVE.search(fragment), f"{where}: live markup from the message text"
    # the escaped form is there (quotes may or may not be escaped as well)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment, f"{where}: the text is not shown"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=21, time_scale=0.001, tsp_latency=0) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Iterator[CatenaClient]:
    with client_for(sb) as c:
        yield c


@pytest.fixture(scope="module")
def sent(sb: Sandbox, client: CatenaClient) -> tuple[Any, Any]:
    """One sync send and one batch carrying the hostile text, settled."""
    row = {**rows_for(sb, 1, "xss")[0], "message_text": XSS}
    op = client.messages.create(**row, sync=True)
    batch = client.messages.create_many([row, {**row, "sender_id": "not-a-uuid"}], sync=False)
    client.operations.wait(batch, timeout=60, poll_interval=0.05)
    return op, batch


def test_text_round_trips_unchanged(sb: Sandbox, client: CatenaClient, sent: tuple[Any, Any]) -> None:
    """The API stores and returns the text byte for byte; lookups, listings and frames keep it as data."""
    op, _ = sent
    assert op.payload["message_text"] == XSS
    again = client.operations.get(op)
    assert again.payload["message_text"] == XSS
    frame = operations_frame([again])
    assert frame["payload_message_text"].iloc[0] == XSS
    listed = client.messages.list(connection_id=op.connection_id).to_list()
    messages = messages_frame(listed)
    assert XSS in set(messages["message_text"].dropna())


def test_every_repr_html_shows_the_text_as_text(client: CatenaClient, sent: tuple[Any, Any]) -> None:
    """The operation's and the batch's `_repr_html_`, the display helpers and pandas' tables escape it."""
    op, batch = sent
    again = client.operations.get(op)
    for fragment in (op._repr_html_(), batch._repr_html_(), logs_table_html(again.logs)):
        assert not LIVE.search(fragment)
    # the operation card shows ids, names and log details, not the payload: make them all hostile
    raw = again.model_dump(mode="json")
    for key in ("source_name", "resource_id", "source_id", "resource"):
        raw[key] = XSS
    raw["logs"] = [{**log, "error_details": XSS, "error_type": XSS} for log in raw["logs"]] or [
        {"id": XSS, "created_at": raw["created_at"], "status": "failed", "error_details": XSS}
    ]
    hostile = ResourceOperation.model_validate(raw)
    _shown_as_text(hostile._repr_html_(), "ResourceOperation._repr_html_")
    _shown_as_text(operation_html(hostile), "operation_html")
    _shown_as_text(logs_table_html(hostile.logs), "logs_table_html")
    rows = [o.summary() | {"error": XSS, "operation_id": XSS} for o in batch.outcomes]
    _shown_as_text(batch_html(batch.counts, rows, total=len(rows)), "batch_html")
    # pandas-stubs do not declare DataFrame._repr_html_ (the attribute reads as a column)
    _shown_as_text(operations_frame([again])._repr_html_(), "operations_frame table")  # type: ignore[operator]
    listed = client.messages.list(connection_id=op.connection_id).to_list()
    _shown_as_text(messages_frame(listed)._repr_html_(), "messages_frame table")  # type: ignore[operator]


def test_hostile_values_from_the_api_are_escaped_in_the_widgets(
    client: CatenaClient, sent: tuple[Any, Any]
) -> None:
    """Hostile text in a TSP name, an error type and error details shows as text in the dashboard."""
    op, _ = sent
    ops_df = operations_frame([client.operations.get(op)] * 3)
    # pandas-stubs' Series.astype takes only literal dtype names, not a dtype's name read at run time
    for column in ("source_name", "error_type", "error_details"):
        ops_df[column] = pd.Series([XSS] * len(ops_df), dtype="string").astype(ops_df[column].dtype.name)  # type: ignore[call-overload]
    ops_df["status"] = pd.Series(["failed"] * len(ops_df)).astype(ops_df["status"].dtype.name)  # type: ignore[call-overload]
    ops_df["first_attempt_ok"] = False
    logs_df = logs_frame([op])
    dashboard = ReliabilityDashboard(ops_df, logs_df)
    shown = "\n".join(
        str(w.value) for w in (dashboard.summary, dashboard.rates, dashboard.errors, dashboard.funnel)
    )
    assert not LIVE.search(shown)
    assert "&lt;script&gt;" in shown
    form = SendMessageForm(client)
    form.message_text.value = XSS
    result = form.send()
    assert result is not None
    _shown_as_text(form.result.value, "SendMessageForm result")


REPORT_CELLS = [
    "import catena_nb as cn\nfrom IPython.display import Markdown, HTML",
    f"XSS = {XSS!r}\n"
    "sb = cn.Sandbox(seed=21, time_scale=0.001, tsp_latency=0).start()\n"
    "client = cn.CatenaClient(base_url=sb.url, token=sb.token, progress=False)\n"
    "c = sb.connections[0]\n"
    "row = dict(connection_id=c.id, sender_id=c.users[0], recipient_id=c.users[1], message_text=XSS)",
    "op = client.messages.create(**row, sync=True)\nop",
    "batch = client.messages.create_many([row, {**row, 'sender_id': 'nope'}], sync=True)\nbatch",
    "cn.operations_frame([op])[['operation_id', 'payload_message_text']]",
    "cn.messages_frame(client.messages.list(connection_id=c.id).to_list())[['message_text']]",
    "Markdown(f'**Sent:** {XSS}')",
    "Markdown(f'**Escaped:** {cn.escape_markdown(XSS)}, as code {cn.markdown_code(XSS)}')",
    "HTML(f'<b>raw html output:</b> {XSS}')",
    "print(XSS)",
]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report rendered from a notebook that sends the hostile text and shows it every way it can."""
    folder = tmp_path_factory.mktemp("xss")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in REPORT_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "xss.ipynb"
    nbformat.write(nb, path)
    return render_report(folder / "xss.html", notebook=path, progress=False)


@pytest.mark.slow
def test_the_report_shows_the_text_and_runs_none_of_it(report_file: Path) -> None:
    """In the HTML report the text appears escaped in each output, and no output carries live markup."""
    page = report_file.read_text(encoding="utf-8")
    assert not LIVE.search(page)
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4
    assert "alert(1)</script>" not in page
    # Markdown built with the escapers shows the text, as text and in a code span, escaped once
    assert "<strong>Escaped:</strong> &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x" in page
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</code>" in page
    assert "&amp;lt;" not in page


@pytest.mark.slow
@pytest.mark.browser
def test_the_report_in_chromium_runs_no_script_from_the_text(report_file: Path) -> None:
    """In chromium the report fires no dialog, loads no `x` image, and shows the text to the reader."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, _missing

    if not CHROMIUM.exists():
        _missing(f"chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed")
    dialogs: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)

            def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report_file.as_uri(), wait_until="load")
            page.wait_for_timeout(500)
            text = page.inner_text("body")
            live = page.evaluate(
                "() => [...document.querySelectorAll('img[onerror], [onerror], script')]"
                ".filter(e => (e.getAttribute('onerror') || e.textContent).includes('alert(1)')).length"
            )
        finally:
            browser.close()
    assert dialogs == []
    assert live == 0
    assert XSS in text
    assert not [u for u in requests if u.endswith("/x") or u == "x"]
