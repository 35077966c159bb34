"""Webhook deliveries: signature and timestamp checks, gzip, and typed parsing of the envelope."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import hmac
import http.server
import json
import threading
import time
from typing import Any

import httpx
import pytest

from catena_nb import webhooks
from catena_nb.client import CatenaClient
from catena_nb.errors import CatenaError, WebhookParseError, WebhookVerificationError
from catena_nb.models import ResourceOperation
from catena_nb.sandbox import Sandbox
from tests.support.client_mock import FAILED_OP, op

SECRET = "whsec-0123456789abcdef"
NOW = dt.datetime(2026, 11, 1, 12, 0, 0, tzinfo=dt.UTC)


def envelope(event_name: str = "resource_operation.failed", data: Any = None) -> dict[str, Any]:
    return {
        "version": "1.0",
        "event_name": event_name,
        "webhook_id": "5f0c0d6e-1111-4222-8333-944455556666",
        "timestamp": "2026-11-01T12:00:00Z",
        "id": "01935f0c-0d6e-7111-8222-933344445555",
        "delivery_attempt": 1,
        "data": [op("failed")] if data is None else data,
    }


def delivery(
    payload: bytes, *, stamp: str = NOW.isoformat(), gzipped: bool = True
) -> tuple[bytes, dict[str, str]]:
    """A body and headers built independently of the module under test, as the docs describe them."""
    mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + payload, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Catena-Signature": base64.b64encode(mac).decode(),
        "X-Catena-Timestamp": stamp,
        "X-Event-Type": "resource_operation.failed",
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        return gzip.compress(payload), headers
    return payload, headers


def test_verify_gzipped_delivery() -> None:
    """A gzipped, correctly signed, fresh delivery verifies and yields the uncompressed payload."""
    payload = json.dumps(envelope()).encode()
    body, headers = delivery(payload)
    assert webhooks.verify(body, headers, SECRET, now=NOW) == payload


def test_verify_plain_and_gzip_magic_without_header() -> None:
    """An uncompressed body verifies; a gzipped body without Content-Encoding is recognised by its magic."""
    payload = json.dumps(envelope()).encode()
    body, headers = delivery(payload, gzipped=False)
    assert webhooks.verify(body, headers, SECRET, now=NOW) == payload
    zipped, headers = delivery(payload)
    del headers["Content-Encoding"]
    assert webhooks.verify(zipped, headers, SECRET, now=NOW) == payload


def test_headers_are_case_insensitive() -> None:
    """Header names match in any case."""
    payload = b'{"event_name": "x"}'
    body, headers = delivery(payload)
    lower = {k.lower(): v for k, v in headers.items()}
    assert webhooks.verify(body, lower, SECRET, now=NOW) == payload


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b, h: (gzip.compress(b'{"tampered": true}'), h), "does not match"),
        (lambda b, h: (b, {**h, "X-Catena-Signature": "AAAA"}), "does not match"),
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "X-Catena-Signature"}), "missing"),
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "X-Catena-Timestamp"}), "missing"),
        (lambda b, h: (b"\x1f\x8bnot gzip at all", h), "not valid gzip"),
    ],
)
def test_verify_refuses_bad_deliveries(mutate: Any, reason: str) -> None:
    """Tampered bodies, wrong signatures, missing headers and bad gzip are refused with a clear reason."""
    body, headers = delivery(json.dumps(envelope()).encode())
    body, headers = mutate(body, headers)
    with pytest.raises(WebhookVerificationError, match=reason) as info:
        webhooks.verify(body, headers, SECRET, now=NOW)
    assert isinstance(info.value, CatenaError)
    assert SECRET not in str(info.value)


def test_wrong_secret_is_refused() -> None:
    """A delivery signed with another secret is refused."""
    body, headers = delivery(b"{}")
    with pytest.raises(WebhookVerificationError, match="does not match"):
        webhooks.verify(body, headers, "another-secret-value", now=NOW)


def test_stale_and_future_timestamps_are_refused() -> None:
    """A timestamp older or newer than the tolerance is refused; one inside it passes."""
    payload = b"{}"
    old, headers_old = delivery(payload, stamp=(NOW - dt.timedelta(seconds=301)).isoformat())
    with pytest.raises(WebhookVerificationError, match="stale"):
        webhooks.verify(old, headers_old, SECRET, now=NOW)
    future, headers_future = delivery(payload, stamp=(NOW + dt.timedelta(seconds=301)).isoformat())
    with pytest.raises(WebhookVerificationError, match="future"):
        webhooks.verify(future, headers_future, SECRET, now=NOW)
    recent, headers_recent = delivery(payload, stamp=(NOW - dt.timedelta(seconds=299)).isoformat())
    assert webhooks.verify(recent, headers_recent, SECRET, now=NOW) == payload
    assert webhooks.verify(old, headers_old, SECRET, now=NOW, tolerance=400) == payload


def test_parse_resource_operation_event() -> None:
    """A resource_operation event's data is a list of typed operations."""
    event = webhooks.parse(json.dumps(envelope(data=[op("failed"), FAILED_OP])))
    assert event.event_name == "resource_operation.failed"
    assert event.timestamp == NOW
    assert len(event.data) == 2
    assert all(isinstance(item, ResourceOperation) for item in event.data)
    assert event.operations[1].last_error is not None
    assert event.delivery_attempt == 1


