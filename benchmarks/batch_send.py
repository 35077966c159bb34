"""Batch sends: 1,000 sync sends with `create_many(concurrency=16)` against a one-by-one loop.

The sandbox's TSPs answer after 50 ms. The bar: the batch at least 12x faster than the loop, and exactly
1,000 operations created on the server by the batch. It also prints the client's CPU time per request in
the batch (this process's CPU time over the batch, divided by the rows), and with `--profile` where it goes.

    .venv/bin/python benchmarks/batch_send.py              # the full comparison (about a minute)
    .venv/bin/python benchmarks/batch_send.py --loop-rows 200   # time the loop on fewer rows, per row
    .venv/bin/python benchmarks/batch_send.py --profile    # and the client's hottest functions in the batch

By default the sandbox runs in its own process (`catena-nb sandbox`), as a real API would: a server sharing
the client's process also shares its interpreter lock, so the comparison would measure Python's scheduling
instead of the client. `--in-process` runs it in a thread of this process instead.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Iterator
from typing import Any

from _remote import remote_sandbox

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox


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


@contextlib.contextmanager
def _served(seed: int, latency: float, in_process: bool) -> Iterator[tuple[str, str]]:
    if in_process:
        with Sandbox(seed=seed, tsp_latency=latency, time_scale=0.001) as sandbox:
            yield sandbox.url, sandbox.token
        return
    with remote_sandbox(seed=seed, tsp_latency=latency, time_scale=0.001) as served:
        yield served


def _connections(client: CatenaClient) -> list[dict[str, Any]]:
    """Each connection with two of its users, read through the API."""
    out = []
    for conn in client.connections.list().to_list():
        users = client.users.list(connection_id=conn.id, size=2).to_list()
        out.append({"id": conn.id, "users": [u.id for u in users[:2]]})
    return out


def run(
    n: int, loop_rows: int, concurrency: int, latency: float, seed: int, in_process: bool, profile: bool
) -> dict[str, Any]:
    """Time the batch and the loop; returns the measurements."""
    profiled = ""
    with (
        _served(seed, latency, in_process) as (url, token),
        CatenaClient(base_url=url, token=token, progress=False) as client,
    ):
        info = {"connections": _connections(client)}  # warms the connection pool and the server, too
        rows = _rows(info, n, "batch")
        profiler = cProfile.Profile() if profile else None
        t0, c0 = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        batch = client.messages.create_many(rows, sync=True, concurrency=concurrency)
        if profiler is not None:
            profiler.disable()
        batch_s, batch_cpu = time.perf_counter() - t0, time.process_time() - c0

        loop_rows_list = _rows(info, loop_rows, "loop")
        t0, c0 = time.perf_counter(), time.process_time()
        for fields in loop_rows_list:
            client.messages.create(**fields, sync=True)
        loop_s = (time.perf_counter() - t0) * n / loop_rows
        loop_cpu = (time.process_time() - c0) / loop_rows

        created = _count(client, info, "batch")
        if profiler is not None:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
            profiled = text.getvalue()
    result = {
        "rows": n,
        "concurrency": concurrency,
        "tsp_latency_s": latency,
        "batch_s": round(batch_s, 2),
        "loop_s": round(loop_s, 2),
        "loop_extrapolated_from": loop_rows,
        "ratio": round(loop_s / batch_s, 1),
        "client_cpu_per_request_batch_us": round(batch_cpu / n * 1e6),
        "client_cpu_per_request_loop_us": round(loop_cpu * 1e6),
        "batch_counts": batch.counts,
        "operations_created_by_batch": created,
    }
    if profiled:
        result["profile"] = "\n" + profiled
    return result


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
    parser.add_argument("--profile", action="store_true", help="profile the client during the batch")
    args = parser.parse_args()
    result = run(
        args.rows,
        args.loop_rows or args.rows,
        args.concurrency,
        args.latency,
        args.seed,
        args.in_process,
        args.profile,
    )
    for key, value in result.items():
        sys.stdout.write(f"{key:>32}: {value}\n")
    ok = result["ratio"] >= 12 and result["operations_created_by_batch"] == args.rows
    sys.stdout.write(f"{'bar (>= 12x, exactly N created)':>32}: {'met' if ok else 'NOT met'}\n")


if __name__ == "__main__":
    main()
