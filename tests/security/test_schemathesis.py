"""Property-based requests from the sandbox's own OpenAPI document: the sandbox never answers a 5xx.

Each operation of the document is drawn with its Hypothesis strategy inside one test (schemathesis' own
pytest integration, `from_fixture`, does not run under this pytest), so the sandbox is started once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from catena_nb.sandbox import Sandbox

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # no faults= here: an injected 500 is the point of that mode, not a bug
    with Sandbox(seed=13, history=1, anchor="2026-11-01", time_scale=0.001, tsp_latency=0) as sb:
        yield sb


@pytest.mark.slow
def test_no_generated_request_makes_the_sandbox_fail(sandbox: Sandbox) -> None:
    """Generated requests to every route, authorised with the sandbox's token, never get a 5xx answer."""
    schema = schemathesis.openapi.from_url(f"{sandbox.url}/openapi.json")
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 8

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case[Any]) -> None:
            response = case.call(headers=headers, timeout=60)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=[not_a_server_error])

        call()
    assert sum(statuses.values()) >= len(operations)
    assert not [s for s in statuses if s >= 500]


@pytest.mark.parametrize(
    "params",
    [
        {"from_datetime": "0001-01-01T00:00:00"},
        {"to_datetime": "0001-01-01T00:00:00+05:00"},
        {"from_datetime": "9999-12-31T23:59:59-05:00"},
    ],
)
@pytest.mark.parametrize(
    "path", ["/v2/integrations/connections/resource-operations", "/v2/telematics/messages"]
)
def test_datetimes_at_the_edge_of_the_calendar_are_a_422(
    sandbox: Sandbox, path: str, params: dict[str, str]
) -> None:
    """A window bound in year 1 or past year 9999 (found by the run above) is a 422, not a 500."""
    import httpx

    response = httpx.get(
        sandbox.url + path, params=params, headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=60
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["path"].startswith("query.")
