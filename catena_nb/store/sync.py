"""Incremental sync of an :class:`~catena_nb.store.AuditStore` from the Catena API.

The list endpoints filter on when a record was created (operations: ``created_at``; messages:
``occurred_at``), in windows of at most 45 days. The store keeps, per followed table, the span it covers
(``<table>.covered_from`` .. ``<table>.high_water``), and the start it was asked to cover
(``sync.requested_from``, written before the first request; see :mod:`catena_nb.store.schema`). The
high-water mark is committed in the same transaction as each page's rows, so a crash loses at most the page
in flight and the next run resumes each table where it stopped; a table that has no mark yet (a sync stopped
before it got there) starts from the requested start, not from a default span before now.

A later sync lists only from the mark on, starting a little before it (``OPERATIONS_OVERLAP``) so that an
operation created just before the mark but listed late is still seen; the upsert drops what is already
stored. Operations still pending in the store are then re-checked: by looking each one up, or, when fewer
requests do it, by listing the span they were created in again. Messages have no such pending flag but their
delivery status moves on for a while (sent, delivered, read): their listing starts ``MESSAGES_SETTLE``
before their mark. A ``since`` earlier than a table covers is filled in newest window first, moving the
table's ``covered_from`` back after each window, so that a stopped backfill also resumes.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catena_nb import _config
from catena_nb._progress import progress_bar
from catena_nb._time import as_utc, format_dt, split_windows
from catena_nb.client.pagination import Page
from catena_nb.errors import NotFoundError
from catena_nb.store import schema as schema

if TYPE_CHECKING:
    from catena_nb.client import CatenaClient
    from catena_nb.store.audit import AuditStore
from catena_nb.store.writes import UpsertResult

__all__ = ["MESSAGES_SETTLE", "OPERATIONS_OVERLAP", "SyncSummary", "sync"]

logger = logging.getLogger("catena_nb.store")

# assumed: an operation shows up in the listing within 15 minutes of its created_at (the docs give no figure)
OPERATIONS_OVERLAP = dt.timedelta(minutes=15)
# assumed: a message's delivery status (sent, delivered, read) settles within 3 days of occurred_at
MESSAGES_SETTLE = dt.timedelta(days=3)
# assumed: a first sync without `since` fetches what the API keeps in one window: the last 45 days
FIRST_SPAN = dt.timedelta(days=_config.MAX_WINDOW_DAYS)
PAGE_SIZE = _config.MAX_PAGE_SIZE
LOOKUP_BATCH = 500


def _short_dt(text: str | None) -> str:
    """A bookkeeping time as the summary shows it: to the second, in UTC."""
    return as_utc(text).strftime("%Y-%m-%dT%H:%M:%SZ") if text else "?"


@dataclass
class SyncSummary:
    """What a sync did: records fetched, what the store made of them, and what each table now covers.

    ``operations_from``/``operations_to`` and ``messages_from``/``messages_to`` are the span of creation
    times (``created_at``, ``occurred_at``) the store holds every record of, after this sync (ISO 8601 UTC;
    None for a table never synced). ``requested_from`` is the earliest start the store was asked to cover.
    """

    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    still_pending: int = 0
    rechecked: int = 0
    pages: int = 0
    lookups: int = 0
    messages_fetched: int = 0
    messages_inserted: int = 0
    messages_updated: int = 0
    high_water: str | None = None
    spans: list[tuple[str, str]] = field(default_factory=list)
    requested_from: str | None = None
    operations_from: str | None = None
    operations_to: str | None = None
    messages_from: str | None = None
    messages_to: str | None = None

    def add(self, result: UpsertResult, fetched: int) -> None:
        """Count one upsert of operations."""
        self.fetched += fetched
        self.inserted += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged

    def covers(self, table: str) -> tuple[str | None, str | None]:
        """The span ``(from, to)`` a table (``operations`` or ``messages``) covers after this sync."""
        if table not in schema.SYNCED_TABLES:
            raise ValueError(f"no synced table {table!r} (operations, messages)")
        found: tuple[str | None, str | None] = getattr(self, f"{table}_from"), getattr(self, f"{table}_to")
        return found

    def coverage(self) -> str:
        """What each table covers, in words (and what it lacks of the requested start)."""
        parts = []
        for table in schema.SYNCED_TABLES:
            lo, hi = self.covers(table)
            if lo is None or hi is None:
                parts.append(f"{table} not synced yet")
                continue
            text = f"{table} cover {_short_dt(lo)} to {_short_dt(hi)}"
            if self.requested_from and as_utc(lo) > as_utc(self.requested_from):
                text += f" (not yet from {_short_dt(self.requested_from)})"
            parts.append(text)
        return "; ".join(parts)

    def __str__(self) -> str:
        return (
            f"{self.fetched} operations fetched ({self.inserted} new, {self.updated} updated, "
            f"{self.unchanged} unchanged; {self.rechecked} pending re-checked, {self.still_pending} still "
            f"pending) in {self.pages} pages and {self.lookups} lookups; {self.messages_fetched} messages "
            f"({self.messages_inserted} new, {self.messages_updated} updated). {self.coverage()}"
        )


@dataclass
class _Listing:
    """One listing the store follows: its name in the bookkeeping, time field, pages and writer."""

    name: str
    time_field: str
    overlap: dt.timedelta
    pages: Callable[[dt.datetime, dt.datetime], Iterator[Page[Any]]]
    write: Callable[[list[dict[str, Any]], dict[str, str | None]], UpsertResult]


def _parse(value: str | None) -> dt.datetime | None:
    return as_utc(value) if value else None


def _page_times(items: list[dict[str, Any]], time_field: str) -> tuple[dt.datetime, dt.datetime] | None:
    try:
        return as_utc(items[0][time_field]), as_utc(items[-1][time_field])
    except (KeyError, TypeError, ValueError):
        return None


def _follow(
    store: AuditStore,
    listing: _Listing,
    requested: dt.datetime,
    end: dt.datetime,
    summary: SyncSummary,
    bar: Any,
) -> dt.datetime:
    """Bring one listing up to ``end``, and back to ``requested``; returns where it listed forward from."""
    state = store.state()
    hw_key, from_key = schema.covered_to_key(listing.name), schema.covered_from_key(listing.name)
    high_water, covered_from = _parse(state.get(hw_key)), _parse(state.get(from_key))
    if high_water is None or covered_from is None:
        # no mark yet: from what the store was asked to cover (never a default span before now, which would
        # leave out what this table's first, stopped, sync did not reach)
        resumed_from = requested
        _forward(listing, requested, end, None, summary, bar)
        return resumed_from
    if requested < covered_from:
        _backfill(listing, requested, covered_from, summary, bar)
    resumed_from = high_water - listing.overlap
    if resumed_from < end:
        _forward(listing, resumed_from, end, high_water, summary, bar)
    return resumed_from


def _forward(
    listing: _Listing,
    start: dt.datetime,
    stop: dt.datetime,
    high_water: dt.datetime | None,
    summary: SyncSummary,
    bar: Any,
) -> None:
    """List ``[start, stop)`` window by window, moving the high-water mark with each page in time order.

    Without a ``high_water`` the table had no mark: its span starts at ``start``, written with the first page.
    """
    hw_key, from_key = schema.covered_to_key(listing.name), schema.covered_from_key(listing.name)
    summary.spans.append((format_dt(start), format_dt(stop)))
    mark = high_water
    new_span = high_water is None
    for lo, hi in split_windows(start, stop):
        ordered, previous = True, lo
        for page in listing.pages(lo, hi):
            items = page.raw_items
            summary.pages += 1
            bookkeeping: dict[str, str | None] = {}
            if new_span:
                bookkeeping[from_key] = format_dt(start)
            times = _page_times(items, listing.time_field) if items else None
            # assumed: listings come in time order (the API sorts by creation time); a page out of order
            # stops the mark moving until its whole window is done
            if times is None or times[0] < previous or times[1] < times[0]:
                ordered = ordered and not items
            elif ordered:
                previous = times[1]
                if mark is None or times[1] > mark:
                    mark = times[1]
                    bookkeeping[hw_key] = format_dt(mark)
            listing.write(items, bookkeeping)
            bar.update(len(items))
        if mark is None or hi > mark:
            mark = hi
            done: dict[str, str | None] = {hw_key: format_dt(hi)}
            if new_span:
                done[from_key] = format_dt(start)
            listing.write([], done)


def _backfill(
    listing: _Listing, start: dt.datetime, stop: dt.datetime, summary: SyncSummary, bar: Any
) -> None:
    """List ``[start, stop)`` before what a table covers, newest window first, moving its start back."""
    from_key = schema.covered_from_key(listing.name)
    summary.spans.append((format_dt(start), format_dt(stop)))
    for lo, hi in reversed(split_windows(start, stop)):
        for page in listing.pages(lo, hi):
            summary.pages += 1
            listing.write(page.raw_items, {})
            bar.update(len(page.raw_items))
        # the window is whole: the table now covers from its start (a stop after this resumes before it)
        listing.write([], {from_key: format_dt(lo)})


def _recheck_pending(
    store: AuditStore,
    client: CatenaClient,
    listing: _Listing,
    before: dt.datetime,
    summary: SyncSummary,
    bar: Any,
) -> None:
    """Refresh the stored operations still pending that this run did not list again."""
    pending = store.query(
        "SELECT operation_id, connection_id, created_at FROM operations "
        "WHERE status = 'pending' AND created_at < ? ORDER BY created_at",
        [before],
    )
    if pending.empty:
        return
    first = as_utc(pending["created_at"].iloc[0].to_pydatetime())
    stored = store.query(
        "SELECT count(*) AS n FROM operations WHERE created_at >= ? AND created_at < ?", [first, before]
    )
    windows = split_windows(first, before)
    relist_pages = len(windows) + math.ceil(int(stored["n"].iloc[0]) / PAGE_SIZE)
    summary.rechecked += len(pending)
    if relist_pages < len(pending):
        logger.info("re-listing %d windows to re-check %d pending operations", len(windows), len(pending))
        for lo, hi in windows:
            for page in listing.pages(lo, hi):
                summary.pages += 1
                summary.add(store.upsert(page.raw_items, source="listing"), len(page.raw_items))
                bar.update(len(page.raw_items))
        return
    batch: list[Any] = []
    for op_id, conn_id in zip(pending["operation_id"], pending["connection_id"], strict=True):
        summary.lookups += 1
        try:
            batch.append(client.operations.get(str(op_id), connection_id=str(conn_id)))
        except NotFoundError:
            logger.warning("pending operation %s is no longer found on connection %s", op_id, conn_id)
            continue
        if len(batch) >= LOOKUP_BATCH:
            summary.add(store.upsert(batch, source="lookup"), len(batch))
            bar.update(len(batch))
            batch = []
    if batch:
        summary.add(store.upsert(batch, source="lookup"), len(batch))
        bar.update(len(batch))


def _requested_from(store: AuditStore, since: dt.datetime | None, end: dt.datetime) -> dt.datetime:
    """The earliest time the store is to cover, recorded before any request is made."""
    state = store.state()
    recorded = _parse(state.get(schema.REQUESTED_FROM))
    if recorded is None:
        # a store of an earlier version records no start: what its tables already cover stands in
        known = [_parse(state.get(schema.covered_from_key(t))) for t in schema.SYNCED_TABLES]
        recorded = min((k for k in known if k is not None), default=None)
    candidates = [t for t in (recorded, since) if t is not None]
    requested = min(candidates) if candidates else end - FIRST_SPAN
    if state.get(schema.REQUESTED_FROM) != format_dt(requested):
        store.upsert([], state={schema.REQUESTED_FROM: format_dt(requested)})
    return requested


def sync(
    store: AuditStore,
    client: CatenaClient,
    *,
    since: dt.datetime | dt.date | str | None = None,
    until: dt.datetime | dt.date | str | None = None,
    messages: bool = True,
    progress: bool | None = None,
    concurrency: int = 1,
) -> SyncSummary:
    """Fetch into ``store`` what changed in the API since the last sync.

    Args:
        store: the audit store.
        client: a ``CatenaClient``.
        since: the earliest creation time to hold; on a first sync the start (default: 45 days before
            ``until``), later only to reach further back than the store was asked to before. The earliest
            start asked for is kept in the store: each table resumes from its own mark, and one that has
            none yet starts there.
        until: the end of what to fetch (default: now).
        messages: also follow the messages listing (delivery status).
        progress: show a ``tqdm.auto`` progress bar (default: tqdm's own setting).
        concurrency: sub-windows of each window listed side by side (default 1: one cursor at a time,
            so that what a stopped sync fetched is what it committed). The pages still arrive, and are
            written with their marks, in time order.

    Returns:
        A :class:`SyncSummary`, with the span each table covers.

    Raises:
        CatenaError: the API failed; what was committed before stays, and the next sync resumes from there.
    """
    end = as_utc(until) if until is not None else dt.datetime.now(dt.UTC)
    start = as_utc(since) if since is not None else None
    if start is not None and start >= end:
        raise ValueError(f"since ({format_dt(start)}) must be earlier than until ({format_dt(end)})")
    summary = SyncSummary()
    requested = _requested_from(store, start, end)
    summary.requested_from = format_dt(requested)

    def write_ops(items: list[dict[str, Any]], bookkeeping: dict[str, str | None]) -> UpsertResult:
        result = store.upsert(items, state=bookkeeping, source="listing")
        summary.add(result, len(items))
        return result

    def write_messages(items: list[dict[str, Any]], bookkeeping: dict[str, str | None]) -> UpsertResult:
        result = store.upsert_messages(items, state=bookkeeping)
        summary.messages_fetched += len(items)
        summary.messages_inserted += result.inserted
        summary.messages_updated += result.updated
        return result

    def pages_of(resource: Any) -> Any:
        return lambda lo, hi: resource.list(
            since=lo, until=hi, size=PAGE_SIZE, progress=False, concurrency=concurrency
        ).pages()

    operations = _Listing(
        "operations", "created_at", OPERATIONS_OVERLAP, pages_of(client.operations), write_ops
    )
    bar = progress_bar(progress, desc="sync", unit=" records", leave=False)
    try:
        relisted_from = _follow(store, operations, requested, end, summary, bar)
        _recheck_pending(store, client, operations, relisted_from, summary, bar)
        if messages:
            listing = _Listing(
                "messages", "occurred_at", MESSAGES_SETTLE, pages_of(client.messages), write_messages
            )
            _follow(store, listing, requested, end, summary, bar)
    finally:
        bar.close()
    found = store.query("SELECT count(*) AS n FROM operations WHERE status = 'pending'")
    summary.still_pending = int(found["n"].iloc[0])
    state = store.state()
    summary.operations_from = state.get(schema.covered_from_key("operations"))
    summary.operations_to = summary.high_water = state.get(schema.covered_to_key("operations"))
    summary.messages_from = state.get(schema.covered_from_key("messages"))
    summary.messages_to = state.get(schema.covered_to_key("messages"))
    logger.info("sync of %s: %s", store.path, summary)
    return summary
