"""The message routes: sync and async creates, their shapes, validation, and the messages list."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.server import Simulation
from catena_nb.sandbox.sim.records import WRITE_LOG_KEYS
from tests.support.sandbox import FakeEngine, FakeEngineSandbox, message_body

SEEDS = json.loads((Path(__file__).parent / "seed_examples.json").read_text())
# The Create Message page documents these two log fields; the Sync Write page's example leaves them out.
DOCUMENTED_EXTRA_LOG_KEYS = {"response_status_code", "response_headers"}


def shape_problems(example: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``actual`` differs from ``example`` in keys or value types (recursively)."""
    if type(example) is not type(actual):
        return [f"{path}: {type(actual).__name__} where the example has {type(example).__name__}"]
    problems: list[str] = []
    if isinstance(example, dict):
        allowed_extra = DOCUMENTED_EXTRA_LOG_KEYS if path.endswith("logs[]") else set()
        missing = set(example) - set(actual)
        extra = set(actual) - set(example) - allowed_extra
        problems += [f"{path}: missing key {k!r}" for k in sorted(missing)]
        problems += [f"{path}: unexpected key {k!r}" for k in sorted(extra)]
        for key in set(example) & set(actual):
            problems += shape_problems(example[key], actual[key], f"{path}.{key}")
    elif isinstance(example, list) and example:
        for item in actual:
            problems += shape_problems(example[0], item, f"{path}[]")
    return problems


def _send_until(client: httpx.Client, sb: Sandbox, want: int, limit: int = 300) -> httpx.Response:
    for i in range(limit):
        r = client.post("/v2/telematics/messages", params={"is_sync": "true"}, json=message_body(sb, i))
        if r.status_code == want:
            return r
    raise AssertionError(f"no {want} answer in {limit} sync sends")


def test_sync_success_matches_seed_example(client: httpx.Client, sb: Sandbox) -> None:
    """A successful sync send answers 200 with the seed page's keys and value types."""
    r = _send_until(client, sb, 200)
    example = SEEDS["success_200"]
    assert r.status_code == example["status_code"]
    body = r.json()
    log_template = SEEDS["failure_502"]["body"]["logs"][0] | {"error_type": None, "error_details": None}
    assert shape_problems({**example["body"], "logs": []}, {**body, "logs": []}) == []
    for log in body["logs"]:  # the example's success has no logs; each log still has the log shape
        assert set(log) == set(WRITE_LOG_KEYS)
        assert set(log_template) <= set(log)
    assert body["status"] == "success"
    assert body["resource_id"]
    assert body["source_id"]


def test_sync_failure_matches_seed_example(client: httpx.Client, sb: Sandbox) -> None:
    """A failed sync send answers 502 with the seed page's keys and value types, and its log."""
    r = _send_until(client, sb, 502)
    example = SEEDS["failure_502"]
    assert r.status_code == example["status_code"]
    body = r.json()
    assert shape_problems(example["body"], body) == []
    assert body["status"] == "failed"
    assert body["resource_id"] is None
    assert body["source_id"] is None
    assert body["logs"][-1]["error_type"] in {"auth", "validation", "network", "tsp"}


def test_async_send_answers_202_pending(client: httpx.Client, sb: Sandbox) -> None:
    """An async send answers 202 at once with a pending operation without ids or logs."""
    r = client.post("/v2/telematics/messages", json=message_body(sb, 3))
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "pending"
    assert body["resource_id"] is None
    assert body["source_id"] is None
    assert body["logs"] == []
    assert shape_problems(SEEDS["success_200"]["body"] | {"resource_id": None, "source_id": None}, body) == []
    assert sb.wait_idle(60)
    looked_up = client.get(
        f"/v2/integrations/connections/{body['connection_id']}/resource-operations/{body['id']}"
    ).json()
    assert looked_up["status"] in {"success", "failed"}
    assert len(looked_up["logs"]) >= 1


def test_payload_maps_users_to_tsp_ids(client: httpx.Client, sb: Sandbox) -> None:
    """The operation's payload carries the request and the TSP-side ids of sender and recipient."""
    body = message_body(sb, 1)
    op = client.post("/v2/telematics/messages", json=body).json()
    conn = next(c for c in sb.connections if c.id == body["connection_id"])
    source_ids = {u.id: u.source_id for u in conn.user_records}
    assert op["payload"]["source_sender_id"] == source_ids[body["sender_id"]]
    assert op["payload"]["source_recipient_id"] == source_ids[body["recipient_id"]]
    assert list(op["payload"]) == list(SEEDS["success_200"]["body"]["payload"])


