"""AuditStore.sync against the sandbox: incremental, resumable after SIGKILL, pending ones re-checked."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pandas.testing import assert_frame_equal

from catena_nb._time import format_dt
from catena_nb.client import CatenaClient
from catena_nb.frames import operations_frame
from catena_nb.sandbox import Sandbox
from catena_nb.store import AuditStore
from catena_nb.store import sync as _store_sync

LIST_ROUTE = ("GET", "/v2/integrations/connections/resource-operations")
GET_ROUTE = (
    "GET",
    "/v2/integrations/connections/{connection_id}/resource-operations/{resource_operation_id}",
)
# 51 days of history hold about 100,000 operations (about 2,000 a day: fewer at weekends)
BIG_HISTORY_DAYS = 51
HISTORY_START = "2026-09-12"  # the first day of 51 days ending on the anchor, 2026-11-01


@pytest.fixture(scope="module")
def big() -> Iterator[tuple[Sandbox, CatenaClient]]:
    """A sandbox with about 100,000 operations of history, and a client of it."""
    with (
        Sandbox(seed=5, history=BIG_HISTORY_DAYS, anchor="2026-11-01", time_scale=0.001, tsp_latency=0) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
    ):
        yield sb, client


def _truth(sb: Sandbox, since: str | None = None, until: str | None = None) -> dict[str, str]:
    """Operation id -> status, as the sandbox holds them (created in [since, until) when given)."""
    out: dict[str, str] = {}
    for op in sb.state.iter_operations():
        created = str(op["created_at"])
        if (since is None or created >= since) and (until is None or created < until):
            out[str(op["id"])] = str(op["status"])
    return out


def _stored(store: AuditStore) -> dict[str, str]:
    rows = store.query("SELECT operation_id, status FROM operations")
    return dict(zip(rows["operation_id"], rows["status"], strict=True))


def _list_pages(sb: Sandbox) -> int:
    return sb.requests[LIST_ROUTE]


@pytest.mark.slow
def test_sync_of_100k_then_second_sync_fetches_only_what_changed(big, tmp_path):
    """A first sync stores every operation once; the next lists only the new ones (counted by the server)."""
    sb, client = big
    truth = _truth(sb)
    assert len(truth) > 95_000
    with AuditStore(tmp_path / "audit.duckdb") as store:
        before = _list_pages(sb)
        first = store.sync(client, since=HISTORY_START, messages=False, progress=False)
        first_pages = _list_pages(sb) - before
        assert first.inserted == len(truth) == store.count()
        assert _stored(store) == truth
        assert first_pages >= len(truth) // 1000

        conn = sb.connections[0]
        rows = [
            {"connection_id": conn.id, "sender_id": conn.users[0], "recipient_id": conn.users[-1],
             "message_text": f"check {i}"}
            for i in range(30)
        ]  # fmt: skip
        batch = client.messages.create_many(rows, sync=False, concurrency=4, progress=False)
        assert len(batch.operations) == 30
        assert sb.wait_idle(120)
        before, lookups_before = _list_pages(sb), sb.requests[GET_ROUTE]
        second = store.sync(client, messages=False, progress=False)
        second_pages = _list_pages(sb) - before
        assert second.inserted == 30
        assert second.updated == 0
        assert second_pages <= 2 < first_pages // 20
        assert sb.requests[GET_ROUTE] == lookups_before
        assert _stored(store) == _truth(sb)

        # the store's frame of a window equals the frame of the same operations listed from the API
        window = {"since": "2026-10-20", "until": "2026-10-22"}
        listed = [item for page in client.operations.list(**window).pages() for item in page.raw_items]
        assert_frame_equal(store.operations_frame(**window), operations_frame(listed))


@pytest.mark.slow
def test_sync_killed_part_way_resumes_with_every_operation_once(big, tmp_path):
    """A `catena-nb sync` killed by SIGKILL part-way through 50,000 operations loses nothing when re-run."""
    sb, client = big
    since, until = "2026-10-08", "2026-11-02"  # 25 days, about 50,000 operations, two windows
    truth = _truth(sb, "2026-10-08T", "2026-11-02T")
    assert len(truth) > 45_000
    path = tmp_path / "audit.duckdb"
    env = {**os.environ, "CATENA_BASE_URL": sb.url, "CATENA_TOKEN": sb.token, "TQDM_DISABLE": "1"}
    cmd = [sys.executable, "-m", "catena_nb.cli", "sync", "--store", str(path), "--since", since,
           "--until", until, "--no-messages", "--no-progress"]  # fmt: skip
    start = _list_pages(sb)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while _list_pages(sb) - start < 15 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, (out, err)

    with AuditStore(path) as store:
        kept = store.count()
        assert 0 < kept < len(truth)  # killed part-way, with what was committed kept
        mark = store.state()["operations.high_water"]
        assert since <= mark < until

        before = _list_pages(sb)
        summary = store.sync(client, since=since, until=until, messages=False, progress=False)
        resumed_pages = _list_pages(sb) - before
        assert store.count() == len(truth)
        assert summary.inserted == len(truth) - kept
        assert _stored(store) == truth
        dupes = store.query("SELECT count(*) - count(DISTINCT operation_id) AS n FROM operations")
        assert int(dupes["n"].iloc[0]) == 0
        logs = store.query("SELECT count(*) - count(DISTINCT log_id) AS d, count(*) AS n FROM logs")
        assert int(logs["d"].iloc[0]) == 0
        assert int(logs["n"].iloc[0]) == sum(
            len(op["logs"]) for op in sb.state.iter_operations() if str(op["id"]) in truth
        )
        assert resumed_pages < len(truth) // 1000  # it resumed: it did not list everything again


@pytest.fixture
def slow_tsp() -> Iterator[tuple[Sandbox, CatenaClient]]:
    """A sandbox whose TSPs take 3 s per call, so that async sends stay pending for a while."""
    with (
        Sandbox(seed=9, time_scale=0.001, tsp_latency=3.0) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
    ):
        yield sb, client


def _send(sb: Sandbox, client: CatenaClient, n: int) -> list[Any]:
    conn = sb.connections[1]
    rows = [
        {"connection_id": conn.id, "sender_id": conn.users[0], "recipient_id": conn.users[-1],
         "message_text": f"pending {i}"}
        for i in range(n)
    ]  # fmt: skip
    return client.messages.create_many(rows, sync=False, concurrency=8, progress=False).operations


def test_pending_operations_are_rechecked_by_lookup_or_relisting(slow_tsp, tmp_path, monkeypatch):
    """Operations stored while pending are refreshed: one by lookup, many by listing their span again."""
    sb, client = slow_tsp
    # with no overlap the next sync lists only after the mark, so the re-check alone must find the outcomes
    monkeypatch.setattr(_store_sync, "OPERATIONS_OVERLAP", dt.timedelta(0))
    with AuditStore(tmp_path / "audit.duckdb") as store:
        for n, by_lookup in ((1, True), (16, False)):
            ops = _send(sb, client, n)
            first = store.sync(client, since="2026-01-01", messages=False, progress=False)
            assert first.still_pending >= 1
            pending = first.still_pending
            assert sb.wait_idle(120)
            lookups, pages = sb.requests[GET_ROUTE], _list_pages(sb)
            second = store.sync(client, messages=False, progress=False)
            assert second.rechecked == pending
            assert second.still_pending == 0
            if by_lookup:
                assert sb.requests[GET_ROUTE] - lookups == pending
            else:
                assert sb.requests[GET_ROUTE] == lookups
                assert _list_pages(sb) - pages <= 3
            stored = _stored(store)
            assert all(stored[op.id] == sb.state.get_operation(op.id)["status"] != "pending" for op in ops)


@pytest.mark.slow
def test_sync_backfills_earlier_days_and_keeps_messages(tmp_path):
    """A later sync with an earlier `since` fills the days before; messages are kept with their status."""
    with (
        Sandbox(seed=4, history=4, anchor="2026-11-01", time_scale=0.001, tsp_latency=0) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
        AuditStore(tmp_path / "audit.duckdb") as store,
    ):
        store.sync(client, since="2026-10-31", until="2026-11-02", progress=False)
        assert store.state()["operations.covered_from"].startswith("2026-10-31")
        summary = store.sync(client, since="2026-10-29", until="2026-11-02", progress=False)
        assert summary.inserted > 0
        assert store.state()["operations.covered_from"].startswith("2026-10-29")
        assert _stored(store) == _truth(sb)
        listed = [m for page in client.messages.list(since="2026-10-29", until="2026-11-02").pages()
                  for m in page.raw_items]  # fmt: skip
        msgs = store.messages_frame()
        assert len(msgs) == len(listed) > 0
        assert dict(zip(msgs["message_id"], msgs["status"].astype(str), strict=True)) == {
            m["id"]: m["status"] for m in listed
        }


def test_a_store_of_the_previous_version_syncs_its_messages_from_where_its_operations_start(tmp_path):
    """A store with no requested start and no messages mark gets every message from its operations' start."""
    anchor = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=50)  # all of it older than now - 45 days
    start = dt.datetime.combine(anchor - dt.timedelta(days=1), dt.time(0), dt.UTC)
    with (
        Sandbox(seed=4, history=2, anchor=anchor.isoformat(), time_scale=0.001, tsp_latency=0) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
        AuditStore(tmp_path / "old.duckdb") as store,
    ):
        # what the previous version left after a sync stopped before its messages phase
        now = dt.datetime.now(dt.UTC)
        pages = client.operations.list(since=start, until=now).pages()
        listed = [op for page in pages for op in page.raw_items]
        marks = {"operations.covered_from": format_dt(start), "operations.high_water": format_dt(now)}
        store.upsert(listed, state=marks)
        first = store.sync(client, messages=False, progress=False)
        assert first.operations_from == format_dt(start)
        assert first.messages_from is None
        assert "messages not synced yet" in str(first)
        summary = store.sync(client, progress=False)
        truth = [m for page in client.messages.list(since=start, until=now).pages() for m in page.raw_items]
        assert len(truth) > 1000
        assert store.count("messages") == len(truth) == summary.messages_inserted
        assert summary.covers("messages") == (format_dt(start), summary.operations_to)
        assert store.state()["sync.requested_from"] == format_dt(start)
        assert f"messages cover {start:%Y-%m-%dT%H:%M:%SZ} to " in str(summary)
