"""The widgets driven headlessly against a small in-memory client (no server): wiring and rendering only."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from catena_nb.errors import APIConnectionError, NotFoundError, ServerError, ValidationError
from catena_nb.frames import logs_frame, operations_frame
from catena_nb.models import Connection, MessageCreate, ResourceOperation, User
from catena_nb.notebook import OperationBrowser, ReliabilityDashboard, SendMessageForm

T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


def _uid(n: int) -> str:
    return str(uuid.UUID(int=n))


class FakeClient:
    """Just enough of CatenaClient: two connections with two users each; records every call."""

    def __init__(self, n_ops: int = 45) -> None:
        self.conns = [
            Connection(id=_uid(1), source_name="samsara", description="North fleet"),
            Connection(id=_uid(2), source_name="motive", description="South fleet"),
        ]
        self.user_records = {
            _uid(1): [
                User(id=_uid(11), first_name="Ana", last_name="Ruiz", is_driver=True),
                User(id=_uid(12), first_name="Bo", last_name="Lind", is_driver=False),
            ],
            _uid(2): [
                User(id=_uid(21), first_name="Cy", last_name="Ode", is_driver=True),
                User(id=_uid(22), first_name="Di", last_name="Ma", is_driver=False),
            ],
        }
        self.creates: list[dict[str, Any]] = []
        self.list_calls: list[dict[str, Any]] = []
        self.ops = [self._op(i) for i in range(n_ops)]
        self.connections = SimpleNamespace(list=lambda: list(self.conns))
        self.users = SimpleNamespace(list=lambda connection_id: list(self.user_records[connection_id]))
        self.messages = SimpleNamespace(create=self._create)
        self.operations = SimpleNamespace(get=self._get, list=self._list)
        self.fail_next: Exception | None = None

    def _op(self, i: int) -> ResourceOperation:
        failed = i % 3 == 0
        log = {
            "id": _uid(1000 + i),
            "created_at": T0 + dt.timedelta(hours=2 * i),
            "status": "failed" if failed else "success",
            "error_type": "tsp" if failed else None,
            "error_details": "TSP said <b>no</b>" if failed else None,
            "response_status_code": 400 if failed else 200,
        }
        return ResourceOperation.model_validate(
            {
                "id": _uid(500 + i),
                "created_at": T0 + dt.timedelta(hours=2 * i),
                "updated_at": T0 + dt.timedelta(hours=2 * i, seconds=2),
                "connection_id": self.conns[i % 2].id,
                "source_name": self.conns[i % 2].source_name,
                "resource": "message",
                "operation_type": "create",
                "payload": {"message_text": f"text {i}"},
                "status": "failed" if failed else "success",
                "logs": [log],
            }
        )

    def _create(self, *, sync: bool, **fields: Any) -> ResourceOperation:
        body = MessageCreate.build(**fields)  # the real client validates before any I/O, like this
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        self.creates.append(body.to_json())
        text = body.message_text or ""
        failed = "fail" in text
        status = "failed" if failed else ("success" if sync else "pending")
        logs = []
        if sync:
            logs = [
                {
                    "id": _uid(9000 + len(self.creates)),
                    "created_at": T0,
                    "status": status,
                    "error_type": "validation" if failed else None,
                    "error_details": f"text rejected: {text}" if failed else None,
                    "response_status_code": 422 if failed else 200,
                }
            ]
        return ResourceOperation.model_validate(
            {
                "id": _uid(8000 + len(self.creates)),
                "connection_id": body.connection_id,
                "resource": "message",
                "operation_type": "create",
                "payload": body.to_json(),
                "status": status,
                "logs": logs,
            }
        )

    def _get(self, op_id: str, *, connection_id: str) -> ResourceOperation:
        for op in self.ops:
            if op.id == op_id and op.connection_id == connection_id:
                return op
        raise NotFoundError(status_code=404, body='{"code": 404, "message": "Not Found", "detail": null}')

    def _list(self, **kwargs: Any) -> list[ResourceOperation]:
        self.list_calls.append(kwargs)
        ops = self.ops
        if "status" in kwargs:
            ops = [op for op in ops if op.status == kwargs["status"]]
        if "connection_id" in kwargs:
            ops = [op for op in ops if op.connection_id == kwargs["connection_id"]]
        return ops


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


def test_form_fills_pickers_from_the_client(client: FakeClient) -> None:
    """The connection dropdown lists `tsp · fleet` labels; sender and recipient follow the connection."""
    form = SendMessageForm(client)
    assert form.connection.options == (("motive · South fleet", _uid(2)), ("samsara · North fleet", _uid(1)))
    assert form.recipient.options[0] == ("Cy Ode (driver)", _uid(21))
    assert form.sender.options[0] == ("Di Ma (dispatcher)", _uid(22))
    form.connection.value = _uid(1)
    assert {v for _, v in form.recipient.options} == {_uid(11), _uid(12)}
    assert form.recipient.value == _uid(11)


def test_form_repr_is_short_and_stable(client: FakeClient) -> None:
    """The repr names the number of connections only: no ids, options or tokens."""
    assert repr(SendMessageForm(client)) == "SendMessageForm(connections=2)"
    assert repr(OperationBrowser(client)) == "OperationBrowser(connections=2)"
    bundle = SendMessageForm(client)._repr_mimebundle_()
    assert bundle["text/plain"] == "SendMessageForm(connections=2)"


def test_form_sends_what_the_pickers_show(client: FakeClient) -> None:
    """Send passes the picked ids, text, priority and mode to `messages.create` and shows the success."""
    form = SendMessageForm(client)
    form.message_text.value = "Delivery confirmed"
    form.priority.value = "high"
    form.send_button.click()
    assert client.creates == [
        {
            "connection_id": _uid(2),
            "sender_id": _uid(22),
            "recipient_id": _uid(21),
            "message_text": "Delivery confirmed",
            "priority": "high",
        }
    ]
    assert form.last_operation.status == "success"
    assert "Sent" in form.result.value
    assert "success" in form.result.value
    assert not form.send_button.disabled


def test_pasted_bad_uuid_sends_nothing(client: FakeClient) -> None:
    """A malformed pasted id is flagged under its field and no create is attempted."""
    form = SendMessageForm(client)
    form.recipient_id.value = "not-a-uuid"
    form.send_button.click()
    assert client.creates == []
    assert "not a valid user id" in form.field_errors["recipient_id"].value
    assert "Nothing was sent" in form.result.value
    assert form.last_operation is None


def test_a_field_error_goes_when_the_field_changes(client: FakeClient) -> None:
    """Fixing the pasted id clears its complaint at once; the other fields keep theirs."""
    form = SendMessageForm(client)
    form.recipient_id.value = "not-a-uuid"
    form.send_button.click()
    assert form.field_errors["recipient_id"].value
    form.recipient_id.value = ""
    assert form.field_errors["recipient_id"].value == ""


def test_pasted_id_overrides_the_dropdown(client: FakeClient) -> None:
    """A well-formed pasted id is sent instead of the dropdown's choice."""
    form = SendMessageForm(client)
    pasted = str(uuid.uuid4())
    form.sender_id.value = f"  {pasted.upper()} "
    form.send_button.click()
    assert client.creates[0]["sender_id"] == pasted


