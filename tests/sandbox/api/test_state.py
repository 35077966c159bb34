"""The in-memory store: records kept in time order however they arrive, attempts that change them, copies."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from catena_nb.sandbox.api.state import SandboxState
from catena_nb.sandbox.sim.delivery import message_view
from catena_nb.sandbox.sim.records import attempt_log
from catena_nb.sandbox.sim.timestamps import iso
from catena_nb.sandbox.sim.types import AttemptOutcome, AttemptRecord
from catena_nb.sandbox.sim.world import build_world
from tests.sandbox.sim.test_delivery import T0, _read_message
from tests.support.sandbox import synthetic_operation


def _ops(conn_id: str, n: int) -> list[dict[str, Any]]:
    # created_at out of order, so that both the append and the sorted paths are needed
    return [synthetic_operation(conn_id, f"2026-11-02T10:{(i * 7) % 60:02d}:00.000000Z") for i in range(n)]


def test_one_by_one_and_in_bulk_give_the_same_order():
    """A hundred operations added in bulk or one at a time list in the same (created_at, id) order."""
    world = build_world(7)
    ops = _ops(world.connections[0].id, 100)
    bulk, single = SandboxState(world), SandboxState(world)
    bulk.add_operations(ops)
    for op in ops:
        single.add_operation(op)
    order = [op["id"] for op in bulk.iter_operations()]
    assert order == [op["id"] for op in single.iter_operations()]
    assert order == [op["id"] for op in sorted(ops, key=lambda o: (o["created_at"], o["id"]))]
    assert bulk.operation_count() == 100


def test_an_attempt_changes_the_record_and_its_cached_json():
    """record_attempt appends the log, sets status and ids, and the lookup JSON shows the change."""
    world = build_world(7)
    state = SandboxState(world)
    (op,) = _ops(world.connections[0].id, 1)
    state.add_operation(op)
    before = state.operation_json(op["id"])
    ok = AttemptOutcome(ok=True, latency_s=0.1, response_status_code=200, source_id="5")
    log = attempt_log("log-1", op["id"], "2026-11-02T11:00:00.000000Z", ok)
    updated = state.record_attempt(op["id"], AttemptRecord(log, "success", "msg-1", "5"))
    assert updated["status"] == "success"
    assert (updated["resource_id"], updated["source_id"]) == ("msg-1", "5")
    assert updated["updated_at"] == "2026-11-02T11:00:00.000000Z"
    assert [entry["id"] for entry in updated["logs"]] == ["log-1"]
    assert state.operation_json(op["id"]) != before
    updated["logs"].clear()  # a copy: the store keeps its own
    stored = state.get_operation(op["id"])
    assert stored is not None
    assert len(stored["logs"]) == 1


def test_a_message_list_view_is_kept_only_once_nothing_more_will_happen_to_it():
    """Each view equals `message_view` at its instant: a message still to be delivered or read changes as time
    passes, and a settled one is handed out as kept."""
    world = build_world(7)
    state = SandboxState(world)
    msg = _read_message()
    state.add_message(msg)
    instants = [
        iso(T0),
        msg["_sent_at"],
        msg["delivered_at"],
        msg["read_at"],
        iso(T0 + dt.timedelta(days=30)),
    ]

    def body(now: str, source_data: bool = False) -> bytes:
        msgs, _, total = state.page_messages(
            "message", connection_id=None, lo=None, hi=None, cursor=None, size=10, copies=False
        )
        assert total == 1
        return state.message_json(msgs, now=now, source_data=source_data)[0]

    def views(now: str, source_data: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = json.loads(body(now, source_data))
        return view

    assert body(instants[0]) is not body(instants[0])  # still to be sent: rendered at each request
    for now in instants:  # in time order, twice each: the settled ones from what was kept
        for _ in range(2):
            expected = message_view(msg, now)
            assert views(now, source_data=True) == expected
            assert views(now) == {**expected, "source_data": None}
    assert body(instants[-1]) is body(instants[-1])  # settled: kept
