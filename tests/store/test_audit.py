"""AuditStore: upserts, the frames read back, filters, SQL, Parquet export (no server involved)."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import duckdb
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from catena_nb.frames import logs_frame, messages_frame, operations_frame
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.records import lookup_shape
from catena_nb.sandbox.sim.world import build_world
from catena_nb.store import AuditStore, UpsertResult, audit


@pytest.fixture(scope="module")
def history() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Three days of wire-shaped operations and message records, as the API would list them."""
    hist = generate_history(build_world(11), 11, 3, "2026-11-01")
    return [lookup_shape(op) for op in hist.operations], [dict(m) for m in hist.messages]


def _by_time(records: list[dict[str, Any]], field: str = "created_at") -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: (r[field], r["id"]))


def _pending(op: dict[str, Any]) -> dict[str, Any]:
    """The same operation as it looked while pending: no logs, no ids, an earlier updated_at."""
    early = copy.deepcopy(op)
    early.update(status="pending", logs=[], resource_id=None, source_id=None, updated_at=op["created_at"])
    return early


def test_frames_from_store_equal_frames_of_same_operations(history):
    """operations_frame, logs_frame and messages_frame read back equal the frames of the records stored."""
    ops, msgs = history
    shuffled = ops[:]
    random.Random(3).shuffle(shuffled)
    with AuditStore(":memory:") as store:
        store.upsert(shuffled[:1500])
        store.upsert(shuffled[1500:])
        store.upsert_messages(msgs)
        assert_frame_equal(store.operations_frame(), operations_frame(_by_time(ops)))
        assert_frame_equal(store.logs_frame(), logs_frame(_by_time(ops)))
        assert_frame_equal(store.messages_frame(), messages_frame(_by_time(msgs, "occurred_at")))


def test_odd_records_round_trip_like_the_frames():
    """Unknown fields, differing payloads, null logs and numbers in payloads come back as the frames give."""
    base = {
        "partner_id": "p",
        "connection_id": "c1",
        "source_name": "samsara",
        "resource": "message",
        "operation_type": "create",
        "status": "failed",
    }
    ops = [
        {**base, "id": "a", "created_at": "2026-10-01T00:00:00Z", "updated_at": "2026-10-01T00:00:02Z",
         "payload": {"message_text": "hi", "priority": "low"}, "logs": None,
         "shiny_new_field": {"k": [1, 2]}},
        {**base, "id": "b", "created_at": "2026-10-01T00:00:01Z", "updated_at": "2026-10-01T00:00:03+00:00",
         "payload": {"retries": 3, "urgent": True, "message_text": None},
         "logs": [
             {"id": "l2", "created_at": "2026-10-01T00:00:03Z", "status": "failed", "error_type": "tsp",
              "response_status_code": 503, "vendor_trace": "x1"},
             {"id": "l1", "created_at": "2026-10-01T00:00:02Z", "status": "failed", "error_type": "network"},
         ]},
        {**base, "id": "c", "created_at": "2026-10-01T00:00:02Z", "updated_at": None, "status": "mystery",
         "source_name": "brand_new_tsp", "logs": [], "payload": {}},
    ]  # fmt: skip
    with AuditStore(":memory:") as store:
        store.upsert(ops)
        assert_frame_equal(store.operations_frame(), operations_frame(ops))
        assert_frame_equal(store.logs_frame(), logs_frame(ops))


def test_empty_store_has_the_frames_columns_and_dtypes():
    """An empty store answers frames with the same columns and dtypes as frames of no records."""
    with AuditStore(":memory:") as store:
        assert_frame_equal(store.operations_frame(), operations_frame([]))
        assert_frame_equal(store.logs_frame(), logs_frame([]))
        assert_frame_equal(store.messages_frame(), messages_frame([]))


