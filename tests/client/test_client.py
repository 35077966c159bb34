"""The two clients themselves: their settings, their repr, and the sync client inside a running loop."""

from __future__ import annotations

import asyncio
import inspect

import httpx

from catena_nb.client import AsyncCatenaClient, CatenaClient
from catena_nb.models import ResourceOperation
from tests.client.conftest import MakeDriver
from tests.support.client_mock import BASE_URL, SUCCESS_OP, MockAPI, op, page, row


def make(api: MockAPI) -> CatenaClient:
    return CatenaClient(base_url=BASE_URL, token="tok", transport=api.transport(), sleep=lambda s: None)


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


def test_both_clients_take_the_same_settings() -> None:
    """The sync and async constructors show the same keyword settings, with the same defaults."""
    sync, aio = inspect.signature(CatenaClient), inspect.signature(AsyncCatenaClient)
    assert list(sync.parameters) == list(aio.parameters)
    assert {n: p.default for n, p in sync.parameters.items()} == {
        n: p.default for n, p in aio.parameters.items()
    }
    assert {"base_url", "token", "client_id", "client_secret", "auth_url", "timeout"} <= set(sync.parameters)
    assert sync.parameters["max_retries"].default == 4
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in sync.parameters.values())


def test_repr_names_the_api_and_the_kind_of_credentials(drive: MakeDriver) -> None:
    """A client's repr shows its base URL and whether it uses a static token, and nothing secret."""
    d = drive(MockAPI(), token="a-static-token-1234")
    text = repr(d.client)
    assert text.endswith(f"(base_url={BASE_URL!r}, auth='static token')")
    assert "a-static-token-1234" not in text
