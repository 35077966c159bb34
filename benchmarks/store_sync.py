"""The audit store: a first sync of about 100,000 operations, a second sync, reads and a Parquet export.

Prints, from one run against a sandbox with 51 days of history: the first sync's time and list requests
(counted by the sandbox), the second sync's (after 30 new async sends), the time to read the whole store back
as frames, and the time of a Parquet export.

    .venv/bin/python benchmarks/store_sync.py
    .venv/bin/python benchmarks/store_sync.py --days 20 --messages
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox
from catena_nb.store import AuditStore

LIST_ROUTE = ("GET", "/v2/integrations/connections/resource-operations")
MESSAGES_ROUTE = ("GET", "/v2/telematics/messages")
GET_ROUTE = (
    "GET",
    "/v2/integrations/connections/{connection_id}/resource-operations/{resource_operation_id}",
)


def _line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=51, help="days of sandbox history (default 51)")
    parser.add_argument("--messages", action="store_true", help="also sync the messages listing")
    args = parser.parse_args()

    t0 = time.perf_counter()
    with (
        Sandbox(seed=5, history=args.days, anchor="2026-11-01", time_scale=0.001, tsp_latency=0) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        _line(f"sandbox: {sb.state.operation_count()} operations in {time.perf_counter() - t0:.1f} s")
        start = "2026-09-01"  # before the first day of any history up to 61 days
        with AuditStore(Path(tmp) / "audit.duckdb") as store:
            before = sb.requests.snapshot()
            t = time.perf_counter()
            first = store.sync(client, since=start, messages=args.messages, progress=False)
            took = time.perf_counter() - t
            after = sb.requests.snapshot()
            pages = after.get(LIST_ROUTE, 0) - before.get(LIST_ROUTE, 0)
            msg_pages = after.get(MESSAGES_ROUTE, 0) - before.get(MESSAGES_ROUTE, 0)
            _line(f"first sync: {took:.1f} s, {pages} operation pages, {msg_pages} message pages; {first}")

            conn = sb.connections[0]
            rows = [
                {"connection_id": conn.id, "sender_id": conn.users[0], "recipient_id": conn.users[-1],
                 "message_text": f"check {i}"}
                for i in range(30)
            ]  # fmt: skip
            client.messages.create_many(rows, sync=False, concurrency=4, progress=False)
            sb.wait_idle(120)
            before = sb.requests.snapshot()
            t = time.perf_counter()
            second = store.sync(client, messages=args.messages, progress=False)
            took2 = time.perf_counter() - t
            after = sb.requests.snapshot()
            pages2 = after.get(LIST_ROUTE, 0) - before.get(LIST_ROUTE, 0)
            gets2 = after.get(GET_ROUTE, 0) - before.get(GET_ROUTE, 0)
            _line(f"second sync: {took2:.2f} s, {pages2} operation pages, {gets2} lookups; {second}")
            _line(f"second/first list requests: {pages2}/{pages} = {pages2 / max(pages, 1):.3f}")

            t = time.perf_counter()
            ops_df = store.operations_frame()
            logs_df = store.logs_frame()
            _line(
                f"read back: {len(ops_df)} operations and {len(logs_df)} logs as frames in "
                f"{time.perf_counter() - t:.1f} s"
            )
            t = time.perf_counter()
            store.export_parquet(Path(tmp) / "export")
            _line(f"parquet export by day: {time.perf_counter() - t:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
