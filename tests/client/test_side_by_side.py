"""Listings side by side against a scripted API that lists by creation time: exactly the records of one
cursor at a time, in the same order, once each; a 429 pauses every worker; the loop guard still holds."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import httpx
import pytest

from catena_nb import CatenaClient
from catena_nb.errors import PaginationError
from tests.client.conftest import MakeDriver
from tests.support.client_mock import BASE_URL, MockAPI, op

DAY = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
WINDOW: dict[str, Any] = {"since": DAY, "until": DAY + dt.timedelta(days=1)}


def _records(n: int, *, ties: int = 1) -> list[dict[str, Any]]:
    """`n` operations over the day in creation order, `ties` of them at each instant."""
    step = dt.timedelta(days=1) / (n // ties + 1)
    out = []
    for i in range(n):
        item = op("failed" if i % 4 == 0 else "success")
        item["created_at"] = (DAY + step * (i // ties)).isoformat().replace("+00:00", "Z")
        out.append(item)
    return out


def _time(item: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(item["created_at"])


class WindowedAPI:
    """Serves `records` as the API does: `from <= created_at < to`, in creation order, cursor pages.

    `inclusive_end` answers `created_at <= to` instead (a server that rounds the bound the other way);
    `ignore_window` answers every record whatever the window."""

    def __init__(
        self, records: list[dict[str, Any]], *, inclusive_end: bool = False, ignore_window: bool = False
    ) -> None:
        self.records, self.inclusive_end, self.ignore_window = records, inclusive_end, ignore_window
        self.seen: list[httpx.Request] = []
        self.lock = threading.Lock()

    def answer(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.seen.append(request)
        q = request.url.params
        lo, hi = dt.datetime.fromisoformat(q["from_datetime"]), dt.datetime.fromisoformat(q["to_datetime"])
        inside = [
            r
            for r in self.records
            if self.ignore_window or (lo <= _time(r) <= hi if self.inclusive_end else lo <= _time(r) < hi)
        ]
        start, size = int(q.get("cursor", "0")), int(q["size"])
        nxt = str(start + size) if start + size < len(inside) else None
        return httpx.Response(200, json={"items": inside[start : start + size], "next_page": nxt})


def _both(drive: MakeDriver, api: WindowedAPI, **filters: Any) -> tuple[list[str], list[str], int, int]:
    mock = MockAPI()
    mock.handler = api.answer
    d = drive(mock)

    def ids(concurrency: int) -> list[str]:
        def listed(c: Any) -> Any:
            return c.operations.list(**WINDOW, size=100, concurrency=concurrency, **filters).to_list()

        return [o.id for o in d(listed)]

    one = ids(1)
    sequential = len(api.seen)
    wide = ids(4)
    return one, wide, sequential, len(api.seen) - sequential


@pytest.mark.parametrize("ties", [1, 7])
def test_side_by_side_gives_exactly_the_sequential_listing(drive: MakeDriver, ties: int) -> None:
    """The same ids in the same order, each once, with records sharing an instant across page edges too."""
    records = _records(2000, ties=ties)
    api = WindowedAPI(records)
    one, wide, sequential, side = _both(drive, api)
    assert one == [r["id"] for r in records]
    assert wide == one
    assert sequential == 20
    assert side > 1
    windows = [r.url.params for r in api.seen[sequential:]]
    assert all(w["size"] == "100" for w in windows)
    assert len({(w["from_datetime"], w["to_datetime"]) for w in windows[1:]}) > 1  # sub-windows of the day


def test_a_status_filter_side_by_side(drive: MakeDriver) -> None:
    """`status="failed"` side by side keeps exactly the failed operations, in order."""
    records = _records(1500)
    one, wide, _, _ = _both(drive, WindowedAPI(records), status="failed")
    assert wide == one == [r["id"] for r in records if r["status"] == "failed"]


def test_a_bound_rounded_the_other_way_still_yields_each_record_once(drive: MakeDriver) -> None:
    """A server answering `created_at <= to` repeats each sub-window's edge records: each comes once."""
    records = _records(1500, ties=3)
    one, wide, _, _ = _both(drive, WindowedAPI(records, inclusive_end=True))
    assert wide == one == [r["id"] for r in records]


def test_a_server_that_ignores_the_window_is_listed_one_cursor_at_a_time(drive: MakeDriver) -> None:
    """Records outside the window on the first page: the listing follows its cursor, as before."""
    records = _records(500)
    for r in records[:5]:
        r["created_at"] = "2026-09-01T00:00:00Z"
    api = WindowedAPI(records, ignore_window=True)
    one, wide, sequential, side = _both(drive, api)
    assert wide == one
    assert side == sequential


