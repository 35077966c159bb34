"""`catena-nb listen` run as a command in a child process, for the webhook abuse and load tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from catena_nb.webhooks import sign

SECRET = "whsec-security-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def listening(store: Path) -> Iterator[str]:
    """Run `catena-nb listen` on a free port of 127.0.0.1; yields its URL, then stops it with SIGTERM.

    Raises:
        AssertionError: the receiver did not start, or did not exit cleanly.
    """
    with listening_process(store) as (url, _):
        yield url


@contextmanager
def listening_process(store: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """As :func:`listening`, yielding the receiver's process too."""
    port = _free_port()
    env = {**os.environ, "CATENA_SECURITY_HOOK_SECRET": SECRET}
    cmd = [sys.executable, "-m", "catena_nb.cli", "listen", "--store", str(store)]
    cmd += ["--secret-env", "CATENA_SECURITY_HOOK_SECRET", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the receiver did not start"
                time.sleep(0.1)
        yield url, proc
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert SECRET not in out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def operation(op_id: str | None = None, status: str = "success") -> dict[str, Any]:
    """A settled message operation as a webhook carries it."""
    op_id = op_id or str(uuid.uuid4())
    return {
        "id": op_id,
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:00:05Z",
        "partner_id": "p1",
        "connection_id": "019ddd87-eedd-710f-967c-1c6cc72ac985",
        "source_name": "samsara",
        "resource": "message",
        "operation_type": "create",
        "payload": {"message_text": "hello"},
        "status": status,
        "logs": [],
    }


def delivery(ops: list[dict[str, Any]], *, secret: str = SECRET, **kw: Any) -> tuple[bytes, dict[str, str]]:
    """A signed, gzipped `resource_operation.succeeded` delivery."""
    envelope = {"version": "1.0", "event_name": "resource_operation.succeeded", "id": str(uuid.uuid4()),
                "data": ops}  # fmt: skip
    return sign(json.dumps(envelope), secret, **kw)
