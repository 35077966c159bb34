"""Listings and calls that never end end all the same: a typed error, in bounded time, with both clients.

A server whose `next_page` repeats, or whose pages repeat under fresh cursors, makes a listing (and a store
sync) raise `PaginationError`. A server that trickles its answer a byte a second, trickles its headers, or
never answers makes a call raise `APITimeoutError` once the call's deadline passes, retries included.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from catena_nb import _config
from catena_nb.client import AsyncCatenaClient, CatenaClient
from catena_nb.client.pagination import Page
from catena_nb.errors import APITimeoutError, ConfigurationError, PaginationError, RateLimitError
from catena_nb.models import ResourceOperation
from catena_nb.store import AuditStore
from catena_nb.store.sync import sync
from tests.support.endless_servers import KINDS, EndlessServer, LoopingServer, looping_api

CONN = "019ddd87-eedd-710f-967c-1c6cc72ac985"
OP = "019df230-a1b2-7890-cdef-1234567890ab"
MESSAGE: dict[str, Any] = {
    "connection_id": CONN,
    "sender_id": "f9c7ee1c-2e16-5858-9b7e-ff7c89a4dd04",
    "recipient_id": "b224f322-b3d2-57e0-b245-cda313f68a1d",
    "message_text": "hi",
}
BOUND_S = 15.0  # "bounded, not forever": a 5 s deadline with generous room for a loaded machine


def _timed(call: Callable[[], Any]) -> tuple[BaseException, float]:
    start = time.monotonic()
    try:
        call()
    except Exception as exc:
        return exc, time.monotonic() - start
    raise AssertionError("the call returned")


async def _atimed(call: Callable[[], Awaitable[Any]]) -> tuple[BaseException, float]:
    start = time.monotonic()
    try:
        await call()
    except Exception as exc:
        return exc, time.monotonic() - start
    raise AssertionError("the call returned")


# ------------------------------------------------------------------------------------- looping cursors


def _mock_client(kind: str) -> tuple[CatenaClient, list[str]]:
    handler, asked = looping_api(kind)
    client = CatenaClient(
        base_url="http://api.test",
        token="static-token-123",
        transport=httpx.MockTransport(handler),
        progress=False,
    )
    return client, asked


@pytest.mark.parametrize("kind", ["cursor", "page"])
def test_a_listing_whose_server_loops_raises_a_pagination_error(kind: str) -> None:
    """A repeated cursor, or a page repeated under fresh cursors: PaginationError, no record yielded twice."""
    client, asked = _mock_client(kind)
    seen: list[str | None] = []

    def walk() -> None:
        for op in client.operations.list(connection_id=CONN):
            seen.append(op.id)

    with client:
        error, seconds = _timed(walk)
    print(f"\n{kind} loop, after {seconds:.3f} s and {len(asked)} requests: {type(error).__name__}: {error}")
    assert isinstance(error, PaginationError)
    assert seconds < BOUND_S
    assert len(asked) <= 5
    assert len(seen) == len(set(seen)), "a record was yielded twice"
    assert error.listing == "operations"
    assert error.path == "/v2/integrations/connections/resource-operations"
    assert "operations listing" in str(error)
    assert "pagination is broken" in str(error)
    if kind == "cursor":
        assert error.cursor == "stuck"
        assert "'stuck'" in str(error)
    else:
        assert str(error.cursor).startswith("fresh-")
        assert f"page {error.page}" in str(error)


def test_the_async_listing_stops_the_same_way() -> None:
    """The async paginator raises PaginationError on a repeated cursor too."""
    handler, asked = looping_api("cursor")

    async def main() -> tuple[BaseException, float]:
        async with AsyncCatenaClient(
            base_url="http://api.test",
            token="static-token-123",
            transport=httpx.MockTransport(handler),
            progress=False,
        ) as client:
            return await _atimed(lambda: client.operations.list(connection_id=CONN).to_list())

    error, seconds = asyncio.run(main())
    print(f"\nasync cursor loop, after {seconds:.3f} s: {type(error).__name__}: {error}")
    assert isinstance(error, PaginationError)
    assert seconds < BOUND_S
    assert len(asked) <= 5


def test_pages_before_the_repeat_are_yielded_then_the_error(tmp_path: Path) -> None:
    """`.pages()` yields each distinct page once, then raises (a caller keeps what it got)."""
    client, _ = _mock_client("cursor")
    pages: list[Page[ResourceOperation]] = []

    def walk() -> None:
        pages.extend(client.operations.list(connection_id=CONN).pages())

    with client:
        error, _ = _timed(walk)
    assert isinstance(error, PaginationError)
    assert len(pages) == 4  # three good pages, and the one that handed out the cursor a second time
    ids = [op.id for page in pages for op in page.items]
    assert len(ids) == len(set(ids))


def _pages_client(pages: list[dict[str, Any]]) -> CatenaClient:
    answers = iter(pages)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers))

    return CatenaClient(
        base_url="http://api.test",
        token="static-token-123",
        transport=httpx.MockTransport(handler),
        progress=False,
    )


def test_pages_without_ids_repeat_only_when_their_items_do() -> None:
    """Items without ids: different pages go on, the same items again under a fresh cursor stop."""
    different = [{"items": [{"n": i}], "next_page": f"c{i}" if i < 2 else None} for i in range(3)]
    with _pages_client(different) as client:
        assert len(list(client.connections.list().pages())) == 3
    same = [{"items": [{"n": 1}], "next_page": f"c{i}"} for i in range(3)]
    with _pages_client(same) as client, pytest.raises(PaginationError, match="same 1 items"):
        list(client.connections.list().pages())


def test_two_empty_pages_in_a_row_under_fresh_cursors_stop() -> None:
    """A server that keeps answering empty pages with a next cursor never lets the listing end: it stops."""
    empty = [{"items": [], "next_page": f"c{i}"} for i in range(5)]
    with _pages_client(empty) as client, pytest.raises(PaginationError, match="same 0 items"):
        list(client.connections.list().pages())


@pytest.mark.parametrize("kind", ["cursor", "page"])
def test_a_store_sync_against_a_looping_server_stops_with_the_error(kind: str, tmp_path: Path) -> None:
    """`AuditStore.sync` (and `_store_sync.sync`) end with PaginationError instead of looping forever."""
    client, asked = _mock_client(kind)
    until = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    since = until - dt.timedelta(days=2)
    with client, AuditStore(tmp_path / "audit.duckdb") as store:
        error, seconds = _timed(lambda: store.sync(client, since=since, until=until, progress=False))
        print(f"\nAuditStore.sync, {kind} loop, after {seconds:.3f} s: {type(error).__name__}: {error}")
        assert isinstance(error, PaginationError)
        assert seconds < BOUND_S
        stored = store.query("SELECT count(*) AS n, count(DISTINCT operation_id) AS d FROM operations")
        assert int(stored["n"].iloc[0]) == int(stored["d"].iloc[0]) > 0  # what came before is kept, once
        asked.clear()
        error, seconds = _timed(lambda: sync(store, client, since=since, until=until, progress=False))
        print(f"_store_sync.sync, {kind} loop, after {seconds:.3f} s: {type(error).__name__}")
        assert isinstance(error, PaginationError)
        assert seconds < BOUND_S


@pytest.mark.slow
def test_catena_nb_sync_against_a_looping_server_exits_with_the_error(tmp_path: Path) -> None:
    """`catena-nb sync` ends with exit code 1 and the pagination error in one line: no loop, no traceback."""
    with LoopingServer("cursor") as server:
        env = {**os.environ, "CATENA_BASE_URL": server.url, "CATENA_TOKEN": "static-token-123"}
        cmd = [sys.executable, "-m", "catena_nb.cli", "sync", "--store", str(tmp_path / "audit.duckdb")]
        cmd += ["--since", "2026-11-19", "--until", "2026-11-21", "--no-progress"]
        start = time.monotonic()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        seconds = time.monotonic() - start
    print(f"\ncatena-nb sync, exit {done.returncode} after {seconds:.2f} s: {done.stderr.strip()}")
    assert done.returncode == 1
    assert "pagination is broken" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(server.asked) <= 5


# ------------------------------------------------------------------------------ servers that never end


def _sync_call(client: CatenaClient, what: str) -> Callable[[], Any]:
    if what == "create":
        return lambda: client.messages.create(**MESSAGE, sync=True)
    return lambda: client.operations.get(OP, connection_id=CONN)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_sync_client_gives_up_at_its_deadline(kind: str) -> None:
    """Trickled body, trickled headers, silence: a GET with deadline=5 raises APITimeoutError in about 5 s."""
    with (
        EndlessServer(kind) as server,
        CatenaClient(base_url=server.url, token="static-token-123", deadline=5, progress=False) as client,
    ):
        error, seconds = _timed(_sync_call(client, "get"))
    print(f"\nsync, {kind}: {type(error).__name__} after {seconds:.2f} s: {error}")
    assert isinstance(error, APITimeoutError)
    assert error.deadline == 5
    assert "deadline of 5 s" in str(error)
    assert 4.5 < seconds < BOUND_S
    assert error.maybe_sent  # the request left: the server read it


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_async_client_gives_up_at_its_deadline(kind: str) -> None:
    """The same servers against the async client: APITimeoutError in about 5 s."""

    async def main() -> tuple[BaseException, float]:
        async with AsyncCatenaClient(
            base_url=server.url, token="static-token-123", deadline=5, progress=False
        ) as client:
            return await _atimed(lambda: client.operations.get(OP, connection_id=CONN))

    with EndlessServer(kind) as server:
        error, seconds = asyncio.run(main())
    print(f"\nasync, {kind}: {type(error).__name__} after {seconds:.2f} s: {error}")
    assert isinstance(error, APITimeoutError)
    assert error.deadline == 5
    assert 4.5 < seconds < BOUND_S


@pytest.mark.slow
def test_retries_stop_at_the_deadline_not_after_timeout_times_retries() -> None:
    """A silent server, 2 s timeouts and 10 retries: the call ends at its 5 s deadline, not after 22 s."""
    with (
        EndlessServer("silent") as server,
        CatenaClient(
            base_url=server.url,
            token="static-token-123",
            timeout=2,
            max_retries=10,
            deadline=5,
            progress=False,
        ) as client,
    ):
        error, seconds = _timed(_sync_call(client, "get"))
        requests = server.requests
    print(f"\nsilent, 2 s timeouts, 10 retries: {requests} attempts, {seconds:.2f} s: {error}")
    assert isinstance(error, APITimeoutError)
    # it ends at the deadline, or earlier when the next retry's wait would not fit before it
    assert seconds < min(BOUND_S, 2 * 11)
    assert 2 <= requests <= 3
    assert "deadline of 5 s" in str(error)


@pytest.mark.slow
def test_a_create_is_sent_once_and_times_out_as_maybe_sent() -> None:
    """A create to a silent server is never resent: one request, then APITimeoutError with maybe_sent."""
    with (
        EndlessServer("silent") as server,
        CatenaClient(base_url=server.url, token="static-token-123", deadline=5, progress=False) as client,
    ):
        error, seconds = _timed(_sync_call(client, "create"))
        requests = server.requests
    assert isinstance(error, APITimeoutError)
    assert error.maybe_sent
    assert requests == 1
    assert seconds < BOUND_S


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_token_request_that_trickles_ends_at_the_deadline(mode: str) -> None:
    """The token request shares the call's deadline: a trickling token endpoint ends it in about 5 s."""
    with EndlessServer("trickle") as auth:
        kwargs: dict[str, Any] = {
            "base_url": "http://127.0.0.1:9",
            "client_id": "cid",
            "client_secret": "a-client-secret",
            "auth_url": auth.url,
            "deadline": 5,
            "progress": False,
        }
        if mode == "sync":
            with CatenaClient(**kwargs) as client:
                error, seconds = _timed(lambda: client.connections.list().to_list())
        else:

            async def main() -> tuple[BaseException, float]:
                async with AsyncCatenaClient(**kwargs) as client:
                    return await _atimed(lambda: client.connections.list().to_list())

            error, seconds = asyncio.run(main())
    print(f"\n{mode} token request, trickle: {type(error).__name__} after {seconds:.2f} s: {error}")
    assert isinstance(error, APITimeoutError)
    assert "token request" in str(error)
    assert not error.maybe_sent  # the API request itself never left
    assert 4.5 < seconds < BOUND_S


