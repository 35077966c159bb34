"""OperationBrowser: one lookup by id, searches by filter paged 20 rows at a time, rows shown escaped."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from catena_nb.client import CatenaClient
from catena_nb.errors import ServerError
from catena_nb.notebook import OperationBrowser
from catena_nb.sandbox import Sandbox
from tests.support.fake_client import FakeClient, uid
from tests.support.widgets import send_form

# -- in memory -------------------------------------------------------------------------------------


def test_browser_pages_twenty_rows(fake: FakeClient) -> None:
    """A search shows rows 1-20 of n, Next and Prev move by 20, and the last page is short."""
    browser = OperationBrowser(fake)
    browser.search_button.click()
    assert browser.page_label.value == "rows 1-20 of 45"
    assert browser.prev_button.disabled
    browser.next_button.click()
    browser.next_button.click()
    assert browser.page_label.value == "rows 41-45 of 45"
    assert browser.next_button.disabled
    assert len(browser.picker.options) == 1 + 5
    assert browser.picker.value is None
    browser.prev_button.click()
    assert browser.page_label.value == "rows 21-40 of 45"


def test_browser_passes_only_the_set_filters(fake: FakeClient) -> None:
    """Unset filters are left out; dates become a UTC window that includes the last day."""
    browser = OperationBrowser(fake)
    browser.status.value = "failed"
    browser.connection.value = uid(1)
    browser.since.value = dt.date(2026, 10, 1)
    browser.until.value = dt.date(2026, 10, 2)
    browser.search_button.click()
    assert fake.list_calls[-1] == {
        "status": "failed",
        "connection_id": uid(1),
        "resource": "message",
        "since": dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        "until": dt.datetime(2026, 10, 3, tzinfo=dt.UTC),
        "progress": False,
    }
    assert browser.page_label.value == "rows 1-8 of 8"


def test_browser_row_pick_shows_logs_escaped(fake: FakeClient) -> None:
    """Picking a row shows that operation's log table with the TSP's details escaped."""
    browser = OperationBrowser(fake)
    browser.search_button.click()
    browser.picker.value = browser.picker.options[1][1]
    assert "TSP said &lt;b&gt;no&lt;/b&gt;" in browser.detail.value
    assert "<b>no</b>" not in browser.detail.value


def test_browser_lookup_errors_are_readable(fake: FakeClient) -> None:
    """A bad UUID is refused beside the field; an unknown id says so; a listed id needs no connection."""
    browser = OperationBrowser(fake)
    browser.op_id.value = "123"
    browser.lookup_button.click()
    assert "not a valid operation id" in browser.op_id_error.value
    browser.op_id.value = str(uuid.uuid4())
    browser.lookup_connection.value = uid(1)
    browser.lookup_button.click()
    assert "No operation with that id on that connection" in browser.detail.value
    browser.lookup_connection.value = None
    browser.op_id.value = fake.ops[4].id or ""
    assert browser.lookup() is None
    assert "pick the operation" in browser.op_id_error.value
    browser.search_button.click()
    op = browser.lookup()
    assert op is fake.ops[4]
    assert "text 4" in browser.detail.value


def test_browser_search_error_clears_the_old_page(fake: FakeClient) -> None:
    """A failed search shows its error and leaves no stale rows, page label or picker options behind."""
    browser = OperationBrowser(fake)
    browser.search_button.click()
    assert browser.picker.options

    def failing(**kwargs: Any) -> Any:
        raise ServerError(status_code=500, body='{"message": "Internal Server Error"}')

    fake.operations.list = failing
    browser.search_button.click()
    assert "The search failed" in browser.table.value
    assert "500 Internal Server Error" in browser.table.value
    assert browser.page_label.value == ""
    assert browser.picker.options == ()
    assert browser.results == []
    assert browser.prev_button.disabled
    assert browser.next_button.disabled
    assert not browser.search_button.disabled


# -- against the sandbox ---------------------------------------------------------------------------


def test_browser_lookup_shows_the_operations_logs(client: CatenaClient, sandbox: Sandbox) -> None:
    """Looking up a sent operation by id and connection shows it with one row per attempt."""
    form = send_form(client, sandbox)
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
    form = send_form(client, sandbox, connection=conn)
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