def test_newer_record_replaces_older_and_nothing_is_duplicated(history):
    """A settled record replaces its pending one; a late pending copy or a duplicate changes nothing."""
    ops, _ = history
    final = next(op for op in ops if len(op["logs"]) >= 2)
    early = _pending(final)
    with AuditStore(":memory:") as store:
        assert store.upsert([early]) == UpsertResult(inserted=1)
        assert store.operations_frame()["status"].tolist() == ["pending"]
        assert store.upsert([final]) == UpsertResult(updated=1)
        assert store.upsert([early]) == UpsertResult(unchanged=1)  # a late delivery of the older state
        assert store.upsert([final, final]) == UpsertResult(unchanged=1)
        assert store.count("operations") == 1
        assert store.count("logs") == len(final["logs"])
        assert_frame_equal(store.operations_frame(), operations_frame([final]))
        assert_frame_equal(store.logs_frame(), logs_frame([final]))


def test_one_batch_holding_both_versions_keeps_the_newest(history):
    """Within one upsert, the newest version of an operation wins whatever the order."""
    ops, _ = history
    final = next(op for op in ops if op["status"] == "failed")
    with AuditStore(":memory:") as store:
        assert store.upsert([final, _pending(final)]) == UpsertResult(inserted=1)
        assert_frame_equal(store.operations_frame(), operations_frame([final]))


def test_models_and_page_bodies_are_accepted(history):
    """Models and raw page bytes are stored like the dicts they hold."""
    from catena_nb.models import ResourceOperation

    ops, _ = history
    models = [ResourceOperation.model_validate(op) for op in ops[:50]]
    page = json.dumps({"items": ops[50:100], "next_page": None}).encode()
    with AuditStore(":memory:") as store:
        assert store.upsert(models).inserted == 50
        assert store.upsert(page).inserted == 50
        assert store.count() == 100


def test_filters_select_like_pandas(history):
    """since/until/source_name/connection_id/status select what filtering the full frame selects."""
    ops, _ = history
    with AuditStore(":memory:") as store:
        store.upsert(ops)
        full = store.operations_frame()
        since, until = pd.Timestamp("2026-10-31T06:00Z"), pd.Timestamp("2026-11-01T00:00Z")
        conn = full["connection_id"].iloc[0]
        got = store.operations_frame(since=since, until=until, status=["failed"], connection_id=conn)
        want = full[
            (full["created_at"] >= since)
            & (full["created_at"] < until)
            & (full["status"] == "failed")
            & (full["connection_id"] == conn)
        ]
        assert len(got) == len(want) > 0
        assert got["operation_id"].tolist() == want["operation_id"].tolist()
        tsp = str(full["source_name"].iloc[0])
        logs = store.logs_frame("2026-10-31", "2026-11-01", source_name=tsp)
        day = pd.Timestamp("2026-10-31T00:00Z")
        ids = set(full[(full["created_at"] >= day) & (full["created_at"] < until)]["operation_id"])
        assert set(logs["operation_id"]) <= ids
        assert set(logs["source_name"].astype(str)) == {tsp}


def test_failed_write_leaves_neither_rows_nor_bookkeeping(history, monkeypatch):
    """Rows and sync state commit together: if the write fails, neither is kept."""
    ops, _ = history
    with AuditStore(":memory:") as store:

        def broken(con, state):
            raise RuntimeError("disk full")

        monkeypatch.setattr(audit, "write_state", broken)
        with pytest.raises(RuntimeError, match="disk full"):
            store.upsert(ops[:100], state={"operations.high_water": "2026-11-01T00:00:00Z"})
        monkeypatch.undo()
        assert store.count() == 0
        assert store.count("logs") == 0
        assert "operations.high_water" not in store.state()


def test_store_file_survives_reopening(history, tmp_path):
    """What one process stored, a later one reads back unchanged, bookkeeping included."""
    ops, _ = history
    path = tmp_path / "audit.duckdb"
    with AuditStore(path) as store:
        store.upsert(ops, state={"operations.high_water": "2026-11-02T00:00:00.000000Z"})
        before = store.operations_frame()
    with AuditStore(path, read_only=True) as store:
        assert_frame_equal(store.operations_frame(), before)
        assert store.state()["operations.high_water"] == "2026-11-02T00:00:00.000000Z"
        assert str(len(ops)) in repr(store)


