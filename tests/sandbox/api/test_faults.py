"""Injected faults: 500s and 429s that run no route, slow answers, dropped answers, seeded shares."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.api.faults import FaultRates
from tests.support.sandbox import authed_client, message_body

CREATE = "/v2/telematics/messages"


def test_429_has_retry_after_and_creates_nothing() -> None:
    """An injected 429 has detail.retry_after_seconds and a Retry-After header, and runs no route."""
    with Sandbox(seed=1, faults={"429": 1.0}, time_scale=1.0) as sandbox, authed_client(sandbox) as c:
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
    with Sandbox(seed=1, faults={"500": 1.0}) as sandbox, authed_client(sandbox) as c:
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
        with authed_client(sandbox) as c, pytest.raises(httpx.RemoteProtocolError):
            c.post(CREATE, json=message_body(sandbox))
        assert sandbox.state.operation_count() == 1
        assert sandbox.fault_counts["drop"] == 1
        assert sandbox.wait_idle(30)


def test_slow_answers_still_answer() -> None:
    """A slow answer is delayed, not lost: the request succeeds and is counted as a slow fault."""
    with Sandbox(seed=1, faults={"slow": 1.0}, time_scale=0.01) as sandbox, authed_client(sandbox) as c:
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
