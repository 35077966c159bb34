"""Every error status the routes answer carries the documented body (catena-api.md §3)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.server import Simulation
from tests.support.sandbox import FakeEngine, FakeEngineSandbox, authed_client, message_body

CREATE = "/v2/telematics/messages"


def test_401_without_or_with_a_bad_token(sb: Sandbox) -> None:
    """No token, or an unknown one, answers 401 {code, message, detail} and creates nothing."""
    before = sb.state.operation_count()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic dTpw"}):
        r = httpx.post(sb.url + CREATE, json=message_body(sb), headers=headers)
        assert r.status_code == 401
        assert r.json()["code"] == 401
        assert r.json()["message"] == "Unauthorized"
        assert "detail" in r.json()
    assert sb.state.operation_count() == before


def test_404_and_405_for_unknown_routes(client: httpx.Client) -> None:
    """An unknown path is a 404, a wrong method a 405, both with the documented body."""
    r = client.get("/v2/telematics/nothing-here")
    assert r.status_code == 404
    assert r.json()["code"] == 404
    assert r.json()["message"] == "Not Found"
    r = client.put(CREATE, json={})
    assert r.status_code == 405
    assert r.json()["code"] == 405
    assert r.json()["message"] == "Method Not Allowed"


def test_409_on_a_duplicate_webhook(client: httpx.Client) -> None:
    """A second subscription for the same event, URL and filters answers 409 Conflict."""
    body = {"url": "http://127.0.0.1:9/hook-409", "event_name": "resource_operation.failed"}
    assert client.post("/v2/notifications/webhooks", json=body).status_code == 201
    r = client.post("/v2/notifications/webhooks", json=body)
    assert r.status_code == 409
    assert r.json()["code"] == 409
    assert r.json()["message"] == "Conflict"
    assert r.json()["detail"]


def _stored_status(sb: Sandbox, op_id: str) -> str:
    """The status of an operation the sandbox stored."""
    op = sb.state.get_operation(op_id)
    assert op is not None, op_id
    status: str = op["status"]
    return status


class _SlowEngine(FakeEngine):
    """A TSP that takes 1 s to answer a sync call."""

    def execute_sync(self, op: dict[str, Any]) -> dict[str, Any]:
        time.sleep(1.0)
        return super().execute_sync(op)


class _SlowSandbox(FakeEngineSandbox):
    def _simulation(self) -> Simulation:
        sim = super()._simulation()
        sim.engine_factory = _SlowEngine
        return sim


def test_504_when_the_tsp_outlasts_the_gateway() -> None:
    """A sync send whose TSP call outlasts the gateway timeout answers 504; the operation still completes."""
    with _SlowSandbox(seed=1) as sandbox, authed_client(sandbox) as c:
        sandbox._context().sync_timeout = 0.2
        r = c.post(CREATE, params={"is_sync": "true"}, json=message_body(sandbox))
        assert r.status_code == 504
        assert r.json()["code"] == 504
        assert r.json()["message"] == "Gateway Timeout"
        (op,) = list(sandbox.state.iter_operations())
        assert op["id"] in r.json()["detail"]
        deadline = time.monotonic() + 30
        while _stored_status(sandbox, op["id"]) == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _stored_status(sandbox, op["id"]) in {"success", "failed"}