def test_the_later_windows_of_a_long_listing_are_cut_with_the_first(drive: MakeDriver) -> None:
    """A 60-day listing spans two API windows: the second is cut into sub-windows when the first page is
    planned (never fetched whole), none crossing a window's edge, and the ids are those of one cursor."""
    step = dt.timedelta(days=60) / 2001
    records = _records(2000)
    for i, item in enumerate(records):
        item["created_at"] = (DAY + step * (i + 1)).isoformat().replace("+00:00", "Z")
    api = WindowedAPI(records)
    mock = MockAPI()
    mock.handler = api.answer
    d = drive(mock)
    window = {"since": DAY, "until": DAY + dt.timedelta(days=60)}

    def ids(concurrency: int) -> list[str]:
        def listed(c: Any) -> Any:
            return c.operations.list(**window, size=100, concurrency=concurrency).to_list()

        return [o.id for o in d(listed)]

    one = ids(1)
    sequential = len(api.seen)
    wide = ids(4)
    assert one == wide == [r["id"] for r in records]
    spans = {
        (
            dt.datetime.fromisoformat(r.url.params["from_datetime"]),
            dt.datetime.fromisoformat(r.url.params["to_datetime"]),
        )
        for r in api.seen[:sequential]
    }
    assert len(spans) == 2  # one cursor at a time walks the two windows whole
    edge = max(lo for lo, _ in spans)
    later = [
        (
            dt.datetime.fromisoformat(r.url.params["from_datetime"]),
            dt.datetime.fromisoformat(r.url.params["to_datetime"]),
        )
        for r in api.seen[sequential + 1 :]
    ]
    assert (edge, DAY + dt.timedelta(days=60)) not in later  # the second window only in sub-windows
    assert sum(lo >= edge for lo, _ in set(later)) > 1
    assert all(hi <= edge or lo >= edge for lo, hi in later)  # none across the windows' edge


def test_a_short_listing_sends_what_it_always_did(drive: MakeDriver) -> None:
    """A window whose first page is its last takes one request, side by side or not."""
    one, wide, sequential, side = _both(drive, WindowedAPI(_records(80)))
    assert wide == one
    assert sequential == side == 1


def test_a_repeated_cursor_in_a_sub_window_raises_after_the_pages_before(drive: MakeDriver) -> None:
    """A sub-window handed the same cursor twice raises PaginationError, after the pages before it."""
    records = _records(2000)
    api = WindowedAPI(records)

    def answer(request: httpx.Request) -> httpx.Response:
        response = api.answer(request)
        if "cursor" in request.url.params:
            body = response.json()
            body["next_page"] = request.url.params["cursor"]  # the same cursor again: a loop
            return httpx.Response(200, json=body)
        return response

    mock = MockAPI()
    mock.handler = answer
    d = drive(mock)
    got: list[Any] = []
    with pytest.raises(PaginationError):
        d(lambda c: _collect(c.operations.list(**WINDOW, size=100, concurrency=4), got))
    assert got  # the pages before the repeat were yielded
    assert len({item["id"] for page in got for item in page.raw_items}) == sum(len(p.raw_items) for p in got)


def _collect(listing: Any, into: list[Any]) -> Any:
    if hasattr(listing.pages(), "__aiter__"):

        async def run() -> None:
            async for page in listing.pages():
                into.append(page)

        return run()
    for page in listing.pages():
        into.append(page)
    return None


def test_a_429_pauses_every_worker() -> None:
    """After one sub-window's 429 (retry in 1 s), no worker sends anything until the second has passed."""
    records = _records(3000)
    api = WindowedAPI(records)
    sent: list[float] = []
    refused: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        time.sleep(0.01)  # a round trip, so that the workers overlap
        now = time.monotonic()
        with api.lock:
            first_sub_window = not refused and "cursor" in request.url.params and len(api.seen) > 5
            if first_sub_window:
                refused.append(now)
        if first_sub_window:
            body = {"code": 429, "message": "Too Many Requests", "detail": {"retry_after_seconds": 1}}
            return httpx.Response(429, json=body)
        sent.append(now)
        return api.answer(request)

    with CatenaClient(
        base_url=BASE_URL, token="t", transport=httpx.MockTransport(answer), progress=False
    ) as client:
        got = client.operations.list(**WINDOW, size=100, concurrency=4).to_list()
    assert [o.id for o in got] == [r["id"] for r in records]
    assert refused
    pause = refused[0]
    # requests already on the wire when the 429 came may land just after it; none starts within the pause
    during = [t for t in sent if pause + 0.05 < t < pause + 0.95]
    assert during == []
    assert any(t >= pause + 0.95 for t in sent)
