"""A listing read into frames from its pages' wire structs gives the frames its JSON records give."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

from catena_nb.client import CatenaClient
from catena_nb.client.pagination import Page
from catena_nb.errors import ResponseValidationError
from catena_nb.frames import operation_frames
from catena_nb.models import ResourceOperation
from tests.support.client_mock import CONN, MockAPI, op

BASE_URL = "https://api.catena.test"
SINCE = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def _odd_items() -> list[dict[str, Any]]:
    """Operations of the listing's shape with missing fields, nulls, unicode and markup in their text."""
    items = []
    for i in range(30):
        item = op("failed" if i % 3 else "success")
        item["created_at"] = (SINCE + dt.timedelta(minutes=i)).isoformat().replace("+00:00", "Z")
        item["payload"] = {"message_text": f"<script>alert({i})</script> Grüße ✓ {i}", "priority": None}
        items.append(item)
    del items[1]["fleet_ref"]  # a missing field
    items[2]["source_id"] = None  # a null
    items[3]["logs"] = None
    del items[4]["payload"]
    items[6]["updated_at"] = "2026-10-01T02:00:00+02:00"  # another offset
    items[7]["logs"] = [
        {
            "id": "log-b",
            "created_at": "2026-10-01T00:09:00Z",
            "status": "failed",
            "error_details": "Server error '503 Service Unavailable' for url 'https://x.test/a'",
            "response_status_code": None,
        },
        {"id": "log-a", "created_at": "2026-10-01T00:08:00Z", "status": "failed", "error_type": "auth"},
    ]
    items[8]["created_at"] = None
    items[9]["source_name"] = "<b>ünïcode</b>"
    return items


def _api(pages: list[list[dict[str, Any]] | bytes]) -> MockAPI:
    """Serves `pages` in turn, the cursor being the index of the next; a page given as bytes is sent as is."""
    api = MockAPI()

    def handler(request: httpx.Request) -> httpx.Response:
        index = int(request.url.params.get("cursor", "0"))
        more = str(index + 1) if index + 1 < len(pages) else None
        served = pages[index]
        if isinstance(served, bytes):
            return httpx.Response(200, content=served, headers={"content-type": "application/json"})
        return httpx.Response(200, json={"items": served, "next_page": more, "current_page": str(index)})

    api.handler = handler
    return api


@pytest.fixture
def listed() -> Iterator[Any]:
    """Lists `pages` with a client on a scripted API; yields a function of the pages giving the listing."""
    clients: list[CatenaClient] = []

    def make(pages: list[list[dict[str, Any]] | bytes]) -> Any:
        transport = _api(pages).transport()
        client = CatenaClient(base_url=BASE_URL, token="tok", progress=False, transport=transport)
        clients.append(client)
        return client.operations.list(connection_id=CONN, size=1000)

    yield make
    for client in clients:
        client.close()


