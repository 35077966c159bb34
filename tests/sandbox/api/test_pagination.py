"""Cursor pages over a sorted index: opaque cursors, pages that never repeat or skip, totals."""

from __future__ import annotations

import pytest

from catena_nb.sandbox.api.pagination import Cursor, CursorError, page, page_records

KEYS = [(f"2026-11-02T10:00:{i:02d}.000000Z", f"id-{i:02d}") for i in range(25)]


def test_a_cursor_survives_its_round_trip_and_a_forged_one_is_refused():
    """encode/decode give the same cursor back; text this sandbox did not issue raises CursorError."""
    cursor = Cursor(KEYS[3], forward=False, inclusive=True)
    assert Cursor.decode(cursor.encode()) == cursor
    for forged in ("nope", Cursor(KEYS[0]).encode()[:-3] + "xyz", "WyJ4IiwgMSwgMiwgMF0"):
        with pytest.raises(CursorError):
            Cursor.decode(forged)


def test_pages_forward_and_back_cover_every_key_once():
    """Walking next_page shows every key once in order; previous_page walks back to the first page."""
    seen, cursor, pages = [], None, []
    while True:
        cut = page(KEYS, lo=None, hi=None, cursor=cursor, size=10)
        seen += cut.keys
        pages.append(cut)
        if cut.next_page is None:
            break
        cursor = Cursor.decode(cut.next_page)
    assert seen == KEYS
    assert [len(p.keys) for p in pages] == [10, 10, 5]
    assert pages[0].previous_page is None
    back = page(KEYS, lo=None, hi=None, cursor=Cursor.decode(pages[1].previous_page or ""), size=10)
    assert back.keys == pages[0].keys


def test_window_filter_and_descending_order():
    """lo and hi bound the keys, accept filters them, and a descending page runs newest first."""
    cut = page(
        KEYS,
        lo=KEYS[5],
        hi=KEYS[15],
        cursor=None,
        size=100,
        descending=True,
        accept=lambda k: k[1] != "id-07",
    )
    assert cut.keys == [k for k in reversed(KEYS[5:15]) if k[1] != "id-07"]


def test_page_records_counts_every_record_that_passes():
    """A page of records holds at most ``size`` of them, and the total counts all that pass the test."""
    records = [{"created_at": ts, "id": rid, "even": i % 2 == 0} for i, (ts, rid) in enumerate(KEYS)]
    items, cut, total = page_records(records, None, 5, lambda r: r["even"])
    assert [r["id"] for r in items] == ["id-00", "id-02", "id-04", "id-06", "id-08"]
    assert total == 13
    assert cut.next_page is not None
    assert page_records(records, None, 50)[2] == 25
