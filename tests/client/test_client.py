"""The sync client against a scripted API: sends, lookups, listings, waits, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import string
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catena_nb.client import CatenaClient
from catena_nb.errors import (
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
)
from catena_nb.models import OperationStatus, ResourceOperation
from tests.support.client_mock import (
    BASE_URL,
    CONN,
    FAILED_OP,
    RECIPIENT,
    SENDER,
    SUCCESS_OP,
    MockAPI,
    body_of,
    op,
    page,
    row,
)


def make(api: MockAPI, **kw: Any) -> CatenaClient:
    return CatenaClient(base_url=BASE_URL, token="tok", transport=api.transport(), sleep=lambda s: None, **kw)


def test_sync_create_200_returns_the_successful_operation() -> None:
    """A sync send answered 200 returns the operation; the body is the validated request."""
    api = MockAPI()
    api.script = [httpx.Response(200, json=SUCCESS_OP)]
    with make(api) as client:
        got = client.messages.create(**row(priority="low"), sync=True)
    assert got.succeeded
    assert got.resource_id == SUCCESS_OP["resource_id"]
    request = api.requests[0]
    assert request.method == "POST"
    assert request.url.path == "/v2/telematics/messages"
    assert request.url.params["is_sync"] == "true"
    assert body_of(request) == {
        "connection_id": CONN,
        "sender_id": SENDER,
        "recipient_id": RECIPIENT,
        "message_text": "hi",
        "priority": "low",
    }


def test_async_create_202_returns_pending() -> None:
    """An async send answered 202 returns the pending operation."""
    api = MockAPI()
    api.script = [httpx.Response(202, json={**SUCCESS_OP, "status": "pending", "resource_id": None})]
    with make(api) as client:
        got = client.messages.create(**row())
    assert got.pending
    assert got.status is OperationStatus.PENDING
    assert api.requests[0].url.params["is_sync"] == "false"


def test_sync_create_502_returns_the_failed_operation() -> None:
    """A 502 whose body is an operation is a result: the failed operation is returned, not raised."""
    api = MockAPI()
    api.script = [httpx.Response(502, json=FAILED_OP)]
    with make(api) as client:
        got = client.messages.create(**row(), sync=True)
    assert got.failed
    assert got.last_error is not None
    assert got.last_error.error_type == "auth"


def test_502_without_an_operation_is_a_server_error() -> None:
    """A 502 whose body is not an operation raises ServerError with the raw body."""
    api = MockAPI()
    api.script = [httpx.Response(502, text="<html>Bad Gateway</html>", headers={"X-Request-ID": "r-502"})]
    with make(api) as client, pytest.raises(ServerError) as info:
        client.messages.create(**row(), sync=True)
    assert info.value.status_code == 502
    assert info.value.request_id == "r-502"
    assert info.value.body == "<html>Bad Gateway</html>"


def test_2xx_body_that_does_not_parse() -> None:
    """A 200 whose body is not an operation raises ResponseValidationError with the body attached."""
    api = MockAPI()
    api.script = [httpx.Response(200, json={"id": 1, "weird": True})]
    with make(api) as client, pytest.raises(ResponseValidationError) as info:
        client.messages.create(**row(), sync=True)
    assert '"weird"' in info.value.body


def test_error_statuses_carry_request_id_and_detail() -> None:
    """A 404 and a 422 raise their classes with the request id and the server's detail."""
    api = MockAPI()
    api.script = [
        httpx.Response(404, headers={"X-Request-ID": "abc"}, json={"code": 404, "message": "Not Found"}),
        httpx.Response(
            422,
            json={
                "code": 422,
                "message": "Invalid Request Body",
                "detail": [
                    {"path": "recipient_id", "input": "x", "message": "unknown user", "error_type": "v"}
                ],
            },
        ),
    ]
    with make(api) as client:
        with pytest.raises(NotFoundError) as nf:
            client.operations.get(FAILED_OP["id"], connection_id=CONN)
        with pytest.raises(ValidationError) as ve:
            client.messages.create(**row())
    assert nf.value.request_id == "abc"
    assert "(request id abc)" in str(nf.value)
    assert ve.value.field_errors[0]["field"] == "recipient_id"


