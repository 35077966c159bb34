"""The webhook receiver: verification, answers once stored, idempotent upserts, and `catena-nb listen`."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pandas.testing import assert_frame_equal

from catena_nb.client import CatenaClient
from catena_nb.frames import operations_frame
from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.server import ServerThread
from catena_nb.store import AuditStore
from catena_nb.store.listen import create_app
from catena_nb.store.spool import Spool, spool_dir
from catena_nb.webhooks import sign

SECRET = "whsec-test-0123456789"

OP: dict[str, Any] = {
    "id": "0194a1b2-0000-7000-8000-000000000001",
    "created_at": "2026-11-20T10:00:00Z",
    "updated_at": "2026-11-20T10:00:00Z",
    "partner_id": "p1",
    "connection_id": "c1",
    "source_name": "samsara",
    "fleet_ref": "F1",
    "resource": "message",
    "operation_type": "create",
    "payload": {"message_text": "hello"},
    "resource_id": None,
    "source_id": None,
    "status": "pending",
    "logs": [],
}
DONE: dict[str, Any] = {
    **OP,
    "updated_at": "2026-11-20T10:00:05Z",
    "status": "success",
    "resource_id": "m1",
    "source_id": "s1",
    "logs": [{"id": "l1", "created_at": "2026-11-20T10:00:04Z", "updated_at": "2026-11-20T10:00:04Z",
              "resource_operation_id": OP["id"], "status": "success"}],
}  # fmt: skip


def _delivery(event: str, data: list[dict[str, Any]], *, secret: str = SECRET, **kw: Any):
    envelope = {"version": "1.0", "event_name": event, "id": f"evt-{random.random()}", "data": data}
    return sign(json.dumps(envelope), secret, **kw)


@pytest.fixture
def receiver(tmp_path) -> Iterator[tuple[httpx.Client, AuditStore]]:
    """The receiver app on a fresh store file, served in a thread, and a client."""
    with AuditStore(tmp_path / "hooks.duckdb") as store:
        app = create_app(store, SECRET)
        server = ServerThread(app)
        server.start()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as client:
                client.app = app  # type: ignore[attr-defined]
                yield client, store
        finally:
            server.stop()


def _merged(client: httpx.Client) -> None:
    assert client.app.state.receiver.flush()  # type: ignore[attr-defined]


def _status(store: AuditStore) -> list[str]:
    return store.query("SELECT status FROM operations ORDER BY operation_id")["status"].tolist()


def test_delivery_is_stored_and_answered_202(receiver):
    """A signed delivery answers 202 once it is synced in the spool, and the merge puts it in the store."""
    client, store = receiver
    body, headers = _delivery("resource_operation.created", [OP])
    response = client.post("/catena/hooks", content=body, headers=headers)
    assert response.status_code == 202
    assert response.json() == {"received": 1, "event": "resource_operation.created"}
    # on disk when answered, before any merge into the database
    spooled = Spool(spool_dir(store.path)).pending()
    assert [d.records[0]["id"] for d in spooled] == [OP["id"]]
    _merged(client)
    assert _status(store) == ["pending"]
    assert Spool(spool_dir(store.path)).pending() == []


def test_duplicate_and_late_deliveries_change_nothing(receiver):
    """A repeated event id is not stored again, and a late delivery of an older state changes nothing."""
    client, store = receiver
    created = _delivery("resource_operation.created", [OP])
    succeeded = _delivery("resource_operation.succeeded", [DONE])
    late = _delivery("resource_operation.created", [OP])  # another event id, an older record
    for body, headers in (created, succeeded, succeeded, created):
        assert client.post("/", content=body, headers=headers).status_code == 202
    _merged(client)
    assert client.post("/", content=late[0], headers=late[1]).status_code == 202
    _merged(client)
    assert store.count() == 1
    assert store.count("logs") == 1
    assert_frame_equal(store.operations_frame(), operations_frame([DONE]))
    counts = client.app.state.receiver.counts
    # the first merge takes the newest of the two records; the late one is left unchanged
    assert (counts["inserted"], counts["updated"], counts["unchanged"], counts["duplicate"]) == (1, 0, 1, 2)
    assert store.query("SELECT count(*) AS n FROM webhook_events")["n"].tolist() == [3]


def test_a_delivery_is_deduped_on_its_event_id_across_restarts(tmp_path):
    """An event id merged before a restart answers 202 after it and is not stored again."""
    path = tmp_path / "hooks.duckdb"
    body, headers = _delivery("resource_operation.created", [OP])
    for _ in range(2):
        with AuditStore(path) as store:
            app = create_app(store, SECRET)
            server = ServerThread(app)
            server.start()
            try:
                url = f"http://127.0.0.1:{server.port}/"
                assert httpx.post(url, content=body, headers=headers, timeout=30).status_code == 202
            finally:
                server.stop()
                app.state.receiver.close()
    assert app.state.receiver.counts["duplicate"] == 1
    with AuditStore(path, read_only=True) as store:
        assert store.count() == 1


def test_one_bad_delivery_never_takes_its_neighbours_down(receiver, monkeypatch):
    """A log listed twice is stored once; a delivery the disk refuses answers 500, the others are stored."""
    client, store = receiver
    twice = {**DONE, "logs": DONE["logs"] * 2}
    others = [{**OP, "id": f"0194a1b2-0000-7000-8000-00000000010{i}"} for i in range(3)]
    firsts = [_delivery("resource_operation.succeeded", [op]) for op in [twice, others[0]]]
    answers = [client.post("/", content=b, headers=h).status_code for b, h in firsts]
    receiver_state = client.app.state.receiver
    real_append = receiver_state.spool.append

    def full_disk(delivery: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(receiver_state.spool, "append", full_disk)
    refused_body, refused_headers = _delivery("resource_operation.created", [others[1]])
    assert client.post("/", content=refused_body, headers=refused_headers).status_code == 500
    monkeypatch.setattr(receiver_state.spool, "append", real_append)
    body, headers = _delivery("resource_operation.created", [others[2]])
    answers.append(client.post("/", content=body, headers=headers).status_code)
    # Catena delivers the refused one again, and now it is stored
    answers.append(client.post("/", content=refused_body, headers=refused_headers).status_code)
    assert answers == [202, 202, 202, 202]
    _merged(client)
    assert store.count() == 4
    assert store.count("logs") == 1
    assert receiver_state.counts["unstorable"] == 1


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "altered body", "altered signature", "no signature", "stale", "future"],
)
def test_bad_signature_or_timestamp_is_refused_with_503(receiver, tamper, caplog):
    """Deliveries that fail verification answer 503 (Catena keeps them), store nothing, and are counted."""
    client, store = receiver
    now = dt.datetime.now(dt.UTC)
    when = {"stale": now - dt.timedelta(minutes=6), "future": now + dt.timedelta(minutes=6)}.get(tamper)
    body, headers = _delivery(
        "resource_operation.created", [OP], secret="not-the-secret" if tamper == "wrong secret" else SECRET,
        timestamp=when,
    )  # fmt: skip
    if tamper == "altered body":
        body = gzip.compress(gzip.decompress(body).replace(b"hello", b"HELLO"))
    elif tamper == "altered signature":
        headers["X-Catena-Signature"] = headers["X-Catena-Signature"][::-1]
    elif tamper == "no signature":
        del headers["X-Catena-Signature"]
    headers["X-Webhook-ID"] = "sub-1234"
    with caplog.at_level("WARNING", logger="catena_nb.store.listen"):
        response = client.post("/", content=body, headers=headers)
    assert response.status_code == 503
    assert SECRET not in response.text + caplog.text
    assert "'sub-1234'" in caplog.text
    _merged(client)
    assert store.count() == 0
    counts = client.app.state.receiver.counts
    stale = tamper in ("stale", "future")
    assert (counts["refused_stale"], counts["refused_signature"]) == ((1, 0) if stale else (0, 1))
    summary = client.app.state.receiver.summary()
    assert (
        "check this machine's clock" if stale else "refused for a bad signature: check the webhook secret"
    ) in summary


def test_bad_bodies_are_refused_with_500(receiver):
    """A body that is not gzip, not JSON, or not an envelope answers 500 (Catena retries), storing nothing."""
    client, store = receiver
    _, headers = _delivery("resource_operation.created", [OP])
    assert client.post("/", content=b"\x1f\x8bnot gzip", headers=headers).status_code == 500
    for payload in (b"not json", b'["a list"]', b'{"no_event_name": 1}'):
        body, headers = sign(payload, SECRET)
        assert client.post("/", content=body, headers=headers).status_code == 500
    _merged(client)
    assert store.count() == 0


def test_other_events_are_acknowledged_and_messages_kept(receiver):
    """Events other than operations and messages answer 202 and are ignored; message events are stored."""
    client, store = receiver
    body, headers = _delivery("connection.created", [{"id": "x"}])
    assert client.post("/", content=body, headers=headers).status_code == 202
    message = {"id": "m1", "created_at": "2026-11-20T10:00:05Z", "updated_at": "2026-11-20T10:00:05Z",
               "occurred_at": "2026-11-20T10:00:05Z", "connection_id": "c1", "source_name": "samsara",
               "source_id": "s1", "status": "delivered"}  # fmt: skip
    body, headers = _delivery("message.modified", [message])
    assert client.post("/", content=body, headers=headers).status_code == 202
    _merged(client)
    assert store.count() == 0
    assert store.messages_frame()["status"].tolist() == ["delivered"]


def test_an_empty_secret_is_refused(tmp_path):
    """The app cannot be built without a secret to verify with, nor on a store it cannot write."""
    with AuditStore(":memory:") as store, pytest.raises(ValueError, match="secret"):
        create_app(store, "")
    with AuditStore(":memory:") as store, pytest.raises(ValueError, match="store file"):
        create_app(store, SECRET)
    AuditStore(tmp_path / "a.duckdb").close()
    with (
        AuditStore(tmp_path / "a.duckdb", read_only=True) as store,
        pytest.raises(ValueError, match="read-only"),
    ):
        create_app(store, SECRET)


class _Capture:
    """An ASGI wrapper keeping the headers and body of each request it passes on."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        # kept without the headers of the connection, so that a test can post them again
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append(({k: v for k, v in headers.items() if k not in ("host", "content-length")}, body))
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


