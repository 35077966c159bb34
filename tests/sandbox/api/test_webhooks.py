"""The webhook subscription routes: create (secret shown once), list, get, delete."""

from __future__ import annotations

import httpx

from catena_nb.sandbox import Sandbox


def test_webhook_subscriptions(client: httpx.Client, sb: Sandbox) -> None:
    """The secret is shown once on create, masked elsewhere; the engine sees the real one; delete removes."""
    r = client.post(
        "/v2/notifications/webhooks",
        json={"url": "http://127.0.0.1:9/wh", "event_name": "resource_operation.*"},
    )
    assert r.status_code == 200
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
