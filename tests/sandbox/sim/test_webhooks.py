"""Webhook deliveries: async operations' events reach a local receiver, gzipped, signed and retried."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from catena_nb.sandbox.sim.engine import Engine
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.types import Pace
from catena_nb.sandbox.sim.webhooks import event_matches
from catena_nb.sandbox.sim.world import build_world
from tests.support.sim import fresh_state, new_op

SECRET = "whsec-test-0123456789"


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records every delivery and answers with ``status_for``."""

    def __init__(self, status_for: Callable[[dict[str, Any]], int]) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                record = {"headers": dict(self.headers), "body": body, "json": json.loads(body)}
                with receiver.lock:
                    receiver.requests.append(record)
                    status = status_for(record)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator[Callable[[Callable[[dict[str, Any]], int]], Receiver]]:
    """Makes local receivers, closed after the test."""
    made: list[Receiver] = []

    def make(status_for: Callable[[dict[str, Any]], int]) -> Receiver:
        made.append(Receiver(status_for))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _subscribe(state, url: str, event_name: str = "resource_operation.*") -> dict[str, Any]:
    sub = {
        "id": new_uuid7(),
        "url": url,
        "event_name": event_name,
        "secret": SECRET,
        "filters": {},
        "status": "active",
        "created_at": "2026-11-02T00:00:00.000000Z",
        "updated_at": "2026-11-02T00:00:00.000000Z",
    }
    state.add_webhook(sub)
    return sub


def _run(receiver: Receiver, n_async: int, n_sync: int):
    world = build_world(3)
    state = fresh_state(world)
    sub = _subscribe(state, receiver.url)
    engine = Engine(state, seed=3, pace=Pace(time_scale=0.001, tsp_latency=0.0))
    async_ops = [new_op(world, i % 6, text=f"async {i}") for i in range(n_async)]
    sync_ops = [new_op(world, i % 6, text=f"sync {i}") for i in range(n_sync)]
    engine.start()
    try:
        for op in sync_ops:
            state.add_operation(op)
            engine.execute_sync(op)
        for op in async_ops:
            state.add_operation(op)
            engine.enqueue(op)
        assert engine.wait_idle(60)
    finally:
        engine.stop()
    return state, sub, engine, async_ops, sync_ops


def test_async_events_arrive_in_order_signed_and_sync_fires_none(receiver_factory):
    """Each async op yields created then succeeded/failed, signed with the secret; sync ops yield nothing."""
    receiver = receiver_factory(lambda _req: 202)
    state, sub, engine, async_ops, sync_ops = _run(receiver, 24, 6)
    events: dict[str, list[str]] = {}
    for req in receiver.requests:
        headers, body, envelope = req["headers"], req["body"], req["json"]
        expected = base64.b64encode(
            hmac.new(
                SECRET.encode(), headers["X-Catena-Timestamp"].encode() + b"." + body, hashlib.sha256
            ).digest()
        ).decode()
        assert hmac.compare_digest(headers["X-Catena-Signature"], expected)
        assert headers["Content-Encoding"] == "gzip"
        assert headers["User-Agent"] == "Catena-Webhook"
        assert headers["X-Source"] == "catena-notifications"
        assert headers["X-Event-Type"] == envelope["event_name"]
        assert headers["X-Webhook-ID"] == sub["id"] == envelope["webhook_id"]
        assert headers["X-Delivery-Attempt"] == "1"
        assert {"version", "event_name", "webhook_id", "timestamp", "id", "delivery_attempt", "data"} <= set(
            envelope
        )
        assert isinstance(envelope["data"], list)
        op = envelope["data"][0]
        assert "source_name" in op
        assert "deleted_at" not in op  # the lookup shape
        events.setdefault(op["id"], []).append(envelope["event_name"])
    assert set(events) == {op["id"] for op in async_ops}
    assert not set(events) & {op["id"] for op in sync_ops}
    for op in async_ops:
        final = state.get_operation(op["id"])
        assert final is not None
        suffix = "succeeded" if final["status"] == "success" else "failed"
        assert events[op["id"]] == ["resource_operation.created", f"resource_operation.{suffix}"]
    assert engine.stats["webhook_deliveries_sent"] == 48


def test_a_receiver_that_answers_500_gets_the_delivery_again(receiver_factory):
    """The first attempt of every delivery gets a 500; each is delivered again as attempt 2, same event id."""
    seen: set[str] = set()

    def first_fails(req: dict[str, Any]) -> int:
        event_id = req["json"]["id"]
        if event_id in seen:
            return 200
        seen.add(event_id)
        return 500

    receiver = receiver_factory(first_fails)
    _, _, engine, async_ops, _ = _run(receiver, 5, 0)
    by_event: dict[str, list[str]] = {}
    for req in receiver.requests:
        by_event.setdefault(req["json"]["id"], []).append(req["headers"]["X-Delivery-Attempt"])
    assert len(by_event) == 2 * len(async_ops)
    assert all(attempts == ["1", "2"] for attempts in by_event.values())
    assert engine.stats["webhook_deliveries_sent"] == 10
    assert engine.stats["webhook_deliveries_failed"] == 0


def test_event_patterns():
    """Subscriptions match exact names and wildcards, nothing else."""
    assert event_matches("resource_operation.*", "resource_operation.failed")
    assert event_matches("*", "message.added")
    assert event_matches("resource_operation.created", "resource_operation.created")
    assert not event_matches("resource_operation.created", "resource_operation.failed")
    assert not event_matches("message.*", "resource_operation.failed")


def test_a_receiver_that_always_fails_is_marked_stale(receiver_factory):
    """Ten events undelivered in a row (each after all its attempts) mark the subscription stale."""
    receiver = receiver_factory(lambda _req: 503)
    state, sub, engine, _, _ = _run(receiver, 8, 0)
    stored = state.get_webhook(sub["id"])
    assert stored is not None
    assert stored["status"] == "stale"
    assert engine.stats["webhook_deliveries_failed"] >= 10
    assert engine.stats["webhook_deliveries_sent"] == 0
    # the first attempt and "up to 3" retries, as the webhook docs give them
    attempts = {r["headers"]["X-Delivery-Attempt"] for r in receiver.requests}
    assert attempts == {"1", "2", "3", "4"}
