"""Every error status the routes answer carries the documented body (catena-api.md §3)."""

from __future__ import annotations

import time

import httpx

from catena_nb.sandbox import Sandbox
from tests.support.sandbox import authed_client, message_body

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
    assert client.post("/v2/notifications/webhooks", json=body).status_code == 200
    r = client.post("/v2/notifications/webhooks", json=body)
    assert r.status_code == 409
    assert r.json()["code"] == 409
    assert r.json()["message"] == "Conflict"
    assert r.json()["detail"]


def test_a_tsp_slower_than_the_sync_timeout_fails_the_send_as_a_read_timeout() -> None:
    """A sync send whose TSP call outlasts the sync timeout answers 502 with the operation failed as a network
    read timeout (the write endpoints list no 504), and the operation stays failed."""
    with Sandbox(seed=1, tsp_latency=3.0) as sandbox, authed_client(sandbox) as c:
        sandbox._context().sync_timeout = 0.2
        started = time.monotonic()
        r = c.post(CREATE, params={"is_sync": "true"}, json=message_body(sandbox))
        # answered at the timeout, not after the TSP's three seconds (a bound generous for a loaded machine)
        assert time.monotonic() - started < 2.5
        assert r.status_code == 502
        body = r.json()
        assert body["status"] == "failed"
        (log,) = body["logs"]
        assert log["error_type"] == "network"
        assert log["error_details"].startswith("ReadTimeout")
        assert log["response_status_code"] is None
        time.sleep(3.0)  # past the TSP's late answer, which must not revive the operation
        assert _stored_status(sandbox, body["id"]) == "failed"
        assert len(sandbox.state.get_operation(body["id"])["logs"]) == 1  # type: ignore[index]


def _stored_status(sb: Sandbox, op_id: str) -> str:
    """The status of an operation the sandbox stored."""
    op = sb.state.get_operation(op_id)
    assert op is not None, op_id
    status: str = op["status"]
    return status
