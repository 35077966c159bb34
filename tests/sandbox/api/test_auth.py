"""The Keycloak-style token and revoke endpoints, and token expiry."""

from __future__ import annotations

import time

import httpx
import pytest

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.api.tokens import ROUTE_SCOPES


def _token(sb: Sandbox, **overrides: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret,
            "scope": "organization"} | overrides  # fmt: skip
    return httpx.post(sb.token_url, data=form)


def test_token_answer_has_keycloak_fields(sb: Sandbox) -> None:
    """A client-credentials grant answers the Keycloak fields, and the token opens the API."""
    r = _token(sb)
    assert r.status_code == 200
    body = r.json()
    assert {"access_token", "expires_in", "token_type", "refresh_expires_in", "scope", "not-before-policy",
            "session_state"} <= set(body)  # fmt: skip
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_expires_in"] == 0
    # the scopes granted, as Keycloak lists them: every scope the routes need, by default
    assert body["scope"].split() == sorted(ROUTE_SCOPES)
    api = httpx.get(
        sb.url + "/v2/integrations/connections", headers={"Authorization": "Bearer " + body["access_token"]}
    )
    assert api.status_code == 200
    assert sb.auth_url == sb.url + "/realms/catena"


def test_basic_auth_credentials_work(sb: Sandbox) -> None:
    """Client credentials may come as HTTP Basic auth instead of form fields."""
    r = httpx.post(
        sb.token_url,
        data={"grant_type": "client_credentials", "scope": "organization"},
        auth=(sb.client_id, sb.client_secret),
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"scope": "admin"}, 400, "invalid_scope"),
    ],
)
def test_token_errors(sb: Sandbox, overrides: dict[str, str], status: int, error: str) -> None:
    """Bad credentials are 401 invalid_client; another grant type is 400 unsupported_grant_type."""
    r = _token(sb, **overrides)
    assert r.status_code == status
    assert r.json()["error"] == error
    assert r.json()["error_description"]


def test_revoked_token_is_refused(sb: Sandbox) -> None:
    """After revoke, the token gets 401; revoke needs the client's credentials."""
    token = _token(sb).json()["access_token"]
    revoke_url = sb.auth_url + "/protocol/openid-connect/revoke"
    bad = httpx.post(revoke_url, data={"token": token, "client_id": sb.client_id, "client_secret": "x"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"
    ok = httpx.post(
        revoke_url, data={"token": token, "client_id": sb.client_id, "client_secret": sb.client_secret}
    )
    assert ok.status_code == 200
    r = httpx.get(sb.url + "/v2/integrations/connections", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json()["code"] == 401


def test_tokens_expire_after_ttl() -> None:
    """A token stops working once token_ttl has passed; sb.token lasts for the sandbox's life."""
    with Sandbox(seed=2, token_ttl=0.3) as sandbox:
        token = _token(sandbox).json()["access_token"]
        time.sleep(1.0)  # well past the 0.3 s lifetime
        r = httpx.get(
            sandbox.url + "/v2/integrations/connections", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 401
        r = httpx.get(
            sandbox.url + "/v2/integrations/connections", headers={"Authorization": f"Bearer {sandbox.token}"}
        )
        assert r.status_code == 200
