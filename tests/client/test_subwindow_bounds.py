"""A sub-window keeps exactly its records, half-open, whatever form their times come in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catena_nb.client._subwindows import _inside
from catena_nb.client.pagination import Page
from catena_nb.models import ResourceOperation
from tests.support.client_mock import op

WINDOW = {"from_datetime": "2026-10-01T00:00:00.000000Z", "to_datetime": "2026-10-02T00:00:00.000000Z"}
TIMES = [
    "2026-09-30T23:59:59.999999Z",  # before: dropped
    "2026-10-01T00:00:00.000000Z",  # the window's start: kept
    "2026-10-01T12:00:00.000000Z",
    "2026-10-01T23:59:59.999999Z",
    "2026-10-02T00:00:00.000000Z",  # the window's end: dropped (half-open)
]


def _page(times: list[Any], structs: bool) -> Page[ResourceOperation]:
    items = []
    for i, created in enumerate(times):
        item = op("success")
        item["id"], item["created_at"] = f"op-{i}", created
        items.append(item)
    page = Page(json.dumps({"items": items, "next_page": None}).encode(), ResourceOperation)
    page.structs = structs
    return page


def _kept(page: Page[ResourceOperation]) -> list[str]:
    return [item["id"] for item in _inside(page, "created_at", WINDOW).raw_items]


@pytest.mark.parametrize("structs", [True, False])
def test_catenas_form_is_kept_half_open(structs: bool) -> None:
    """Read as digits, the window keeps its start and drops its end, as the per-record reading did."""
    assert _kept(_page(TIMES, structs)) == ["op-1", "op-2", "op-3"]


@pytest.mark.parametrize("structs", [True, False])
def test_other_forms_and_missing_times_are_read_one_by_one(structs: bool) -> None:
    """Another offset, fewer digits or no time at all: the records are read one at a time, and a record
    without a time stays, as before."""
    times = [*TIMES, "2026-10-01T02:00:00+02:00", "2026-10-01T05:00:00Z", None]  # the start, in CEST
    assert _kept(_page(times, structs)) == ["op-1", "op-2", "op-3", "op-5", "op-6", "op-7"]


def test_times_that_are_not_text_do_not_break_the_reading() -> None:
    """Lists or numbers where a time should be (a server that lies): kept as records without a time."""
    page = _page([["2026-10-01T00:00:00.000000Z", "x"], 12, TIMES[2], TIMES[0]], structs=False)
    assert _kept(page) == ["op-0", "op-1", "op-2"]