# ------------------------------------------------------------------------------------ the deadline rules


def test_the_default_deadline_is_at_most_a_minute() -> None:
    """Both clients and the token request default to `_config.DEFAULT_DEADLINE_S`, at most 60 s."""
    assert 0 < _config.DEFAULT_DEADLINE_S <= 60
    for cls in (CatenaClient, AsyncCatenaClient):
        assert inspect.signature(cls).parameters["deadline"].default == _config.DEFAULT_DEADLINE_S
    with CatenaClient(base_url="http://api.test", client_id="c", client_secret="a-client-secret") as client:
        assert client.deadline == _config.DEFAULT_DEADLINE_S
        assert client._auth._deadline == _config.DEFAULT_DEADLINE_S


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), "60", None, True])
def test_a_deadline_that_is_not_a_positive_number_is_refused(bad: Any) -> None:
    """A deadline of 0, negative, infinite, not a number: ConfigurationError before anything is sent."""
    with pytest.raises(ConfigurationError, match="deadline"):
        CatenaClient(base_url="http://api.test", token="static-token-123", deadline=bad)


def test_a_retry_wait_that_would_pass_the_deadline_is_not_started() -> None:
    """A 429 asking for 30 s with 5 s of deadline: the 429 is raised at once, no wait begun."""
    waits: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "30"}, json={"code": 429, "message": "slow down"})

    with (
        CatenaClient(
            base_url="http://api.test",
            token="static-token-123",
            transport=httpx.MockTransport(handler),
            sleep=waits.append,
            deadline=5,
            progress=False,
        ) as client,
        pytest.raises(RateLimitError),
    ):
        client.operations.get(OP, connection_id=CONN)
    assert waits == []


def test_a_wait_that_fits_is_still_taken() -> None:
    """A 503 asking for 1 s within a 60 s deadline is retried after that wait, as before."""
    waits: list[float] = []
    answers = [httpx.Response(503, headers={"retry-after": "1"}), httpx.Response(404, json={"code": 404})]

    with (
        CatenaClient(
            base_url="http://api.test",
            token="static-token-123",
            transport=httpx.MockTransport(lambda request: answers.pop(0)),
            sleep=waits.append,
            progress=False,
        ) as client,
        pytest.raises(Exception, match="404"),
    ):
        client.operations.get(OP, connection_id=CONN)
    assert waits == [1.0]
