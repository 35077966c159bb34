"""Benchmark: find_incidents by the hour on 60,000 and 200,000 operations of a sandbox history.

The operations are the first 60,000 (about 31 days) and 200,000 (about 105 days) of a seed-7 history with
its three incidents. Each call is timed three times (best and all runs printed): ``find_incidents(ops_df,
"h")`` (per TSP, the default grouping), per connection, and ``locate_incidents(ops_df, "h")`` (both). The
bars: ``find_incidents(freq="h")`` under 2 s on 60,000 operations and under 5 s on 200,000.

Run: ``.venv/bin/python benchmarks/incidents.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import pandas as pd

from catena_nb.analysis import find_incidents, locate_incidents
from catena_nb.frames import operations_frame
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.world import build_world

SIZES = ((60_000, 2.0), (200_000, 5.0))
DAYS = 110  # enough days for 200,000 operations
RUNS = 3


def _timed(call: Callable[[], pd.DataFrame]) -> tuple[float, list[float], int]:
    times, found = [], 0
    for _ in range(RUNS):
        t0 = time.perf_counter()
        found = len(call())
        times.append(time.perf_counter() - t0)
    return min(times), times, found


def main() -> int:
    t0 = time.perf_counter()
    hist = generate_history(build_world(7), 7, DAYS, "2026-11-01")
    ops_all = operations_frame(hist.operations)
    print(f"history: {len(ops_all):,} operations over {DAYS} days in {time.perf_counter() - t0:.1f} s")
    ok = True
    for size, bar in SIZES:
        ops = ops_all.sort_values("created_at", kind="stable").head(size)
        span = (ops["created_at"].max() - ops["created_at"].min()) / pd.Timedelta(days=1)
        print(f"{len(ops):,} operations ({span:.0f} days, {int(span * 24):,} hours):")
        calls: list[tuple[str, Callable[[], pd.DataFrame], float | None]] = [
            ('find_incidents(ops_df, "h")', partial(find_incidents, ops, "h"), bar),
            (
                'find_incidents(ops_df, "h", by="connection_id")',
                partial(find_incidents, ops, "h", by="connection_id"),
                None,
            ),
            ('locate_incidents(ops_df, "h")', partial(locate_incidents, ops, "h"), None),
        ]
        for name, call, limit in calls:
            best, times, found = _timed(call)
            verdict = ""
            if limit is not None:
                verdict = f"; bar {limit:.0f} s -> {'OK' if best < limit else 'FAIL'}"
                ok &= best < limit
            runs = ", ".join(f"{t:.2f}" for t in times)
            print(f"  {name}: best {best:.2f} s (runs {runs}), {found} incident(s){verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
