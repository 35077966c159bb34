"""Benchmark: the README's path into frames against the fast one, and every other way in between.

On the default 30-day sandbox history (about 55,000 message operations), each way of getting both frames
from a listing is timed, best of a few runs: the README's (`.to_list()`, then `operations_frame` and
`logs_frame`), `list(listing)`, iterating the models, passing the pages, and `operation_frames(listing)`.
The bar: the README's path within 1.3x of `operation_frames(listing)`.

Run: ``.venv/bin/python benchmarks/readme_path.py [runs]`` (default 3; add ``--remote`` to run the sandbox in
its own process, `catena-nb sandbox`)
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from typing import Any

from _remote import remote_sandbox

import catena_nb as cn

WINDOW: dict[str, Any] = {"resource": "message", "since": "2026-10-03", "until": "2026-11-02"}


def _best(ways: dict[str, Callable[[], Any]], runs: int) -> dict[str, tuple[float, float]]:
    """The best wall time and the best CPU time of this process (all its threads) of each way over `runs`
    rounds, a run of each way per round: a machine whose speed drifts weighs on every way alike."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    for _ in range(runs):
        for name, fn in ways.items():
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name].append((time.perf_counter() - t0, time.process_time() - c0))
    return {name: (min(w for w, _ in t), min(c for _, c in t)) for name, t in times.items()}


def measure(client: cn.CatenaClient, runs: int) -> None:
    listing = client.operations.list(**WINDOW)
    n = len(listing.to_list())

    def readme() -> None:
        ops = listing.to_list()
        cn.operations_frame(ops), cn.logs_frame(ops)

    def listed() -> None:
        ops = list(listing)
        cn.operations_frame(ops), cn.logs_frame(ops)

    def iterated() -> None:
        cn.operation_frames(op for op in listing)

    def pages() -> None:
        cn.operation_frames(list(listing.pages()))

    def fast() -> None:
        cn.operation_frames(listing)

    ways: dict[str, Callable[[], None]] = {
        "operation_frames(listing)": fast,
        ".to_list(), operations_frame, logs_frame": readme,
        "list(listing), operations_frame, logs_frame": listed,
        "operation_frames(op for op in listing)": iterated,
        "operation_frames(list(listing.pages()))": pages,
    }
    best = _best(ways, runs)
    wall0, cpu0 = best["operation_frames(listing)"]
    print(f"{n:,} operations, best of {runs} rounds: wall time, and CPU time of this process")
    for name, (wall, cpu) in best.items():
        print(f"  {name:45} {wall:6.2f} s {wall / wall0:5.2f}x   cpu {cpu:6.2f} s {cpu / cpu0:5.2f}x")
    wall, cpu = best[".to_list(), operations_frame, logs_frame"]
    for what, ratio in (("wall", wall / wall0), ("cpu", cpu / cpu0)):
        verdict = "OK" if ratio <= 1.3 else "OVER"
        print(f"README path / operation_frames(listing), {what}: {ratio:.2f}x (bar: 1.3x) -> {verdict}")


def main(runs: int = 3, remote: bool = False) -> None:
    options: dict[str, Any] = {"seed": 7, "history": 30, "anchor": "2026-11-01", "time_scale": 0.002}
    if remote:
        with (
            remote_sandbox(**options) as (url, token),
            cn.CatenaClient(base_url=url, token=token, progress=False) as client,
        ):
            measure(client, runs)
        return
    with cn.Sandbox(**options) as sb, cn.CatenaClient(base_url=sb.url, token=sb.token, progress=False) as c:
        measure(c, runs)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 3, remote="--remote" in sys.argv)
