"""One store file used at once: a listener, a writer in another process and readers, with no lock error."""

from __future__ import annotations

import concurrent.futures as cf
import subprocess
import sys
import time

import httpx
import pytest

from catena_nb.store import AuditStore
from catena_nb.store.connect import Opener
from tests.support.listener import delivery, listening, operation

WRITER = """
import sys
from catena_nb.store import AuditStore
from tests.support.listener import operation
store = AuditStore(sys.argv[1])
ids = []
for i in range(40):
    op = operation()
    op["created_at"] = op["updated_at"] = f"2026-11-19T10:00:{i:02d}Z"
    store.upsert([op], source="listing")
    ids.append(op["id"])
print(" ".join(ids))
"""


@pytest.mark.slow
def test_a_listener_a_writer_and_readers_share_one_store_losing_nothing(tmp_path):
    """While the listener takes deliveries, another process writes and this one reads: all succeed."""
    path = tmp_path / "shared.duckdb"
    AuditStore(path).close()
    ops = [operation() for _ in range(150)]
    with listening(path) as url:
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def send() -> list[int]:
            with httpx.Client(timeout=30) as http:
                return [
                    http.post(url, content=b, headers=h).status_code
                    for b, h in (delivery([op]) for op in ops)
                ]

        with cf.ThreadPoolExecutor(1) as pool:
            sent = pool.submit(send)
            reads = 0
            while not sent.done() or writer.poll() is None:
                with AuditStore(path, read_only=True) as reader:
                    reader.operations_frame()
                    reader.rates(by="source_name")
                reads += 1
                time.sleep(0.05)
            answers = sent.result()
        written, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    assert answers == [202] * len(ops)
    assert reads > 0
    with AuditStore(path, read_only=True) as store:
        stored = set(store.query("SELECT operation_id FROM operations")["operation_id"])
    assert stored == {op["id"] for op in ops} | set(written.split())


def test_a_call_waits_for_another_process_then_proceeds(tmp_path):
    """A call that finds the file held by another process waits and goes on once it is let go."""
    path = tmp_path / "held.duckdb"
    AuditStore(path).close()
    hold = (
        f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); print(1, flush=True); "
        "time.sleep(1.5); c.close()"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "1"
        store = AuditStore(path, read_only=True, lock_wait=30)
        assert store.count() == 0
        assert isinstance(store._opener, Opener)
        assert store._opener.waits >= 1
    finally:
        holder.communicate(timeout=30)
