"""The widgets driven headlessly against the real client and a running sandbox: set, click, read HTML."""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from catena_nb.client import CatenaClient
from catena_nb.frames import logs_frame, messages_frame, operations_frame
from catena_nb.notebook import OperationBrowser, ReliabilityDashboard, SendMessageForm
from catena_nb.sandbox import Sandbox

CREATE = ("POST", "/v2/telematics/messages")
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, time_scale=0.001, tsp_latency=0) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> Iterator[CatenaClient]:
    with CatenaClient(base_url=sandbox.url, token=sandbox.token) as c:
        yield c


def _creates(sandbox: Sandbox) -> int:
    return sandbox.requests[CREATE]


def _form(client: CatenaClient, sandbox: Sandbox, *, connection: Any = None) -> SendMessageForm:
    form = SendMessageForm(client)
    conn = connection or sandbox.connections[0]
    form.connection.value = conn.id
    return form


def test_form_lists_the_sandbox_connections_and_users(client: CatenaClient, sandbox: Sandbox) -> None:
    """The pickers hold every seeded connection, labelled by TSP, and that connection's users."""
    form = _form(client, sandbox)
    assert {v for _, v in form.connection.options} == {c.id for c in sandbox.connections}
    label = {v: k for k, v in form.connection.options}[sandbox.connections[0].id]
    assert label.startswith(f"{sandbox.connections[0].source_name} · ")
    assert {v for _, v in form.recipient.options} == set(sandbox.connections[0].users)
    assert repr(form) == f"SendMessageForm(connections={len(sandbox.connections)})"


def test_sync_send_reaches_the_sandbox_and_shows_the_operation(
    client: CatenaClient, sandbox: Sandbox
) -> None:
    """One click makes one create request; the result shows the operation's badge and its log."""
    form = _form(client, sandbox)
    form.message_text.value = "Delivery confirmed"
    before = _creates(sandbox)
    form.send_button.click()
    assert _creates(sandbox) == before + 1
    op = form.last_operation
    assert op is not None
    assert op.status in ("success", "failed")
    assert op.id in form.result.value
    assert f">{op.status}</span>" in form.result.value
    assert "attempt" in form.result.value
    assert not form.send_button.disabled


def test_bad_uuid_sends_nothing(client: CatenaClient, sandbox: Sandbox) -> None:
    """A malformed pasted recipient id is refused beside its field and no create reaches the server."""
    form = _form(client, sandbox)
    form.recipient_id.value = "1234-not-a-uuid"
    form.message_text.value = "hello"
    before = _creates(sandbox)
    form.send_button.click()
    assert _creates(sandbox) == before
    assert "not a valid user id" in form.field_errors["recipient_id"].value
    assert "Nothing was sent" in form.result.value
    assert form.last_operation is None


def test_a_502_shows_the_tsps_error(client: CatenaClient, sandbox: Sandbox) -> None:
    """A sync send the TSP refuses (text over its limit) shows its error_type, status code and details."""
    form = _form(client, sandbox)
    form.message_text.value = "Load 4 at dock 4. " * 300  # 5,400 characters: over every TSP's limit
    before = _creates(sandbox)
    failed = form.send()
    assert _creates(sandbox) == before + 1
    assert failed is not None
    assert failed.status == "failed"
    log = failed.last_error
    assert log is not None
    assert log.error_type == "validation"
    value = form.result.value
    assert "Failed at the TSP" in value
    assert "<code>validation</code>" in value
    assert f"<code>{log.response_status_code}</code>" in value
    assert html.escape(log.error_details or "") in value
    assert "characters" in value
    assert "failed</span>" in value


def test_a_connection_whose_tsp_takes_no_messages_is_warned_before_sending(
    client: CatenaClient, sandbox: Sandbox
) -> None:
    """Picking a connection whose TSP does not take message writes shows a warning under it, before any
    send; Send still sends, and the failed operation shows; another connection clears the warning."""
    bad = next(c for c in sandbox.connections if c not in sandbox.message_connections)
    form = _form(client, sandbox, connection=bad)
    warning = form.tsp_warning.value
    assert 'role="alert"' in warning
    assert bad.id in warning
    assert "message writes not_supported" in warning
    assert form.tsp_warning in form.children
    before = _creates(sandbox)
    op = form.send()
    assert _creates(sandbox) == before + 1
    assert op is not None
    assert op.status == "failed"
    assert "does not support message writes" in html.unescape(form.result.value)
    form.connection.value = sandbox.message_connections[0].id
    assert form.tsp_warning.value == ""