def test_client_validation_errors_land_beside_their_field(client: FakeClient) -> None:
    """An `InvalidRequestError` from the client is shown under the field it names."""
    form = SendMessageForm(client)
    client.user_records["xyz"] = client.user_records[_uid(1)]
    form.connection.options = [("broken", "xyz")]
    assert form.connection.value == "xyz"
    form.send_button.click()
    assert client.creates == []
    assert "UUID" in form.field_errors["connection_id"].value
    assert "nothing was sent" in form.result.value.lower()


def test_failed_operation_shows_the_tsp_error_escaped(client: FakeClient) -> None:
    """A returned failed operation shows error_type, status code and details, with the text escaped."""
    form = SendMessageForm(client)
    form.message_text.value = "<script>alert(1)</script> fail"
    form.send_button.click()
    value = form.result.value
    assert form.last_operation.status == "failed"
    assert "Failed at the TSP" in value
    assert "<code>validation</code>" in value
    assert "<code>422</code>" in value
    assert "<script>" not in value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in value


def test_api_error_is_shown_as_an_error_box(client: FakeClient) -> None:
    """An API error raised by the client shows its message and re-enables the Send button."""
    form = SendMessageForm(client)
    client.fail_next = ServerError(status_code=503, body='{"message": "Service Unavailable"}')
    form.send_button.click()
    assert "503 Service Unavailable" in form.result.value
    assert "ServerError" in form.result.value
    assert not form.send_button.disabled
    assert isinstance(form.last_error, ServerError)


def test_button_disabled_while_sending(client: FakeClient) -> None:
    """The Send button is disabled for the duration of the create call."""
    form = SendMessageForm(client)
    seen: list[bool] = []
    create = client.messages.create

    def watching(**kwargs: Any) -> Any:
        seen.append(form.send_button.disabled)
        return create(**kwargs)

    client.messages.create = watching
    form.send_button.click()
    assert seen == [True]
    assert not form.send_button.disabled


def test_browser_pages_twenty_rows(client: FakeClient) -> None:
    """A search shows rows 1-20 of n, Next and Prev move by 20, and the last page is short."""
    browser = OperationBrowser(client)
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


def test_browser_passes_only_the_set_filters(client: FakeClient) -> None:
    """Unset filters are left out; dates become a UTC window that includes the last day."""
    browser = OperationBrowser(client)
    browser.status.value = "failed"
    browser.connection.value = _uid(1)
    browser.since.value = dt.date(2026, 10, 1)
    browser.until.value = dt.date(2026, 10, 2)
    browser.search_button.click()
    assert client.list_calls[-1] == {
        "status": "failed",
        "connection_id": _uid(1),
        "resource": "message",
        "since": dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        "until": dt.datetime(2026, 10, 3, tzinfo=dt.UTC),
        "progress": False,
    }
    assert browser.page_label.value == "rows 1-8 of 8"


