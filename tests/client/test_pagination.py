"""Listings of either client against a scripted API: lazy, cursor pages, 45-day windows, raw pages."""

from __future__ import annotations

import datetime as dt
import json

import httpx

from catena_nb.models import ResourceOperation
from tests.client.conftest import MakeDriver
from tests.support.client_mock import CONN, MockAPI, op, page, paged_handler


def test_listing_2500_operations_follows_three_pages(drive: MakeDriver) -> None:
    """2,500 operations with size=1000 come in three pages, following `next_page` as `cursor`."""
    items = [op("failed" if i % 5 == 0 else "success") for i in range(2500)]
    seen: list[httpx.Request] = []
    api = MockAPI()
    api.handler = paged_handler(items, seen)
    d = drive(api)
    listing = d(lambda c: c.operations.list(connection_id=CONN, size=1000))
    assert seen == []  # lazy: nothing sent until iterated
    assert "Paginator" in repr(listing)
    assert seen == []
    got = d(lambda c: listing.to_list())
    assert len(got) == 2500
    assert [o.id for o in got] == [o["id"] for o in items]
    assert len(seen) == 3
    assert [r.url.params.get("cursor") for r in seen] == [None, "1000", "2000"]


def test_90_day_window_is_split_in_two(drive: MakeDriver) -> None:
    """A 90-day since/until goes out as two consecutive windows of at most 45 days."""
    seen: list[httpx.Request] = []
    api = MockAPI()
    api.handler = paged_handler([op()], seen)
    since = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    got = drive(api)(lambda c: c.operations.list(since=since, until=since + dt.timedelta(days=90)).to_list())
    assert len(seen) == 2
    assert len(got) == 2
    windows = [
        (
            dt.datetime.fromisoformat(r.url.params["from_datetime"]),
            dt.datetime.fromisoformat(r.url.params["to_datetime"]),
        )
        for r in seen
    ]
    assert windows[0][0] == since
    assert windows[-1][1] == since + dt.timedelta(days=90)
    assert windows[0][1] == windows[1][0]
    assert all(end - start <= dt.timedelta(days=45) for start, end in windows)


def test_cursors_are_followed_within_each_window(drive: MakeDriver) -> None:
    """Each 45-day window starts from the first page and follows its cursors; `status` filters each page."""
    seen: list[httpx.Request] = []
    items = [op("failed" if i % 2 else "success") for i in range(5)]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        start = int(request.url.params.get("cursor", "0"))
        nxt = str(start + 2) if start + 2 < len(items) else None
        return page(items[start : start + 2], nxt)

    api = MockAPI()
    api.handler = handler
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    got = drive(api)(
        lambda c: c.operations.list(
            since=since, until=since + dt.timedelta(days=60), status="failed", size=2
        ).to_list()
    )
    assert len(seen) == 6  # 3 pages in each of 2 windows
    assert [r.url.params.get("cursor") for r in seen] == [None, "2", "4"] * 2
    assert len(got) == 4
    assert all(o.failed for o in got)


def test_pages_expose_raw_content(drive: MakeDriver) -> None:
    """`.pages()` yields pages with the raw bytes, the raw items and the parsed items."""
    items = [op() for _ in range(5)]
    api = MockAPI()
    api.handler = paged_handler(items, [])
    pages = drive(api).pages(lambda c: c.operations.list(size=2))
    assert len(pages) == 3
    assert json.loads(pages[0].content)["items"][0]["id"] == items[0]["id"]
    assert pages[0].raw_items[1]["id"] == items[1]["id"]
    assert pages[-1].next_page is None
    assert isinstance(pages[0].items[0], ResourceOperation)
