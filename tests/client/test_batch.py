"""Batch sends of either client against a scripted API: order, validation, at-most-once, slowing down, and
stopping (Ctrl-C for the sync client, a cancellation for the async one)."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pandas as pd
import pytest

from catena_nb.client import AsyncCatenaClient, BatchResult, CatenaClient
from catena_nb.client._batching import Pacer
from catena_nb.client._transport import RetryPolicy
from catena_nb.errors import InvalidRequestError, RateLimitError
from tests.client.conftest import MakeDriver
from tests.support.client_mock import BASE_URL, CONN, FAILED_OP, SUCCESS_OP, MockAPI, body_of, row


def _echo(request: httpx.Request) -> httpx.Response:
    """Answers a create with an operation whose payload echoes the message text."""
    body = body_of(request)
    status = "failed" if body.get("message_text", "").endswith("7") else "success"
    base = FAILED_OP if status == "failed" else SUCCESS_OP
    answer = {**base, "id": f"op-{body['message_text']}", "payload": body}
    return httpx.Response(502 if status == "failed" else 200, json=answer)


def test_outcomes_in_input_order_with_concurrency(drive: MakeDriver) -> None:
    """With 8 workers, outcomes come back one per row in input order, each with its row's fields."""
    api = MockAPI()
    api.handler = _echo
    rows = [row(message_text=f"m{i}") for i in range(40)]
    d = drive(api)
    result = d(lambda c: c.messages.create_many(rows, sync=True, concurrency=8, progress=False))
    assert isinstance(result, BatchResult)
    assert [o.index for o in result.outcomes] == list(range(40))
    assert [o.operation.id for o in result.outcomes if o.operation] == [f"op-m{i}" for i in range(40)]
    assert all(o.row["message_text"] == f"m{i}" for i, o in enumerate(result.outcomes))
    assert result.counts["failed"] == 4
    assert result.counts["success"] == 36
    assert len(api.requests) == 40
    assert d.client.messages.last_batch is result


def test_invalid_rows_are_reported_not_sent(drive: MakeDriver) -> None:
    """Bad rows become `invalid` outcomes naming the bad fields; only good rows are sent."""
    api = MockAPI()
    api.handler = _echo
    rows = [
        row(message_text="a"),
        row(sender_id="nope", message_text="b"),
        row(priority="urgent", message_text="c"),
    ]
    result = drive(api)(lambda c: c.messages.create_many(rows, progress=False))
    assert [o.status for o in result.outcomes] == ["success", "invalid", "invalid"]
    assert isinstance(result[1].error, InvalidRequestError)
    assert result[1].error.fields == ["sender_id"]
    assert len(api.requests) == 1
    assert [o.index for o in result.errors] == [1, 2]


def test_on_invalid_raise_sends_nothing(drive: MakeDriver) -> None:
    """`on_invalid="raise"` raises naming each bad row's fields, before any row is sent."""
    api = MockAPI()
    api.handler = _echo
    rows = [row(message_text="a"), row(recipient_id=None)]
    with pytest.raises(InvalidRequestError) as info:
        drive(api)(lambda c: c.messages.create_many(rows, on_invalid="raise", progress=False))
    assert info.value.fields == ["rows[1].recipient_id"]
    assert api.requests == []


def test_dataframe_rows_with_missing_cells(drive: MakeDriver) -> None:
    """A DataFrame works as rows; NaN cells become unset fields."""
    api = MockAPI()
    api.handler = _echo
    frame = pd.DataFrame([row(message_text="x1", priority="low"), row(message_text="x2", priority=None)])
    result = drive(api)(lambda c: c.messages.create_many(frame, progress=False))
    assert result.counts["success"] == 2
    assert "priority" not in body_of(api.requests[1])


