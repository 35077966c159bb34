"""Benchmark: how many operations the frames read and convert together, on a listing's pages.

The pages of `listing.py`'s listing (about 100,000 operations) are fetched once from the sandbox in its own
process, then read into frames here, from their bodies, as a listing hands them out: each page decoded into
wire structs just before its records are converted. The same pages at several chunk sizes, in turns (a
round of each size, several rounds), so that a machine whose speed drifts weighs on every size alike; CPU
time of this process, median and best of the rounds, against the frames' own `_operations.CHUNK`. A chunk
of 1,000 is the page just decoded, still in the cache; one of 4,096 holds four pages' records.

Run: ``.venv/bin/python benchmarks/chunk_size.py [rounds]`` (default 9)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator

import httpx
from _remote import OPERATIONS_PATH, remote_sandbox, seeded_listing

from catena_nb.client import CatenaClient
from catena_nb.client.pagination import Page
from catena_nb.frames import _operations, operation_frames
from catena_nb.models import ResourceOperation

SIZES = (_operations.CHUNK, 2048, 1000, 500)


class _Replay:
    """The bodies fetched, handed out as a listing's pages (each decoded when the frames read it)."""

    def __init__(self, bodies: list[bytes]) -> None:
        self.bodies = bodies

    def wire_pages(self) -> Iterator[Page[ResourceOperation]]:
        for body in self.bodies:
            yield Page(body, ResourceOperation, structs=True)

    pages = wire_pages


def _cpu(bodies: list[bytes], chunk: int) -> float:
    saved, _operations.CHUNK = _operations.CHUNK, chunk
    try:
        start = time.process_time()
        frames = operation_frames(_Replay(bodies))
        spent = time.process_time() - start
    finally:
        _operations.CHUNK = saved
    del frames  # freed outside the timing
    return spent


def main(rounds: int = 9) -> None:
    since, until, options = seeded_listing(53)
    with remote_sandbox(**options) as (url, token):
        with CatenaClient(base_url=url, token=token, progress=False) as client:
            listing = client.operations.list(since=since, until=until, size=1000, concurrency=1)
            queries = [dict(page.params) for page in listing.pages()]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            bodies = [http.get(OPERATIONS_PATH, params=params).content for params in queries]
    times: dict[int, list[float]] = {size: [] for size in SIZES}
    for _ in range(rounds):
        for size in SIZES:
            times[size].append(_cpu(bodies, size))
    size_mb = sum(map(len, bodies)) / 1e6
    print(f"{len(bodies)} pages, {size_mb:.1f} MB; {rounds} rounds, CPU time of the frames")
    ours = statistics.median(times[_operations.CHUNK])
    for size, spent in times.items():
        median = statistics.median(spent)
        print(
            f"chunk {size:>5,}: median {median:.3f} s, best {min(spent):.3f} s, "
            f"{median / ours:.2f}x the median at {_operations.CHUNK:,}"
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