def test_browser_row_pick_shows_logs_escaped(client: FakeClient) -> None:
    """Picking a row shows that operation's log table with the TSP's details escaped."""
    browser = OperationBrowser(client)
    browser.search_button.click()
    browser.picker.value = browser.picker.options[1][1]
    assert "TSP said &lt;b&gt;no&lt;/b&gt;" in browser.detail.value
    assert "<b>no</b>" not in browser.detail.value


def test_browser_lookup_errors_are_readable(client: FakeClient) -> None:
    """A bad UUID is refused beside the field; an unknown id says so; a listed id needs no connection."""
    browser = OperationBrowser(client)
    browser.op_id.value = "123"
    browser.lookup_button.click()
    assert "not a valid operation id" in browser.op_id_error.value
    browser.op_id.value = str(uuid.uuid4())
    browser.lookup_connection.value = _uid(1)
    browser.lookup_button.click()
    assert "No operation with that id on that connection" in browser.detail.value
    browser.lookup_connection.value = None
    browser.op_id.value = client.ops[4].id or ""
    assert browser.lookup() is None
    assert "pick the operation" in browser.op_id_error.value
    browser.search_button.click()
    op = browser.lookup()
    assert op is client.ops[4]
    assert "text 4" in browser.detail.value


def test_dashboard_groups_by_day_and_filters_dates(client: FakeClient) -> None:
    """Grouping by day lists one row per UTC day; a date range and a connection narrow the rows."""
    ops_df, logs_df = operations_frame(client.ops), logs_frame(client.ops)
    dash = ReliabilityDashboard(ops_df, logs_df)
    assert (dash.since.value, dash.until.value) == (dt.date(2026, 10, 1), dt.date(2026, 10, 5))
    dash.group_by.value = "day"
    for day in ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05"):
        assert f"<td>{day}</td>" in dash.rates.value
    dash.set_filters(since=dt.date(2026, 10, 2), until=dt.date(2026, 10, 2))
    assert "<td>2026-10-01</td>" not in dash.rates.value
    assert "<td>2026-10-02</td>" in dash.rates.value
    assert dash.summary.value.startswith(f"12 of {len(ops_df)}")
    dash.connection.value = _uid(1)
    assert dash.summary.value.startswith(f"6 of {len(ops_df)}")
    assert len(dash.filtered()) == 6


def test_dashboard_escapes_values_from_the_api(client: FakeClient) -> None:
    """An error type carrying markup shows as text in the rates and error tables."""
    ops_df, logs_df = operations_frame(client.ops), logs_frame(client.ops)
    ops_df["error_type"] = ops_df["error_type"].cat.rename_categories({"tsp": "<img src=x onerror=alert(1)>"})
    dash = ReliabilityDashboard(ops_df, logs_df)
    dash.set_filters(group_by="error_type")
    for pane in (dash.rates, dash.errors):
        assert "<img src=x" not in pane.value
        assert "&lt;img src=x onerror=alert(1)&gt;" in pane.value


def test_dashboard_set_filters_refuses_unknown_names(client: FakeClient) -> None:
    """`set_filters` names the valid filters when given an unknown one."""
    dash = ReliabilityDashboard(operations_frame(client.ops[:6]), logs_frame(client.ops[:6]))
    with pytest.raises(TypeError, match="group_by"):
        dash.set_filters(colour="red")


def test_dropped_connection_warns_the_message_may_exist(client: FakeClient) -> None:
    """A connection dropped after sending says the message may have been created, not that it was not sent."""
    form = SendMessageForm(client)
    client.fail_next = APIConnectionError("connection reset by peer", maybe_sent=True)
    form.send_button.click()
    assert "may have been created" in form.result.value
    client.fail_next = APIConnectionError("connection refused", maybe_sent=False)
    form.send_button.click()
    assert "The message was not sent" in form.result.value


def test_server_422_marks_the_fields_it_names(client: FakeClient) -> None:
    """The API's own 422 lands beside the field its detail names, and says the API refused it."""
    form = SendMessageForm(client)
    body = (
        '{"code": 422, "message": "Invalid Request Body", "detail": [{"path": "message_text", '
        '"input": "x", "message": "too long", "error_type": "value_error"}]}'
    )
    client.fail_next = ValidationError(status_code=422, body=body)
    form.send_button.click()
    assert "too long" in form.field_errors["message_text"].value
    assert "The API refused the request" in form.result.value


def test_browser_search_error_clears_the_old_page(client: FakeClient) -> None:
    """A failed search shows its error and leaves no stale rows, page label or picker options behind."""
    browser = OperationBrowser(client)
    browser.search_button.click()
    assert browser.picker.options

    def failing(**kwargs: Any) -> Any:
        raise ServerError(status_code=500, body='{"message": "Internal Server Error"}')

    client.operations.list = failing
    browser.search_button.click()
    assert "The search failed" in browser.table.value
    assert "500 Internal Server Error" in browser.table.value
    assert browser.page_label.value == ""
    assert browser.picker.options == ()
    assert browser.results == []
    assert browser.prev_button.disabled
    assert browser.next_button.disabled
    assert not browser.search_button.disabled