def test_422_names_every_bad_field(client: httpx.Client, sb: Sandbox) -> None:
    """A body with a bad sender_id, a bad priority and a missing recipient names all three (and not the
    unknown field beside them, which the spec's model does not forbid)."""
    body = message_body(sb, 0, sender_id="not-a-uuid", priority="urgent", colour="red")
    del body["recipient_id"]
    r = client.post("/v2/telematics/messages", json=body)
    assert r.status_code == 422
    err = r.json()
    assert err["code"] == 422
    assert err["message"] == "Invalid Request Body"
    by_path = {d["path"]: d for d in err["detail"]}
    assert set(by_path) == {"body.sender_id", "body.priority", "body.recipient_id"}
    assert by_path["body.sender_id"]["error_type"] == "uuid_parsing"
    assert by_path["body.sender_id"]["input"] == "not-a-uuid"
    assert by_path["body.priority"]["input"] == "urgent"
    for detail in err["detail"]:
        assert set(detail) == {"path", "input", "message", "error_type"}
        assert all(isinstance(v, str) for v in detail.values())


def test_unknown_body_fields_are_ignored(client: httpx.Client, sb: Sandbox) -> None:
    """A field the request model does not know is accepted and ignored, as the real API's models allow."""
    r = client.post("/v2/telematics/messages", json=message_body(sb, 0, colour="red", urgent=True))
    assert r.status_code == 202
    assert "colour" not in r.json()["payload"]
    assert "urgent" not in r.json()["payload"]


def test_422_on_wrong_types_and_bad_query(client: httpx.Client, sb: Sandbox) -> None:
    """message_text must be a string or null, reply_to_message_id a uuid, is_sync a boolean."""
    body = message_body(sb, 0, message_text=5, reply_to_message_id="abc")
    r = client.post("/v2/telematics/messages", params={"is_sync": "maybe"}, json=body)
    assert r.status_code == 422
    paths = {d["path"] for d in r.json()["detail"]}
    assert {"body.message_text", "body.reply_to_message_id", "query.is_sync"} <= paths


