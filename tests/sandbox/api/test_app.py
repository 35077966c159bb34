"""The app as served: its OpenAPI document, and the request counter in front of every route."""

from __future__ import annotations

import httpx

from catena_nb.sandbox import Sandbox
from tests.support.sandbox import message_body

CREATE = "/v2/telematics/messages"


def test_openapi_document(client: httpx.Client) -> None:
    """/openapi.json describes the routes, their status codes and the OAuth2 scheme named Bearer."""
    doc = httpx.get(str(client.base_url) + "/openapi.json").json()
    paths = doc["paths"]
    assert "/v2/integrations/connections/resource-operations" in paths
    create = paths["/v2/telematics/messages"]["post"]["responses"]
    assert {"200", "202", "502", "422", "401"} <= set(create)
    # Catena's specs name their scheme "Bearer": OAuth2 client credentials, with a scope per path
    scheme = doc["components"]["securitySchemes"]["Bearer"]
    assert scheme["type"] == "oauth2"
    assert "clientCredentials" in scheme["flows"]


def test_requests_counts_rejected_creates(sb: Sandbox, client: httpx.Client) -> None:
    """sb.requests counts every POST that reached the create route, rejected ones included."""
    before = sb.requests["POST", CREATE]
    client.post(CREATE, json={"connection_id": "x"})
    client.post(CREATE, json=message_body(sb))
    assert sb.requests["POST", CREATE] == before + 2