def test_message_text_is_escaped_everywhere(client: CatenaClient, sandbox: Sandbox) -> None:
    """A `<script>` message text shows as text in the form's result and in the browser's table and detail."""
    form = _form(client, sandbox)
    form.message_text.value = SCRIPT
    op = form.send()
    assert op is not None
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "<script>" not in form.result.value
    assert escaped in form.result.value

    browser = OperationBrowser(client)
    browser.connection.value = op.connection_id
    browser.resource.value = "message"
    browser.search_button.click()
    assert "<script>" not in browser.table.value
    assert escaped in browser.table.value
    row = next(i for i, found in enumerate(browser.results) if found.id == op.id)
    browser.show_page(row // 20)
    browser.picker.value = row
    assert "<script>" not in browser.detail.value
    assert escaped in browser.detail.value


def test_async_send_shows_a_pending_operation(client: CatenaClient, sandbox: Sandbox) -> None:
    """In async mode the result says the operation is queued, with a pending badge."""
    form = _form(client, sandbox)
    form.sync.value = False
    form.message_text.value = "Async hello"
    op = form.send()
    assert op is not None
    assert op.status == "pending"
    assert "Queued" in form.result.value
    assert "pending</span>" in form.result.value


def test_browser_lookup_shows_the_operations_logs(client: CatenaClient, sandbox: Sandbox) -> None:
    """Looking up a sent operation by id and connection shows it with one row per attempt."""
    form = _form(client, sandbox)
    form.message_text.value = "Lookup me"
    sent = form.send()
    assert sent is not None
    browser = OperationBrowser(client)
    browser.op_id.value = sent.id
    browser.lookup_connection.value = sent.connection_id
    before = sandbox.requests.total()
    browser.lookup_button.click()
    assert sandbox.requests.total() == before + 1
    assert sent.id in browser.detail.value
    assert "error_details" in browser.detail.value  # the log table's header
    assert browser.detail.value.count("<tr>") >= 2


def test_browser_lookup_errors(client: CatenaClient, sandbox: Sandbox) -> None:
    """A malformed id is refused without a request; an unknown id reads as not found on that connection."""
    browser = OperationBrowser(client)
    browser.op_id.value = "not-an-id"
    before = sandbox.requests.total()
    browser.lookup_button.click()
    assert sandbox.requests.total() == before
    assert "not a valid operation id" in browser.op_id_error.value
    browser.op_id.value = str(uuid.uuid4())
    browser.lookup_connection.value = sandbox.connections[0].id
    browser.lookup_button.click()
    assert "No operation with that id on that connection" in browser.detail.value


def test_browser_search_filters_and_pages(client: CatenaClient, sandbox: Sandbox) -> None:
    """A status filter returns only that status; the table pages 20 rows at a time."""
    conn = sandbox.connections[1]
    form = _form(client, sandbox, connection=conn)
    for i in range(23):
        form.message_text.value = f"batch {i}"
        form.send()
    browser = OperationBrowser(client)
    browser.connection.value = conn.id
    browser.search_button.click()
    n = len(browser.results)
    assert n >= 23
    assert browser.page_label.value == f"rows 1-20 of {n}"
    browser.next_button.click()
    assert browser.page_label.value.startswith("rows 21-")
    browser.status.value = "success"
    browser.search_button.click()
    assert browser.results
    assert all(op.status == "success" for op in browser.results)


@pytest.fixture(scope="module")
def audit_frames(client: CatenaClient, sandbox: Sandbox) -> tuple[Any, Any]:
    """Frames of a few sync sends on every connection, one over-long (so refused) per connection."""
    ops = []
    for conn in sandbox.connections:
        for j in range(5):
            text = "x" * 5000 if j == 0 else f"Stop {j} done"
            ops.append(
                client.messages.create(
                    connection_id=conn.id,
                    sender_id=conn.dispatchers[0] if conn.dispatchers else conn.users[0],
                    recipient_id=conn.drivers[0] if conn.drivers else conn.users[-1],
                    message_text=text,
                    priority=("low", "medium", "high")[j % 3],
                    sync=True,
                )
            )
    connections = list(client.connections.list())
    return operations_frame(ops, connections), logs_frame(ops, connections)


def test_dashboard_updates_its_tables_when_a_filter_changes(audit_frames: tuple[Any, Any]) -> None:
    """Narrowing the TSPs or changing the group-by recomputes the rates table and redraws the charts."""
    ops_df, logs_df = audit_frames
    tsps = sorted(set(ops_df["source_name"].astype(str)))
    dash = ReliabilityDashboard(ops_df, logs_df)
    assert repr(dash) == f"ReliabilityDashboard(operations={len(ops_df)})"
    assert all(f"<td>{t}</td>" in dash.rates.value for t in tsps)
    assert "data:image/png;base64," in dash.outcomes_chart.value
    assert "data:image/png;base64," in dash.timeline_chart.value
    assert "validation" in dash.errors.value

    dash.tsp.value = (tsps[0],)
    n = int((ops_df["source_name"] == tsps[0]).sum())
    assert dash.summary.value.startswith(f"{n:,} of {len(ops_df):,}")
    assert f"<td>{tsps[0]}</td>" in dash.rates.value
    assert all(f"<td>{t}</td>" not in dash.rates.value for t in tsps[1:])

    dash.group_by.value = "error_type"
    assert "<td>validation</td>" in dash.rates.value
    dash.group_by.value = "priority"
    assert all(f"<td>{p}</td>" in dash.rates.value for p in ("low", "medium", "high"))


def test_dashboard_says_so_when_nothing_matches(audit_frames: tuple[Any, Any]) -> None:
    """Filters that match no operation empty the panes with a message instead of failing."""
    ops_df, logs_df = audit_frames
    dash = ReliabilityDashboard(ops_df, logs_df)
    dash.tsp.value = ()
    assert dash.summary.value.startswith("0 of")
    assert "No operations match" in dash.rates.value
    assert dash.outcomes_chart.value == ""


def test_dashboard_shows_the_delivery_funnel_with_messages(
    client: CatenaClient, audit_frames: tuple[Any, Any]
) -> None:
    """Given the messages frame, the dashboard adds the created → accepted → delivered → read table."""
    ops_df, logs_df = audit_frames
    messages_df = messages_frame(list(client.messages.list(progress=False)))
    dash = ReliabilityDashboard(ops_df, logs_df, messages_df)
    for stage in ("created", "accepted", "delivered", "read"):
        assert f"<td>{stage}</td>" in dash.funnel.value
    assert f"<td>{len(ops_df)}</td>" in dash.funnel.value
    assert ReliabilityDashboard(ops_df, logs_df).funnel.value == ""
