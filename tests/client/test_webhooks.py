"""`client.webhooks` against the sandbox: every notifications route, sync and async, as the spec shapes it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

import catena_nb as cn
from catena_nb import AsyncCatenaClient, CatenaClient
from catena_nb.client.resources.webhook_models import Webhook, WebhookMetrics
from catena_nb.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from catena_nb.sandbox import Sandbox
from tests.support.receiver import Receiver

SECRET = "whsec-client-test-0123456789"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=11, tsp_latency=0.0, time_scale=0.001) as sandbox:
        yield sandbox


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def client(sb: Sandbox) -> Iterator[CatenaClient]:
    with CatenaClient(base_url=sb.url, token=sb.token, progress=False) as c:
        yield c


def _send(client: CatenaClient, sb: Sandbox, n: int) -> None:
    conn = sb.message_connections[0]
    rows = [
        {
            "connection_id": conn.id,
            "sender_id": conn.users[0],
            "recipient_id": conn.users[-1],
            "message_text": f"m {i}",
        }
        for i in range(n)
    ]
    batch = client.messages.create_many(rows, sync=False, progress=False)
    assert len(batch.operations) == n
    assert sb.wait_idle(60)


def test_every_route_through_the_sync_client(client: CatenaClient, sb: Sandbox, receiver: Receiver) -> None:
    """Create (a wildcard makes one per event), list with filters and pages, get, update, pause, activate,
    logs with filters, metrics, replay and delete, each answered as the spec says."""
    subs = client.webhooks.create(url=receiver.url, event_name="resource_operation.*", secret=SECRET)
    assert sorted(s.event_name for s in subs) == [
        "resource_operation.created",
        "resource_operation.failed",
        "resource_operation.succeeded",
    ]
    assert {s.secret for s in subs} == {SECRET}
    assert all(s.status == "active" for s in subs)
    assert all(isinstance(s, Webhook) and s.partner_id == sb.partner_id for s in subs)
    created = next(s for s in subs if s.event_name == "resource_operation.created")

    listed = client.webhooks.list(event_name="resource_operation.created", size=1).to_list()
    assert [s.id for s in listed] == [created.id]
    assert listed[0].secret == "*****"
    every = client.webhooks.list(size=1).to_list()  # one per page, following the cursors
    assert {s.id for s in subs} <= {s.id for s in every}
    assert client.webhooks.get(created.id).url == receiver.url

    receiver.status = 503  # down: the created events go to the dead-letter queue
    _send(client, sb, 3)
    metrics = client.webhooks.metrics(created)
    assert isinstance(metrics, WebhookMetrics)
    assert metrics.dlq_count == 3
    assert metrics.http_attempts.h6 == 12
    assert metrics.message_count.h24 == 3
    assert metrics.success_rate.h6 is None  # only from 200 messages on
    logs = client.webhooks.logs(created, status="failed", size=5).to_list()
    assert len(logs) == 12
    assert {log.status_code for log in logs} == {503}
    assert sorted({log.delivery_attempt or 0 for log in logs}) == [1, 2, 3, 4]
    assert client.webhooks.logs(created, start_date="2030-01-01T00:00:00Z").to_list() == []
    frame = cn.webhook_logs_frame(logs)
    assert list(frame.columns) == list(cn.frames.webhooks.WEBHOOK_LOG_COLUMNS)
    assert len(frame) == 12

    receiver.status = 202
    before = len(receiver.event_ids())
    assert client.webhooks.replay(created) == {"webhook_id": created.id, "replayed": 3}
    assert sb.wait_idle(60)
    assert len(receiver.event_ids()) - before == 3
    assert client.webhooks.metrics(created).dlq_count == 0

    paused = client.webhooks.pause(created)
    assert paused.status == "inactive"
    assert client.webhooks.list(status="inactive").to_list()[0].id == created.id
    assert client.webhooks.activate(created).status == "active"
    moved = client.webhooks.update(created, url=receiver.url + "/moved", secret=SECRET + "-2")
    assert moved.url == receiver.url + "/moved"
    assert moved.secret == "*****"
    for s in subs:
        client.webhooks.delete(s)
    with pytest.raises(NotFoundError):
        client.webhooks.get(created.id)


def test_every_route_through_the_async_client(sb: Sandbox, receiver: Receiver) -> None:
    """The async twin answers as the sync one: create, list, get, update, pause, activate, logs, metrics,
    replay, delete."""

    async def run() -> None:
        async with AsyncCatenaClient(base_url=sb.url, token=sb.token, progress=False) as client:
            hooks = client.webhooks
            [sub] = await hooks.create(url=receiver.url + "/a", event_name="message.added")
            assert sub.secret is not None
            assert len(sub.secret) >= 12
            assert [s.id async for s in hooks.list(event_name="message.added")] == [sub.id]
            assert (await hooks.get(sub)).secret == "*****"
            filters = (await hooks.update(sub, fleet_refs=["fleet-x"])).filters
            assert filters is not None
            assert filters.fleet_refs == ["fleet-x"]
            assert (await hooks.pause(sub)).status == "inactive"
            assert (await hooks.activate(sub)).status == "active"
            assert [log async for log in hooks.logs(sub)] == []
            metrics = await hooks.metrics(sub)
            assert metrics.dlq_count == 0
            assert metrics.ewma_success_rate is None
            assert (await hooks.replay(sub))["replayed"] == 0
            await hooks.delete(sub)
            with pytest.raises(NotFoundError):
                await hooks.get(sub)

    asyncio.run(run())


def test_the_metrics_frame_has_a_row_per_window(client: CatenaClient, receiver: Receiver) -> None:
    """webhook_metrics_frame: one row per subscription and window, counts as nullable integers."""
    subs = client.webhooks.create(url=receiver.url + "/f", event_name="webhook.*", secret=SECRET)
    assert len(subs) == 4  # webhook.created, .updated, .deleted, .staled
    frame = cn.webhook_metrics_frame([client.webhooks.metrics(s) for s in subs])
    assert len(frame) == 16
    assert list(frame["window"].cat.categories) == ["6h", "24h", "7d", "14d"]
    assert str(frame["dlq_count"].dtype) == "Int64"
    assert frame.attrs["catena_nb"] == "webhook_metrics"
    for s in subs:
        client.webhooks.delete(s)


def test_bad_arguments_raise_before_anything_is_sent_and_never_show_the_secret(
    client: CatenaClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A short secret, a bad URL, a bad id or status raise InvalidRequestError before I/O; no repr, log
    line or error shows a secret."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InvalidRequestError) as short:
        client.webhooks.create(url="http://127.0.0.1:9/x", event_name="message.added", secret="short-1")
    assert "short-1" not in str(short.value)
    with pytest.raises(InvalidRequestError):
        client.webhooks.create(url="ftp://x", event_name="message.added")
    with pytest.raises(InvalidRequestError):
        client.webhooks.update("not-a-uuid", status="stale")
    [sub] = client.webhooks.create(
        url="http://127.0.0.1:9/secret", event_name="message.modified", secret=SECRET
    )
    with pytest.raises(cn.APIStatusError) as clash:  # 409: it exists
        client.webhooks.create(url="http://127.0.0.1:9/secret", event_name="message.modified", secret=SECRET)
    assert clash.value.status_code == 409
    shown = [repr(sub), str(sub), str(clash.value), repr(clash.value), caplog.text]
    assert not any(SECRET in text for text in shown)
    client.webhooks.delete(sub)


def test_the_routes_need_the_scopes_the_spec_names() -> None:
    """With only webhook:read, reads answer and create, update, replay and delete answer 403."""
    with (
        Sandbox(seed=12, scopes=["webhook:read"], tsp_latency=0.0) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
    ):
        assert client.webhooks.list().to_list() == []
        some = "0190a8a4-0000-7000-8000-000000000001"
        with pytest.raises(PermissionDeniedError):
            client.webhooks.create(url="http://127.0.0.1:9/x", event_name="message.added")
        for call in (client.webhooks.replay, client.webhooks.pause, client.webhooks.delete):
            with pytest.raises(PermissionDeniedError):
                call(some)
