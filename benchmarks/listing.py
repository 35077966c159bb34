"""Benchmark: 100,000 operations listed from the sandbox into frames, against the bare transfer.

The bare transfer is httpx GETs of exactly the same pages (the same query strings and cursors, recorded in a
first pass), reading the bodies and nothing more. The client's run is `client.operations.list(...).pages()`
turned into both frames by `operation_frames`. The bar: the client's time within 1.5x of the bare time.

Run: ``.venv/bin/python benchmarks/listing.py [days]`` (default 53 days of history, about 100,000 operations)
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

import httpx

from catena_nb.client import CatenaClient
from catena_nb.frames import operation_frames
from catena_nb.sandbox import Sandbox

ANCHOR = dt.date(2026, 11, 1)
PATH = "/v2/integrations/connections/resource-operations"


def main(days: int = 53) -> None:
    since = dt.datetime.combine(ANCHOR - dt.timedelta(days=days - 1), dt.time(), dt.UTC)
    until = dt.datetime.combine(ANCHOR + dt.timedelta(days=1), dt.time(), dt.UTC)
    with Sandbox(seed=7, history=days, anchor=ANCHOR, time_scale=0.001, tsp_latency=0) as sb:
        client = CatenaClient(base_url=sb.url, token=sb.token, progress=False)
        listing = client.operations.list(since=since, until=until, size=1000)
        requests: list[dict[str, str]] = []
        for page in listing.pages():  # warm the server's JSON cache and record the page requests
            requests.append(dict(page.params))
        headers = {"Authorization": f"Bearer {sb.token}"}
        bare_runs, client_runs = [], []
        rows = 0
        with httpx.Client(base_url=sb.url, headers=headers, timeout=60) as http:
            for _ in range(3):
                t0 = time.perf_counter()
                size = sum(len(http.get(PATH, params=params).content) for params in requests)
                bare_runs.append(time.perf_counter() - t0)

                t0 = time.perf_counter()
                ops_df, logs_df = operation_frames(listing)
                client_runs.append(time.perf_counter() - t0)
                rows = len(ops_df)
        client.close()
    bare, ours = statistics.median(bare_runs), statistics.median(client_runs)
    print(f"{rows:,} operations, {len(logs_df):,} logs, {len(requests)} pages, {size / 1e6:.1f} MB")
    print(f"bare transfer (httpx GETs of the same pages): median {bare:.2f} s of {len(bare_runs)}")
    print(f"client listing + operation_frames:            median {ours:.2f} s of {len(client_runs)}")
    ratio = ours / bare
    print(f"ratio {ratio:.2f}x (bar: at most 1.5x) -> {'OK' if ratio <= 1.5 else 'OVER'}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
