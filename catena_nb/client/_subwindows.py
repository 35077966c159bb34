"""Listings side by side: a window cut into sub-windows on the time the API lists by, each following its
own cursors, the pages handed out in window order, as one cursor at a time would give them.

The API lists operations by ``created_at`` (messages by ``occurred_at``) and filters a window half-open,
``from <= t < to``. A listing asks for the first page of a window as it always did; if that page says there
is more, :func:`plan` cuts the rest of the window into sub-windows, from the last instant the page reached
to the window's end, and the listing's later windows with it (a listing longer than 45 days has several),
and they are listed side by side (:func:`side_by_side` in threads,
:func:`side_by_side_async` in tasks). The first page keeps only its records before that instant, since the
first sub-window starts at it and lists them again; each sub-window's pages keep only the records inside
it, so that a server that rounds a bound the other way still yields each record once. The sub-windows are
sized from how much time the first page covered, about two pages each and at most four per worker, so that
a listing sends few more requests than one cursor at a time (each sub-window ends on a part page) and a
long one keeps every worker busy.

A window is listed one cursor at a time, as before, when the first page cannot be read this way: records
without a parseable time, out of order, or outside the window (a server that ignores the window).

Each sub-window has its own loop guard (`PaginationError`) and each request its own deadline; a 429 on any
of them pauses all of them (`SharedPause`). Work stays bounded: at most twice as many sub-windows as
workers are fetched ahead of the one being read.
"""

from __future__ import annotations

import asyncio
import bisect
import concurrent.futures as cf
import datetime as dt
import logging
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from catena_nb._time import as_utc, canonical_utc, format_dt
from catena_nb.client._guard import LoopGuard
from catena_nb.client._transport import SharedPause

if TYPE_CHECKING:
    from catena_nb.client.pagination import ListSpec, Page

__all__ = ["Split", "plan", "side_by_side", "side_by_side_async"]

logger = logging.getLogger("catena_nb.client")

PausedFetch = Callable[[str, dict[str, Any], SharedPause | None], "Page[Any]"]
AsyncPausedFetch = Callable[[str, dict[str, Any], SharedPause | None], Awaitable["Page[Any]"]]
SUB_WINDOWS_PER_WORKER = 4
PAGES_PER_SUB_WINDOW = 2  # fewer requests than one page each, which would end each on a part page
AHEAD_PER_WORKER = 2
_INSTANT = dt.timedelta(microseconds=1)  # the finest time the API filters on
_NAT = np.iinfo(np.int64).min  # a record without a time (canonical_utc's missing value)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class Split:
    """How the rest of a window is listed: the first page's records before its last instant, then the
    sub-windows' query parameters in window order."""

    first: Page[Any] | None
    windows: list[dict[str, Any]]


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return as_utc(value)
    except ValueError:
        return None


def _microseconds(instant: dt.datetime) -> int:
    return (instant - _EPOCH) // _INSTANT


def _times(page: Page[Any], field: str) -> list[dt.datetime] | None:
    out = [_time(value) for value in page.item_texts(field)]
    return None if any(t is None for t in out) else out  # type: ignore[return-value]


