"""The clients against the running sandbox: every method, sync and async, faults, token expiry."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from catena_nb.client import AsyncCatenaClient, CatenaClient
from catena_nb.errors import InvalidRequestError, NotFoundError
from catena_nb.models import ErrorType, ResourceOperation
from catena_nb.sandbox import Sandbox
from tests.support.malformed import FIELDS, malformed_requests

MESSAGES = ("POST", "/v2/telematics/messages")
LIST_OPS = ("GET", "/v2/integrations/connections/resource-operations")
TOKEN = ("POST", "/realms/catena/protocol/openid-connect/token")


def _quick_sleep(seconds: float) -> None:
    # retries still wait, a little, so a test under faults takes no longer than it must
    time.sleep(min(seconds, 0.02))


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=7, time_scale=0.001, tsp_latency=0) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[CatenaClient]:
    with CatenaClient(
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        auth_url=sb.auth_url,
        progress=False,
        sleep=_quick_sleep,
    ) as c:
        yield c


@pytest.fixture(scope="module")
def shared_client(sb: Sandbox) -> Iterator[CatenaClient]:
    with CatenaClient(base_url=sb.url, token=sb.token, progress=False) as c:
        yield c


def rows_for(sb: Sandbox, n: int, tag: str, conn_index: int = 0) -> list[dict[str, Any]]:
    conn = sb.connections[conn_index]
    return [
        {
            "connection_id": conn.id,
            "sender_id": conn.dispatchers[0] if conn.dispatchers else conn.users[0],
            "recipient_id": conn.drivers[i % len(conn.drivers)] if conn.drivers else conn.users[1],
            "message_text": f"{tag} {i}",
            "priority": "low",
        }
        for i in range(n)
    ]


def server_texts(sb: Sandbox, tag: str) -> Counter[str]:
    """How many operations the server holds per message text carrying the tag."""
    return Counter(
        str(op["payload"].get("message_text"))
        for op in sb.state.iter_operations()
        if str((op.get("payload") or {}).get("message_text", "")).startswith(tag + " ")
    )


def test_sync_send_and_lookups(sb: Sandbox, client: CatenaClient) -> None:
    """A sync send returns a settled operation; get by operation and by ids agree, with the lookup shape."""
    fields = rows_for(sb, 1, "sync-one")[0]
    sent = client.messages.create(**fields, sync=True)
    assert sent.succeeded or sent.failed
    if sent.failed:
        assert sent.last_error is not None
        assert sent.last_error.error_type in set(ErrorType)
    else:
        assert sent.resource_id is not None
        assert sent.source_id is not None
    by_op = client.operations.get(sent)
    by_ids = client.operations.get(str(sent.id), connection_id=fields["connection_id"])
    assert by_op.id == by_ids.id == sent.id
    assert by_op.status == sent.status
    assert by_op.source_name == sb.connections[0].source_name
    with pytest.raises(NotFoundError) as info:
        client.operations.get(str(uuid.uuid4()), connection_id=fields["connection_id"])
    assert info.value.status_code == 404


def test_sync_sends_show_200s_and_502s(sb: Sandbox, client: CatenaClient) -> None:
    """Across many sync sends, 502 answers come back as failed operations with their logs, never raised."""
    batch = client.messages.create_many(rows_for(sb, 120, "sync-many", conn_index=1), sync=True)
    assert batch.counts["success"] + batch.counts["failed"] == 120
    for failed in (o.operation for o in batch.outcomes if o.status == "failed"):
        assert failed is not None
        assert failed.attempts == 1
        assert failed.resource_id is None
    assert all(n == 1 for n in server_texts(sb, "sync-many").values())


def test_async_sends_wait_and_messages_list(sb: Sandbox, client: CatenaClient) -> None:
    """Async sends come back pending, `wait` settles them in order, and the messages list shows delivery."""
    batch = client.messages.create_many(rows_for(sb, 30, "async-wait", conn_index=2), concurrency=4)
    assert batch.counts["pending"] == 30
    final = client.operations.wait(batch, timeout=120, poll_interval=0.05)
    assert [o.id for o in final] == [o.id for o in batch.operations]
    assert not any(o.pending for o in final)
    assert all(o.attempts >= 1 for o in final)
    conn = sb.connections[2]
    msgs = client.messages.list(connection_id=conn.id).to_list()
    texts = {m.message_text for m in msgs}
    delivered = [o for o in final if o.succeeded]
    assert {str(o.payload["message_text"]) for o in delivered} <= texts
    assert all(m.status in ("pending", "sent", "delivered", "read") for m in msgs)


def test_group_messages_connections_users(sb: Sandbox, client: CatenaClient) -> None:
    """Group sends, and the connection and user listings that give the ids a send needs."""
    conns = client.connections.list().to_list()
    assert {c.id for c in conns} == {c.id for c in sb.connections}
    conn = sb.connections[0]
    users = client.users.list(connection_id=conn.id).to_list()
    assert {u.id for u in users} == set(conn.users)
    drivers = client.users.list(connection_id=conn.id, is_driver=True).to_list()
    assert drivers
    assert all(u.is_driver for u in drivers)
    sent = client.group_messages.create(
        connection_id=conn.id, sender_id=conn.users[0], recipient_ids=[u.id for u in drivers][:3], sync=True
    )
    assert sent.resource == "group_message"
    assert sent.succeeded or sent.failed
    listed = client.group_messages.list(connection_id=conn.id).to_list()
    assert all(g.id for g in listed)


def _seed_operations(sb: Sandbox, client: CatenaClient, n: int, start: dt.datetime) -> str:
    """Store n operations one minute apart from `start` on connection 3, one in five failed."""
    conn = sb.connections[3]
    template_op = client.messages.create(**rows_for(sb, 1, "template", conn_index=3)[0], sync=True)
    template = sb.state.get_operation(str(template_op.id))
    assert template is not None
    records = []
    for i in range(n):
        moment = (start + dt.timedelta(seconds=20 * i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        records.append(
            {
                **template,
                "id": str(uuid.uuid4()),
                "created_at": moment,
                "updated_at": moment,
                "status": "failed" if i % 5 == 0 else "success",
                "logs": [],
            }
        )
    sb.state.add_operations(records)
    return conn.id


def test_listing_pages_windows_and_status(sb: Sandbox, client: CatenaClient) -> None:
    """2,500 operations at size=1000 take 3 pages one cursor at a time; 90 days go as two windows;
    status="failed" filters; side by side, the same operations in the same order."""
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    conn_id = _seed_operations(sb, client, 2500, start)
    before = sb.requests[LIST_OPS]
    day: dict[str, Any] = {"connection_id": conn_id, "since": start, "until": start + dt.timedelta(days=1)}
    got = client.operations.list(**day, concurrency=1).to_list()
    assert len(got) == 2500
    assert len({o.id for o in got}) == 2500
    assert sb.requests[LIST_OPS] - before == 3

    before = sb.requests[LIST_OPS]
    listing = client.operations.list(
        connection_id=conn_id,
        since=start - dt.timedelta(days=45),
        until=start + dt.timedelta(days=45),
        concurrency=1,
    )
    assert len(listing.spec.window_params()) == 2
    assert len(listing.to_list()) == 2500  # the server refuses any window over 45 days
    assert sb.requests[LIST_OPS] - before == 4  # one empty page in the first window, three in the second

    failed = client.operations.list(
        connection_id=conn_id, since=start, until=start + dt.timedelta(days=1), status="failed"
    ).to_list()
    assert len(failed) == 500
    assert all(o.failed for o in failed)
    pages = list(client.operations.list(**day, concurrency=1).pages())
    assert [len(p.raw_items) for p in pages] == [1000, 1000, 500]
    side_by_side = client.operations.list(**day).to_list()
    assert [o.id for o in side_by_side] == [o.id for o in got]


def test_bad_request_never_reaches_the_sandbox(sb: Sandbox, client: CatenaClient) -> None:
    """Malformed sends raise before any I/O: the sandbox counts no new request."""
    total = sb.requests.total()
    good = rows_for(sb, 1, "bad")[0]
    for bad in ({"sender_id": "x"}, {"priority": "urgent"}, {"message_text": 5}, {"connection_id": None}):
        with pytest.raises(InvalidRequestError):
            client.messages.create(**{**good, **bad})
    assert sb.requests.total() == total


def test_sync_client_inside_running_event_loop(sb: Sandbox) -> None:
    """The sync client works from a coroutine whose loop is running, as in a notebook cell."""

    async def cell() -> tuple[ResourceOperation, int]:
        assert asyncio.get_running_loop().is_running()
        with CatenaClient(base_url=sb.url, token=sb.token, progress=False) as c:
            sent = c.messages.create(**rows_for(sb, 1, "in-loop")[0], sync=True)
            batch = c.messages.create_many(rows_for(sb, 10, "in-loop-batch"), concurrency=4)
            return sent, len(c.operations.wait(batch, poll_interval=0.05))

    sent, n = asyncio.run(cell())
    assert not sent.pending
    assert n == 10


def test_async_client_every_method(sb: Sandbox) -> None:
    """The async client sends, waits, gets and lists against the sandbox."""

    async def main() -> dict[str, Any]:
        async with AsyncCatenaClient(
            base_url=sb.url,
            client_id=sb.client_id,
            client_secret=sb.client_secret,
            auth_url=sb.auth_url,
            progress=False,
        ) as c:
            conn = sb.connections[1]
            sent = await c.messages.create(**rows_for(sb, 1, "async-one", 1)[0], sync=True)
            batch = await c.messages.create_many(rows_for(sb, 20, "async-batch", 1), concurrency=5)
            final = await c.operations.wait(batch, poll_interval=0.05)
            got = await c.operations.get(final[0])
            listed = await c.operations.list(connection_id=conn.id).to_list()
            return {
                "sent": sent,
                "final": final,
                "got": got,
                "listed": listed,
                "conns": await c.connections.list().to_list(),
                "users": await c.users.list(connection_id=conn.id).to_list(),
                "msgs": await c.messages.list(connection_id=conn.id).to_list(),
                "group": await c.group_messages.create(
                    connection_id=conn.id, sender_id=conn.users[0], recipient_ids=conn.users[1:3]
                ),
            }

    out = asyncio.run(main())
    assert not out["sent"].pending
    assert not any(o.pending for o in out["final"])
    assert out["got"].id == out["final"][0].id
    assert {o.id for o in out["final"]} <= {o.id for o in out["listed"]}
    assert len(out["conns"]) == len(sb.connections)
    assert {u.id for u in out["users"]} == set(sb.connections[1].users)
    assert out["msgs"]
    assert out["group"].pending


# ------------------------------------------------------------------------------------------------ faults

FAULTS = {"500": 0.06, "429": 0.06, "slow": 0.01, "drop": 0.06}


@pytest.fixture(scope="module")
def faulty() -> Iterator[Sandbox]:
    with Sandbox(seed=11, faults=FAULTS, time_scale=0.001, tsp_latency=0) as sandbox:
        yield sandbox


def _faulty_client(sb: Sandbox) -> CatenaClient:
    return CatenaClient(
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        auth_url=sb.auth_url,
        progress=False,
        sleep=_quick_sleep,
        max_retries=8,
    )


@pytest.mark.slow
def test_batch_of_1000_under_faults_creates_each_at_most_once(faulty: Sandbox) -> None:
    """Under 500s, 429s, slow answers and drops, 1,000 rows each get an outcome and none is created twice."""
    rows = rows_for(faulty, 1000, "faulty")
    with _faulty_client(faulty) as c:
        batch = c.messages.create_many(rows, concurrency=16)
    assert len(batch.outcomes) == 1000
    assert batch.counts["not_sent"] == 0
    assert batch.counts["invalid"] == 0
    on_server = server_texts(faulty, "faulty")
    assert max(on_server.values()) == 1  # at most once, counted on the sandbox side
    for outcome in batch.outcomes:
        text = rows[outcome.index]["message_text"]
        if outcome.operation is not None:
            assert on_server[text] == 1
            assert outcome.operation.payload["message_text"] == text
        elif outcome.status == "error":
            assert on_server[text] == 0
        else:
            assert outcome.status == "unknown"
    counts = faulty.fault_counts
    assert counts["429"] > 0
    assert counts["drop"] > 0
    assert counts["500"] > 0
    assert batch.counts["unknown"] > 0  # drops after the create: reported, not resent
    assert any(o.sends > 1 for o in batch.outcomes)  # 429s: resent once the API had refused them


def test_lookups_survive_faults(faulty: Sandbox) -> None:
    """Gets and listings succeed through 500s, 429s and dropped connections."""
    with _faulty_client(faulty) as c:
        conn = faulty.connections[1]
        batch = c.messages.create_many(rows_for(faulty, 40, "lookup", conn_index=1), sync=True, concurrency=4)
        ops = batch.operations
        assert ops
        before = dict(faulty.fault_counts)
        for op in ops:
            assert c.operations.get(op).id == op.id
        for _ in range(5):
            listed = c.operations.list(connection_id=conn.id, size=10).to_list()
            assert {o.id for o in ops} <= {o.id for o in listed}
        assert len(c.users.list(connection_id=conn.id).to_list()) == len(conn.users)
    after = faulty.fault_counts
    assert all(after[k] > before[k] for k in ("500", "429", "drop"))


# ---------------------------------------------------------------------------------------- token expiry


class _RevokeOnce(httpx.BaseTransport):
    """Revokes the bearer token of the n-th send just before passing it on, so the API answers 401."""

    def __init__(self, sb: Sandbox, at: int) -> None:
        self._inner = httpx.HTTPTransport()
        self._sb = sb
        self._at = at
        self._n = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == MESSAGES[1]:
            with self._lock:
                self._n += 1
                hit = self._n == self._at
            if hit:
                httpx.post(
                    self._sb.auth_url + "/protocol/openid-connect/revoke",
                    data={
                        "token": request.headers["authorization"].removeprefix("Bearer "),
                        "client_id": self._sb.client_id,
                        "client_secret": self._sb.client_secret,
                    },
                ).raise_for_status()
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def test_token_expiring_mid_batch_is_refreshed_without_loss_or_repeat() -> None:
    """Tokens that expire (1 s lifetime) or are revoked mid-batch are refreshed; every row is created once."""
    with Sandbox(seed=5, token_ttl=1.0, time_scale=0.001, tsp_latency=0.02) as sandbox:
        rows = rows_for(sandbox, 200, "ttl")
        with CatenaClient(
            base_url=sandbox.url,
            client_id=sandbox.client_id,
            client_secret=sandbox.client_secret,
            auth_url=sandbox.auth_url,
            transport=_RevokeOnce(sandbox, at=60),
            progress=False,
        ) as c:
            batch = c.messages.create_many(rows, sync=True, concurrency=4)
        assert batch.counts["success"] + batch.counts["failed"] == 200
        on_server = server_texts(sandbox, "ttl")
        assert sorted(on_server) == sorted(r["message_text"] for r in rows)
        assert set(on_server.values()) == {1}
        assert sandbox.requests[TOKEN] >= 3  # the first token, the one after the revoke, and expiry refreshes
        assert sandbox.requests[MESSAGES] > 200  # the refused sends were resent after the 401


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=malformed_requests())
def test_200_malformed_requests_never_reach_the_sandbox(
    sb: Sandbox, shared_client: CatenaClient, fields: dict[str, Any]
) -> None:
    """200 generated malformed sends are refused by the client; the sandbox counts no request at all."""
    before = sb.requests.total()
    if set(fields) <= set(FIELDS):
        with pytest.raises(InvalidRequestError):
            shared_client.messages.create(**fields, sync=True)
    batch = shared_client.messages.create_many([fields])
    assert batch.counts["invalid"] == 1
    assert sb.requests.total() == before