def test_group_message_create() -> None:
    """A group message goes to its own path with its recipients list."""
    api = MockAPI()
    api.script = [httpx.Response(202, json={**SUCCESS_OP, "resource": "group_message", "status": "pending"})]
    with make(api) as client:
        got = client.group_messages.create(connection_id=CONN, sender_id=SENDER, recipient_ids=[RECIPIENT])
    assert got.resource == "group_message"
    assert api.requests[0].url.path == "/v2/telematics/group-messages"
    assert body_of(api.requests[0])["recipient_ids"] == [RECIPIENT]


def test_get_by_operation_or_by_ids() -> None:
    """`get(op)` uses the operation's own connection id; `get(id)` needs connection_id before any I/O."""
    api = MockAPI()
    api.handler = lambda r: httpx.Response(200, json=op("success", id=r.url.path.rsplit("/", 1)[1]))
    start = ResourceOperation.model_validate(FAILED_OP)
    with make(api) as client:
        got = client.operations.get(start)
        with pytest.raises(InvalidRequestError) as info:
            client.operations.get(FAILED_OP["id"])
        with pytest.raises(InvalidRequestError):
            client.operations.get("not-a-uuid", connection_id=CONN)
    assert got.id == FAILED_OP["id"]
    assert got.source_name == "samsara"
    assert api.requests[0].url.path == (
        f"/v2/integrations/connections/{CONN}/resource-operations/{FAILED_OP['id']}"
    )
    assert "connection_id" in str(info.value)
    assert len(api.requests) == 1


