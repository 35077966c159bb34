"""Shared by the sandbox's API tests: a stand-in engine, the sandbox that runs it, and request bodies."""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import Any

import httpx

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.api.state import SandboxState
from catena_nb.sandbox.server import Simulation
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.timestamps import utcnow_iso
from catena_nb.sandbox.sim.types import AttemptRecord
from catena_nb.sandbox.sim.world import build_world


class FakeEngine:
    """Stands in for the simulation engine: a seeded-by-content outcome, one attempt, no delivery life."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.stats: dict[str, int] = {"sync": 0, "async": 0}
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._busy = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def enqueue(self, op: dict[str, Any]) -> None:
        with self._cond:
            self._busy += 1
        self.stats["async"] += 1
        self._queue.put(op)

    def wait_idle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._busy == 0, timeout)

    def notify_webhook(self, event_name: str, sub: dict[str, Any]) -> None:
        pass  # it delivers no webhooks

    def replay_webhook(self, webhook_id: str) -> int:
        return 0  # it delivers no webhooks, so nothing is ever parked

    def _run(self) -> None:
        while (op := self._queue.get()) is not None:
            self.execute_sync(op)
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def execute_sync(self, op: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        self.stats["sync"] += 1
        digest = hashlib.sha256(repr(sorted(op["payload"].items())).encode()).digest()
        ok = digest[0] % 3 != 0
        now = utcnow_iso()
        log = {
            "id": new_uuid7(),
            "created_at": now,
            "updated_at": now,
            "resource_operation_id": op["id"],
            "status": "success" if ok else "failed",
            "error_type": None if ok else "auth",
            "error_details": None
            if ok
            else "Client error '401 Unauthorized' for url 'https://api.samsara.com/v1/fleet/messages'",
            "response_status_code": 200 if ok else 401,
            "response_headers": {"content-type": "application/json"},
        }
        if not ok:
            return self.state.record_attempt(op["id"], AttemptRecord(log, "failed"))
        source_id = str(int.from_bytes(digest[1:5], "big"))
        return self.state.record_attempt(op["id"], AttemptRecord(log, "success", new_uuid7(), source_id))


class FakeEngineSandbox(Sandbox):
    """The sandbox with the fake engine, for tests that need an engine of their own behaviour."""

    def _simulation(self) -> Simulation:
        return Simulation(world=build_world(self.seed), engine_factory=FakeEngine)


def authed_client(sb: Sandbox) -> httpx.Client:
    """An httpx client of ``sb`` that sends its ready token."""
    return httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.token}"}, timeout=30)


def message_body(sb: Sandbox, index: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid message body on one of the sandbox's connections."""
    conn = sb.connections[index % len(sb.connections)]
    users = conn.users
    body: dict[str, Any] = {
        "connection_id": conn.id,
        "sender_id": users[0],
        "recipient_id": users[1 + index % (len(users) - 1)],
        "message_text": f"Delivery confirmed at warehouse B ({index})",
        "priority": "low",
    }
    body.update(overrides)
    return body


def synthetic_operation(
    conn_id: str, created_at: str, *, source_name: str = "samsara", **fields: Any
) -> dict[str, Any]:
    """An operation record for loading straight into the store."""
    op: dict[str, Any] = {
        "id": new_uuid7(),
        "created_at": created_at,
        "updated_at": created_at,
        "deleted_at": None,
        "partner_id": "9df92c50-d8a7-460e-aab2-a93f1de9280a",
        "connection_id": conn_id,
        "source_name": source_name,
        "fleet_ref": "FLT-X-01",
        "resource": "message",
        "operation_type": "create",
        "payload": {"message_text": "x"},
        "resource_id": None,
        "source_id": None,
        "status": "pending",
        "logs": [],
    }
    op.update(fields)
    return op
