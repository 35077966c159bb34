"""`client.operations`, sync and async, against a scripted API: lookups, listing filters, waits."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from catena_nb.errors import InvalidRequestError, WaitTimeoutError
from catena_nb.models import ResourceOperation
from tests.client.conftest import MakeDriver
from tests.support.client_mock import CONN, FAILED_OP, MockAPI, op, page, paged_handler


def test_get_by_operation_or_by_ids(drive: MakeDriver) -> None:
    """`get(op)` uses the operation's own connection id; `get(id)` needs connection_id before any I/O."""
    api = MockAPI()
    api.handler = lambda r: httpx.Response(200, json=op("success", id=r.url.path.rsplit("/", 1)[1]))
    start = ResourceOperation.model_validate(FAILED_OP)
    d = drive(api)
    got = d(lambda c: c.operations.get(start))
    with pytest.raises(InvalidRequestError) as info:
        d(lambda c: c.operations.get(FAILED_OP["id"]))
    with pytest.raises(InvalidRequestError):
        d(lambda c: c.operations.get("not-a-uuid", connection_id=CONN))
    assert got.id == FAILED_OP["id"]
    assert got.source_name == "samsara"
    assert api.requests[0].url.path == (
        f"/v2/integrations/connections/{CONN}/resource-operations/{FAILED_OP['id']}"
    )
    assert "connection_id" in str(info.value)
    assert len(api.requests) == 1


def test_status_filter_is_client_side(drive: MakeDriver) -> None:
    """`status="failed"` keeps only failed operations and sends no status parameter."""
    items = [op("failed" if i % 3 == 0 else "success") for i in range(30)]
    seen: list[httpx.Request] = []
    api = MockAPI()
    api.handler = paged_handler(items, seen)
    got = drive(api)(lambda c: c.operations.list(status="failed", size=7).to_list())
    assert len(got) == 10
    assert all(o.failed for o in got)
    assert all("status" not in r.url.params for r in seen)


def test_filters_are_sent_as_documented(drive: MakeDriver) -> None:
    """Every filter goes out under its documented name; list filters repeat the key."""
    seen: list[httpx.Request] = []
    api = MockAPI()
    api.handler = paged_handler([], seen)
    drive(api)(
        lambda c: c.operations.list(
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
    )
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


def test_bad_listing_arguments_raise_before_io(drive: MakeDriver) -> None:
    """Bad listing arguments raise one InvalidRequestError naming each, with nothing sent."""
    api = MockAPI()
    with pytest.raises(InvalidRequestError) as info:
        drive(api)(
            lambda c: c.operations.list(
                source_id="1",
                connection_id="nope",
                operation="delete",
                size=5000,
                since="2026-10-02",
                until="2026-10-01",
            )
        )
    assert set(info.value.fields) == {"source_id", "connection_id", "operation", "size", "until"}
    assert api.requests == []


def test_wait_polls_until_settled_in_input_order(drive: MakeDriver) -> None:
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
    d = drive(api)
    start = [ResourceOperation.model_validate(o) for o in ops]
    final = d(lambda c: c.operations.wait(start, timeout=60, poll_interval=1.0))
    assert [o.id for o in final] == [o["id"] for o in ops]
    assert [str(o.status) for o in final] == ["success", "failed", "success", "success"]
    assert ops[3]["id"] not in polls  # already settled: never polled
    assert d.slept == [1.0, 1.5, 2.25]


def test_wait_times_out_listing_pending(drive: MakeDriver) -> None:
    """`wait` raises WaitTimeoutError naming the operations still pending."""
    api = MockAPI()
    api.handler = lambda r: httpx.Response(200, json=op("pending", id=r.url.path.rsplit("/", 1)[1]))
    pending = [ResourceOperation.model_validate(op("pending"))]
    with pytest.raises(WaitTimeoutError) as info:
        drive(api)(lambda c: c.operations.wait(pending, timeout=5, poll_interval=1))
    assert len(info.value.pending) == 1
    assert isinstance(info.value, TimeoutError)


def test_wait_of_a_lookup_that_is_retried(drive: MakeDriver) -> None:
    """A poll answered 503 is retried with the injected sleep, and the wait goes on until settled."""
    api = MockAPI()
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(503, json={"message": "busy"})
        status = "pending" if calls["n"] < 4 else "success"
        return httpx.Response(200, json=op(status, id=request.url.path.rsplit("/", 1)[1]))

    api.handler = handler
    start = ResourceOperation.model_validate(op("pending"))
    d = drive(api)
    final = d(lambda c: c.operations.wait([start], poll_interval=0.5))
    assert final[0].succeeded
    assert final[0].id == start.id
    assert len(d.slept) == 4  # one retry backoff and three poll intervals


def test_wait_refuses_what_is_not_an_operation(drive: MakeDriver) -> None:
    """`wait` names each input that is not an operation with an id, before any I/O."""
    api = MockAPI()
    good = ResourceOperation.model_validate(op("pending"))
    with pytest.raises(InvalidRequestError) as info:
        drive(api)(lambda c: c.operations.wait([good, "op-id", None]))
    assert info.value.fields == ["ops[1]", "ops[2]"]
    assert api.requests == []


def test_an_empty_listing_is_one_request(drive: MakeDriver) -> None:
    """A listing with no items sends one request and gives an empty list."""
    api = MockAPI()
    api.script = [page([])]
    assert drive(api)(lambda c: c.operations.list().to_list()) == []
    assert len(api.requests) == 1