def test_invalid_json_is_422(client: httpx.Client) -> None:
    """A body that is not JSON is a 422 with the documented body."""
    r = client.post("/v2/telematics/messages", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["error_type"] == "json_invalid"


def test_unknown_connection_is_404(client: httpx.Client, sb: Sandbox) -> None:
    """A well-formed connection id that the partner does not have answers 404 with the documented body."""
    before = sb.state.operation_count()
    r = client.post("/v2/telematics/messages", json=message_body(sb, 0, connection_id=str(uuid.uuid4())))
    assert r.status_code == 404
    assert r.json()["code"] == 404
    assert r.json()["message"] == "Not Found"
    assert sb.state.operation_count() == before


def test_user_of_another_connection_fails_with_validation(client: httpx.Client, sb: Sandbox) -> None:
    """A valid uuid that is not a user of the connection creates an operation that fails with `validation`."""
    stranger = str(uuid.uuid4())
    r = client.post(
        "/v2/telematics/messages", params={"is_sync": "true"}, json=message_body(sb, 0, recipient_id=stranger)
    )
    assert r.status_code == 502
    body = r.json()
    assert body["payload"]["source_recipient_id"] is None
    assert body["logs"][-1]["error_type"] == "validation"


def test_group_message_sync_and_async(client: httpx.Client, sb: Sandbox) -> None:
    """Group messages are created like messages, with `group_message` as the resource."""
    conn = sb.connections[0]
    body = {"connection_id": conn.id, "sender_id": conn.users[0], "recipient_ids": conn.users[1:3]}
    r = client.post("/v2/telematics/group-messages", json=body)
    assert r.status_code == 202
    assert r.json()["resource"] == "group_message"
    assert len(r.json()["payload"]["source_recipient_ids"]) == 2
    r = client.post("/v2/telematics/group-messages", params={"is_sync": "true"}, json=body)
    assert r.status_code in (200, 502)


def test_group_message_recipients_have_no_cap(sb: Sandbox, client: httpx.Client) -> None:
    """The spec bounds recipient_ids nowhere: 150 recipients are accepted (each unknown one then fails the
    operation with a validation log), and an empty list fails the operation rather than the request."""
    conn = sb.connections[0]
    many = [conn.users[1]] + [str(uuid.uuid4()) for _ in range(149)]
    body = {"connection_id": conn.id, "sender_id": conn.users[0], "recipient_ids": many}
    r = client.post("/v2/telematics/group-messages", params={"is_sync": "true"}, json=body)
    assert r.status_code in (200, 502)
    assert len(r.json()["payload"]["recipient_ids"]) == 150
    r = client.post(
        "/v2/telematics/group-messages", params={"is_sync": "true"}, json={**body, "recipient_ids": []}
    )
    assert r.status_code in (200, 502)


def test_messages_list_shows_delivery_status(client: httpx.Client, sb: Sandbox) -> None:
    """A message the TSP accepted is listed with a delivery status, in a page with `total`."""
    sent = _send_until(client, sb, 200).json()
    r = client.get("/v2/telematics/messages", params={"connection_id": sent["connection_id"], "size": 1000})
    assert r.status_code == 200
    page = r.json()
    assert {"items", "total", "next_page", "previous_page", "current_page"} <= set(page)
    ids = {m["id"] for m in page["items"]}
    if not isinstance(sb.engine, FakeEngine):
        assert sent["resource_id"] in ids
        msg = next(m for m in page["items"] if m["id"] == sent["resource_id"])
        assert msg["status"] in {"pending", "sent", "delivered", "read"}
        assert msg["source_id"] == sent["source_id"]
    assert page["total"] >= len(page["items"])
    r = client.get("/v2/telematics/messages", params={"sort_by": "priority"})
    assert r.status_code == 422


class _BarrierEngine(FakeEngine):
    """Each sync call waits until 16 are in flight: serialised calls would break the barrier."""

    barrier = threading.Barrier(16, timeout=30)

    def execute_sync(self, op: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        self.barrier.wait()
        return super().execute_sync(op, timeout)


class _BarrierSandbox(FakeEngineSandbox):
    def _simulation(self) -> Simulation:
        sim = super()._simulation()
        sim.engine_factory = _BarrierEngine
        return sim


def test_sync_sends_run_in_parallel() -> None:
    """16 concurrent sync sends are all in the TSP call at the same time (the event loop is not blocked)."""
    with _BarrierSandbox(seed=3) as sandbox:
        body = message_body(sandbox, 0)
        headers = {"Authorization": f"Bearer {sandbox.token}"}
        results: list[int] = []

        def send() -> None:
            with httpx.Client(base_url=sandbox.url, headers=headers, timeout=60) as c:
                results.append(
                    c.post("/v2/telematics/messages", params={"is_sync": "true"}, json=body).status_code
                )

        threads = [threading.Thread(target=send) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert sorted(set(results)) <= [200, 502]
        assert len(results) == 16


@pytest.mark.parametrize("priority", ["low", "medium", "high", None])
def test_priorities_accepted(client: httpx.Client, sb: Sandbox, priority: str | None) -> None:
    """Every documented priority, and null, is accepted."""
    r = client.post("/v2/telematics/messages", json=message_body(sb, 2, priority=priority))
    assert r.status_code == 202
    assert r.json()["payload"]["priority"] == priority


def test_messages_pages_in_both_orders(client: httpx.Client, sb: Sandbox) -> None:
    """Messages page by cursor in occurred_at order, either way, each exactly once, with a total."""
    conn = sb.connections[4]
    base = {"fleet_id": conn.fleet_id, "fleet_ref": conn.fleet_ref, "connection_id": conn.id}
    records = [
        base | {"id": str(uuid.uuid4()), "created_at": f"2026-02-03T10:{i:02d}:00.000000Z",
                "occurred_at": f"2026-02-03T10:{i:02d}:00.000000Z", "recipient_id": conn.users[1],
                "sender_id": conn.users[0], "source_id": str(i), "source_data_hash": "0" * 64}
        for i in range(23)
    ]  # fmt: skip
    sb.state.add_messages(records)
    window: dict[str, str | int] = {
        "from_datetime": "2026-02-03T00:00:00Z",
        "to_datetime": "2026-02-04T00:00:00Z",
        "size": 5,
    }
    for order in ("asc", "desc"):
        seen, cursor, totals = [], None, set()
        while True:
            params = {
                **window,
                "connection_id": conn.id,
                "sort_order": order,
                **({"cursor": cursor} if cursor else {}),
            }
            page = client.get("/v2/telematics/messages", params=params).json()
            seen += [m["occurred_at"] for m in page["items"]]
            totals.add(page["total"])
            cursor = page["next_page"]
            if cursor is None:
                break
        assert seen == sorted(seen, reverse=order == "desc")
        assert len(seen) == 23
        assert totals == {23}
    one = client.get(
        "/v2/telematics/messages", params={**window, "sender_ids": conn.users[0], "size": 100}
    ).json()
    assert one["total"] == 23
    none = client.get("/v2/telematics/messages", params={**window, "recipient_ids": conn.users[0]}).json()
    assert none["total"] == 0
    assert none["items"] == []
