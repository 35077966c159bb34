"""The delivery life of a message: pending, sent, delivered, read, rendered at a given instant."""

from __future__ import annotations

import datetime as dt
from typing import Any

from catena_nb.sandbox.sim.delivery import MessageBook, message_view, plan_delivery
from catena_nb.sandbox.sim.outcomes import draw, operation_key
from catena_nb.sandbox.sim.profiles import PROFILES
from catena_nb.sandbox.sim.timestamps import iso
from catena_nb.sandbox.sim.types import Pace
from catena_nb.sandbox.sim.world import build_world
from tests.support.sim import new_group_op, new_op

T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


def _read_message() -> dict[str, Any]:
    world = build_world(7)
    conn = world.connections[0]
    book = MessageBook(7, conn, PROFILES[conn.source_name])
    # find content whose plan has a read time, so every stage shows
    for i in range(500):
        op = new_op(world, 0, text=f"Load {i}")
        key = operation_key(op, 1)
        if plan_delivery(book.profile, draw(7, key, 0))[2] is not None:
            return book.live(op, "m1", "123", key=key, now=T0, pace=Pace())
    raise AssertionError("no read message in 500 draws")


def test_status_moves_pending_sent_delivered_read():
    """Before its send time a message is pending; then sent, delivered and read, each time shown once past."""
    msg = _read_message()
    stages = [
        ("pending", T0),
        ("sent", msg["_sent_at"]),
        ("delivered", msg["delivered_at"]),
        ("read", msg["read_at"]),
    ]
    for status, at in stages:
        view = message_view(msg, at if isinstance(at, str) else iso(at))
        assert view["status"] == status
    early = message_view(msg, T0)
    assert early["delivered_at"] is None
    assert early["read_at"] is None
    late = message_view(msg, T0 + dt.timedelta(days=30))
    assert late["delivered_at"] == msg["delivered_at"]
    assert late["read_at"] == msg["read_at"]
    assert late["updated_at"] == msg["read_at"]
    assert not any(k.startswith("_") for k in late)


def test_plans_have_undelivered_and_mostly_unread_messages():
    """Over many messages some are never delivered and most are never read."""
    profile = PROFILES["geotab"]
    plans = [plan_delivery(profile, draw(3, f"m{i}", 0)) for i in range(4000)]
    never = sum(p[1] is None for p in plans)
    read = sum(p[2] is not None for p in plans)
    assert 0 < never < 0.2 * len(plans)
    assert read < 0.5 * len(plans)
    assert all(p[1] is None or (p[0] is not None and p[1] > p[0]) for p in plans)


def test_message_record_has_the_message_read_fields():
    """A message record carries the MessageRead fields of catena-api.md §6, with the TSP's ids."""
    msg = message_view(_read_message(), T0)
    required = {
        "fleet_id",
        "id",
        "created_at",
        "updated_at",
        "connection_id",
        "source_name",
        "source_id",
        "source_data_hash",
    }
    assert required <= set(msg)
    for key in (
        "tsp_id",
        "tsp_slug",
        "occurred_at",
        "source_sender_id",
        "source_recipient_id",
        "sender_name",
        "recipient_name",
        "thread_id",
        "source_thread_id",
        "message_hash",
        "sent_by_driver",
        "read_at",
    ):
        assert key in msg
    assert msg["source_id"] == "123"
    assert len(msg["source_data_hash"]) == 64


def test_time_scale_shrinks_delivery_delays():
    """With time_scale 0.001 the planned delivery is a thousand times sooner."""
    world = build_world(7)
    conn = world.connections[2]
    book = MessageBook(7, conn, PROFILES[conn.source_name])
    op = new_group_op(world, 2, text="Yard closed at 18:00")
    slow, fast = (
        book.live(op, "g1", "9", key=operation_key(op, 1), now=T0, pace=Pace(time_scale=scale))
        for scale in (1.0, 0.001)
    )
    assert "recipient_ids" in slow
    assert "read_at" not in slow
    if slow["delivered_at"] is not None:
        slow_d = dt.datetime.fromisoformat(slow["delivered_at"]) - T0
        fast_d = dt.datetime.fromisoformat(fast["delivered_at"]) - T0
        assert abs(fast_d.total_seconds() - slow_d.total_seconds() / 1000) < 0.01
