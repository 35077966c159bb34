"""A listener down while async sends settle, end to end: the sandbox delivers to a real `catena-nb listen`,
which is killed, kept down, and started again; its replay on start brings the dead-letter queues back.

Shared by ``tests/store/test_listener_down.py`` (tens of sends, a short outage) and
``benchmarks/listener_down.py`` (500 sends, 10 s down).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.server import ServerThread
from catena_nb.store import AuditStore
from catena_nb.store.listen import create_app
from tests.support.listener import _free_port

SECRET = "whsec-outage-0123456789abcdef"
FINAL = ("success", "failed")


def line(text: str) -> None:
    """Print a benchmark's line at once."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def outage_arguments(description: str, who: str) -> argparse.ArgumentParser:
    """The options both outage benchmarks take: how many sends, how long ``who`` is down, the time scale."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sends", type=int, default=500)
    parser.add_argument("--down", type=float, default=10.0, help=f"simulated seconds the {who} is down")
    parser.add_argument("--time-scale", type=float, default=1.0)
    return parser


@dataclass
class Outage:
    """What one run saw."""

    sends: int
    down_s: float
    dlq_while_down: int = 0  # the subscriptions' metrics' dlq_count just before the restart
    dlq_after: int = 0
    stored: int = 0  # operations in the store at the end
    rows_per_operation: int = 0  # the most rows any operation has (1: each once)
    at_final_status: int = 0  # stored operations whose status is the API's final one
    replay_lines: list[str] = field(default_factory=list)
    down_for: float = 0.0  # real seconds from the kill to the restart
    seconds: float = 0.0


def start_listener(store: Path, port: int, sb: Sandbox) -> subprocess.Popen[str]:
    """`catena-nb listen` on ``port`` with the sandbox's credentials (for its replay on start)."""
    env = {**os.environ, "OUTAGE_HOOK_SECRET": SECRET, "CATENA_BASE_URL": sb.url, "CATENA_TOKEN": sb.token}
    cmd = [sys.executable, "-m", "catena_nb.cli", "listen", "--store", str(store), "--port", str(port)]
    cmd += ["--secret-env", "OUTAGE_HOOK_SECRET"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"the listener did not start: {proc.communicate()}") from None
            time.sleep(0.05)


class _InlineListener:
    """The listener's app served from this process (quicker to start than the command): what the first
    run of a quick test receives with, before the command itself restarts."""

    def __init__(self, store: Path, port: int) -> None:
        self.store = AuditStore(store)
        self.app = create_app(self.store, SECRET)
        self.server = ServerThread(self.app, port=port)
        self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.app.state.receiver.close()
        self.store.close()


def _dlq(client: CatenaClient, ids: list[str]) -> int:
    return sum(client.webhooks.metrics(i).dlq_count for i in ids)


def run_outage(
    store: Path,
    *,
    sends: int,
    down_s: float,
    time_scale: float,
    kill: signal.Signals = signal.SIGKILL,
    seed: int = 5,
    timeout: float = 300.0,
    first_inline: bool = False,
) -> Outage:
    """Subscribe the listener, take it down (``kill``), make ``sends`` async sends, keep it down ``down_s``
    real seconds from the kill, start it again, and wait until the store holds every operation settled.

    Args:
        first_inline: receive first with the listener's app served in this process, stopped instead of
            killed (one start of the command instead of two); the restart is the command either way.
    """
    t0 = time.monotonic()
    result = Outage(sends, down_s)
    with (
        Sandbox(seed=seed, time_scale=time_scale, tsp_latency=0.0) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
    ):
        port = _free_port()
        inline = _InlineListener(store, port) if first_inline else None
        listener = None if inline is not None else start_listener(store, port, sb)
        subs = client.webhooks.create(
            url=f"http://127.0.0.1:{port}/catena", event_name="resource_operation.*", secret=SECRET
        )
        ids = [s.id for s in subs]
        conns = sb.message_connections
        rows = [
            {
                "connection_id": conns[i % len(conns)].id,
                "sender_id": conns[i % len(conns)].users[0],
                "recipient_id": conns[i % len(conns)].users[-1],
                "message_text": f"outage {i}",
            }
            for i in range(sends)
        ]
        try:
            if inline is not None:
                inline.stop()
            if listener is not None:
                listener.send_signal(kill)
                listener.communicate(timeout=60)
            down_at = time.monotonic()
            batch = client.messages.create_many(rows, sync=False, concurrency=16, progress=False)
            assert len(batch.operations) == sends, batch.errors
            # down for down_s, and at least until the last created event had its four attempts (5.25 s,
            # scaled), however long the sends took on a loaded machine
            up_at = max(down_at + down_s, time.monotonic() + 6.0 * time_scale)
            time.sleep(max(0.0, up_at - time.monotonic()))
            result.dlq_while_down = _dlq(client, ids)
            result.down_for = time.monotonic() - down_at
            listener = start_listener(store, port, sb)
            assert sb.wait_idle(timeout)
            final: dict[str, str] = {}
            for op in batch.operations:
                assert op.id is not None
                record = sb.state.get_operation(op.id)
                assert record is not None
                final[op.id] = record["status"]
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                with AuditStore(store, read_only=True) as reader:
                    got = reader.query("SELECT operation_id, status FROM operations")
                settled = dict(zip(got["operation_id"], got["status"], strict=True))
                if all(settled.get(i) == s for i, s in final.items()):
                    break
                time.sleep(0.2)
            result.dlq_after = _dlq(client, ids)
        finally:
            out = ""
            if listener is not None:
                listener.send_signal(signal.SIGTERM)
                out, _ = listener.communicate(timeout=60)
        result.replay_lines = [line for line in out.splitlines() if line.startswith("Webhook ")]
    with AuditStore(store, read_only=True) as reader:
        rows_per = reader.query(
            "SELECT operation_id, status, count(*) OVER (PARTITION BY operation_id) AS n FROM operations"
        )
    result.stored = len(rows_per)
    result.rows_per_operation = int(rows_per["n"].max()) if len(rows_per) else 0
    status = dict(zip(rows_per["operation_id"], rows_per["status"], strict=True))
    result.at_final_status = sum(1 for i, s in final.items() if status.get(i) == s)
    result.seconds = time.monotonic() - t0
    return result
