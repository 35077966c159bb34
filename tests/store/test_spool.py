"""The write-ahead spool and its merge: durable lines, a bad delivery kept apart and merged later."""

from __future__ import annotations

from typing import Any

import pytest

from catena_nb.store import AuditStore, merge
from catena_nb.store.spool import Delivery, Spool, read_segment, spool_dir
from tests.support.listener import operation


def _delivery(op: dict[str, Any], event_id: str) -> Delivery:
    return Delivery(
        event_id, "sub-1", "resource_operation.succeeded", "operations", "2026-11-20T10:00:00Z", [op]
    )


def test_a_line_cut_short_is_no_delivery(tmp_path):
    """A segment's last line without its newline (a crash mid-write) is not read as a delivery."""
    spool = Spool(tmp_path / "s.spool")
    spool.append(_delivery(operation(), "evt-1"))
    spool.seal()
    (segment,) = spool.segments()
    with open(segment, "ab") as fh:
        fh.write(_delivery(operation(), "evt-2").to_line()[:-20])
    assert [d.id for d in read_segment(segment)] == ["evt-1"]


def test_a_delivery_the_store_refuses_is_kept_and_merged_once_the_cause_is_gone(tmp_path, monkeypatch):
    """One bad delivery never holds back its neighbours; it waits in the spool's failed folder, not lost."""
    path = tmp_path / "hooks.duckdb"
    good, bad, other = operation(), operation(), operation()
    with AuditStore(path) as store:
        assert store.spool is not None
        for n, op in enumerate((good, bad, other)):
            store.spool.append(_delivery(op, f"evt-{n}"))
        store.spool.seal()
        real = merge.write_operations  # type: ignore[attr-defined]

        def refuse_bad(con: Any, prepared: Any, source: str | None = None) -> Any:
            if prepared.rows is not None and bad["id"] in set(prepared.rows["operation_id"]):
                raise RuntimeError("the disk said no")
            return real(con, prepared, source)

        monkeypatch.setattr(merge, "write_operations", refuse_bad)
        result = store.merge_spool()
        assert (result.deliveries, result.failed) == (2, 1)
        assert set(store.query("SELECT operation_id FROM operations")["operation_id"]) == {
            good["id"],
            other["id"],
        }
        assert [d.id for d in Spool(spool_dir(path)).pending()] == ["evt-1"]

        monkeypatch.setattr(merge, "write_operations", real)
        assert store.merge_spool().deliveries == 1
        assert store.count() == 3
        assert Spool(spool_dir(path)).pending() == []
        assert store.merge_spool().deliveries == 0


def test_a_segment_being_written_is_not_taken(tmp_path):
    """A merge leaves alone the segment another writer holds; once sealed it is merged and deleted."""
    path = tmp_path / "hooks.duckdb"
    AuditStore(path).close()
    writer = Spool(spool_dir(path))
    writer.append(_delivery(operation(), "evt-1"))
    with AuditStore(path) as store:
        assert store.count() == 0  # the writer still holds its segment
        writer.seal()
        assert store.merge_spool().deliveries == 1
        assert store.count() == 1
    assert writer.segments() == []


@pytest.mark.parametrize("line", [b"", b"not json\n", b'{"records": 3}\n', b"[]\n"])
def test_what_is_not_a_delivery_line_is_skipped(line):
    """Anything but a whole JSON delivery line reads as no delivery."""
    assert Delivery.from_line(line) is None
