"""The sandbox's answers, field by field, against Catena's published schemas (tests/sandbox/specs/, copied
from catenaclearing/catena-sdk-go): write answers as ``ResourceOperation``, lookups and listings as
``ResourceOperationRead`` (logs without the TSP's status), webhooks as ``BaseResourceOperationEvent``, the
TSPs as ``TspIntegrationsRead``; each path's scopes as its ``security`` lists them; successful attempts
logged or not as ``Sandbox(success_logs=)`` says."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from catena_nb.sandbox import Sandbox
from tests.support.receiver import Receiver
from tests.support.sandbox import message_body
from tests.support.spec import problems, security

LIST = "/v2/integrations/connections/resource-operations"
ANCHOR = "2026-11-01"
# the 30 days of the seeded history (it ends with the anchor day)
WINDOW = {"from_datetime": "2026-10-03T00:00:00Z", "to_datetime": "2026-11-02T00:00:00Z", "size": 1000}


def _send_until(client: httpx.Client, sb: Sandbox, want: int, limit: int = 300) -> dict[str, Any]:
    for i in range(limit):
        r = client.post("/v2/telematics/messages", params={"is_sync": "true"}, json=message_body(sb, i))
        if r.status_code == want:
            body: dict[str, Any] = r.json()
            return body
    raise AssertionError(f"no {want} answer in {limit} sync sends")


def _listing(client: httpx.Client, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        r = client.get(LIST, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        cursor = page["next_page"]
        if not cursor:
            return items


@pytest.fixture(scope="module")
def histories() -> dict[bool, list[dict[str, Any]]]:
    """The same 30-day seeded history listed from two sandboxes: with success logs and without."""
    out: dict[bool, list[dict[str, Any]]] = {}
    for success_logs in (True, False):
        with (
            Sandbox(seed=7, history=30, anchor=ANCHOR, success_logs=success_logs) as sandbox,
            httpx.Client(
                base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=60
            ) as c,
        ):
            out[success_logs] = _listing(c, WINDOW)
    return out


def test_sync_answers_are_resource_operations(client: httpx.Client, sb: Sandbox) -> None:
    """A sync 200 and a sync 502 carry exactly ResourceOperation's fields, logs ResourceOperationLog's
    (with response_status_code and response_headers)."""
    for status in (200, 502):
        body = _send_until(client, sb, status)
        assert problems(body, "ResourceOperation") == []
        assert body["logs"], "the default sandbox logs every attempt"
    # the TSP's answer to the successful attempt, with its status and headers
    ok = _send_until(client, sb, 200)
    assert ok["logs"][-1]["response_status_code"] == 200
    assert isinstance(ok["logs"][-1]["response_headers"], dict)


def test_group_message_answers_are_resource_operations(client: httpx.Client, sb: Sandbox) -> None:
    """A group-message send, sync and async, answers exactly ResourceOperation's fields."""
    conn = sb.message_connections[0]
    body = {"connection_id": conn.id, "sender_id": conn.users[0], "recipient_ids": conn.users[1:3]}
    for params in ({"is_sync": "true"}, {}):
        r = client.post("/v2/telematics/group-messages", params=params, json=body)
        assert r.status_code in (200, 202, 502)
        assert problems(r.json(), "ResourceOperation") == []


def test_async_answer_is_a_pending_resource_operation(client: httpx.Client, sb: Sandbox) -> None:
    """A 202 carries exactly ResourceOperation's fields, pending and without logs."""
    r = client.post("/v2/telematics/messages", json=message_body(sb, 5))
    assert r.status_code == 202
    assert problems(r.json(), "ResourceOperation") == []
    assert r.json()["logs"] == []


def test_lookup_is_a_resource_operation_read(client: httpx.Client, sb: Sandbox) -> None:
    """GET by id answers exactly ResourceOperationRead, its logs ResourceOperationLogRead: no
    response_status_code, no response_headers, no deleted_at."""
    sent = _send_until(client, sb, 502)
    got = client.get(f"/v2/integrations/connections/{sent['connection_id']}/resource-operations/{sent['id']}")
    assert got.status_code == 200
    body = got.json()
    assert problems(body, "ResourceOperationRead") == []
    assert body["logs"]
    assert all("response_status_code" not in log for log in body["logs"])
    assert "deleted_at" not in body


def test_history_listing_matches_the_schema_and_has_no_response_status(
    histories: dict[bool, list[dict[str, Any]]],
) -> None:
    """Every operation of a 30-day listing is a ResourceOperationRead; not one log carries
    response_status_code or response_headers."""
    assert [p for op in histories[True] for p in problems(op, "ResourceOperationRead")] == []
    for items in histories.values():
        assert len(items) > 1000
        logs = [log for op in items for log in op["logs"]]
        assert sum("response_status_code" in log for log in logs) == 0
        assert sum("response_headers" in log for log in logs) == 0


