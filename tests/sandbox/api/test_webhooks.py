"""The notifications routes over raw HTTP: shapes, status codes and wildcard expansion as the spec gives
them (catenaclearing/catena-sdk-go specs/notifications/openapi.json)."""

from __future__ import annotations

import httpx

from catena_nb.sandbox import Sandbox
from tests.support.sandbox import message_body

# required properties of the spec's components
WEBHOOK_READ = {"id", "url", "event_name", "secret", "status", "created_at", "updated_at"}
WEBHOOK = {"url", "filters", "secret", "created_at", "updated_at", "deleted_at", "id", "partner_id", "status",
           "event_name"}  # fmt: skip
METRICS = {"webhook_id", "http_attempts", "http_success_attempts", "http_failure_attempts", "message_count",
           "message_success_count", "success_rate", "avg_response_time_ms", "ewma_success_rate",
           "dlq_count"}  # fmt: skip
LOG = {"created_at", "webhook_id", "message_id", "event_name", "status", "status_code", "error_message",
       "response_time_ms"}  # fmt: skip
PAGE = {"items", "current_page", "current_page_backwards", "previous_page", "next_page"}


def test_webhook_subscriptions(client: httpx.Client, sb: Sandbox) -> None:
    """The secret is shown once on create, masked elsewhere; the engine sees the real one; delete removes."""
    r = client.post(
        "/v2/notifications/webhooks", json={"url": "http://127.0.0.1:9/wh", "event_name": "message.added"}
    )
    assert r.status_code == 200
    created = r.json()
    assert set(created) == WEBHOOK
    assert len(created["secret"]) >= 12
    assert created["status"] == "active"
    got = client.get(f"/v2/notifications/webhooks/{created['id']}").json()
    assert set(got) >= WEBHOOK_READ
    assert got["secret"] == "*****"
    listed = client.get("/v2/notifications/webhooks").json()
    assert set(listed) == PAGE
    assert all(w["secret"] == "*****" for w in listed["items"])
    assert created["id"] in {w["id"] for w in listed["items"]}
    real = {s["id"]: s["secret"] for s in sb.state.webhook_subscriptions()}
    assert real[created["id"]] == created["secret"]
    deleted = client.delete(f"/v2/notifications/webhooks/{created['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(f"/v2/notifications/webhooks/{created['id']}").status_code == 404
    short_secret = {"url": "http://x.example/h", "event_name": "message.added", "secret": "short"}
    short = client.post("/v2/notifications/webhooks", json=short_secret)
    assert short.status_code == 422
    assert short.json()["detail"][0]["path"] == "body.secret"


def test_a_wildcard_makes_one_subscription_per_event_and_answers_a_list(client: httpx.Client) -> None:
    """`message.*` makes message.added and message.modified (a list answer); an unknown event is a 422."""
    body = {"url": "http://127.0.0.1:9/all", "event_name": "message.*", "secret": "0123456789abcdef"}
    r = client.post("/v2/notifications/webhooks", json=body)
    assert r.status_code == 200
    made = r.json()
    assert isinstance(made, list)
    assert sorted(w["event_name"] for w in made) == [
        "message.added",
        "message.modified",
    ]
    assert all(set(w) == WEBHOOK for w in made)
    again = client.post("/v2/notifications/webhooks", json=body)
    assert again.status_code == 409  # overlapping subscriptions: none made
    assert (
        client.post("/v2/notifications/webhooks", json={**body, "event_name": "nothing.*"}).status_code == 422
    )
    assert (
        client.post("/v2/notifications/webhooks", json={**body, "event_name": "message.gone"}).status_code
        == 422
    )
    for w in made:
        assert client.delete(f"/v2/notifications/webhooks/{w['id']}").status_code == 204


def test_update_pause_activate_logs_metrics_and_replay(client: httpx.Client) -> None:
    """PATCH sets url, secret, status (not `stale`: 422); pause and activate set the status; logs are a cursor
    page; metrics give each TimePeriodMetric's four windows; replay answers 202; unknown ids 404."""
    body = {"url": "http://127.0.0.1:9/p", "event_name": "resource_operation.failed"}
    sub = client.post("/v2/notifications/webhooks", json=body).json()
    path = f"/v2/notifications/webhooks/{sub['id']}"
    patched = client.patch(path, json={"url": "http://127.0.0.1:9/q", "status": "inactive"})
    assert patched.status_code == 200
    assert patched.json()["url"] == "http://127.0.0.1:9/q"
    assert patched.json()["status"] == "inactive"
    assert patched.json()["updated_at"] >= sub["updated_at"]
    assert client.patch(path, json={"status": "stale"}).status_code == 422
    assert client.post(path + "/activate").json()["status"] == "active"
    assert client.post(path + "/pause").json()["status"] == "inactive"
    logs = client.get(path + "/logs", params={"status": "failed", "size": 10})
    assert logs.status_code == 200
    assert set(logs.json()) == PAGE
    assert logs.json()["items"] == []
    assert client.get(path + "/logs", params={"status": "pending"}).status_code == 422
    assert client.get(path + "/logs", params={"size": 1001}).status_code == 422
    metrics = client.get(path + "/metrics").json()
    assert set(metrics) == METRICS
    assert all(set(metrics[k]) == {"6h", "24h", "7d", "14d"} for k in METRICS if isinstance(metrics[k], dict))
    replay = client.post(path + "/replay")
    assert replay.status_code == 202
    assert replay.json()["replayed"] == 0
    unknown = "/v2/notifications/webhooks/0190a8a4-0000-7000-8000-000000000009"
    for method, tail in (
        ("GET", ""),
        ("PATCH", ""),
        ("GET", "/logs"),
        ("GET", "/metrics"),
        ("POST", "/replay"),
    ):
        answer = client.request(
            method, unknown + tail, json={"status": "active"} if method == "PATCH" else None
        )
        assert answer.status_code == 404, (method, tail)
    assert client.delete(path).status_code == 204


def test_logs_have_the_spec_fields(client: httpx.Client, sb: Sandbox) -> None:
    """After a delivery to a closed port each attempt is a WebhookLogRead with status_code 0 and the error."""
    sub = client.post(
        "/v2/notifications/webhooks",
        json={"url": "http://127.0.0.1:9/closed", "event_name": "resource_operation.created"},
    ).json()
    assert client.post("/v2/telematics/messages", json=message_body(sb, 1)).status_code == 202
    assert sb.wait_idle(60)
    items = client.get(f"/v2/notifications/webhooks/{sub['id']}/logs").json()["items"]
    assert len(items) == 4
    assert all(set(log) >= LOG and log["status"] == "failed" and log["status_code"] == 0 for log in items)
    assert [log["delivery_attempt"] for log in items] == [1, 2, 3, 4]
    assert client.get(f"/v2/notifications/webhooks/{sub['id']}/metrics").json()["dlq_count"] == 1
    client.delete(f"/v2/notifications/webhooks/{sub['id']}")


def test_webhook_events_tell_of_subscriptions_created_updated_and_deleted(
    client: httpx.Client, sb: Sandbox
) -> None:
    """A `webhook.*` subscriber gets webhook.created, .updated and .deleted, their data BaseWebhookEvent
    records without a secret."""
    from tests.support.receiver import Receiver

    receiver = Receiver()
    try:
        watch = client.post(
            "/v2/notifications/webhooks", json={"url": receiver.url, "event_name": "webhook.*"}
        ).json()
        body = {
            "url": "http://127.0.0.1:9/watched",
            "event_name": "message.added",
            "secret": "0123456789abcdef",
        }
        sub = client.post("/v2/notifications/webhooks", json=body).json()
        client.post(f"/v2/notifications/webhooks/{sub['id']}/pause")
        client.delete(f"/v2/notifications/webhooks/{sub['id']}")
        assert sb.wait_idle(30)
        about = [
            (e["event_name"], e["data"][0]) for _, e in receiver.deliveries if e["data"][0]["id"] == sub["id"]
        ]
        assert [name for name, _ in about] == ["webhook.created", "webhook.updated", "webhook.deleted"]
        assert all(set(data) == {"id", "url", "event_name", "filters", "status"} for _, data in about)
        assert [data["status"] for _, data in about] == ["active", "inactive", "inactive"]
        for w in watch:
            client.delete(f"/v2/notifications/webhooks/{w['id']}")
    finally:
        receiver.close()
