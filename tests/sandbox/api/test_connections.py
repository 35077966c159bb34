"""The connections routes: the partner's Fleet/TSP pairings, listed and looked up."""

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
