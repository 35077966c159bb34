"""The async client against a scripted API: the same behaviour as the sync client, awaited."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from catena_nb.client import AsyncCatenaClient
from catena_nb.errors import InvalidRequestError, ServerError, WaitTimeoutError
from catena_nb.models import ResourceOperation
from tests.support.client_mock import BASE_URL, CONN, FAILED_OP, SUCCESS_OP, MockAPI, body_of, op, page, row

T = TypeVar("T")


def run(
    api: MockAPI, body: Callable[[AsyncCatenaClient], Awaitable[T]], slept: list[float] | None = None
) -> T:
    async def fake_sleep(seconds: float) -> None:
        if slept is not None:
            slept.append(seconds)

    async def main() -> T:
        async with AsyncCatenaClient(
            base_url=BASE_URL, token="tok", transport=api.transport(), sleep=fake_sleep, progress=False
        ) as client:
            return await body(client)

    return asyncio.run(main())


def test_creates_return_operations_for_200_202_502() -> None:
    """200, 202 and a 502 with an operation body all return the operation."""
    api = MockAPI()
    api.script = [
        httpx.Response(200, json=SUCCESS_OP),
        httpx.Response(202, json={**SUCCESS_OP, "status": "pending"}),
        httpx.Response(502, json=FAILED_OP),
        httpx.Response(502, text="bad gateway"),
    ]

    async def body(client: AsyncCatenaClient) -> list[Any]:
        out: list[Any] = [
            await client.messages.create(**row(), sync=True),
            await client.messages.create(**row()),
            await client.messages.create(**row(), sync=True),
        ]
        with pytest.raises(ServerError):
            await client.messages.create(**row(), sync=True)
        with pytest.raises(InvalidRequestError):
            await client.messages.create(**{**row(), "sender_id": "x"})
        return out

    ok, pending, failed = run(api, body)
    assert ok.succeeded
    assert pending.pending
    assert failed.failed
    assert len(api.requests) == 4


def test_listing_pages_windows_and_status() -> None:
    """The async listing follows cursors within each 45-day window and filters status client-side."""
    seen: list[httpx.Request] = []
    items = [op("failed" if i % 2 else "success") for i in range(5)]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        start = int(request.url.params.get("cursor", "0"))
        nxt = str(start + 2) if start + 2 < len(items) else None
        return page(items[start : start + 2], nxt)

    api = MockAPI()
    api.handler = handler
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    async def body(client: AsyncCatenaClient) -> list[ResourceOperation]:
        listing = client.operations.list(
            since=since, until=since + dt.timedelta(days=60), status="failed", size=2
        )
        return await listing.to_list()

    got = run(api, body)
    assert len(seen) == 6  # 3 pages in each of 2 windows
    assert len(got) == 4
    assert all(o.failed for o in got)


def test_get_retries_and_wait() -> None:
    """Lookups retry a 503 with the injected sleep; wait polls until settled."""
    api = MockAPI()
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(503, json={"message": "busy"})
        status = "pending" if calls["n"] < 4 else "success"
        return httpx.Response(200, json=op(status, id=request.url.path.rsplit("/", 1)[1]))

    api.handler = handler
    slept: list[float] = []
    start = ResourceOperation.model_validate(op("pending"))

    async def body(client: AsyncCatenaClient) -> list[ResourceOperation]:
        return await client.operations.wait([start], poll_interval=0.5)

    final = run(api, body, slept)
    assert final[0].succeeded
    assert final[0].id == start.id
    assert len(slept) == 4  # one retry backoff and three poll intervals


def test_wait_timeout() -> None:
    """The async wait raises WaitTimeoutError when operations stay pending."""
    api = MockAPI()
    api.handler = lambda r: httpx.Response(200, json=op("pending", id=r.url.path.rsplit("/", 1)[1]))

    async def body(client: AsyncCatenaClient) -> None:
        await client.operations.wait([ResourceOperation.model_validate(op("pending"))], timeout=3)

    with pytest.raises(WaitTimeoutError):
        run(api, body)


def test_create_many_order_invalid_and_429() -> None:
    """The async batch keeps input order, reports invalid rows and resends 429s once the pause is over."""
    api = MockAPI()
    refused = {"m2"}

    def handler(request: httpx.Request) -> httpx.Response:
        text = body_of(request)["message_text"]
        if text in refused:
            refused.discard(text)
            return httpx.Response(429, json={"code": 429, "detail": {"retry_after_seconds": 1}})
        return httpx.Response(202, json={**SUCCESS_OP, "id": f"op-{text}", "status": "pending"})

    api.handler = handler
    rows = [row(message_text=f"m{i}") for i in range(10)] + [row(connection_id="bad")]
    slept: list[float] = []

    async def body(client: AsyncCatenaClient) -> Any:
        return await client.messages.create_many(rows, concurrency=3)

    result = run(api, body, slept)
    assert [o.operation.id if o.operation else None for o in result.outcomes] == [
        f"op-m{i}" for i in range(10)
    ] + [None]
    assert result[10].status == "invalid"
    assert result[2].sends == 2
    assert len(api.requests) == 11


def test_create_many_cancelled_keeps_partial_result() -> None:
    """Cancelling an async batch stops new sends, lets in-flight ones finish and keeps the partial result."""
    MockAPI()
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
