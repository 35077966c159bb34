"""Benchmark: time_to_settle, time_to_deliver, plot_latency and error_signatures at scale.

200,000 operations (10% still pending) in 5 TSPs and 60 connections, 200,000 messages, and 600,000 logs
(three per operation) of which 400,000 carry an error text, every text distinct: the causes of
``tests/support/error_texts.py`` (the sandbox's texts for each TSP, and Samsara/Motive/Geotab-style JSON
bodies) each written with fresh request ids, user ids, values and URLs. Prints each call's time; the bar is
under 5 s each (wall time; the CPU time is printed beside it, since on a shared machine the wall time
grows with the load).

Run: ``.venv/bin/python benchmarks/settle_signatures.py [n_operations]``
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the error texts live with the tests
os.environ.setdefault("MPLBACKEND", "Agg")

import catena_nb as cn
from catena_nb.frames.checks import mark
from tests.support.error_texts import CAUSES

BAR_S = 5.0
TSPS = ("samsara", "motive", "geotab", "omnitracs", "verizon_reveal")
T0 = pd.Timestamp("2026-10-01T00:00:00Z")


def frames(n: int, seed: int = 18) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Operations, messages and logs frames (marked, with the columns the functions read)."""
    rng = np.random.default_rng(seed)
    conn = rng.integers(0, 60, n)
    tsp = np.asarray(TSPS)[conn % len(TSPS)]
    created = T0 + pd.to_timedelta(np.sort(rng.uniform(0, 30 * 86400, n)), unit="s")
    duration = rng.lognormal(0.7 + 0.2 * (conn % len(TSPS)), 0.8)
    status = np.where(rng.random(n) < 0.1, "pending", np.where(rng.random(n) < 0.93, "success", "failed"))
    ids = pd.array([f"op-{i:07d}" for i in range(n)], dtype="string")
    ops = pd.DataFrame(
        {
            "operation_id": ids,
            "attempts": 3,
            "created_at": created,
            "updated_at": created + pd.to_timedelta(duration, unit="s"),
            "status": pd.Categorical(status),
            "duration_s": duration,
            "source_name": pd.Categorical(tsp),
            "connection_id": pd.array([f"conn-{c:02d}" for c in conn], dtype="string"),
        }
    )
    delivered = created + pd.to_timedelta(rng.lognormal(4.0, 1.0, n), unit="s")
    read = delivered + pd.to_timedelta(rng.lognormal(6.5, 1.0, n), unit="s")
    messages = pd.DataFrame(
        {
            "message_id": pd.array([f"m-{i:07d}" for i in range(n)], dtype="string"),
            "created_at": created,
            "status": pd.Categorical(np.full(n, "sent")),
            "delivered_at": delivered.where(rng.random(n) < 0.95),
            "read_at": read.where(rng.random(n) < 0.3),
            "source_name": pd.Categorical(tsp),
        }
    )
    writers = list(CAUSES.values())
    statuses = [_status(writer) for writer in writers]
    text_rng = random.Random(seed)
    k = 3 * n
    failed = rng.random(k) < 2 / 3
    texts: list[Any] = [None] * k
    http: list[Any] = [200] * k
    for i in np.flatnonzero(failed):
        w = text_rng.randrange(len(writers))
        texts[i] = writers[w](text_rng)
        http[i] = statuses[w]
    op = np.repeat(np.arange(n), 3)
    logs = pd.DataFrame(
        {
            "log_id": pd.array([f"log-{i:07d}" for i in range(k)], dtype="string"),
            "operation_id": ids[op],
            "attempt": np.tile([1, 2, 3], n),
            "created_at": created[op] + pd.to_timedelta(np.tile([0.0, 5.0, 30.0], n), unit="s"),
            "status": pd.Categorical(np.where(failed, "failed", "success")),
            "error_details": pd.array(texts, dtype="string"),
            # as logs_frame gives it: the log's response_status_code, else the status its text names
            "http_status": pd.array(http, dtype="Int64"),
            "source_name": pd.Categorical(tsp[op]),
        }
    )
    return mark(ops, "operations"), mark(messages, "messages"), mark(logs, "logs")


def _status(writer: Callable[[random.Random], str]) -> int | None:
    from catena_nb._http_status import status_in_text

    return status_in_text(writer(random.Random(0)))


def timed(name: str, call: Callable[[], Any]) -> float:
    """The call's wall time (printed with its CPU time: on a shared machine the two part)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = call()
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    rows = len(result) if isinstance(result, pd.DataFrame) else "-"
    verdict = "ok" if seconds < BAR_S else "OVER THE BAR"
    print(f"{name:58} {seconds:6.2f} s wall {cpu_s:6.2f} s CPU  ({rows} rows)  {verdict}")
    return seconds


def main(n: int) -> int:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    build = time.perf_counter()
    ops, messages, logs = frames(n)
    distinct = logs["error_details"].nunique()
    print(
        f"{len(ops):,} operations, {len(messages):,} messages, {len(logs):,} logs "
        f"({int(logs['error_details'].notna().sum()):,} error texts, {distinct:,} distinct); "
        f"built in {time.perf_counter() - build:.1f} s"
    )
    import matplotlib.pyplot as plt

    times = [
        timed("time_to_settle(ops, by='source_name')", lambda: cn.time_to_settle(ops, by="source_name")),
        timed(
            "time_to_settle(ops, by=['source_name', 'connection_id'])",
            lambda: cn.time_to_settle(ops, by=["source_name", "connection_id"]),
        ),
        timed(
            "time_to_deliver(messages, by='source_name')",
            lambda: cn.time_to_deliver(messages, by="source_name"),
        ),
        timed(
            "time_to_deliver(messages, by='source_name', event='read')",
            lambda: cn.time_to_deliver(messages, by="source_name", event="read"),
        ),
        timed("plot_latency(ops, by='source_name')", lambda: cn.plot_latency(ops, by="source_name")),
        timed(
            "error_signatures(logs, by='source_name')", lambda: cn.error_signatures(logs, by="source_name")
        ),
        timed("error_signatures(logs)", lambda: cn.error_signatures(logs)),
    ]
    plt.close("all")
    print(f"slowest {max(times):.2f} s; bar {BAR_S:.0f} s each: {'met' if max(times) < BAR_S else 'NOT met'}")
    return 0 if max(times) < BAR_S else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
