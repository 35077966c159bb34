"""The store's http_status_source column: kept like the frames', filled in when reading an older store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from pandas.testing import assert_frame_equal

import catena_nb as cn
from catena_nb.frames import logs_frame, operations_frame
from catena_nb.store import AuditStore

TEXT = "Client error '401 Unauthorized' for url 'https://api.samsara.com/v1/fleet/messages'"


def _operations() -> list[dict[str, Any]]:
    def op(n: int, log: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"op-{n}",
            "created_at": f"2026-10-0{n}T10:00:00Z",
            "updated_at": f"2026-10-0{n}T10:00:05Z",
            "connection_id": "conn-1",
            "source_name": "samsara",
            "resource": "message",
            "operation_type": "create",
            "status": "failed",
            "payload": {"message_text": "hi"},
            "logs": [{"id": f"log-{n}", "created_at": f"2026-10-0{n}T10:00:01Z", "status": "failed"} | log],
        }

    return [
        op(1, {"error_type": "auth", "error_details": TEXT, "response_status_code": 403}),
        op(2, {"error_type": "auth", "error_details": TEXT}),
        op(3, {"error_type": "network", "error_details": "ReadTimeout: The read operation timed out"}),
    ]


def test_the_store_keeps_http_status_source(tmp_path: Path) -> None:
    """A stored frame has the frames' http_status and http_status_source, and says it is a frame."""
    ops = _operations()
    with AuditStore(tmp_path / "a.duckdb") as store:
        store.upsert(ops)
        stored_ops, stored_logs = store.operations_frame(), store.logs_frame()
    assert_frame_equal(stored_ops, operations_frame(ops))
    assert_frame_equal(stored_logs, logs_frame(ops))
    assert stored_ops["http_status_source"].tolist()[:2] == ["response", "error_details"]
    assert (stored_ops.attrs, stored_logs.attrs) == ({"catena_nb": "operations"}, {"catena_nb": "logs"})
    assert cn.retry_effect(stored_ops, stored_logs)["n"].tolist() == [3]


def _make_old(path: Path) -> None:
    """Turn the store into one written before http_status_source: no such column, and http_status only where
    the log had a response_status_code."""
    con = duckdb.connect(str(path))
    for table in ("operations", "logs"):
        con.execute(f"UPDATE {table} SET http_status = NULL WHERE http_status_source = 'error_details'")
        con.execute(f"ALTER TABLE {table} DROP COLUMN http_status_source")
    con.close()


def test_an_older_store_is_read_with_http_status_source_filled_in(tmp_path: Path) -> None:
    """A store without the column reads (read-only, and opened for writing, which adds it) as the frames."""
    ops = _operations()
    path = tmp_path / "old.duckdb"
    with AuditStore(path) as store:
        store.upsert(ops)
    _make_old(path)
    with AuditStore(path, read_only=True) as store:
        assert_frame_equal(store.operations_frame(), operations_frame(ops))
        assert_frame_equal(store.logs_frame(), logs_frame(ops))
    with AuditStore(path) as store:  # opened for writing: the column is added, the old rows are NULL there
        columns = {
            name
            for (name,) in store.query(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'operations'"
            ).itertuples(index=False)
        }
        assert "http_status_source" in columns
        assert_frame_equal(store.operations_frame(), operations_frame(ops))
        store.upsert(ops)  # rewritten by this version: the same frames
        assert_frame_equal(store.logs_frame(), logs_frame(ops))
