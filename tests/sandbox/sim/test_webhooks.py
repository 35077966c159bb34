"""Webhook deliveries: async operations' events reach a local receiver, gzipped, signed and retried."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from catena_nb.sandbox.sim.engine import Engine
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.types import Pace
from catena_nb.sandbox.sim.webhooks import event_matches
from catena_nb.sandbox.sim.world import build_world
from tests.support.receiver import Receiver
from tests.support.sim import fresh_state, new_op

SECRET = "whsec-test-0123456789"


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


# -- delivery as documented: the DLQ, replay, the breaker, duplicates, message events ---------------------


def _status(state, webhook_id: str) -> str:
    sub = state.get_webhook(webhook_id)
    assert sub is not None
    return str(sub["status"])


def _engine(state, *, time_scale: float = 0.001, duplicates: float = 0.0) -> Engine:
    return Engine(
        state, seed=3, pace=Pace(time_scale=time_scale, tsp_latency=0.0), webhook_duplicates=duplicates
    )


def _settle(state, n: int, **engine_options: Any) -> Engine:
    """Run ``n`` async sends through a new engine until every delivery is settled; the stopped engine."""
    engine = _engine(state, **engine_options)
    engine.start()
    try:
        _send(state, engine, n)
        assert engine.wait_idle(60)
    finally:
        engine.stop()
    return engine


def _send(state, engine: Engine, n: int, text: str = "op") -> list[dict[str, Any]]:
    ops = [new_op(state.world, i % 6, text=f"{text} {i}") for i in range(n)]
    for op in ops:
        state.add_operation(op)
        engine.enqueue(op)
    return ops


def test_a_receiver_down_gets_4_attempts_then_the_dlq_and_one_replay_brings_each_event_back_once(
    receiver_factory,
):
    """Down: each event gets attempts 1-4 (logged), then sits in the DLQ (metrics' dlq_count); a replay
    re-delivers each parked event once, with the same event id, and empties the queue."""
    down = threading.Event()
    down.set()
    receiver = receiver_factory(lambda _req: 503 if down.is_set() else 202)
    state = fresh_state(build_world(3))
    sub = _subscribe(state, receiver.url)
    state.update_webhook(sub["id"], {})  # created now: within the breaker's grace period
    engine = _engine(state)
    engine.start()
    try:
        ops = _send(state, engine, 10)
        assert engine.wait_idle(60)
        parked = {r["json"]["id"] for r in receiver.requests}
        assert len(parked) == 20  # created, then succeeded or failed, of each operation
        assert state.deliveries.dlq_count(sub["id"]) == 20
        metrics = state.deliveries.metrics(sub["id"])
        assert metrics["dlq_count"] == 20
        assert metrics["http_attempts"]["6h"] == 80
        assert metrics["http_failure_attempts"]["6h"] == 80
        assert metrics["message_count"]["6h"] == 20
        assert metrics["message_success_count"]["6h"] == 0
        logs = state.deliveries.logs(sub["id"])
        assert sorted(
            log["delivery_attempt"] for log in logs if log["message_id"] == logs[0]["message_id"]
        ) == [
            1,
            2,
            3,
            4,
        ]
        assert {log["status_code"] for log in logs} == {503}
        assert _status(state, sub["id"]) == "active"  # the grace period
        down.clear()
        before = len(receiver.requests)
        assert engine.replay_webhook(sub["id"]) == 20
        assert engine.wait_idle(60)
    finally:
        engine.stop()
    replayed = receiver.requests[before:]
    assert sorted(r["json"]["id"] for r in replayed) == sorted(parked)  # each once
    assert {r["json"]["delivery_attempt"] for r in replayed} == {5}  # the count goes on
    assert state.deliveries.dlq_count(sub["id"]) == 0
    final = {op["id"]: (state.get_operation(op["id"]) or {}).get("status") for op in ops}
    last = {r["json"]["data"][0]["id"]: r["json"]["data"][0]["status"] for r in replayed
            if r["json"]["event_name"] != "resource_operation.created"}  # fmt: skip
    assert last == final  # each operation's final status came back


def test_a_401_from_the_receiver_counts_as_delivered(receiver_factory):
    """Any answer but a 5xx is delivered: nothing retried, nothing parked (as Catena counts it)."""
    receiver = receiver_factory(lambda _req: 401)
    state = fresh_state(build_world(3))
    sub = _subscribe(state, receiver.url)
    _settle(state, 4)
    assert len(receiver.requests) == 8
    assert state.deliveries.dlq_count(sub["id"]) == 0
    metrics = state.deliveries.metrics(sub["id"])
    assert metrics["message_success_count"]["24h"] == 8
    assert metrics["http_success_attempts"]["24h"] == 0  # not a 2xx, though delivered


def test_the_breaker_stales_after_10_failures_sends_webhook_staled_and_spares_the_grace_period(
    receiver_factory,
):
    """Out of its grace period, 10 undelivered events mark a subscription stale and `webhook.staled` goes
    to the subscriptions of that event; within the grace period the same failures stale nothing."""
    bad = receiver_factory(lambda _req: 500)
    watcher = receiver_factory(lambda _req: 202)
    state = fresh_state(build_world(3))
    old = _subscribe(state, bad.url)  # created long ago
    _subscribe(state, watcher.url, event_name="webhook.staled")
    engine = _engine(state)
    engine.start()
    try:
        _send(state, engine, 8)
        assert engine.wait_idle(60)
        young = _subscribe(state, bad.url + "/young")
        state.update_webhook(young["id"], {})
        _send(state, engine, 8, text="later")
        assert engine.wait_idle(60)
    finally:
        engine.stop()
    assert _status(state, old["id"]) == "stale"
    assert _status(state, young["id"]) == "active"
    assert state.deliveries.metrics(young["id"])["dlq_count"] == 16
    staled = [r["json"] for r in watcher.requests]
    assert [e["event_name"] for e in staled] == ["webhook.staled"]
    assert staled[0]["data"] == [
        {"id": old["id"], "url": bad.url, "event_name": old["event_name"], "filters": {}, "status": "stale"}
    ]


def test_duplicates_come_at_the_seeded_share_and_dedupe_on_the_event_id(receiver_factory):
    """With webhook_duplicates=0.25 about a quarter of deliveries come twice, the same share for the same
    sends and seed; deduped on the envelope id they are exactly the events."""
    counts = []
    for _ in range(2):
        receiver = receiver_factory(lambda _req: 202)
        state = fresh_state(build_world(3))
        _subscribe(state, receiver.url)
        engine = _settle(state, 40, duplicates=0.25)
        ids = [r["json"]["id"] for r in receiver.requests]
        assert len(set(ids)) == 80
        assert len(ids) - 80 == engine.stats["webhook_duplicates"]
        counts.append(len(ids) - 80)
    assert counts[0] == counts[1]
    assert 5 <= counts[0] <= 40


def test_message_events_follow_the_delivery_status(receiver_factory):
    """A message the TSP took is `message.added` (pending), then `message.modified` at each change (sent,
    delivered, read), its data BaseMessage records; the last event shows the status the listing shows."""
    from catena_nb.sandbox.sim.delivery import message_view
    from catena_nb.sandbox.sim.message_events import MESSAGE_KEYS

    receiver = receiver_factory(lambda _req: 202)
    state = fresh_state(build_world(3))
    _subscribe(state, receiver.url, event_name="message.*")
    engine = _engine(state, time_scale=0.00002)
    engine.start()
    try:
        _send(state, engine, 12)
        assert engine.wait_idle(60)
        threading.Event().wait(1.0)  # the read receipts, hours later in simulated time
        assert engine.wait_idle(60)
    finally:
        engine.stop()
    order = ["pending", "sent", "delivered", "read"]
    by_message: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for r in receiver.requests:
        record = r["json"]["data"][0]
        assert tuple(record) == MESSAGE_KEYS
        by_message.setdefault(record["id"], []).append((r["json"]["event_name"], record))
    assert by_message
    for msg_id, events in by_message.items():
        events.sort(key=lambda e: order.index(e[1]["status"]))
        assert events[0][0] == "message.added"
        assert events[0][1]["status"] == "pending"
        assert all(name == "message.modified" for name, _ in events[1:])
        statuses = [rec["status"] for _, rec in events]
        assert statuses == sorted(set(statuses), key=order.index)
        stored = state.get_message(msg_id)
        assert stored is not None
        assert message_view(stored, "9999")["status"] == statuses[-1]
    assert any(len(events) >= 3 for events in by_message.values())


def test_the_breaker_rules_by_volume():
    """Under 20 deliveries only 10 failures in a row stale a subscription; from 20 an EWMA below 80%; from
    50 below 95%; never within the 15-minute grace period."""
    from catena_nb.sandbox.sim.timestamps import utcnow_iso
    from catena_nb.sandbox.sim.webhook_book import DeadLetter, DeliveryBook

    old = "2026-01-01T00:00:00.000000Z"

    def book(pattern: list[bool]) -> DeliveryBook:
        b = DeliveryBook()
        for i, ok in enumerate(pattern):
            b.settle("w", f"e{i}", None if ok else DeadLetter(f"e{i}", "x", [], 4, 0.0))
        return b

    assert not book([True] * 5 + [False] * 9).trips("w", old)
    assert book([True] * 5 + [False] * 10).trips("w", old)
    one_in_3 = [True, True, False] * 10  # 30 deliveries, never 10 failures in a row, EWMA about 0.7
    assert book(one_in_3).trips("w", old)
    one_in_7 = ([True] * 6 + [False]) * 9  # EWMA about 0.85: healthy enough under 50, not from 50 on
    assert not book(one_in_7[:30]).trips("w", old)
    assert book(one_in_7[:60]).trips("w", old)
    assert not book([True] * 60).trips("w", old)
    assert not book([False] * 60).trips("w", utcnow_iso())  # the grace period
    replayed = book([False] * 3)
    replayed.settle("w", "e0", None)  # a replay delivered it: still one message, now delivered
    counts = replayed.metrics("w")
    assert counts["message_count"]["6h"] == 3
    assert counts["message_success_count"]["6h"] == 1


def test_a_receiver_slower_than_the_timeout_is_retried_then_parked(receiver_factory):
    """An answer that does not come within the receiver timeout fails the attempt (logged with status_code
    0 and the error); after 4 such attempts the event is in the dead-letter queue."""
    import time

    from catena_nb.sandbox.sim.webhooks import WebhookSender

    def slow(_req: dict[str, Any]) -> int:
        time.sleep(0.2)
        return 202

    receiver = receiver_factory(slow)
    state = fresh_state(build_world(3))
    sub = _subscribe(state, receiver.url)
    sender = WebhookSender(
        state, fleets={}, pace=Pace(time_scale=0.001, tsp_latency=0.0), receiver_timeout=0.05
    )
    sender.start()
    try:
        assert sender.emit("resource_operation.created", {"id": "op-1"}, key="op-1") == 1
        assert sender.wait_idle(30)
    finally:
        sender.stop()
    logs = state.deliveries.logs(sub["id"])
    assert [log["delivery_attempt"] for log in logs] == [1, 2, 3, 4]
    assert {(log["status_code"], log["error_message"]) for log in logs} == {(0, "ReadTimeout")}
    assert state.deliveries.dlq_count(sub["id"]) == 1
