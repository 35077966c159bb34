"""Replaying Catena's dead-letter queues: the documented route, the client's own API, `listen` on start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from catena_nb.client import CatenaClient
from catena_nb.errors import NotFoundError
from catena_nb.sandbox.server import ServerThread
from catena_nb.store import AuditStore
from catena_nb.store.merge import merge_deliveries
from catena_nb.store.replay import replay, replay_dead_letters
from catena_nb.store.spool import Delivery
from tests.support.listener import SECRET, _free_port

SUB = "0194a1b2-0000-7000-8000-00000000aaaa"
OTHER = "0194a1b2-0000-7000-8000-00000000bbbb"


def _client(seen: list[httpx.Request], status: int = 202) -> CatenaClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if status == 404:
            return httpx.Response(404, json={"code": 404, "message": "Not Found", "detail": "no webhook"})
        return httpx.Response(status, json={"status": "replaying"})

    return CatenaClient(base_url="https://api.test", token="t0ken", transport=httpx.MockTransport(answer))


def test_replay_posts_the_documented_route_and_raises_typed_errors():
    """A replay is one POST to /v2/notifications/webhooks/{id}/replay; a 404 raises NotFoundError."""
    seen: list[httpx.Request] = []
    with _client(seen) as client:
        assert replay(client, SUB) == {"status": "replaying"}
    assert [(r.method, r.url.path) for r in seen] == [("POST", f"/v2/notifications/webhooks/{SUB}/replay")]
    with _client(seen := [], 404) as client, pytest.raises(NotFoundError):
        replay(client, SUB)
    assert len(seen) == 1  # sent once, never retried
    with _client(seen := []) as client, pytest.raises(ValueError, match="not a webhook subscription id"):
        replay(client, "../../v2/other")
    assert seen == []


def test_replay_uses_the_clients_notifications_api_when_it_has_one():
    """With a `client.webhooks.replay`, that is what is called."""
    calls: list[str] = []

    class Webhooks:
        def replay(self, webhook_id: str) -> str:
            calls.append(webhook_id)
            return "accepted"

    seen: list[httpx.Request] = []
    with _client(seen) as client:
        client.webhooks = Webhooks()  # type: ignore[assignment]
        assert replay(client, SUB) == "accepted"
    assert calls == [SUB]
    assert seen == []


def test_replay_dead_letters_reports_each_subscription_and_never_raises():
    """Each id gets its outcome; a refused one is reported, not raised."""
    with _client([], 404) as client:
        assert replay_dead_letters(client, [SUB, SUB])[SUB].startswith("not replayed")
    with _client([]) as client:
        assert replay_dead_letters(client, [SUB]) == {SUB: "replay requested"}


def _listen(store: Any, port: int, api: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CATENA_TEST_HOOK_SECRET": SECRET, "CATENA_BASE_URL": api, "CATENA_TOKEN": "t0ken"}
    cmd = [sys.executable, "-m", "catena_nb.cli", "listen", "--store", str(store), "--port", str(port)]
    cmd += ["--secret-env", "CATENA_TEST_HOOK_SECRET", *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_listen_replays_the_dead_letter_queues_of_its_subscriptions_on_start(tmp_path):
    """`catena-nb listen` asks for a replay of each subscription that delivered to its store (not with
    --no-replay), and of those named with --webhook-id."""
    replays: list[str] = []

    async def record(request: Request) -> JSONResponse:
        replays.append(request.url.path)
        return JSONResponse({}, status_code=202)

    api = ServerThread(Starlette(routes=[Route("/{path:path}", record, methods=["POST"])]))
    api.start()
    path = tmp_path / "hooks.duckdb"
    with AuditStore(path) as store:
        merge_deliveries(store, [Delivery("evt-1", SUB, "resource_operation.created", "operations",
                                          "2026-11-20T10:00:00Z", [])])  # fmt: skip
    try:
        for extra, expected in (
            (["--no-replay"], []),
            (
                ["--webhook-id", "0194a1b2-0000-7000-8000-00000000bbbb"],
                [SUB, "0194a1b2-0000-7000-8000-00000000bbbb"],
            ),
        ):
            replays.clear()
            port = _free_port()
            proc = _listen(path, port, f"http://127.0.0.1:{api.port}", *extra)
            deadline = time.monotonic() + 60
            while True:  # serving, and so past the replay (which comes after the server started)
                try:
                    httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "the receiver did not start"
                    time.sleep(0.1)
            while len(replays) < len(expected) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)  # anything more would come now
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert sorted(replays) == sorted(f"/v2/notifications/webhooks/{s}/replay" for s in expected)
            for sub in expected:
                assert f"Webhook {sub}: replay requested." in out
    finally:
        api.stop()


def test_replay_finds_the_listeners_subscriptions_by_url_and_activates_a_stale_one():
    """The subscriptions listed with the listener's loopback URL (or a --url prefix) are replayed; a stale
    one is activated first; another port's subscription is left alone."""
    from catena_nb.sandbox import Sandbox

    with (
        Sandbox(seed=13, tsp_latency=0.0) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
    ):
        [mine] = client.webhooks.create(url="http://127.0.0.1:18080/catena", event_name="message.added")
        [proxied] = client.webhooks.create(url="https://hooks.example.com/catena", event_name="message.added")
        [other] = client.webhooks.create(url="http://127.0.0.1:18081/catena", event_name="message.added")
        sb.state.set_webhook_status(mine.id, "stale")
        done = replay_dead_letters(client, [], port=18080, urls=["https://hooks.example.com/"])
        assert done == {
            mine.id: "activated (it was stale); replay requested",
            proxied.id: "replay requested",
        }
        assert client.webhooks.get(mine).status == "active"
        assert client.webhooks.get(other).status == "active"
        assert other.id not in done
