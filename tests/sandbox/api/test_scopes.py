"""Scopes: each route asks for its path's scope, `Sandbox(scopes=...)` grants only those, a missing one
answers 403 with Catena's Forbidden body, and the token request must ask for scope=organization."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.api.tokens import ROUTE_SCOPES
from tests.support.sandbox import message_body

LIST = "/v2/integrations/connections/resource-operations"
WITHOUT_LOOKUPS = [s for s in ROUTE_SCOPES if s != "resource_operation:read"]


def _forbidden(scope: str) -> dict[str, object]:
    return {"code": 403, "message": "Forbidden", "detail": f"Missing required scope: {scope}"}


@pytest.fixture(scope="module")
def narrow() -> Iterator[Sandbox]:
    """A sandbox whose credentials may read messages and users only."""
    with Sandbox(seed=7, tsp_latency=0.0, time_scale=0.001, scopes=["telematics:read"]) as sandbox:
        yield sandbox


def _get(sb: Sandbox, path: str, **params: str) -> httpx.Response:
    return httpx.get(sb.url + path, params=params, headers={"Authorization": f"Bearer {sb.token}"})


def test_lookups_without_their_scope_answer_403_forbidden() -> None:
    """Without resource_operation:read, the listing and the lookup by id answer 403 with the Forbidden body
    naming the scope; the routes whose scopes were granted still answer."""
    with Sandbox(seed=7, tsp_latency=0.0, time_scale=0.001, scopes=WITHOUT_LOOKUPS) as sb:
        listing = _get(sb, LIST)
        assert listing.status_code == 403
        assert listing.json() == _forbidden("resource_operation:read")
        conn = sb.connections[0].id
        one = _get(sb, f"/v2/integrations/connections/{conn}/resource-operations/{uuid.uuid4()}")
        assert one.status_code == 403
        assert one.json() == _forbidden("resource_operation:read")
        assert _get(sb, "/v2/integrations/connections").status_code == 200


def test_send_and_directory_without_their_scopes(narrow: Sandbox) -> None:
    """A send without telematics:write and the connections without connection:read answer 403 naming the
    scope; nothing is created; the users list (telematics:read) answers."""
    headers = {"Authorization": f"Bearer {narrow.token}"}
    before = narrow.state.operation_count()
    send = httpx.post(
        narrow.url + "/v2/telematics/messages",
        params={"is_sync": "true"},
        json=message_body(narrow),
        headers=headers,
    )
    assert send.status_code == 403
    assert send.json() == _forbidden("telematics:write")
    assert narrow.state.operation_count() == before
    connections = _get(narrow, "/v2/integrations/connections")
    assert connections.json() == _forbidden("connection:read")
    assert _get(narrow, "/v2/telematics/users").status_code == 200


def test_the_token_answer_lists_the_granted_scopes(narrow: Sandbox) -> None:
    """The token answer's `scope` is what the client was granted, and sb.scopes says the same."""
    form = {"grant_type": "client_credentials", "client_id": narrow.client_id,
            "client_secret": narrow.client_secret, "scope": "organization"}  # fmt: skip
    r = httpx.post(narrow.token_url, data=form)
    assert r.status_code == 200
    assert r.json()["scope"] == "telematics:read"
    assert narrow.scopes == {"telematics:read"}


def test_the_token_request_must_ask_for_organization(narrow: Sandbox) -> None:
    """A token request without scope=organization is refused with Keycloak's 400 invalid_scope body."""
    form = {"grant_type": "client_credentials", "client_id": narrow.client_id,
            "client_secret": narrow.client_secret}  # fmt: skip
    r = httpx.post(narrow.token_url, data=form)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"
    assert "organization" in r.json()["error_description"]


def test_tsps_need_no_token(narrow: Sandbox) -> None:
    """The TSP capabilities answer without any Authorization header (their spec paths list no security)."""
    assert httpx.get(narrow.url + "/v2/integrations/tsps").status_code == 200


@pytest.mark.parametrize("scopes", [["nope:read"], "telematics:read"])
def test_unknown_scopes_are_refused(scopes: object) -> None:
    """Sandbox(scopes=) refuses a scope no route requires, and a plain string, with a ValueError."""
    with pytest.raises(ValueError, match="scope"):
        Sandbox(scopes=scopes)  # type: ignore[arg-type]
