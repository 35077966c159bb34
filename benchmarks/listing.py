"""Benchmark: 100,000 operations listed from the sandbox into frames, against the bare transfer.

The sandbox runs in its own process (`catena-nb sandbox`), as the API does, with no latency added. The bare
transfer is httpx GETs of exactly the same pages (the same query strings and cursors, recorded in a first
pass), one after another, reading the bodies and nothing more. The client's run is
`operation_frames(client.operations.list(...))`, at the default concurrency and at `concurrency=1`. The bar:
the client within 2x of the bare time (1.5x the aim). Last, the floor: the bare transfer's CPU and the CPU of
decoding its bodies into the listing's wire structs (msgspec), which any reading of the pages pays, against
the bare time, and what the bar leaves beyond them.

Run: ``.venv/bin/python benchmarks/listing.py [days]`` (default 53 days of history, about 100,000 operations)
"""

from __future__ import annotations

import sys
import time

import httpx
from _remote import OPERATIONS_PATH, remote_sandbox, seeded_listing

from catena_nb._jsonio import collector_paused
from catena_nb.client import CatenaClient
from catena_nb.client._wire import wire_items
from catena_nb.frames import operation_frames
from catena_nb.models import ResourceOperation


def main(days: int = 53) -> None:
    since, until, options = seeded_listing(days)
    with remote_sandbox(**options) as (url, token):
        client = CatenaClient(base_url=url, token=token, progress=False)
        requests: list[dict[str, str]] = []
        for page in client.operations.list(since=since, until=until, size=1000, concurrency=1).pages():
            requests.append(dict(page.params))  # warms the server's JSON cache, and records the pages
        headers = {"Authorization": f"Bearer {token}"}
        bare_runs: list[tuple[float, float]] = []  # wall and CPU time of this process
        runs: dict[int, list[tuple[float, float]]] = {8: [], 1: []}
        rows, size, logs = 0, 0, 0
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            for _ in range(3):
                t0, c0 = time.perf_counter(), time.process_time()
                bodies = [http.get(OPERATIONS_PATH, params=params).content for params in requests]
                bare_runs.append((time.perf_counter() - t0, time.process_time() - c0))
                size = sum(map(len, bodies))
                for concurrency, times in runs.items():
                    listing = client.operations.list(
                        since=since, until=until, size=1000, concurrency=concurrency
                    )
                    t0, c0 = time.perf_counter(), time.process_time()
                    ops_df, logs_df = operation_frames(listing)
                    times.append((time.perf_counter() - t0, time.process_time() - c0))
                    rows, logs = len(ops_df), len(logs_df)
                    del ops_df, logs_df  # freed here, not inside the next timing
        client.close()
    decoding = min(_decoding(bodies) for _ in range(3))
    bare, bare_cpu = min(bare_runs)
    print(f"{rows:,} operations, {logs:,} logs, {len(requests)} pages, {size / 1e6:.1f} MB; best of 3")
    print(f"bare transfer (httpx GETs of the same pages, one by one): {bare:.2f} s (cpu {bare_cpu:.2f} s)")
    for concurrency, times in runs.items():
        ours, cpu = min(times)
        ratio = ours / bare
        verdict = "OK" if ratio <= 2 else "OVER"
        print(
            f"operation_frames(listing), concurrency={concurrency}: {ours:.2f} s (cpu {cpu:.2f} s), "
            f"{ratio:.2f}x the bare transfer (bar: at most 2x, aim 1.5x) -> {verdict}"
        )

    # What no client can avoid: reading the answers (the bare transfer's CPU) and decoding them once into
    # the fastest form there is to read them from. What the bar leaves beyond that builds the columns.
    floor = bare_cpu + decoding
    print(
        f"floor: the bare transfer's cpu {bare_cpu:.2f} s + decoding the pages into wire structs "
        f"{decoding:.2f} s = {floor:.2f} s, {floor / bare:.2f}x the bare transfer; the 2x bar leaves "
        f"{max(2 * bare - floor, 0):.2f} s of cpu for the columns and the client's own work"
    )


def _decoding(bodies: list[bytes]) -> float:
    """CPU time of decoding `bodies` into the listing's wire structs, the structs freed outside it."""
    with collector_paused():
        start = time.process_time()
        pages = [wire_items(ResourceOperation, body) for body in bodies]
        spent = time.process_time() - start
        del pages
    return spent


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