@pytest.mark.slow
def test_webhooks_of_400_async_sends_end_as_exactly_those_operations(tmp_path):
    """Webhooks of 400 async sends, some delivered twice, some forged, end as the 400 final operations."""
    with (
        Sandbox(seed=21, time_scale=0.001, tsp_latency=0) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
        AuditStore(tmp_path / "hooks.duckdb") as store,
    ):
        app = create_app(store, SECRET)
        capture = _Capture(app)
        server = ServerThread(capture)
        server.start()
        try:
            url = f"http://127.0.0.1:{server.port}/catena"
            registered = httpx.post(
                f"{sb.url}/v2/notifications/webhooks",
                json={"url": url, "event_name": "resource_operation.*", "secret": SECRET},
                headers={"Authorization": f"Bearer {sb.token}"},
            )
            assert registered.status_code == 200
            rows = []
            for i in range(400):
                conn = sb.message_connections[i % len(sb.message_connections)]
                rows.append({"connection_id": conn.id, "sender_id": conn.users[0],
                             "recipient_id": conn.users[-1], "message_text": f"audit {i}"})  # fmt: skip
            batch = client.messages.create_many(rows, sync=False, concurrency=16, progress=False)
            assert len(batch.operations) == 400
            assert sb.wait_idle(240)
            delivered = list(capture.seen)
            assert len(delivered) >= 800  # created, then succeeded or failed, for each

            rng = random.Random(5)
            with httpx.Client(timeout=30) as http:
                for headers, body in rng.sample(delivered, 60):  # delivered twice
                    assert http.post(url, content=body, headers=headers).status_code == 202
                for headers, body in rng.sample(delivered, 20):  # forged signature
                    forged = {**headers, "x-catena-signature": sign(b"{}", "some-other-secret")[1][
                        "X-Catena-Signature"]}  # fmt: skip
                    assert http.post(url, content=body, headers=forged).status_code == 503
                for headers, body in rng.sample(delivered, 20):  # altered body, original signature
                    altered = gzip.compress(gzip.decompress(body).replace(b'"status":"', b'"status":"x'))
                    assert http.post(url, content=altered, headers=headers).status_code == 503
            assert app.state.receiver.flush()
        finally:
            server.stop()

        finals = {}
        for op in batch.operations:
            final = sb.state.get_operation(str(op.id))
            assert final is not None
            finals[str(op.id)] = final["status"]
        assert store.count() == 400
        stored = store.query("SELECT operation_id, status FROM operations")
        assert dict(zip(stored["operation_id"], stored["status"], strict=True)) == finals
        assert "pending" not in set(stored["status"])
        assert app.state.receiver.counts["refused_signature"] == 40
        listed = [
            item for page in client.operations.list(since="2026-01-01").pages() for item in page.raw_items
        ]
        # Webhook data carries each log's response_status_code (the notifications spec's log schema), the
        # listing does not (the integrations spec's): the HTTP status columns are compared apart.
        from_hooks, from_listing = store.operations_frame(), operations_frame(listed)
        same = [c for c in from_hooks.columns if not c.startswith("http_status")]
        assert_frame_equal(from_hooks[same], from_listing[same])
        assert from_hooks["http_status"].notna().any()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_catena_nb_listen_serves_the_store_until_stopped(tmp_path):
    """`catena-nb listen` takes the secret from the environment, stores deliveries, and exits on SIGTERM."""
    path = tmp_path / "hooks.duckdb"
    env = {**os.environ, "CATENA_TEST_HOOK_SECRET": SECRET}
    cmd = [sys.executable, "-m", "catena_nb.cli", "listen", "--store", str(path), "--secret-env"]

    missing = subprocess.run([*cmd, "NO_SUCH_VARIABLE_SET", "--port", "1"], capture_output=True, text=True)
    assert missing.returncode == 2
    assert "NO_SUCH_VARIABLE_SET" in missing.stderr

    port = _free_port()
    proc = subprocess.Popen(
        [*cmd, "CATENA_TEST_HOOK_SECRET", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the receiver did not start"
                time.sleep(0.1)
        body, headers = _delivery("resource_operation.succeeded", [DONE])
        assert httpx.post(url, content=body, headers=headers, timeout=10).status_code == 202
        body, headers = _delivery("resource_operation.succeeded", [OP], secret="wrong-secret-value")
        assert httpx.post(url, content=body, headers=headers, timeout=10).status_code == 503
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert SECRET not in out + err
    assert "1 deliveries refused for a bad signature: check the webhook secret" in out
    with AuditStore(path, read_only=True) as store:
        assert_frame_equal(store.operations_frame(), operations_frame([DONE]))