def test_parse_other_events_keeps_dicts_and_wraps_single_records() -> None:
    """Other events keep `data` as dicts; a single record is wrapped in a list; unknown fields are kept."""
    event = webhooks.parse(envelope("message.added", data={"id": "m1", "status": "sent"}) | {"new": 1})
    assert event.data == [{"id": "m1", "status": "sent"}]
    assert event.operations == []
    assert event.model_extra == {"new": 1}


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", json.dumps({"data": []}).encode()])
def test_parse_refuses_non_envelopes(payload: bytes) -> None:
    """Non-JSON, non-objects and envelopes without event_name raise WebhookParseError."""
    with pytest.raises(WebhookParseError):
        webhooks.parse(payload)


def test_construct_event_and_sign_round_trip() -> None:
    """`sign` makes a delivery that `construct_event` verifies and parses."""
    body, headers = webhooks.sign(json.dumps(envelope()), SECRET, timestamp=NOW)
    event = webhooks.construct_event(body, headers, SECRET, now=NOW)
    assert event.operations[0].failed
    assert "WebhookEvent('resource_operation.failed'" in repr(event)


def test_sandbox_deliveries_verify_and_parse() -> None:
    """Deliveries the sandbox signs verify with the subscription's secret and parse into operations."""
    received: list[tuple[bytes, dict[str, str]]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, dict(self.headers.items())))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with Sandbox(seed=3, time_scale=0.001, tsp_latency=0) as sb:
            answer = httpx.post(
                sb.url + "/v2/notifications/webhooks",
                headers={"Authorization": f"Bearer {sb.token}"},
                json={
                    "url": f"http://127.0.0.1:{server.server_address[1]}/hook",
                    "event_name": "resource_operation.*",
                    "secret": SECRET,
                },
            )
            assert answer.status_code == 200
            conn = sb.connections[0]
            with CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client:
                batch = client.messages.create_many(
                    [
                        {"connection_id": conn.id, "sender_id": conn.users[0], "recipient_id": conn.users[1]}
                        for _ in range(3)
                    ]
                )
                client.operations.wait(batch, poll_interval=0.05)
            deadline = time.monotonic() + 30
            while len(received) < 6 and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) >= 6  # created, then succeeded or failed, for each of the three
    events = [webhooks.construct_event(body, headers, SECRET) for body, headers in received]
    ids = {op.id for op in batch.operations}
    assert {op.id for e in events for op in e.operations} == ids
    assert {e.event_name for e in events} >= {"resource_operation.created"}
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(received[0][0], received[0][1], "not-the-secret-at-all")
