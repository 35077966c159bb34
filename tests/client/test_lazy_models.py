"""A listing's models are parsed when touched, read by the frames from their record, and never give a stale
frame; a page that cannot be proven valid is parsed at once, as before."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import httpx
import msgspec
import pandas as pd
import pytest

import catena_nb as cn
from catena_nb._lazy import wire_record
from catena_nb.errors import ResponseValidationError
from catena_nb.frames._records import records
from catena_nb.models import ResourceOperation
from tests.client.conftest import MakeDriver
from tests.support.client_mock import MockAPI, op, paged_handler


def _ops(n: int) -> list[dict[str, Any]]:
    items = []
    for i in range(n):
        item = op("failed" if i % 3 == 0 else "success", custom_field=i)
        item["created_at"] = f"2026-10-01T00:{i // 60 % 60:02d}:{i % 60:02d}.000001Z"
        items.append(item)
    return items


def _listed(drive: MakeDriver, items: list[dict[str, Any]], size: int = 500) -> list[ResourceOperation]:
    api = MockAPI()
    api.handler = paged_handler(items, [])
    got: list[ResourceOperation] = drive(api)(lambda c: c.operations.list(size=size).to_list())
    return got


def test_listed_models_equal_the_models_parsed_at_once(drive: MakeDriver) -> None:
    """Each listed model equals `model_validate` of its record: fields, extras, dumps, repr, copies."""
    items = _ops(12)
    got = _listed(drive, items)
    # untouched so far (but for the few that asyncio's repr of the finished task may show, and so parse)
    assert all(wire_record(m) is not None for m in got[6:])
    for model, item in zip(got, items, strict=True):
        eager = ResourceOperation.model_validate(item)
        assert model == eager
        assert model.model_dump(mode="json") == eager.model_dump(mode="json")
        assert repr(model) == repr(eager)
    fresh = _listed(drive, items)
    for model, item in zip(fresh, items, strict=True):
        eager = ResourceOperation.model_validate(item)
        assert eager == model  # compared the other way round, untouched
    again = _listed(drive, items)
    assert [pickle.loads(pickle.dumps(m)) for m in again] == got
    assert [copy.deepcopy(m).id for m in _listed(drive, items)] == [i["id"] for i in items]
    assert _listed(drive, items)[0].model_extra == {"custom_field": 0}
    assert _listed(drive, items)[0].model_copy(update={"status": "failed"}).status == "failed"


def test_frames_of_listed_models_equal_frames_of_the_records(drive: MakeDriver) -> None:
    """`operations_frame`, `logs_frame` and `operation_frames` of listed models equal those of the dicts."""
    items = _ops(1200)  # large enough for the two frames of the pair to share one reading
    ops = _listed(drive, items)
    ops_df, logs_df = cn.operations_frame(ops), cn.logs_frame(ops)
    pd.testing.assert_frame_equal(ops_df, cn.operations_frame(items))
    pd.testing.assert_frame_equal(logs_df, cn.logs_frame(items))
    both = cn.operation_frames(_listed(drive, items))
    pd.testing.assert_frame_equal(both[0], ops_df)
    pd.testing.assert_frame_equal(both[1], logs_df)
    # the other order, and the same frame twice: never two frames sharing their arrays
    ops = _listed(drive, items)
    logs_first = cn.logs_frame(ops)
    first, second = cn.operations_frame(ops), cn.operations_frame(ops)
    pd.testing.assert_frame_equal(logs_first, logs_df)
    pd.testing.assert_frame_equal(first, ops_df)
    first.loc[0, "attempts"] = 99
    assert second.loc[0, "attempts"] != 99


def test_models_of_pages_of_the_listing_shape_hold_wire_structs(drive: MakeDriver) -> None:
    """Without extras, a page is read into wire structs: its models hold them, yet each is parsed from its
    record as sent (a field left out stays unset), and the frames and `records` read the same as the dicts."""
    items = [{k: v for k, v in item.items() if k != "custom_field"} for item in _ops(1200)]
    del items[3]["source_name"]  # left out: null in a struct, unset in the model
    items[4]["source_name"] = None
    ops = _listed(drive, items)
    assert all(isinstance(wire_record(m, structs=True), msgspec.Struct) for m in ops[6:])
    assert records(ops[6:]) == items[6:]  # the records as sent, not the structs
    ops_df, logs_df = cn.operations_frame(ops), cn.logs_frame(ops)
    pd.testing.assert_frame_equal(ops_df, cn.operations_frame(items))
    pd.testing.assert_frame_equal(logs_df, cn.logs_frame(items))
    for model, item in zip(ops, items, strict=True):
        eager = ResourceOperation.model_validate(item)
        assert model == eager
        assert model.model_fields_set == eager.model_fields_set
        assert model.model_dump(exclude_unset=True) == eager.model_dump(exclude_unset=True)
    assert "source_name" not in ops[3].model_fields_set
    assert "source_name" in ops[4].model_fields_set
    assert [pickle.loads(pickle.dumps(m)) for m in _listed(drive, items)] == ops


def test_a_model_changed_after_listing_gives_a_fresh_frame(drive: MakeDriver) -> None:
    """A field set, a payload changed in place or a log appended shows in the frames made afterwards."""
    items = _ops(1200)
    ops = _listed(drive, items)
    cn.operations_frame(ops)  # the logs frame's columns are now kept for these very models
    ops[0].status = "pending"
    ops[1].payload["priority"] = "high"
    ops[2].logs.append(ops[0].logs[0].model_copy(update={"id": "extra-log"}))
    ops_df, logs_df = cn.operations_frame(ops), cn.logs_frame(ops)
    assert ops_df.loc[0, "status"] == "pending"
    assert ops_df.loc[1, "payload_priority"] == "high"
    assert "extra-log" in set(logs_df["log_id"])
    assert wire_record(ops[9]) is not None  # the others are still read from their records
    expected = cn.operations_frame(items).iloc[3:]
    pd.testing.assert_frame_equal(ops_df.iloc[3:], expected, check_categorical=False)


def test_a_listed_list_changed_in_place_gives_a_fresh_frame(drive: MakeDriver) -> None:
    """A `.to_list()` reordered, cut, extended or with an item replaced gives the frames of what it holds."""
    items = _ops(1200)
    extra = ResourceOperation.model_validate({**items[0], "id": "added"})
    changes: list[Any] = [
        lambda ops: ops.reverse(),
        lambda ops: ops.pop(3),
        lambda ops: ops.__setitem__(4, extra),
        lambda ops: ops.extend([extra]),
    ]
    for change in changes:
        ops = _listed(drive, items)
        cn.operations_frame(ops)  # the logs frame's columns are now kept for this very list
        change(ops)
        expected = [m.model_dump(mode="json") for m in ops]
        pd.testing.assert_frame_equal(cn.logs_frame(ops), cn.logs_frame(expected))
        pd.testing.assert_frame_equal(cn.operations_frame(ops), cn.operations_frame(expected))


def test_a_listed_list_copies_and_pickles_as_a_plain_list(drive: MakeDriver) -> None:
    """A copy or a pickle of `.to_list()` is a plain list of the same models, and its frames agree."""
    items = _ops(1200)
    ops = _listed(drive, items)
    for other in (copy.copy(ops), list(ops), ops[:]):
        assert type(other) is list
        assert len(other) == len(ops)
        assert other[0] is ops[0]
    restored = pickle.loads(pickle.dumps(_listed(drive, items)))
    assert type(restored) is list
    assert restored == ops
    pd.testing.assert_frame_equal(cn.operations_frame(restored), cn.operations_frame(items))


def test_a_status_filter_keeps_the_models_lazy(drive: MakeDriver) -> None:
    """`status="failed"` filters the records before any model is built, and the frames agree."""
    items = _ops(30)
    api = MockAPI()
    api.handler = paged_handler(items, [])
    got = drive(api)(lambda c: c.operations.list(size=10, status="failed").to_list())
    assert all(wire_record(m) is not None for m in got[6:])
    assert [m.id for m in got] == [i["id"] for i in items if i["status"] == "failed"]
    assert all(m.failed for m in got)


@pytest.mark.parametrize(
    ("change", "parses"),
    [
        ({"logs": [{"id": "l1", "response_status_code": 502.0}]}, True),  # a float the model takes
        ({"created_at": "2026-10-01T00:00"}, True),  # a time without seconds, which the model takes
        ({"connection_id": 5}, False),
        ({"logs": [{"id": "l1", "created_at": "not a time"}]}, False),
    ],
)
def test_a_page_not_proven_valid_is_parsed_at_once(
    drive: MakeDriver, change: dict[str, Any], parses: bool
) -> None:
    """A page with a record the check cannot vouch for is validated when it arrives: parsed, or refused."""
    items = _ops(3)
    items[1].update(change)
    api = MockAPI()
    api.handler = paged_handler(items, [])
    listing = drive(api)
    if parses:
        got = listing(lambda c: c.operations.list(size=10).to_list())
        assert [wire_record(m) for m in got] == [None, None, None]  # parsed already
        assert got[1] == ResourceOperation.model_validate(items[1])
    else:
        with pytest.raises(ResponseValidationError):
            listing(lambda c: c.operations.list(size=10).to_list())


def test_pages_and_frames_still_read_a_malformed_record_without_models() -> None:
    """The frames of a listing read its pages' records: a record the models refuse still gives a row."""
    items = _ops(2)
    items[0]["connection_id"] = 5

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": items, "next_page": None})

    with cn.CatenaClient(
        base_url="http://api.test", token="t", transport=httpx.MockTransport(handler), progress=False
    ) as client:
        assert len(cn.operations_frame(client.operations.list())) == 2
