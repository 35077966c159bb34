"""`catena-nb listen` refuses a body over its limit while it streams in, before verifying anything."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from catena_nb.store import AuditStore
from catena_nb.store.listen import MAX_BODY_BYTES
from tests.support.listener import delivery, listening_process, operation

MB = 1024 * 1024
UPLOAD_MB = 200


def _peak_kb(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


class _Upload:
    """A body of ``total`` bytes made one block at a time as it is sent (chunked: no Content-Length)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        block = b"\x1f\x8b" + b"x" * (MB - 2)  # says gzip, carries no signature
        while self.sent < self.total:
            self.sent += len(block)
            yield block


@pytest.mark.slow
def test_a_chunked_upload_far_over_the_limit_is_refused_without_filling_memory(tmp_path: Path) -> None:
    """200 MB chunked, unsigned: a 5xx, the listener peaks under 200 MB, and a delivery still lands."""
    genuine = operation()
    with listening_process(tmp_path / "hooks.duckdb") as (url, proc), httpx.Client(timeout=120) as http:
        before = _peak_kb(proc.pid)
        upload = _Upload(UPLOAD_MB * MB)
        started = time.monotonic()
        answer = http.post(url, content=upload)
        took = time.monotonic() - started
        peak = _peak_kb(proc.pid)
        assert answer.status_code == 500
        assert str(MAX_BODY_BYTES) in answer.json()["detail"]
        body, headers = delivery([genuine])
        assert http.post(url, content=body, headers=headers).status_code == 202
    sys.stdout.write(
        f"\nlistener peak memory (VmHWM): {before / 1024:.1f} MB before, {peak / 1024:.1f} MB after a "
        f"{UPLOAD_MB} MB chunked upload (500 after {took:.1f} s, {upload.sent / MB:.0f} MB generated)\n"
    )
    assert peak < 200 * 1024
    assert peak - before < 4 * MAX_BODY_BYTES // 1024
    with AuditStore(tmp_path / "hooks.duckdb", read_only=True) as store:
        stored = store.query("SELECT operation_id FROM operations")
    assert list(stored["operation_id"]) == [genuine["id"]]


def test_a_declared_length_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    """A Content-Length over the limit gets its 500 at once, though not one byte of the body was sent."""
    with listening_process(tmp_path / "hooks.duckdb") as (url, _):
        where = urlsplit(url)
        with socket.create_connection((where.hostname, where.port), timeout=15) as sock:
            head = (
                f"POST / HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {MAX_BODY_BYTES * 128}\r\n\r\n"
            )
            sock.sendall(head.encode())
            answer = sock.recv(4096).decode(errors="replace")  # raises if nothing comes within 15 s
        assert answer.startswith("HTTP/1.1 500"), answer