def test_429_rows_are_resent_after_a_shared_pause(drive: MakeDriver) -> None:
    """A row refused with 429 is sent again after the pause the server asked for; each is created once."""
    api = MockAPI()
    created: list[str] = []
    lock = threading.Lock()
    refused = {"m1", "m3"}

    def handler(request: httpx.Request) -> httpx.Response:
        text = body_of(request)["message_text"]
        with lock:
            if text in refused:
                refused.discard(text)
                return httpx.Response(
                    429,
                    headers={"Retry-After": "2"},
                    json={"code": 429, "message": "Too Many Requests", "detail": {"retry_after_seconds": 2}},
                )
            created.append(text)
        return _echo(request)

    api.handler = handler
    d = drive(api)
    rows = [row(message_text=f"m{i}") for i in range(5)]
    result = d(lambda c: c.messages.create_many(rows, concurrency=1, progress=False))
    assert sorted(created) == [f"m{i}" for i in range(5)]
    assert [o.sends for o in result.outcomes] == [1, 2, 1, 2, 1]
    assert result.counts["success"] == 5
    assert d.slept == [pytest.approx(2.0, abs=0.5)] * 2
    assert result.pauses == 2


def test_rate_limit_for_good_is_an_error_outcome(drive: MakeDriver) -> None:
    """A row refused with 429 more times than max_retries ends as an error, not created."""
    api = MockAPI()
    api.handler = lambda r: httpx.Response(429, json={"code": 429, "message": "Too Many Requests"})
    result = drive(api, max_retries=2)(lambda c: c.messages.create_many([row()], progress=False))
    outcome = result[0]
    assert outcome.status == "error"
    assert outcome.created is False
    assert isinstance(outcome.error, RateLimitError)
    assert len(api.requests) == 3


def test_connection_lost_after_sending_is_unknown_and_not_resent(drive: MakeDriver) -> None:
    """A connection lost after the request left makes an `unknown` outcome, never resent."""
    api = MockAPI()
    api.script = [httpx.RemoteProtocolError("Server disconnected without sending a response")]
    api.handler = _echo
    rows = [row(message_text="a"), row(message_text="b")]
    result = drive(api)(lambda c: c.messages.create_many(rows, concurrency=1, progress=False))
    first = result[0]
    assert first.status == "unknown"
    assert first.created is None
    assert "may have received" in str(first.error)
    assert result[1].status == "success"
    assert len(api.requests) == 2


def test_connection_refused_is_resent(drive: MakeDriver) -> None:
    """A connection that could not be opened is resent: the request never left."""
    api = MockAPI()
    api.script = [httpx.ConnectError("refused")]
    api.handler = _echo
    result = drive(api)(lambda c: c.messages.create_many([row(message_text="a")], progress=False))
    assert result[0].status == "success"
    assert result[0].sends == 2


def test_5xx_on_a_create_is_unknown(drive: MakeDriver) -> None:
    """A 500 on a create is reported as `unknown` (the API may have acted) and not resent."""
    api = MockAPI()
    api.script = [httpx.Response(500, json={"message": "Internal Server Error"})]
    result = drive(api)(lambda c: c.messages.create_many([row()], progress=False))
    assert result[0].status == "unknown"
    assert len(api.requests) == 1


def test_keyboard_interrupt_stops_new_sends() -> None:
    """Ctrl-C stops the sync client's new sends, lets the in-flight ones finish, and returns the partial
    result."""
    api = MockAPI()
    sent: list[str] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        text = body_of(request)["message_text"]
        with lock:
            sent.append(text)
        if text == "m5":
            raise KeyboardInterrupt
        return _echo(request)

    api.handler = handler
    rows = [row(message_text=f"m{i}") for i in range(50)]
    with CatenaClient(base_url=BASE_URL, token="tok", transport=api.transport()) as client:
        result = client.messages.create_many(rows, concurrency=2, progress=False)
    assert result.interrupted
    assert len(result.outcomes) == 50
    assert result[5].status == "unknown"
    assert 6 <= len(sent) <= 8
    assert result.counts["not_sent"] == 50 - len(sent)
    assert all(o.status == "success" for o in result.outcomes[:5])
    assert "interrupted" in repr(result)