def test_query_and_parquet_export_by_day(history, tmp_path):
    """SQL runs over the tables, and the Parquet export holds every row, one Hive folder per UTC date."""
    ops, msgs = history
    with AuditStore(":memory:") as store:
        store.upsert(ops)
        store.upsert_messages(msgs)
        counts = store.query("SELECT status, count(*) AS n FROM operations GROUP BY status ORDER BY status")
        assert counts["n"].sum() == len(ops)
        one = store.query("SELECT count(*) AS n FROM logs WHERE operation_id = ?", [ops[0]["id"]])
        assert int(one["n"].iloc[0]) == len(ops[0]["logs"])
        folders = store.export_parquet(tmp_path / "export")
        store.export_parquet(tmp_path / "export")  # a second export replaces the first
    days = sorted(p.name for p in folders["operations"].iterdir())
    assert days == ["date=2026-10-30", "date=2026-10-31", "date=2026-11-01"]
    # read as it is, the partition is a DATE column that each row's creation time falls on
    hive = (
        duckdb.connect()
        .execute(
            f"SELECT count(*) FILTER (WHERE date <> CAST(timezone('UTC', created_at) AS DATE)), "
            f"any_value(typeof(date)) FROM read_parquet('{folders['operations']}/*/*.parquet', "
            "hive_partitioning = true)"
        )
        .fetchall()
    )
    assert hive == [(0, "DATE")]
    for table, n in (
        ("operations", len(ops)),
        ("logs", sum(len(o["logs"]) for o in ops)),
        ("messages", len(msgs)),
    ):
        glob = str(folders[table] / "*" / "*.parquet")
        assert duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall() == [(n,)]


def test_closed_store_says_so(tmp_path):
    """Using a closed store raises a clear error, and closing twice is fine."""
    store = AuditStore(tmp_path / "a.duckdb")
    store.close()
    store.close()
    assert "closed" in repr(store)
    with pytest.raises(RuntimeError, match="closed"):
        store.operations_frame()


def test_a_store_that_cannot_be_opened_raises_an_error_naming_the_file(tmp_path):
    """Missing (read-only), not DuckDB, a DuckDB file of other tables, held elsewhere: each its own error."""
    import subprocess
    import sys

    from catena_nb.store import NotAStoreError, StoreError, StoreLockedError, StoreNotFoundError

    missing = tmp_path / "missing.duckdb"
    with pytest.raises(StoreNotFoundError, match="no audit store at") as caught:
        AuditStore(missing, read_only=True)
    assert isinstance(caught.value, FileNotFoundError)
    assert not missing.exists()  # a read never creates the file
    text = tmp_path / "notes.txt"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n")
    for read_only in (True, False):
        with pytest.raises(NotAStoreError, match="not a DuckDB database file"):
            AuditStore(text, read_only=read_only)
    assert text.read_text() == "root:x:0:0:root:/root:/bin/bash\n"
    foreign = tmp_path / "foreign.duckdb"
    duckdb.connect(str(foreign)).execute("CREATE TABLE t (x INTEGER)").close()
    with pytest.raises(NotAStoreError, match="without the audit store's tables"):
        AuditStore(foreign, read_only=True)

    held = tmp_path / "held.duckdb"
    AuditStore(held).close()
    hold = f"import duckdb, sys; c = duckdb.connect({str(held)!r}); print(1, flush=True); sys.stdin.read()"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "1"
        for read_only in (False, True):
            with pytest.raises(StoreLockedError) as locked:
                AuditStore(held, read_only=read_only, lock_wait=0.5)
            assert locked.value.pid == holder.pid
            assert locked.value.waited == 0.5
            assert locked.value.path == str(held)
            assert str(held) in str(locked.value)
            assert "for more than 0.5 s" in str(locked.value)
            assert isinstance(locked.value, StoreError | RuntimeError)
    finally:
        holder.communicate("")