def _paged_handler(items: list[dict[str, Any]], seen: list[httpx.Request]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        size = int(request.url.params["size"])
        start = int(request.url.params.get("cursor", "0"))
        chunk = items[start : start + size]
        nxt = str(start + size) if start + size < len(items) else None
        return page(chunk, nxt)

    return handler


def test_listing_2500_operations_follows_three_pages() -> None:
    """2,500 operations with size=1000 come in three pages, following `next_page` as `cursor`."""
    items = [op("failed" if i % 5 == 0 else "success") for i in range(2500)]
    seen: list[httpx.Request] = []
    api = MockAPI()
    api.handler = _paged_handler(items, seen)
    with make(api) as client:
        listing = client.operations.list(connection_id=CONN, size=1000)
        assert seen == []  # lazy: nothing sent until iterated
        assert "Paginator" in repr(listing)
        assert seen == []
        got = list(listing)
    assert len(got) == 2500
    assert [o.id for o in got] == [o["id"] for o in items]
    assert len(seen) == 3
    assert [r.url.params.get("cursor") for r in seen] == [None, "1000", "2000"]


def test_status_filter_is_client_side() -> None:
    """`status="failed"` keeps only failed operations and sends no status parameter."""
    items = [op("failed" if i % 3 == 0 else "success") for i in range(30)]
    seen: list[httpx.Request] = []
    api = MockAPI()
    api.handler = _paged_handler(items, seen)
    with make(api) as client:
        got = client.operations.list(status="failed", size=7).to_list()
    assert len(got) == 10
    assert all(o.failed for o in got)
    assert all("status" not in r.url.params for r in seen)


def test_filters_are_sent_as_documented() -> None:
    """Every filter goes out under its documented name; list filters repeat the key."""
    seen: list[httpx.Request] = []
    api = MockAPI()
    api.handler = _paged_handler([], seen)
    with make(api) as client:
        client.operations.list(
            resource="message",
            connection_id=CONN,
            source_name="samsara",
            fleet_refs=["F1", "F2"],
            operation="create",
            source_id="123",
            since=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
            until="2026-10-08T12:00:00Z",
            size=500,
        ).to_list()
    params = seen[0].url.params
    assert params["resource"] == "message"
    assert params["connection_id"] == CONN
    assert params["source_name"] == "samsara"
    assert params.get_list("fleet_refs") == ["F1", "F2"]
    assert params["operation"] == "create"
    assert params["source_id"] == "123"
    assert params["size"] == "500"
    assert params["from_datetime"] == "2026-10-01T00:00:00.000000Z"
    assert params["to_datetime"] == "2026-10-08T12:00:00.000000Z"


def test_90_day_window_is_split_in_two() -> None:
    """A 90-day since/until goes out as two consecutive windows of at most 45 days."""
    seen: list[httpx.Request] = []
    api = MockAPI()
    api.handler = _paged_handler([op()], seen)
    since = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    with make(api) as client:
        got = client.operations.list(since=since, until=since + dt.timedelta(days=90)).to_list()
    assert len(seen) == 2
    assert len(got) == 2
    windows = [
        (
            dt.datetime.fromisoformat(r.url.params["from_datetime"]),
            dt.datetime.fromisoformat(r.url.params["to_datetime"]),
        )
        for r in seen
    ]
    assert windows[0][0] == since
    assert windows[-1][1] == since + dt.timedelta(days=90)
    assert windows[0][1] == windows[1][0]
    assert all(end - start <= dt.timedelta(days=45) for start, end in windows)


def test_bad_listing_arguments_raise_before_io() -> None:
    """Bad listing arguments raise one InvalidRequestError naming each, with nothing sent."""
    api = MockAPI()
    with make(api) as client, pytest.raises(InvalidRequestError) as info:
        client.operations.list(
            source_id="1",
            connection_id="nope",
            operation="delete",
            size=5000,
            since="2026-10-02",
            until="2026-10-01",
        )
    assert set(info.value.fields) == {"source_id", "connection_id", "operation", "size", "until"}
    assert api.requests == []


def test_pages_expose_raw_content() -> None:
    """`.pages()` yields pages with the raw bytes, the raw items and the parsed items."""
    items = [op() for _ in range(5)]
    api = MockAPI()
    api.handler = _paged_handler(items, [])
    with make(api) as client:
        pages = list(client.operations.list(size=2).pages())
    assert len(pages) == 3
    assert json.loads(pages[0].content)["items"][0]["id"] == items[0]["id"]
    assert pages[0].raw_items[1]["id"] == items[1]["id"]
    assert pages[-1].next_page is None
    assert isinstance(pages[0].items[0], ResourceOperation)


def test_messages_users_connections_listings() -> None:
    """The messages, users and connections listings hit their paths with their filters."""
    seen: list[httpx.Request] = []
    api = MockAPI()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/messages"):
            return page([{"id": "m", "status": "delivered"}, {"id": "n", "status": "read"}])
        return page([{"id": "x", "source_name": "samsara"}])

    api.handler = handler
    with make(api) as client:
        msgs = client.messages.list(connection_id=CONN, sender_ids=[SENDER], status="read").to_list()
        users = client.users.list(connection_id=CONN, is_driver=True).to_list()
        conns = client.connections.list().to_list()
    assert [m.id for m in msgs] == ["n"]
    assert seen[0].url.params.get_list("sender_ids") == [SENDER]
    assert seen[1].url.path == "/v2/telematics/users"
    assert seen[1].url.params["is_driver"] == "true"
    assert seen[2].url.path == "/v2/integrations/connections"
    assert users[0].id == "x"
    assert conns[0].source_name == "samsara"


def test_wait_polls_until_settled_in_input_order() -> None:
    """`wait` polls the pending ones with a growing interval and returns the final ones in input order."""
    ops = [op("pending") for _ in range(3)] + [op("success")]
    polls: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        op_id = request.url.path.rsplit("/", 1)[1]
        polls[op_id] = polls.get(op_id, 0) + 1
        status = "pending" if polls[op_id] < 3 else ("failed" if op_id == ops[1]["id"] else "success")
        return httpx.Response(200, json=op(status, id=op_id))

    api = MockAPI()
    api.handler = handler
    slept: list[float] = []
    with CatenaClient(base_url=BASE_URL, token="t", transport=api.transport(), sleep=slept.append) as client:
        start = [ResourceOperation.model_validate(o) for o in ops]
        final = client.operations.wait(start, timeout=60, poll_interval=1.0)
    assert [o.id for o in final] == [o["id"] for o in ops]
    assert [str(o.status) for o in final] == ["success", "failed", "success", "success"]
    assert ops[3]["id"] not in polls  # already settled: never polled
    assert slept == [1.0, 1.5, 2.25]


def test_wait_times_out_listing_pending() -> None:
    """`wait` raises WaitTimeoutError naming the operations still pending."""
    api = MockAPI()
    api.handler = lambda r: httpx.Response(200, json=op("pending", id=r.url.path.rsplit("/", 1)[1]))
    with make(api) as client, pytest.raises(WaitTimeoutError) as info:
        client.operations.wait([ResourceOperation.model_validate(op("pending"))], timeout=5, poll_interval=1)
    assert len(info.value.pending) == 1
    assert isinstance(info.value, TimeoutError)


def test_sync_client_inside_a_running_event_loop() -> None:
    """The sync client works from a coroutine, as in a notebook cell whose loop is running."""
    api = MockAPI()
    api.handler = lambda r: httpx.Response(200, json=SUCCESS_OP) if r.method == "POST" else page([op()])

    async def cell() -> tuple[ResourceOperation, int]:
        with make(api) as client:
            sent = client.messages.create(**row(), sync=True)
            batch = client.messages.create_many([row()] * 5, concurrency=2, progress=False)
            return sent, len(batch.operations) + len(client.operations.list().to_list())

    sent, n = asyncio.run(cell())
    assert sent.succeeded
    assert n == 6


_uuid_like = st.uuids().map(str)
_bad_values = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(alphabet=string.ascii_letters + string.digits + "-", max_size=40),
    st.lists(st.integers(), max_size=2),
)