def _frames_of_json(pages: list[list[dict[str, Any]]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frames of the same pages read as decoded JSON, as before the wire structs."""
    return operation_frames([Page(json.dumps({"items": p}).encode(), ResourceOperation) for p in pages])


def _assert_same(got: tuple[pd.DataFrame, pd.DataFrame], want: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    for g, w in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(g, w, check_exact=True)
        assert list(g.dtypes) == list(w.dtypes)


def test_an_odd_page_of_the_listing_shape_gives_the_frames_of_its_json(listed: Any) -> None:
    """Missing fields, nulls, unicode and markup: read as wire structs, the frames are those of the JSON."""
    pages = [_odd_items()[:15], _odd_items()[15:]]
    listing = listed(pages)
    assert all(page.wire_structs is not None for page in listing.wire_pages())  # the fast path, both pages
    _assert_same(operation_frames(listing), _frames_of_json(pages))


def test_a_page_of_another_shape_is_read_as_json_and_the_frames_agree(listed: Any) -> None:
    """An unknown field, a number for a text field, a status outside the enum: that page is read as JSON,
    its neighbours as structs, and the frames (the extra column and the new category included) are those
    of the JSON."""
    plain, odd = _odd_items(), copy.deepcopy(_odd_items())
    odd[0]["region"] = "eu"  # an extra field: an extra column
    odd[1]["source_id"] = 12345  # a number where text was expected
    odd[2]["logs"][0]["attempt_ms"] = 12 if odd[2]["logs"] else None
    odd[5]["status"] = "retrying"  # a value never seen
    pages = [plain, odd, plain]
    listing = listed(pages)
    shapes = [page.wire_structs is not None for page in listing.wire_pages()]
    assert shapes == [True, False, True]
    got = operation_frames(listing)
    ops_df = got[0]
    _assert_same(got, _frames_of_json(pages))
    assert ops_df["region"].notna().sum() == 1
    assert "retrying" in ops_df["status"].cat.categories
    assert list(ops_df["operation_id"]) == [item["id"] for p in pages for item in p]


def test_a_page_that_lies_still_raises(listed: Any) -> None:
    """A page whose `items` is not a list, or holds a record that is no operation, raises as before."""
    good = _odd_items()
    with pytest.raises(ResponseValidationError, match="items"):
        operation_frames(listed([good, b'{"items": {"id": "x"}}']))
    with pytest.raises(ResponseValidationError, match="record 31 holds none of their fields"):
        operation_frames(listed([good, [good[0], {"colour": "<script>x</script>"}]]))
    with pytest.raises(ResponseValidationError, match="without an `items` list"):
        operation_frames(listed([good, b'{"items": [{"id": "x"']))  # cut short


def test_the_ids_are_those_of_one_listing_in_order(listed: Any) -> None:
    """The operations frame holds exactly the ids the listing's items have, in their order."""
    pages = [_odd_items() for _ in range(3)]
    listing = listed(pages)
    ops_df, _ = operation_frames(listing)
    assert list(ops_df["operation_id"]) == [item.id for item in listing]


@pytest.mark.parametrize("inclusive_end", [False, True])
def test_side_by_side_the_frames_are_those_of_one_cursor_at_a_time(inclusive_end: bool) -> None:
    """Sub-windows cut the first page and drop records a rounded bound repeats, on wire structs too: the
    frames are those of the sequential listing read as JSON, ids in the same order, each once."""
    from tests.client.test_side_by_side import WINDOW, WindowedAPI, _records

    mock = MockAPI()
    mock.handler = WindowedAPI(_records(900, ties=3), inclusive_end=inclusive_end).answer
    with CatenaClient(base_url=BASE_URL, token="tok", progress=False, transport=mock.transport()) as client:
        sequential = list(client.operations.list(**WINDOW, size=100, concurrency=1).pages())
        wide = client.operations.list(**WINDOW, size=100, concurrency=4)
        assert sum(page.wire_structs is not None for page in wide.wire_pages()) > 5
        got = operation_frames(wide)
    _assert_same(got, _frames_of_json([page.raw_items for page in sequential]))


def test_payloads_of_both_kinds_left_out_null_or_missing_give_the_frames_of_their_json(listed: Any) -> None:
    """Message and group-message payloads read as wire structs: a key one payload lacks is NA there, a key no
    payload of a page holds makes no column until a later page has it, null payloads count as empty, and the
    columns come in the API's key order; all as the JSON gives them."""
    first, second = _odd_items()[:10], _odd_items()[10:20]
    for item in first:
        item["payload"] = {"sender_id": "u-1", "message_text": "hi", "recipient_id": "u-2"}
    first[3]["payload"] = None
    group = {"sender_id": "u-1", "recipient_ids": ["u-2", "u-3"], "source_recipient_ids": ["7", None]}
    second[0]["payload"] = group  # keys the first page never had
    second[1]["payload"] = {"priority": "high"}
    pages = [first, second]
    listing = listed(pages)
    assert all(page.wire_structs is not None for page in listing.wire_pages())
    got = operation_frames(listing)
    _assert_same(got, _frames_of_json(pages))
    payload_columns = [c for c in got[0].columns if c.startswith("payload_")]
    assert payload_columns == [
        "payload_priority",
        "payload_sender_id",
        "payload_message_text",
        "payload_recipient_id",
        "payload_recipient_ids",
        "payload_source_recipient_ids",
    ]
    assert got[0]["payload_recipient_ids"].iloc[10] == ["u-2", "u-3"]
    assert got[0]["payload_priority"].isna().sum() == 19


def test_a_payload_of_another_resource_is_read_as_json(listed: Any) -> None:
    """A payload key the message payloads never have sends that page to the JSON reading, frames alike."""
    plain, other = _odd_items(), _odd_items()
    other[0]["payload"] = {"vehicle_id": "v-9", "odometer_m": 12000}
    listing = listed([plain, other])
    assert [page.wire_structs is not None for page in listing.wire_pages()] == [True, False]
    _assert_same(operation_frames(listing), _frames_of_json([plain, other]))
