"""Listings side by side against the sandbox, with and without injected faults, on both clients: exactly
the records of one cursor at a time, in the same order, once each; operations and messages alike."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from catena_nb import AsyncCatenaClient, CatenaClient
from catena_nb.sandbox import Sandbox

WINDOW: dict[str, Any] = {"since": "2026-10-29", "until": "2026-11-02"}


@pytest.fixture(scope="module", params=[None, 0.1], ids=["no faults", "10% faults"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """Four days of history, served plainly or with 10% of the requests disturbed."""
    with Sandbox(seed=11, history=4, anchor="2026-11-01", time_scale=0.002, faults=request.param) as sb:
        yield sb


def _settings(sb: Sandbox) -> dict[str, Any]:
    return {"base_url": sb.url, "token": sb.token, "progress": False, "max_retries": 12}


def _sync_ids(sb: Sandbox, what: str, concurrency: int) -> list[str]:
    with CatenaClient(**_settings(sb), sleep=lambda _s: None) as client:
        resource = client.operations if what == "operations" else client.messages
        return [
            page_item["id"]
            for page in resource.list(**WINDOW, size=250, concurrency=concurrency).pages()
            for page_item in page.raw_items
        ]


def _async_ids(sb: Sandbox, what: str, concurrency: int) -> list[str]:
    async def no_wait(_s: float) -> None:
        return None

    async def run() -> list[str]:
        async with AsyncCatenaClient(**_settings(sb), sleep=no_wait) as client:
            resource = client.operations if what == "operations" else client.messages
            listing = resource.list(**WINDOW, size=250, concurrency=concurrency)
            return [item["id"] async for page in listing.pages() for item in page.raw_items]

    return asyncio.run(run())


@pytest.mark.parametrize("what", ["operations", "messages"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_side_by_side_equals_one_cursor_at_a_time(sandbox: Sandbox, what: str, kind: str) -> None:
    """The default concurrency gives the ids of `concurrency=1`, in the same order, none twice."""
    ids = _sync_ids if kind == "sync" else _async_ids
    one = ids(sandbox, what, 1)
    wide = ids(sandbox, what, 8)
    assert len(one) > 1000
    assert wide == one
    assert len(set(wide)) == len(wide)
