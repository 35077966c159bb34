"""Benchmark: about 100,000 operations listed side by side against one cursor at a time, at 100 ms a request.

The sandbox runs in its own process (`catena-nb sandbox --api-latency 0.1`), as the API does; the same client
lists the same window with the default `concurrency` and with `concurrency=1`, then again against a sandbox
that disturbs 10% of the requests (500s, 429s, slow and dropped answers). Each run must give the identical
ids, in the same order, each once. The bar: the default at least 5x faster than one cursor at a time.

Run: ``.venv/bin/python benchmarks/listing_concurrency.py [days] [latency]`` (default 53 days, 0.1 s)
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from typing import Any

from _remote import remote_sandbox

import catena_nb as cn
from catena_nb import _config

ANCHOR = dt.date(2026, 11, 1)


def _listed(client: cn.CatenaClient, window: dict[str, Any], concurrency: int) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    ids = [
        item["id"]
        for page in client.operations.list(**window, concurrency=concurrency).pages()
        for item in page.raw_items
    ]
    return time.perf_counter() - t0, ids


def run(days: int, latency: float, faults: float | None) -> None:
    since = dt.datetime.combine(ANCHOR - dt.timedelta(days=days - 1), dt.time(), dt.UTC)
    until = dt.datetime.combine(ANCHOR + dt.timedelta(days=1), dt.time(), dt.UTC)
    window: dict[str, Any] = {"since": since, "until": until}
    options = {"seed": 7, "history": days, "anchor": ANCHOR.isoformat(), "time_scale": 0.002}
    with (
        remote_sandbox(**options, api_latency=latency, faults=faults) as (url, token),
        cn.CatenaClient(base_url=url, token=token, progress=False, max_retries=8) as client,
    ):
        _listed(client, window, _config.DEFAULT_LIST_CONCURRENCY)  # the server's JSON of every record is warm
        wide, wide_ids = _listed(client, window, _config.DEFAULT_LIST_CONCURRENCY)
        one, one_ids = _listed(client, window, 1)
    same = wide_ids == one_ids and len(set(wide_ids)) == len(wide_ids)
    shown = f"{faults:.0%} faults" if faults else "no faults"
    print(f"api_latency={latency} s, {shown}: {len(one_ids):,} operations")
    print(f"  concurrency=1:                        {one:6.2f} s")
    print(f"  concurrency={_config.DEFAULT_LIST_CONCURRENCY} (the default):          {wide:6.2f} s")
    ratio = one / wide
    verdict = "OK" if ratio >= 5 and same else "MISSED"
    print(
        f"  speed-up {ratio:.1f}x (bar: at least 5x); identical ids, order, no duplicate: {same} -> {verdict}"
    )


def main(days: int = 53, latency: float = 0.1) -> None:
    run(days, latency, None)
    run(days, latency, 0.1)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 53, float(args[1]) if len(args) > 1 else 0.1)
