"""Every error status the sandbox produces carries the documented body (catena-api.md §3), faults included."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx
import pytest

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.api.faults import FaultRates
from catena_nb.sandbox.server import Simulation
from tests.support.sandbox import FakeEngine, FakeEngineSandbox, message_body

CREATE = "/v2/telematics/messages"


def _authed(sb: Sandbox) -> httpx.Client:
    return httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.token}"}, timeout=30)


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


def test_429_has_retry_after_and_creates_nothing() -> None:
    """An injected 429 has detail.retry_after_seconds and a Retry-After header, and runs no route."""
    with Sandbox(seed=1, faults={"429": 1.0}, time_scale=1.0) as sandbox, _authed(sandbox) as c:
        r = c.post(CREATE, json=message_body(sandbox))
        assert r.status_code == 429
        body = r.json()
        assert body["code"] == 429
        assert body["message"] == "Too Many Requests"
        wait = body["detail"]["retry_after_seconds"]
        assert isinstance(wait, int)
        assert 1 <= wait <= 3
        assert isinstance(body["detail"]["message"], str)
        assert r.headers["Retry-After"] == str(wait)
        assert sandbox.state.operation_count() == 0
        assert sandbox.requests["POST", CREATE] == 1
        assert sandbox.fault_counts["429"] == 1


def test_500_body_and_nothing_created() -> None:
    """An injected 500 is {"message": "Internal Server Error"} and runs no route; the token endpoint too."""
    with Sandbox(seed=1, faults={"500": 1.0}) as sandbox, _authed(sandbox) as c:
        r = c.post(CREATE, json=message_body(sandbox))
        assert r.status_code == 500
        assert r.json() == {"message": "Internal Server Error"}
        assert sandbox.state.operation_count() == 0
        token = httpx.post(
            sandbox.token_url,
            data={"grant_type": "client_credentials", "client_id": sandbox.client_id,
                  "client_secret": sandbox.client_secret},
        )  # fmt: skip
        assert token.status_code == 500
        assert c.get("/openapi.json").status_code == 200  # the OpenAPI document is never disturbed
        assert sandbox.fault_counts["500"] == 2


def test_drop_cuts_the_answer_after_the_create() -> None:
    """A dropped connection loses the answer of a create that did happen (the operation exists)."""
    with Sandbox(seed=1, faults={"drop": 1.0}, tsp_latency=0.0, time_scale=0.001) as sandbox:
        with _authed(sandbox) as c, pytest.raises(httpx.RemoteProtocolError):
            c.post(CREATE, json=message_body(sandbox))
        assert sandbox.state.operation_count() == 1
        assert sandbox.fault_counts["drop"] == 1
        assert sandbox.wait_idle(30)


def test_slow_answers_still_answer() -> None:
    """A slow answer is delayed, not lost: the request succeeds and is counted as a slow fault."""
    with Sandbox(seed=1, faults={"slow": 1.0}, time_scale=0.01) as sandbox, _authed(sandbox) as c:
        assert c.get("/v2/integrations/connections").status_code == 200
        assert sandbox.fault_counts == {"500": 0, "429": 0, "slow": 1, "drop": 0}


def test_fault_share_is_seeded_and_spread() -> None:
    """faults=0.4 disturbs about 40% of 60 requests, split over the four kinds, identically for a seed."""
    counts = []
    for _ in range(2):
        with Sandbox(seed=5, faults=0.4, time_scale=0.001) as sandbox:
            with httpx.Client(base_url=sandbox.url, timeout=30) as c:
                for _ in range(60):
                    with contextlib.suppress(httpx.RemoteProtocolError):
                        c.get(
                            "/v2/integrations/connections",
                            headers={"Authorization": f"Bearer {sandbox.token}"},
                        )
            counts.append(sandbox.fault_counts)
    assert counts[0] == counts[1]
    assert 10 <= sum(counts[0].values()) <= 40
    assert all(n > 0 for n in counts[0].values())


@pytest.mark.parametrize("bad", [1.5, -0.1, {"500": 0.8, "429": 0.8}, {"teapot": 0.1}, "0.1"])
def test_bad_fault_settings_are_refused(bad: object) -> None:
    """Rates outside [0, 1], summing over 1, or of unknown kinds raise ValueError."""
    with pytest.raises(ValueError, match="fault"):
        FaultRates.parse(bad)  # type: ignore[arg-type]


def test_requests_counts_rejected_creates(sb: Sandbox, client: httpx.Client) -> None:
    """sb.requests counts every POST that reached the create route, rejected ones included."""
    before = sb.requests["POST", CREATE]
    client.post(CREATE, json={"connection_id": "x"})
    client.post(CREATE, json=message_body(sb))
    assert sb.requests["POST", CREATE] == before + 2


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
    with _SlowSandbox(seed=1) as sandbox, _authed(sandbox) as c:
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