@st.composite
def malformed_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Message requests with at least one bad field (bad UUID, unknown priority, wrong text type, unknown)."""
    fields: dict[str, Any] = {
        "connection_id": draw(_uuid_like),
        "sender_id": draw(_uuid_like),
        "recipient_id": draw(_uuid_like),
    }
    broken = draw(
        st.sampled_from(["connection_id", "sender_id", "recipient_id", "priority", "message_text", "extra"])
    )
    if broken in ("connection_id", "sender_id", "recipient_id"):
        fields[broken] = draw(_bad_values)
    elif broken == "priority":
        fields["priority"] = draw(
            st.one_of(st.integers(), st.text(max_size=10)).filter(
                lambda v: v not in ("low", "medium", "high")
            )
        )
    elif broken == "message_text":
        fields["message_text"] = draw(
            st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2), st.booleans())
        )
    else:
        fields[
            draw(
                st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=10).filter(
                    lambda k: k not in fields
                )
            )
        ] = 1
    return fields


_FIELDS = ("connection_id", "sender_id", "recipient_id", "priority", "message_text")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=malformed_requests())
def test_malformed_requests_never_reach_the_server(fields: dict[str, Any]) -> None:
    """200 malformed requests raise InvalidRequestError (or become invalid rows); none reaches the server."""
    api = MockAPI()
    with make(api) as client:
        if set(fields) <= set(_FIELDS):
            with pytest.raises(InvalidRequestError):
                client.messages.create(**fields, sync=True)
        batch = client.messages.create_many([fields], progress=False)
        assert batch.counts["invalid"] == 1
        assert batch.sent == 0
    assert api.requests == []


def test_rate_limit_error_keeps_response_headers() -> None:
    """A refused create's error keeps the response headers (rate-limit hints) and the server's wait."""
    api = MockAPI()
    api.script = [
        httpx.Response(
            429,
            headers={"X-RateLimit-Remaining": "0", "Retry-After": "4", "X-Request-ID": "r1"},
            json={"code": 429, "message": "Too Many Requests"},
        )
    ]
    with make(api) as client, pytest.raises(RateLimitError) as info:
        client.messages.create(**row())
    assert info.value.retry_after == 4.0
    assert info.value.headers["x-ratelimit-remaining"] == "0"
    assert info.value.request_id == "r1"
