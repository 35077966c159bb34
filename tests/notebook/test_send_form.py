"""SendMessageForm: pickers from the client, one create per click, every outcome shown and escaped."""

from __future__ import annotations

import html
import uuid
from typing import Any

from catena_nb.client import CatenaClient
from catena_nb.errors import APIConnectionError, ServerError, ValidationError
from catena_nb.notebook import OperationBrowser, SendMessageForm
from catena_nb.sandbox import Sandbox
from tests.support.fake_client import FakeClient, uid
from tests.support.widgets import SCRIPT, creates, send_form

# -- in memory -------------------------------------------------------------------------------------


def test_form_fills_pickers_from_the_client(fake: FakeClient) -> None:
    """The connection dropdown lists `tsp · fleet` labels; sender and recipient follow the connection."""
    form = SendMessageForm(fake)
    assert form.connection.options == (("motive · South fleet", uid(2)), ("samsara · North fleet", uid(1)))
    assert form.recipient.options[0] == ("Cy Ode (driver)", uid(21))
    assert form.sender.options[0] == ("Di Ma (dispatcher)", uid(22))
    form.connection.value = uid(1)
    assert {v for _, v in form.recipient.options} == {uid(11), uid(12)}
    assert form.recipient.value == uid(11)


def test_form_repr_is_short_and_stable(fake: FakeClient) -> None:
    """The repr names the number of connections only: no ids, options or tokens."""
    assert repr(SendMessageForm(fake)) == "SendMessageForm(connections=2)"
    assert repr(OperationBrowser(fake)) == "OperationBrowser(connections=2)"
    bundle = SendMessageForm(fake)._repr_mimebundle_()
    assert bundle["text/plain"] == "SendMessageForm(connections=2)"


def test_form_sends_what_the_pickers_show(fake: FakeClient) -> None:
    """Send passes the picked ids, text, priority and mode to `messages.create` and shows the success."""
    form = SendMessageForm(fake)
    form.message_text.value = "Delivery confirmed"
    form.priority.value = "high"
    form.send_button.click()
    assert fake.creates == [
        {
            "connection_id": uid(2),
            "sender_id": uid(22),
            "recipient_id": uid(21),
            "message_text": "Delivery confirmed",
            "priority": "high",
        }
    ]
    assert form.last_operation.status == "success"
    assert "Sent" in form.result.value
    assert "success" in form.result.value
    assert not form.send_button.disabled


def test_pasted_bad_uuid_sends_nothing(fake: FakeClient) -> None:
    """A malformed pasted id is flagged under its field and no create is attempted."""
    form = SendMessageForm(fake)
    form.recipient_id.value = "not-a-uuid"
    form.send_button.click()
    assert fake.creates == []
    assert "not a valid user id" in form.field_errors["recipient_id"].value
    assert "Nothing was sent" in form.result.value
    assert form.last_operation is None


def test_a_field_error_goes_when_the_field_changes(fake: FakeClient) -> None:
    """Fixing the pasted id clears its complaint at once; the other fields keep theirs."""
    form = SendMessageForm(fake)
    form.recipient_id.value = "not-a-uuid"
    form.send_button.click()
    assert form.field_errors["recipient_id"].value
    form.recipient_id.value = ""
    assert form.field_errors["recipient_id"].value == ""


def test_pasted_id_overrides_the_dropdown(fake: FakeClient) -> None:
    """A well-formed pasted id is sent instead of the dropdown's choice."""
    form = SendMessageForm(fake)
    pasted = str(uuid.uuid4())
    form.sender_id.value = f"  {pasted.upper()} "
    form.send_button.click()
    assert fake.creates[0]["sender_id"] == pasted


def test_client_validation_errors_land_beside_their_field(fake: FakeClient) -> None:
    """An `InvalidRequestError` from the fake is shown under the field it names."""
    form = SendMessageForm(fake)
    fake.user_records["xyz"] = fake.user_records[uid(1)]
    form.connection.options = [("broken", "xyz")]
    assert form.connection.value == "xyz"
    form.send_button.click()
    assert fake.creates == []
    assert "UUID" in form.field_errors["connection_id"].value
    assert "nothing was sent" in form.result.value.lower()


def test_failed_operation_shows_the_tsp_error_escaped(fake: FakeClient) -> None:
    """A returned failed operation shows error_type, status code and details, with the text escaped."""
    form = SendMessageForm(fake)
    form.message_text.value = "<script>alert(1)</script> fail"
    form.send_button.click()
    value = form.result.value
    assert form.last_operation.status == "failed"
    assert "Failed at the TSP" in value
    assert "<code>validation</code>" in value
    assert "<code>422</code>" in value
    assert "<script>" not in value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in value


def test_api_error_is_shown_as_an_error_box(fake: FakeClient) -> None:
    """An API error raised by the fake shows its message and re-enables the Send button."""
    form = SendMessageForm(fake)
    fake.fail_next = ServerError(status_code=503, body='{"message": "Service Unavailable"}')
    form.send_button.click()
    assert "503 Service Unavailable" in form.result.value
    assert "ServerError" in form.result.value
    assert not form.send_button.disabled
    assert isinstance(form.last_error, ServerError)


