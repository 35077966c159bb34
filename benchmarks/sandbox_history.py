"""Benchmark: build the sandbox's pre-seeded history (world, operations with logs, messages, incidents).

Prints the time to generate ``days`` days (default 30) and the record counts. The bar: 30 days in under
10 seconds (aim: about 2 s). It also times loading the records into the sandbox's store, which a
``Sandbox(history=...)`` does at start.

Run: ``.venv/bin/python benchmarks/sandbox_history.py [days] [seed]``
"""

from __future__ import annotations

import sys
import time

from catena_nb.sandbox.api.state import SandboxState
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.world import build_world


def main(days: int = 30, seed: int = 7) -> None:
    world = build_world(seed)
    timings, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        hist = generate_history(world, seed, days, "2026-11-01")
        timings.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    n_logs = sum(len(op["logs"]) for op in hist.operations)
    best = min(timings)
    print(
        f"history of {days} days: {len(hist.operations):,} operations, {n_logs:,} logs, "
        f"{len(hist.messages):,} messages, {len(hist.incidents)} incidents"
    )
    print(
        f"generate_history: best {best:.2f} s of {len(timings)} runs "
        f"(runs: {', '.join(f'{t:.2f}' for t in timings)}; CPU {min(cpu):.2f} s); "
        f"bar 10 s -> {'OK' if best < 10 else 'FAIL'}"
    )
    for inc in hist.incidents:
        span = f"{inc.start:%Y-%m-%d %H:%M} .. {inc.end:%Y-%m-%d %H:%M}"
        print(f"  {inc.kind:18} {inc.source_name:10} {span}  {inc.name}")
    t0 = time.perf_counter()
    state = SandboxState(world)
    state.add_operations(hist.operations)
    state.add_messages(hist.messages)
    print(f"loading into SandboxState: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
