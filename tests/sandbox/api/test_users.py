"""The users routes: drivers and dispatchers, filtered, paged in both orders."""

from __future__ import annotations

import uuid

import httpx

from catena_nb.sandbox import Sandbox


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
