"""Connections, users, webhook subscriptions and the OpenAPI document."""

from __future__ import annotations

import uuid

import httpx

from catena_nb.sandbox import Sandbox


def test_connections_list_and_get(client: httpx.Client, sb: Sandbox) -> None:
    """Every seeded connection is listed (no total) and can be fetched by id; credentials are masked."""
    page = client.get("/v2/integrations/connections").json()
    assert "total" not in page
    assert {c["id"] for c in page["items"]} == {c.id for c in sb.connections}
    conn = sb.connections[0]
    one = client.get(f"/v2/integrations/connections/{conn.id}").json()
    assert one["source_name"] == conn.source_name
    assert one["credentials"] == {"api_key": "*****"}
    assert client.get(f"/v2/integrations/connections/{uuid.uuid4()}").status_code == 404
    refs = client.get("/v2/integrations/connections", params={"fleet_refs": conn.fleet_ref}).json()["items"]
    assert conn.id in {c["id"] for c in refs}
    assert all(c["fleet_ref"] == conn.fleet_ref for c in refs)


def test_users_list_filters_and_pages(client: httpx.Client, sb: Sandbox) -> None:
    """Users filter by connection and is_driver, page by cursor, and carry a total."""
    conn = sb.connections[0]
    page = client.get("/v2/telematics/users", params={"connection_id": conn.id}).json()
    assert {u["id"] for u in page["items"]} == set(conn.users)
    assert page["total"] == len(conn.users)
    drivers = client.get(
        "/v2/telematics/users", params={"connection_id": conn.id, "is_driver": "true"}
    ).json()
    assert {u["id"] for u in drivers["items"]} == set(conn.drivers)
    seen, cursor = [], None
    while True:
        body = client.get(
            "/v2/telematics/users", params={"size": 3, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [u["id"] for u in body["items"]]
        cursor = body["next_page"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(u for c in sb.connections for u in c.users)
    user = client.get(f"/v2/telematics/users/{conn.users[0]}").json()
    assert user["source_id"] == conn.user_records[0].source_id
    assert user["connection_id"] == conn.id
    assert client.get(f"/v2/telematics/users/{uuid.uuid4()}").status_code == 404


def test_webhook_subscriptions(client: httpx.Client, sb: Sandbox) -> None:
    """The secret is shown once on create, masked elsewhere; the engine sees the real one; delete removes."""
    r = client.post(
        "/v2/notifications/webhooks",
        json={"url": "http://127.0.0.1:9/wh", "event_name": "resource_operation.*"},
    )
    assert r.status_code == 201
    created = r.json()
    assert len(created["secret"]) >= 12
    assert created["status"] == "active"
    got = client.get(f"/v2/notifications/webhooks/{created['id']}").json()
    assert got["secret"] == "*****"
    listed = client.get("/v2/notifications/webhooks").json()
    assert all(w["secret"] == "*****" for w in listed["items"])
    assert created["id"] in {w["id"] for w in listed["items"]}
    real = {s["id"]: s["secret"] for s in sb.state.webhook_subscriptions()}
    assert real[created["id"]] == created["secret"]
    assert client.delete(f"/v2/notifications/webhooks/{created['id']}").status_code == 204
    assert client.get(f"/v2/notifications/webhooks/{created['id']}").status_code == 404
    short_secret = {"url": "http://x.example/h", "event_name": "message.added", "secret": "short"}
    short = client.post("/v2/notifications/webhooks", json=short_secret)
    assert short.status_code == 422
    assert short.json()["detail"][0]["path"] == "body.secret"


def test_openapi_document(client: httpx.Client) -> None:
    """/openapi.json describes the routes, their status codes and the bearer scheme."""
    doc = httpx.get(str(client.base_url) + "/openapi.json").json()
    paths = doc["paths"]
    assert "/v2/integrations/connections/resource-operations" in paths
    create = paths["/v2/telematics/messages"]["post"]["responses"]
    assert {"200", "202", "502", "422", "401"} <= set(create)
    assert any(s.get("scheme") == "bearer" for s in doc["components"]["securitySchemes"].values())
