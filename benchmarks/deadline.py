"""Benchmark: how long a call to a server that never finishes its answer lasts, with the default settings.

Four calls run side by side, each against its own server on 127.0.0.1: the sync and the async client, each
against a server that never answers and one that trickles a byte a second after its headers (per-read
timeouts never fire). Every client has the defaults (30 s per read, 4 retries, the 60 s deadline). The bar:
each call raises `APITimeoutError` within a few seconds of the deadline, where per-read timeouts and retries
alone gave 152 s for the silent server and no end at all for the trickling one.

Run: ``.venv/bin/python benchmarks/deadline.py [deadline_s]`` (default: the clients' default deadline)
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the servers live with the tests that use them

from catena_nb import _config
from catena_nb.client import AsyncCatenaClient, CatenaClient
from tests.support.endless_servers import EndlessServer

CONN = "019ddd87-eedd-710f-967c-1c6cc72ac985"
OP = "019df230-a1b2-7890-cdef-1234567890ab"


def _sync(url: str, deadline: float | None) -> tuple[str, float]:
    kwargs: dict[str, Any] = {} if deadline is None else {"deadline": deadline}
    start = time.monotonic()
    with CatenaClient(base_url=url, token="benchmark-token", progress=False, **kwargs) as client:
        try:
            client.operations.get(OP, connection_id=CONN)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}", time.monotonic() - start
    return "returned", time.monotonic() - start


def _async(url: str, deadline: float | None) -> tuple[str, float]:
    kwargs: dict[str, Any] = {} if deadline is None else {"deadline": deadline}

    async def main() -> tuple[str, float]:
        start = time.monotonic()
        async with AsyncCatenaClient(
            base_url=url, token="benchmark-token", progress=False, **kwargs
        ) as client:
            try:
                await client.operations.get(OP, connection_id=CONN)
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}", time.monotonic() - start
        return "returned", time.monotonic() - start

    return asyncio.run(main())


def main(deadline: float | None = None) -> None:
    shown = _config.DEFAULT_DEADLINE_S if deadline is None else deadline
    print(f"deadline {shown:g} s, timeout {_config.DEFAULT_TIMEOUT_S:g} s per read, "
          f"{_config.DEFAULT_MAX_RETRIES} retries")  # fmt: skip
    results: dict[str, tuple[str, float]] = {}
    servers = {f"{client} client, {kind}": EndlessServer(kind) for client in ("sync", "async")
               for kind in ("silent", "trickle")}  # fmt: skip
    for server in servers.values():
        server.__enter__()
    try:
        threads = []
        for name, server in servers.items():
            call = _sync if name.startswith("sync") else _async

            def run(name: str = name, url: str = server.url, call=call) -> None:  # type: ignore[no-untyped-def]
                results[name] = call(url, deadline)

            threads.append(threading.Thread(target=run))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)
    for name, (outcome, seconds) in results.items():
        print(f"{name:28} {seconds:7.2f} s  {outcome[:150]}")
    worst = max(seconds for _, seconds in results.values())
    print(f"longest call: {worst:.2f} s against a deadline of {shown:g} s (bar: within {shown + 5:g} s)")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else None)