def plan(
    spec: ListSpec[Any],
    params: Mapping[str, Any],
    first: Page[Any],
    workers: int,
    later: Sequence[Mapping[str, Any]] = (),
) -> Split | None:
    """How to list the rest of the window whose first page is `first`, and the `later` windows of the same
    listing with it, or None to follow its cursor.

    The later windows are cut into sub-windows at the density the first page showed, so that the workers
    go on to them while the first window's last sub-windows are still listed, rather than idling while a
    later window's first page is fetched and planned on its own.
    """
    field, lo_text, hi_text = spec.time_field, params.get("from_datetime"), params.get("to_datetime")
    if field is None or workers < 2 or first.next_page is None or not lo_text or not hi_text:
        return None
    lo, hi = as_utc(str(lo_text)), as_utc(str(hi_text))
    times = _times(first, field)
    if not times or times[0] < lo or times[-1] >= hi or any(b < a for a, b in pairwise(times)):
        logger.debug("listing %s one cursor at a time: its first page is not in %s order", spec.path, field)
        return None
    last = times[-1]
    before = bisect.bisect_left(times, last)  # the records before the last instant are all listed
    spans = [(last, hi)] + [(as_utc(str(w["from_datetime"])), as_utc(str(w["to_datetime"]))) for w in later]
    rest = sum((b - a for a, b in spans), dt.timedelta(0))
    covered = last - lo
    if covered > dt.timedelta(0):
        # as many records again per span of time as the first page held, PAGES_PER_SUB_WINDOW pages each
        size = int(params.get("size") or len(times))
        pages = len(times) * (rest / covered) / max(size, 1)
        wanted = math.ceil(pages / PAGES_PER_SUB_WINDOW)
    else:
        wanted = SUB_WINDOWS_PER_WORKER * workers
    count = max(len(spans), min(wanted, SUB_WINDOWS_PER_WORKER * workers))
    windows: list[dict[str, Any]] = []
    for (a, b), window in zip(spans, [params, *later], strict=True):
        # each window's share of the sub-windows follows its share of the time left, one at least
        share = max(1, min(round(count * ((b - a) / rest)) if rest else 1, (b - a) // _INSTANT))
        bounds = sorted({a + (b - a) * i // share for i in range(share)} | {b})
        windows += [
            {**window, "from_datetime": format_dt(x), "to_datetime": format_dt(y)}
            for x, y in pairwise(bounds)
        ]
    kept = first.kept([i < before for i in range(len(times))]) if before else None
    return Split(kept, windows)


def _inside(page: Page[Any], field: str | None, params: Mapping[str, Any]) -> Page[Any]:
    """`page` with only the records inside its sub-window (a record without a time stays)."""
    if field is None:
        return page
    lo, hi = as_utc(str(params["from_datetime"])), as_utc(str(params["to_datetime"]))
    texts = page.item_texts(field)
    # Catena's own form, read a page at a time; a page with any other text, one record at a time
    values = np.fromiter(texts, dtype=object, count=len(texts))  # 1-d whatever the values hold
    instants = canonical_utc(values, _NAT) if texts else None
    if instants is not None:
        first, last = _microseconds(lo), _microseconds(hi)
        inside = (instants == _NAT) | ((instants >= first) & (instants < last))
        if bool(inside.all()):
            return page
        keep = inside.tolist()
    else:
        keep = [(t := _time(value)) is None or lo <= t < hi for value in texts]
    if all(keep):
        return page
    logger.debug("dropped %d records outside their sub-window", keep.count(False))
    return page.kept(keep)


@dataclass
class _Walked:
    """One sub-window's pages, and the error that stopped it (raised after they are yielded)."""

    pages: list[Page[Any]]
    error: BaseException | None = None


def _walk(
    fetch: PausedFetch, spec: ListSpec[Any], params: dict[str, Any], pause: SharedPause, stop: threading.Event
) -> _Walked:
    guard, cursor, walked = LoopGuard(spec, params), None, _Walked([])
    try:
        while not stop.is_set():
            page = fetch(spec.path, {**params, "cursor": cursor} if cursor else params, pause)
            page.keep, page.structs = spec.keep, spec.structs
            guard.arrived(page, cursor)  # decodes the page here, while the other workers wait on the wire
            walked.pages.append(_inside(page, spec.time_field, params))
            if page.next_page is None:
                break
            guard.follow(page.next_page, page)
            cursor = page.next_page
    except Exception as exc:  # handed to the reader after the pages before it
        walked.error = exc
    return walked


def side_by_side(
    fetch: PausedFetch, spec: ListSpec[Any], split: Split, workers: int, pause: SharedPause
) -> Iterator[Page[Any]]:
    """The pages of `split`, its sub-windows listed by `workers` threads, in window order."""
    if split.first is not None:
        yield split.first
    stop = threading.Event()
    pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="catena-list")
    pending: list[cf.Future[_Walked]] = []
    windows = iter(split.windows)
    try:
        for params in windows:
            pending.append(pool.submit(_walk, fetch, spec, params, pause, stop))
            if len(pending) >= AHEAD_PER_WORKER * workers:
                break
        while pending:
            walked = pending.pop(0).result()
            more = next(windows, None)
            if more is not None:
                pending.append(pool.submit(_walk, fetch, spec, more, pause, stop))
            yield from walked.pages
            if walked.error is not None:
                raise walked.error
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


async def _walk_async(
    fetch: AsyncPausedFetch, spec: ListSpec[Any], params: dict[str, Any], pause: SharedPause
) -> _Walked:
    guard, cursor, walked = LoopGuard(spec, params), None, _Walked([])
    try:
        while True:
            page = await fetch(spec.path, {**params, "cursor": cursor} if cursor else params, pause)
            page.keep, page.structs = spec.keep, spec.structs
            guard.arrived(page, cursor)
            walked.pages.append(_inside(page, spec.time_field, params))
            if page.next_page is None:
                break
            guard.follow(page.next_page, page)
            cursor = page.next_page
    except Exception as exc:
        walked.error = exc
    return walked


async def side_by_side_async(
    fetch: AsyncPausedFetch, spec: ListSpec[Any], split: Split, workers: int, pause: SharedPause
) -> AsyncIterator[Page[Any]]:
    """The pages of `split`, its sub-windows listed by at most `workers` tasks at once, in window order."""
    if split.first is not None:
        yield split.first
    slots = asyncio.Semaphore(workers)

    async def walk(params: dict[str, Any]) -> _Walked:
        async with slots:
            return await _walk_async(fetch, spec, params, pause)

    pending: list[asyncio.Task[_Walked]] = []
    windows = iter(split.windows)
    try:
        for params in windows:
            pending.append(asyncio.ensure_future(walk(params)))
            if len(pending) >= AHEAD_PER_WORKER * workers:
                break
        while pending:
            walked = await pending.pop(0)
            more = next(windows, None)
            if more is not None:
                pending.append(asyncio.ensure_future(walk(more)))
            for page in walked.pages:
                yield page
            if walked.error is not None:
                raise walked.error
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
