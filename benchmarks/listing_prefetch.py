"""Benchmark: does fetching the next page in a thread, while the frames read this one, beat the wire's wait?

The listing of `listing.py` (about 100,000 operations, sandbox in its own process, no latency), read into
frames from pages fetched three ways: one after another in this thread; by one thread that fetches a page
ahead of the frames and reads nothing of it but `next_page` (the frames decode it here, where they read it);
and by the client at `concurrency=8` and `concurrency=1`. Wall and CPU time of this process, best of 3. On
two cores the thread hides the wait on the sandbox but costs about as much CPU as it hides: the figures
show whether that still holds where this runs.

Run: ``.venv/bin/python benchmarks/listing_prefetch.py``
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
from _remote import OPERATIONS_PATH, remote_sandbox, seeded_listing

from catena_nb.client import CatenaClient
from catena_nb.client.pagination import Page
from catena_nb.frames import operation_frames
from catena_nb.models import ResourceOperation

DAYS = 53


class _Cursor(msgspec.Struct):
    next_page: Any = None


_next_page = msgspec.json.Decoder(_Cursor).decode


class _Pages:
    """A listing the frames read page by page (`wire_pages`), fetched `ahead` pages in front by a thread."""

    def __init__(self, http: httpx.Client, windows: list[dict[str, str]], ahead: int) -> None:
        self.http, self.windows, self.ahead = http, windows, ahead

    def _bodies(self) -> Iterator[bytes]:
        for params in self.windows:
            cursor = None
            while True:
                content = self.http.get(
                    OPERATIONS_PATH, params={**params, "cursor": cursor} if cursor else params
                ).content
                yield content
                cursor = _next_page(content).next_page
                if not cursor:
                    break

    def pages(self) -> Iterator[Page[ResourceOperation]]:
        return self.wire_pages()

    def wire_pages(self) -> Iterator[Page[ResourceOperation]]:
        bodies = self._bodies() if not self.ahead else self._fetched_ahead()
        for content in bodies:
            yield Page(content, ResourceOperation, structs=True)

    def _fetched_ahead(self) -> Iterator[bytes]:
        handed: queue.Queue[bytes | None] = queue.Queue(maxsize=self.ahead)

        def fetch() -> None:
            for content in self._bodies():
                handed.put(content)
            handed.put(None)

        threading.Thread(target=fetch, daemon=True).start()
        while (content := handed.get()) is not None:
            yield content


def main() -> None:
    since, until, options = seeded_listing(DAYS)
    runs: dict[str, list[tuple[float, float]]] = {}
    with remote_sandbox(**options) as (url, token):
        client = CatenaClient(base_url=url, token=token, progress=False)
        listing = client.operations.list(since=since, until=until, size=1000, concurrency=1)
        requests = [dict(page.params) for page in listing.pages()]  # warms the sandbox's JSON, too
        windows = [params for params in requests if "cursor" not in params]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            ways: dict[str, Any] = {
                "one page after another": lambda: _Pages(http, windows, 0),
                "a thread one page ahead": lambda: _Pages(http, windows, 1),
                "client, concurrency=8": lambda: client.operations.list(since=since, until=until, size=1000),
                "client, concurrency=1": lambda: client.operations.list(
                    since=since, until=until, size=1000, concurrency=1
                ),
            }
            for _ in range(3):
                t0, c0 = time.perf_counter(), time.process_time()
                for params in requests:
                    http.get(OPERATIONS_PATH, params=params).read()
                runs.setdefault("bare transfer", []).append(
                    (time.perf_counter() - t0, time.process_time() - c0)
                )
                for name, make in ways.items():
                    pages = make()
                    t0, c0 = time.perf_counter(), time.process_time()
                    frames = operation_frames(pages)
                    runs.setdefault(name, []).append((time.perf_counter() - t0, time.process_time() - c0))
                    del frames  # freed here, not inside the next timing
        client.close()
    bare = min(runs["bare transfer"])[0]
    for name, times in runs.items():
        wall, cpu = min(times)
        print(f"{name:26s} {wall:5.2f} s  {wall / bare:4.2f}x the bare transfer   cpu {cpu:5.2f} s")


if __name__ == "__main__":
    main()
