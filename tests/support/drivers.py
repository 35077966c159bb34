"""One way to call either client, so that the sync and async clients run one suite.

`Driver("sync" | "async", **client_kwargs)` builds the client and runs a call on it: `d(lambda c: ...)`
returns the call's value, awaiting it when the client is async (all of a driver's calls share one event
loop, as a notebook's do). Its clients never wait: every retry or poll wait is recorded in `d.slept` instead.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from catena_nb.client import AsyncCatenaClient, CatenaClient
from catena_nb.client.pagination import AsyncPaginator, Page, Paginator

KINDS = ("sync", "async")

Client = CatenaClient | AsyncCatenaClient


class Driver:
    """A client of either kind, and the calls made on it."""

    def __init__(self, kind: str, **client_kwargs: Any) -> None:
        self.kind = kind
        self.slept: list[float] = []
        self._runner: asyncio.Runner | None = None
        if kind == "sync":
            self.client: Any = CatenaClient(sleep=self.slept.append, **client_kwargs)
            return

        async def no_wait(seconds: float) -> None:
            self.slept.append(seconds)

        self._runner = asyncio.Runner()

        async def build() -> AsyncCatenaClient:
            return AsyncCatenaClient(sleep=no_wait, **client_kwargs)

        self.client = self._runner.run(build())

    def __call__(self, call: Callable[[Any], Any]) -> Any:
        """`call(client)`, awaited when it gives an awaitable."""
        if self._runner is None:
            return call(self.client)

        async def run() -> Any:
            out = call(self.client)
            return await out if inspect.isawaitable(out) else out

        return self._runner.run(run())

    def pages(self, listing: Callable[[Any], Paginator[Any] | AsyncPaginator[Any]]) -> list[Page[Any]]:
        """Every page of the listing `listing(client)` gives."""
        made = listing(self.client)
        if isinstance(made, Paginator):
            return list(made.pages())

        async def run(made: AsyncPaginator[Any]) -> list[Page[Any]]:
            return [page async for page in made.pages()]

        assert self._runner is not None
        return self._runner.run(run(made))

    def close(self) -> None:
        if self._runner is None:
            self.client.close()
            return
        self._runner.run(self.client.aclose())
        self._runner.close()

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
