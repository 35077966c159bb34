"""Batch sends: 1,000 sync sends with `create_many(concurrency=16)` against a one-by-one loop.

The sandbox's TSPs answer after 50 ms. The bar (DESIGN.md): the batch at least 10x faster than the loop,
and exactly 1,000 operations created on the server by the batch.

    .venv/bin/python benchmarks/batch_send.py              # the full comparison (about a minute)
    .venv/bin/python benchmarks/batch_send.py --loop-rows 200   # time the loop on fewer rows, per row

By default the sandbox runs in a separate process, as a real API would: a server sharing the client's
process also shares its interpreter lock, so the comparison would measure Python's scheduling instead of
the client. `--in-process` runs it in a thread of this process instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox

_SERVE = """
import json, sys, threading
from catena_nb.sandbox import Sandbox
sb = Sandbox(seed=int(sys.argv[1]), tsp_latency=float(sys.argv[2]), time_scale=0.001).start()
conns = [{"id": c.id, "users": c.users[:2]} for c in sb.connections]
print(json.dumps({"url": sb.url, "token": sb.token, "connections": conns}), flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
sb.stop()
"""


def _rows(info: dict[str, Any], n: int, tag: str) -> list[dict[str, Any]]:
    # Round robin over the connections, as a batch to several fleets would go: each TSP rate-limits its
    # connection, and one connection alone would measure the simulated TSP's limit, not the client.
    conns = info["connections"]
    rows = []
    for i in range(n):
        conn = conns[i % len(conns)]
        sender, recipient = conn["users"]
        rows.append(
            {
                "connection_id": conn["id"],
                "sender_id": sender,
                "recipient_id": recipient,
                "message_text": f"{tag} {i}",
                "priority": "low",
            }
        )
    return rows


def _count(client: CatenaClient, info: dict[str, Any], tag: str) -> int:
    """Operations created on the server whose text carries the tag (read back through the API)."""
    return sum(
        1
        for conn in info["connections"]
        for op in client.operations.list(connection_id=conn["id"], resource="message")
        if str(op.payload.get("message_text", "")).startswith(tag + " ")
    )


def run(
    n: int, loop_rows: int, concurrency: int, latency: float, seed: int, in_process: bool
) -> dict[str, Any]:
    """Time the batch and the loop; returns the measurements."""
    proc: subprocess.Popen[str] | None = None
    sandbox: Any = None
    if in_process:
        sandbox = Sandbox(seed=seed, tsp_latency=latency, time_scale=0.001).start()
        conns = [{"id": c.id, "users": c.users[:2]} for c in sandbox.connections]
        info = {"url": sandbox.url, "token": sandbox.token, "connections": conns}
    else:
        proc = subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(seed), str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "TQDM_DISABLE": "1"},
        )
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
    try:
        with CatenaClient(base_url=info["url"], token=info["token"], progress=False) as client:
            client.connections.list().to_list()  # warm the connection pool and the server
            t0 = time.perf_counter()
            batch = client.messages.create_many(_rows(info, n, "batch"), sync=True, concurrency=concurrency)
            batch_s = time.perf_counter() - t0

            loop_rows_list = _rows(info, loop_rows, "loop")
            t0 = time.perf_counter()
            for fields in loop_rows_list:
                client.messages.create(**fields, sync=True)
            loop_s = (time.perf_counter() - t0) * n / loop_rows

            created = _count(client, info, "batch")
    finally:
        if proc is not None:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(30)
        if sandbox is not None:
            sandbox.stop()
    return {
        "rows": n,
        "concurrency": concurrency,
        "tsp_latency_s": latency,
        "batch_s": round(batch_s, 2),
        "loop_s": round(loop_s, 2),
        "loop_extrapolated_from": loop_rows,
        "ratio": round(loop_s / batch_s, 1),
        "batch_counts": batch.counts,
        "operations_created_by_batch": created,
    }


def main() -> None:
    """Parse the arguments, run, print the result and whether the bar is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument(
        "--loop-rows", type=int, default=None, help="rows timed in the loop (default: --rows)"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--in-process", action="store_true", help="run the sandbox in a thread of this process"
    )
    args = parser.parse_args()
    result = run(
        args.rows, args.loop_rows or args.rows, args.concurrency, args.latency, args.seed, args.in_process
    )
    for key, value in result.items():
        sys.stdout.write(f"{key:>30}: {value}\n")
    ok = result["ratio"] >= 10 and result["operations_created_by_batch"] == args.rows
    sys.stdout.write(f"{'bar (>= 10x, exactly N created)':>30}: {'met' if ok else 'NOT met'}\n")


if __name__ == "__main__":
    main()