def test_to_frame_and_html(drive: MakeDriver) -> None:
    """`to_frame()` has one row per input row with outcome and row columns; the HTML repr escapes text."""
    api = MockAPI()
    api.handler = _echo
    rows = [row(message_text="<b>m</b>7"), row(message_text="ok"), row(sender_id="bad")]
    result = drive(api)(lambda c: c.messages.create_many(rows, progress=False))
    frame = result.to_frame()
    assert list(frame.index) == [0, 1, 2]
    assert list(frame["status"]) == ["failed", "success", "invalid"]
    assert {"operation_id", "error_type", "error", "http_status", "connection_id", "message_text"} <= set(
        frame.columns
    )
    assert frame.loc[0, "error_type"] == "auth"
    assert frame.loc[0, "connection_id"] == CONN
    html = result._repr_html_()
    assert "<b>m</b>" not in html
    assert "BatchResult" in html
    assert repr(result) == "BatchResult(3 rows: success=1, failed=1, invalid=1)"


def test_bad_concurrency_is_refused(drive: MakeDriver) -> None:
    """A concurrency below 1 is refused before anything is sent."""
    api = MockAPI()
    with pytest.raises(InvalidRequestError):
        drive(api)(lambda c: c.messages.create_many([row()], concurrency=0))
    assert api.requests == []


def test_429s_are_resent_in_input_order_among_others(drive: MakeDriver) -> None:
    """With three in flight, a row refused with 429 is sent again; outcomes keep input order, invalid last."""
    api = MockAPI()
    refused = {"m2"}
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        text = body_of(request)["message_text"]
        with lock:
            if text in refused:
                refused.discard(text)
                return httpx.Response(429, json={"code": 429, "detail": {"retry_after_seconds": 1}})
        return httpx.Response(202, json={**SUCCESS_OP, "id": f"op-{text}", "status": "pending"})

    api.handler = handler
    rows = [row(message_text=f"m{i}") for i in range(10)] + [row(connection_id="bad")]
    result = drive(api)(lambda c: c.messages.create_many(rows, concurrency=3))
    assert [o.operation.id if o.operation else None for o in result.outcomes] == [
        f"op-m{i}" for i in range(10)
    ] + [None]
    assert result[10].status == "invalid"
    assert result[2].sends == 2
    assert len(api.requests) == 11


def test_create_many_cancelled_keeps_partial_result() -> None:
    """Cancelling the async client's batch stops new sends, lets in-flight ones finish and keeps the partial
    result."""
    started = asyncio.Event()
    sent: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(body_of(request)["message_text"])
        if len(sent) == 4:
            started.set()
        await asyncio.sleep(0.01)
        return httpx.Response(202, json={**SUCCESS_OP, "status": "pending"})

    async def main() -> AsyncCatenaClient:
        async with AsyncCatenaClient(
            base_url=BASE_URL, token="t", transport=httpx.MockTransport(handler), progress=False
        ) as client:
            task = asyncio.create_task(
                client.messages.create_many([row(message_text=f"m{i}") for i in range(200)], concurrency=2)
            )
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return client

    client = asyncio.run(main())
    result = client.messages.last_batch
    assert result is not None
    assert result.interrupted
    assert len(result.outcomes) == 200
    assert result.counts["pending"] == len(sent)
    assert result.counts["not_sent"] == 200 - len(sent)
    assert len(sent) < 10
    assert CONN in result.outcomes[0].row["connection_id"]


def test_pacer_shares_one_pause() -> None:
    """A pause started by one worker delays every worker until it ends; a success resets the streak."""
    now = [100.0]
    pacer = Pacer(RetryPolicy(initial_delay=1.0, max_delay=8.0), clock=lambda: now[0])
    assert pacer.slow_down(5.0) == 5.0
    remaining, end = pacer.pause()
    assert remaining == 5.0
    assert pacer.pause()[0] == 5.0  # every worker sees the same pause
    pacer.resumed(end)
    assert pacer.pause()[0] == 0.0  # the sleeper saw the pause through: it is over for everyone
    pacer.slow_down(None)
    now[0] = 200.0
    assert pacer.pause()[0] == 0.0
    pacer.ok()
    assert pacer.pauses == 2
