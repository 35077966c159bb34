"""Benchmark: wire dicts into operations_frame + logs_frame, against pandas.json_normalize.

200,000 operations with 1-5 logs each (wire form, union shape). Prints the time of both frames against
``json_normalize`` on the same data (operations, and logs with ``record_path="logs"``), and the peak memory
traced while building the frames against the frames' own size (``memory_usage(deep=True)``).
The bar: at least 5x faster, peak memory at most 2x the frames' size.

Run: ``.venv/bin/python benchmarks/frames.py [n_operations] [--decoded]``; with ``--decoded`` the records are
first passed through ``json.dumps``/``json.loads``, as a listing's pages are (every string its own object).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import random
import sys
import time
import tracemalloc
import uuid
from typing import Any

import pandas as pd

from catena_nb.frames import logs_frame, operation_frames, operations_frame

TSPS = ("samsara", "motive", "geotab", "omnitracs", "verizon_reveal")
ERRORS = (
    ("auth", 401, "Client error '401 Unauthorized' for url 'https://api.example-tsp.com/v1/messages'"),
    ("validation", 422, "Client error '422 Unprocessable Entity': message_text too long"),
    ("network", None, "ConnectTimeout: timed out connecting to the TSP"),
    ("tsp", 503, "Server error '503 Service Unavailable'"),
)


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_operations(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` operations in wire form (lookup shape plus ``deleted_at``), each with 1-5 logs."""
    rng = random.Random(seed)
    partner = str(uuid.UUID(int=rng.getrandbits(128)))
    conns = [(str(uuid.UUID(int=rng.getrandbits(128))), TSPS[i % len(TSPS)]) for i in range(12)]
    t0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    ops: list[dict[str, Any]] = []
    for i in range(n):
        op_id = str(uuid.UUID(int=rng.getrandbits(128)))
        conn_id, tsp = conns[rng.randrange(len(conns))]
        created = t0 + dt.timedelta(seconds=i * 13 + rng.random())
        k = rng.randint(1, 5)
        logs = []
        t = created
        ok = rng.random() < 0.7
        for a in range(k):
            t = t + dt.timedelta(seconds=rng.uniform(0.2, 30))
            last = a == k - 1
            success = last and ok
            et, code, details = (None, 200, None) if success else ERRORS[rng.randrange(4)]
            logs.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "created_at": _ts(t),
                    "updated_at": _ts(t),
                    "resource_operation_id": op_id,
                    "status": "success" if success else "failed",
                    "error_type": et,
                    "error_details": details,
                    "response_status_code": code,
                }
            )
        ops.append(
            {
                "id": op_id,
                "created_at": _ts(created),
                "updated_at": _ts(t),
                "deleted_at": None,
                "partner_id": partner,
                "connection_id": conn_id,
                "source_name": tsp,
                "fleet_ref": f"fleet-{conn_id[:4]}",
                "resource": "message",
                "operation_type": "create",
                "payload": {
                    "priority": rng.choice(("low", "medium", "high")),
                    "sender_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "message_text": "Delivery confirmed at warehouse B",
                    "recipient_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "connection_id": conn_id,
                    "source_sender_id": str(rng.randrange(10**8)),
                    "reply_to_message_id": None,
                    "source_recipient_id": str(rng.randrange(10**8)),
                    "source_reply_to_message_id": None,
                },
                "resource_id": str(uuid.UUID(int=rng.getrandbits(128))) if ok else None,
                "source_id": str(rng.randrange(10**8)) if ok else None,
                "status": "success" if ok else "failed",
                "logs": logs,
            }
        )
    return ops


def _frames(ops: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return operation_frames(ops)


def _two_calls(ops: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return operations_frame(ops), logs_frame(ops)


def _normalize(ops: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.json_normalize(ops), pd.json_normalize(ops, record_path="logs", meta=["id"], meta_prefix="op_")


def _best_of(fn: Any, ops: list[dict[str, Any]], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn(ops)
        best = min(best, time.perf_counter() - start)
    return best


def main(n: int = 200_000, decoded: bool = False) -> int:
    ops = make_operations(n)
    if decoded:
        ops = json.loads(json.dumps(ops))
    n_logs = sum(len(op["logs"]) for op in ops)
    print(f"{n:,} operations, {n_logs:,} logs{' (JSON-decoded)' if decoded else ''}")

    # The two are timed in turns, round after round, and each keeps its best round: a machine that slows down
    # or speeds up during the run then weighs on both alike instead of on whichever ran at the time.
    t_frames = t_norm = float("inf")
    for _ in range(3):
        t_frames = min(t_frames, _best_of(_frames, ops, 1))
        t_norm = min(t_norm, _best_of(_normalize, ops, 1))
    t_two = _best_of(_two_calls, ops, 2)
    ratio = t_norm / t_frames
    print(f"frames:         {t_frames:7.2f} s  (operation_frames: both frames, one pass)")
    print(f"two calls:      {t_two:7.2f} s  (operations_frame + logs_frame: {t_norm / t_two:.1f}x)")
    print(
        f"json_normalize: {t_norm:7.2f} s  (operations + record_path='logs'; best of 3, in turns with frames)"
    )
    print(f"speed-up:       {ratio:7.1f}x   (bar: >= 5x)")

    gc.collect()
    tracemalloc.start()
    ops_df, logs_df = _frames(ops)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = int(ops_df.memory_usage(deep=True).sum() + logs_df.memory_usage(deep=True).sum())
    mem_ratio = peak / size
    print(f"peak traced:    {peak / 2**20:7.1f} MiB")
    print(f"frames' size:   {size / 2**20:7.1f} MiB  (memory_usage(deep=True))")
    print(f"peak / size:    {mem_ratio:7.2f}x   (bar: <= 2x)")
    ok = ratio >= 5 and mem_ratio <= 2
    print("bar met" if ok else "bar NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--decoded"]
    sys.exit(main(int(args[0]) if args else 200_000, decoded="--decoded" in sys.argv[1:]))