def test_success_logs_off_drops_only_the_successful_attempts(
    histories: dict[bool, list[dict[str, Any]]],
) -> None:
    """Sandbox(success_logs=False) seeds the same operations, with the same failed logs, and no log of a
    successful attempt; with the default, every successful operation's last log is its success."""
    logged, unlogged = histories[True], histories[False]
    assert [op["id"] for op in logged] == [op["id"] for op in unlogged]
    assert [op["status"] for op in logged] == [op["status"] for op in unlogged]
    for with_, without in zip(logged, unlogged, strict=True):
        assert without["logs"] == [log for log in with_["logs"] if log["status"] == "failed"]
    assert all(op["logs"][-1]["status"] == "success" for op in logged if op["status"] == "success")
    assert not any(log["status"] == "success" for op in unlogged for log in op["logs"])


def test_success_logs_off_in_live_traffic() -> None:
    """Without success logs, a sync 200 answers `"logs": []` (the seed page's example) and a 502 its failed
    attempt; the lookup of the success has no log either."""
    with (
        Sandbox(seed=7, tsp_latency=0.0, time_scale=0.001, success_logs=False) as sandbox,
        httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.token}"}) as c,
    ):
        ok = _send_until(c, sandbox, 200)
        assert ok["status"] == "success"
        assert ok["logs"] == []
        assert problems(ok, "ResourceOperation") == []
        failed = _send_until(c, sandbox, 502)
        assert [log["status"] for log in failed["logs"]] == ["failed"]
        path = f"/v2/integrations/connections/{ok['connection_id']}/resource-operations/{ok['id']}"
        assert c.get(path).json()["logs"] == []


def test_webhook_data_is_base_resource_operation_event(client: httpx.Client, sb: Sandbox) -> None:
    """A resource_operation.* event's data holds BaseResourceOperationEvent records, their logs the
    notifications spec's ResourceOperationLogRead (which keeps the TSP's status)."""
    receiver = Receiver()
    try:
        hook = client.post(
            "/v2/notifications/webhooks",
            json={"url": receiver.url, "event_name": "resource_operation.*", "secret": "0123456789abcdef"},
        )
        assert hook.status_code == 200
        assert client.post("/v2/telematics/messages", json=message_body(sb, 2)).status_code == 202
        assert sb.wait_idle(60)
        deadline = threading.Event()
        for _ in range(100):
            if any(b["event_name"] != "resource_operation.created" for b in receiver.bodies()):
                break
            deadline.wait(0.1)
        for made in hook.json():  # the wildcard made one subscription per event
            client.delete(f"/v2/notifications/webhooks/{made['id']}")
    finally:
        receiver.close()
    bodies = receiver.bodies()
    assert bodies
    records = [record for body in bodies for record in body["data"]]
    assert [p for r in records for p in problems(r, "BaseResourceOperationEvent")] == []
    assert any(r["logs"] for r in records)


def test_tsps_are_tsp_integrations_reads_without_a_token(sb: Sandbox) -> None:
    """GET /v2/integrations/tsps (a cursor page) and /{tsp_id} answer TspIntegrationsRead without any token
    (the spec lists no security); every connection's tsp_id is listed, and one TSP takes no messages."""
    page = httpx.get(sb.url + "/v2/integrations/tsps")
    assert page.status_code == 200
    assert problems(page.json(), "CursorPageTspIntegrationsRead") == []
    items = page.json()["items"]
    assert {c.tsp_id for c in sb.connections} <= {t["tsp_id"] for t in items}
    assert any(t["integrations"]["message"] != "implemented" for t in items)
    for tsp in items:
        one = httpx.get(f"{sb.url}/v2/integrations/tsps/{tsp['tsp_id']}")
        assert one.status_code == 200
        assert one.json() == tsp
        counts = [tsp[f"{s}_count"] for s in ("implemented", "not_implemented", "not_supported")]
        assert sum(counts) == len(tsp["integrations"])
    missing = httpx.get(sb.url + "/v2/integrations/tsps/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["code"] == 404


def test_each_route_declares_the_scopes_its_spec_path_lists(client: httpx.Client) -> None:
    """The sandbox's OpenAPI document lists, per route, the Bearer scopes of the spec's `security`."""
    doc = httpx.get(str(client.base_url) + "/openapi.json").json()
    for route, scopes in security().items():
        method, path = route.split(" ", 1)
        operation = doc["paths"][path][method.lower()]
        declared = [s for entry in operation.get("security", []) for s in entry.get("Bearer", [])]
        assert declared == scopes, route