def test_button_disabled_while_sending(fake: FakeClient) -> None:
    """The Send button is disabled for the duration of the create call."""
    form = SendMessageForm(fake)
    seen: list[bool] = []
    create = fake.messages.create

    def watching(**kwargs: Any) -> Any:
        seen.append(form.send_button.disabled)
        return create(**kwargs)

    fake.messages.create = watching
    form.send_button.click()
    assert seen == [True]
    assert not form.send_button.disabled


def test_dropped_connection_warns_the_message_may_exist(fake: FakeClient) -> None:
    """A connection dropped after sending says the message may have been created, not that it was not sent."""
    form = SendMessageForm(fake)
    fake.fail_next = APIConnectionError("connection reset by peer", maybe_sent=True)
    form.send_button.click()
    assert "may have been created" in form.result.value
    fake.fail_next = APIConnectionError("connection refused", maybe_sent=False)
    form.send_button.click()
    assert "The message was not sent" in form.result.value


def test_server_422_marks_the_fields_it_names(fake: FakeClient) -> None:
    """The API's own 422 lands beside the field its detail names, and says the API refused it."""
    form = SendMessageForm(fake)
    body = (
        '{"code": 422, "message": "Invalid Request Body", "detail": [{"path": "message_text", '
        '"input": "x", "message": "too long", "error_type": "value_error"}]}'
    )
    fake.fail_next = ValidationError(status_code=422, body=body)
    form.send_button.click()
    assert "too long" in form.field_errors["message_text"].value
    assert "The API refused the request" in form.result.value


# -- against the sandbox ---------------------------------------------------------------------------


def test_form_lists_the_sandbox_connections_and_users(client: CatenaClient, sandbox: Sandbox) -> None:
    """The pickers hold every seeded connection, labelled by TSP, and that connection's users."""
    form = send_form(client, sandbox)
    assert {v for _, v in form.connection.options} == {c.id for c in sandbox.connections}
    label = {v: k for k, v in form.connection.options}[sandbox.connections[0].id]
    assert label.startswith(f"{sandbox.connections[0].source_name} · ")
    assert {v for _, v in form.recipient.options} == set(sandbox.connections[0].users)
    assert repr(form) == f"SendMessageForm(connections={len(sandbox.connections)})"


def test_sync_send_reaches_the_sandbox_and_shows_the_operation(
    client: CatenaClient, sandbox: Sandbox
) -> None:
    """One click makes one create request; the result shows the operation's badge and its log."""
    form = send_form(client, sandbox)
    form.message_text.value = "Delivery confirmed"
    before = creates(sandbox)
    form.send_button.click()
    assert creates(sandbox) == before + 1
    op = form.last_operation
    assert op is not None
    assert op.status in ("success", "failed")
    assert op.id in form.result.value
    assert f">{op.status}</span>" in form.result.value
    assert "attempt" in form.result.value
    assert not form.send_button.disabled


def test_bad_uuid_sends_nothing(client: CatenaClient, sandbox: Sandbox) -> None:
    """A malformed pasted recipient id is refused beside its field and no create reaches the server."""
    form = send_form(client, sandbox)
    form.recipient_id.value = "1234-not-a-uuid"
    form.message_text.value = "hello"
    before = creates(sandbox)
    form.send_button.click()
    assert creates(sandbox) == before
    assert "not a valid user id" in form.field_errors["recipient_id"].value
    assert "Nothing was sent" in form.result.value
    assert form.last_operation is None


def test_a_connection_whose_tsp_takes_no_messages_is_warned_before_sending(
    client: CatenaClient, sandbox: Sandbox
) -> None:
    """Picking a connection whose TSP does not take message writes shows a warning under it, before any
    send; Send still sends, and the failed operation shows; another connection clears the warning."""
    bad = next(c for c in sandbox.connections if c not in sandbox.message_connections)
    form = send_form(client, sandbox, connection=bad)
    warning = form.tsp_warning.value
    assert 'role="alert"' in warning
    assert bad.id in warning
    assert "message writes not_supported" in warning
    assert form.tsp_warning in form.children
    before = creates(sandbox)
    op = form.send()
    assert creates(sandbox) == before + 1
    assert op is not None
    assert op.status == "failed"
    assert "does not support message writes" in html.unescape(form.result.value)
    form.connection.value = sandbox.message_connections[0].id
    assert form.tsp_warning.value == ""


def test_a_502_shows_the_tsps_error(client: CatenaClient, sandbox: Sandbox) -> None:
    """A sync send the TSP refuses (text over its limit) shows its error_type, status code and details."""
    form = send_form(client, sandbox)
    form.message_text.value = "Load 4 at dock 4. " * 300  # 5,400 characters: over every TSP's limit
    before = creates(sandbox)
    failed = form.send()
    assert creates(sandbox) == before + 1
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


def test_message_text_is_escaped_everywhere(client: CatenaClient, sandbox: Sandbox) -> None:
    """A `<script>` message text shows as text in the form's result and in the browser's table and detail."""
    form = send_form(client, sandbox)
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
    form = send_form(client, sandbox)
    form.sync.value = False
    form.message_text.value = "Async hello"
    op = form.send()
    assert op is not None
    assert op.status == "pending"
    assert "Queued" in form.result.value
    assert "pending</span>" in form.result.value
