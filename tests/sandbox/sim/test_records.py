"""Operation records: payloads in jsonb key order, new records, attempt logs, and the two wire shapes."""

from __future__ import annotations

from catena_nb.sandbox.sim.records import (
    LOOKUP_KEYS,
    LOOKUP_LOG_KEYS,
    WRITE_KEYS,
    WRITE_LOG_KEYS,
    attempt_log,
    group_message_payload,
    lookup_shape,
    message_payload,
    new_operation,
    write_shape,
)
from catena_nb.sandbox.sim.types import AttemptOutcome
from catena_nb.sandbox.sim.world import build_world


def test_message_payload_maps_source_ids_in_seed_order():
    """The payload carries the TSP-side ids of sender and recipient, keys in the seed example's order."""
    world = build_world(7)
    conn = world.connections[0]
    sender, recipient = conn.user_records[0], conn.user_records[-1]
    payload = message_payload(conn, sender.id, recipient.id, message_text="hi", priority="low")
    assert list(payload) == [
        "priority",
        "sender_id",
        "message_text",
        "recipient_id",
        "connection_id",
        "source_sender_id",
        "reply_to_message_id",
        "source_recipient_id",
        "source_reply_to_message_id",
    ]
    assert (payload["source_sender_id"], payload["source_recipient_id"]) == (
        sender.source_id,
        recipient.source_id,
    )


def test_payload_maps_only_the_connections_users():
    """A user of another connection maps to a null TSP id; a group payload maps every recipient."""
    world = build_world(7)
    conn, other = world.connections[0], world.connections[1]
    payload = message_payload(conn, conn.dispatchers[0], other.drivers[0], message_text=None, priority=None)
    assert payload["source_sender_id"] == conn.user_records[0].source_id
    assert payload["source_recipient_id"] is None
    group = group_message_payload(conn, conn.dispatchers[0], conn.drivers, message_text="x", priority="high")
    assert list(group) == [
        "priority",
        "sender_id",
        "message_text",
        "connection_id",
        "recipient_ids",
        "source_sender_id",
        "source_recipient_ids",
    ]
    assert None not in group["source_recipient_ids"]


def test_the_two_shapes_of_one_record():
    """The write shape drops source_name/fleet_ref, the lookup shape deleted_at and the log headers."""
    world = build_world(7)
    conn = world.connections[0]
    payload = message_payload(conn, conn.dispatchers[0], conn.drivers[0], message_text="hi", priority="low")
    op = new_operation("op-1", "2026-11-02T10:00:00.000000Z", world.partner_id, conn, "message", payload)
    failed = AttemptOutcome(ok=False, latency_s=0.1, error_type="tsp", response_status_code=503)
    op["logs"].append(attempt_log("log-1", "op-1", "2026-11-02T10:00:01.000000Z", failed))
    assert set(WRITE_KEYS) | set(LOOKUP_KEYS) == set(op)
    write, lookup = write_shape(op), lookup_shape(op)
    assert list(write) == list(WRITE_KEYS)
    assert list(lookup) == list(LOOKUP_KEYS)
    assert "source_name" not in write
    assert "deleted_at" not in lookup
    assert list(write["logs"][0]) == list(WRITE_LOG_KEYS)
    assert list(lookup["logs"][0]) == list(LOOKUP_LOG_KEYS)
    assert write["logs"][0]["status"] == "failed"
    assert write["logs"][0]["response_status_code"] == 503
    assert op["status"] == "pending"
