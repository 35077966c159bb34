"""operations_frame, logs_frame, operation_frames and messages_frame: columns, dtypes and awkward input."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest

from catena_nb.frames import (
    LOG_COLUMNS,
    MESSAGE_COLUMNS,
    OPERATION_COLUMNS,
    logs_frame,
    messages_frame,
    operation_frames,
    operations_frame,
)
from tests.support.cells import is_missing

CONN = "019ddd87-eedd-710f-967c-1c6cc72ac985"
OP_ID = "019df22e-f255-7a7c-b1d7-59f509071b6d"
UTC = dt.UTC


def log(
    n: int, status: str, created: str, error_type: str | None = None, code: int | str | float | None = None
) -> dict[str, Any]:
    return {
        "id": f"log-{n}",
        "created_at": created,
        "updated_at": created,
        "resource_operation_id": OP_ID,
        "status": status,
        "error_type": error_type,
        "error_details": None if error_type is None else f"{error_type} went wrong",
        "response_status_code": code,
        "response_headers": {"x": "y"},
    }


def operation(**over: Any) -> dict[str, Any]:
    """The 502 example of the sync-write seed page, in the lookup shape."""
    op: dict[str, Any] = {
        "id": OP_ID,
        "created_at": "2026-05-04T08:51:01.487639Z",
        "updated_at": "2026-05-04T08:51:02.179210Z",
        "partner_id": "9df92c50-d8a7-460e-aab2-a93f1de9280a",
        "connection_id": CONN,
        "source_name": "samsara",
        "fleet_ref": "FLT-1",
        "resource": "message",
        "resource_id": None,
        "source_id": None,
        "operation_type": "create",
        "payload": {
            "priority": "low",
            "message_text": "Delivery confirmed at warehouse B",
            "sender_id": "s-1",
        },
        "status": "failed",
        "logs": [log(1, "failed", "2026-05-04T08:51:02.079501Z", "auth", 401)],
    }
    op.update(over)
    return op


def test_operation_columns_and_dtypes() -> None:
    """The declared columns come first, in order, with UTC datetimes, categories and nullable types; the
    payload's after them in the API's own key order (jsonb: shorter first), whatever order they came in."""
    df = operations_frame([operation()])
    assert tuple(df.columns[: len(OPERATION_COLUMNS)]) == OPERATION_COLUMNS
    assert list(df.columns[len(OPERATION_COLUMNS) :]) == [
        "payload_priority",
        "payload_sender_id",
        "payload_message_text",
    ]
    dtypes = df.dtypes.astype(str).to_dict()
    for col in ("created_at", "updated_at", "deleted_at"):
        assert dtypes[col] == "datetime64[us, UTC]"
    for col in ("source_name", "resource", "operation_type", "status", "error_type"):
        assert dtypes[col] == "category"
    for col in (
        "operation_id",
        "connection_id",
        "fleet_ref",
        "resource_id",
        "error_details",
        "payload_priority",
    ):
        assert dtypes[col] == "string"
    assert dtypes["attempts"] == "Int64"
    assert dtypes["http_status"] == "Int64"
    assert dtypes["first_attempt_ok"] == "boolean"
    assert dtypes["duration_s"] == "float64"


def test_operation_values_from_last_failed_log() -> None:
    """error_type, error_details and http_status come from the last failed attempt; attempts counts logs."""
    logs = [
        log(1, "failed", "2026-05-04T08:51:02Z", "network", None),
        log(2, "failed", "2026-05-04T08:51:05Z", "tsp", 503),
        log(3, "success", "2026-05-04T08:51:09Z", None, 200),
    ]
    row = operations_frame([operation(status="success", logs=logs)]).iloc[0]
    assert row["attempts"] == 3
    assert not row["first_attempt_ok"]
    assert row["error_type"] == "tsp"
    assert row["error_details"] == "tsp went wrong"
    assert row["http_status"] == 503
    assert row["duration_s"] == pytest.approx(0.691571)
    assert row["created_at"] == pd.Timestamp("2026-05-04T08:51:01.487639Z")


def test_logs_out_of_order_are_sorted_by_created_at() -> None:
    """Attempts are numbered by created_at whatever the wire order, in both frames."""
    logs = [
        log(3, "success", "2026-05-04T08:51:09Z", None, 200),
        log(1, "failed", "2026-05-04T08:51:02Z", "network", None),
        log(2, "failed", "2026-05-04T08:51:05Z", "auth", 401),
    ]
    op = operation(status="success", logs=logs)
    ops_df, logs_df = operation_frames([op])
    assert list(logs_df["log_id"]) == ["log-1", "log-2", "log-3"]
    assert list(logs_df["attempt"]) == [1, 2, 3]
    assert ops_df.loc[0, "error_type"] == "auth"  # the last failed attempt in time, not on the wire
    assert not ops_df.loc[0, "first_attempt_ok"]


def test_logs_frame_columns_and_parent_fields() -> None:
    """logs_frame has the declared columns and repeats each operation's fields on its attempts."""
    other = operation(id="op-2", source_name="motive", logs=[log(9, "success", "2026-05-04T09:00:00Z")])
    df = logs_frame([operation(), other])
    assert tuple(df.columns) == LOG_COLUMNS
    assert list(df["operation_id"]) == [OP_ID, "op-2"]
    assert list(df["source_name"].astype(str)) == ["samsara", "motive"]
    assert df["attempt"].dtype == "Int64"
    assert df["http_status"].tolist()[0] == 401
    assert str(df["created_at"].dtype) == "datetime64[us, UTC]"


def test_logs_null_missing_keys_and_unknown_values() -> None:
    """logs: null, missing keys and unknown enum values become NA, zero attempts or new categories."""
    bare = {"id": "op-3", "status": "exploded", "logs": None}
    df = operations_frame(
        [operation(), bare, operation(id="op-4", logs=[log(1, "failed", "x", "quantum", 418)])]
    )
    assert df.loc[1, "attempts"] == 0
    assert is_missing(df.loc[1, "first_attempt_ok"])
    assert is_missing(df.loc[1, "created_at"])
    assert is_missing(df.loc[1, "source_name"])
    assert df.loc[1, "status"] == "exploded"
    assert df.loc[2, "error_type"] == "quantum"
    assert set(df["error_type"].cat.categories) == {"auth", "quantum"}
    assert logs_frame([bare]).empty


def test_junk_in_logs_is_dropped() -> None:
    """Entries of a logs list that are not objects are skipped; a logs value that is not a list is no logs."""
    good = log(1, "failed", "2026-05-04T08:51:02Z", "auth", 401)
    ops = [operation(logs=["junk", good, None]), operation(id="op-2", logs={"status": "failed"})]
    ops_df, logs_df = operation_frames(ops)
    assert list(ops_df["attempts"]) == [1, 0]
    assert list(logs_df["log_id"]) == ["log-1"]


def test_unknown_fields_become_extra_columns() -> None:
    """Unknown top-level and log fields are kept as extra columns, typed by their values."""
    entry = log(1, "failed", "2026-05-04T08:51:02Z", "auth", 401) | {"retry_in": 30}
    op = operation(logs=[entry]) | {"region": "eu", "attempts": 7}
    df = operations_frame([op])
    assert df.loc[0, "region"] == "eu"
    assert df.loc[0, "attempts"] == 1  # the declared column wins; the wire field is kept beside it
    assert df.loc[0, "extra_attempts"] == 7
    logs = logs_frame([op])
    assert logs.loc[0, "retry_in"] == 30
    assert logs["retry_in"].dtype == "Int64"


def test_mixed_offsets_are_normalised_to_utc() -> None:
    """Timestamps with Z, +02:00 or no fraction all land on the same UTC instant."""
    ops = [
        operation(id="a", created_at="2026-05-04T09:15:00.000000Z"),
        operation(id="b", created_at="2026-05-04T11:15:00+02:00"),
        operation(id="c", created_at="2026-05-04T04:15:00-05:00"),
    ]
    created = operations_frame(ops)["created_at"]
    assert created.nunique() == 1
    assert created.iloc[0] == pd.Timestamp("2026-05-04T09:15:00Z")


def test_write_shape_takes_source_name_from_connections() -> None:
    """The write shape has no source_name: it comes from a mapping or from connection objects/dicts."""
    op = operation()
    del op["source_name"]
    assert is_missing(operations_frame([op]).loc[0, "source_name"])
    assert operations_frame([op], connections={CONN: "samsara"}).loc[0, "source_name"] == "samsara"
    conns = [{"id": CONN, "source_name": "geotab"}]
    assert operations_frame([op], connections=conns).loc[0, "source_name"] == "geotab"
    assert logs_frame([op], connections=conns).loc[0, "source_name"] == "geotab"


def test_page_bytes_lists_generators_and_models_give_the_same_frame() -> None:
    """A cursor page body, a JSON list, pages in a list, a generator and models read alike."""
    ops = [operation(), operation(id="op-2", status="success", logs=[])]
    expected = operations_frame(ops)
    page = json.dumps({"items": ops, "next_page": None}).encode()
    halves = [json.dumps({"items": ops[:1]}), json.dumps({"items": ops[1:]})]
    for source in (page, page.decode(), json.dumps(ops), halves, (op for op in ops), [{"items": ops}]):
        pd.testing.assert_frame_equal(operations_frame(source), expected)


def test_pydantic_models_are_dumped_to_wire_form() -> None:
    """Any pydantic model is read through model_dump(mode='json'), enums and datetimes included."""
    import pydantic

    class Op(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow")
        id: str
        created_at: dt.datetime
        status: str
        logs: list[dict[str, Any]] | None = None

    plus_two = dt.timezone(dt.timedelta(hours=2))
    created = dt.datetime(2026, 5, 4, 11, 15, tzinfo=plus_two)
    model = Op(id="m-1", created_at=created, status="success", logs=None, source_name="motive")
    row = operations_frame([model]).iloc[0]
    assert row["operation_id"] == "m-1"
    assert row["created_at"] == pd.Timestamp("2026-05-04T09:15:00Z")
    assert row["source_name"] == "motive"


def test_empty_input_keeps_columns_and_dtypes() -> None:
    """No operations give empty frames with every declared column and dtype."""
    ops_df, logs_df = operation_frames([])
    assert tuple(ops_df.columns) == OPERATION_COLUMNS
    assert tuple(logs_df.columns) == LOG_COLUMNS
    assert str(ops_df["created_at"].dtype) == "datetime64[us, UTC]"
    assert ops_df["attempts"].dtype == "Int64"
    assert tuple(messages_frame(b'{"items": []}').columns) == MESSAGE_COLUMNS


def test_operation_frames_equals_the_two_calls_and_reads_generators() -> None:
    """operation_frames gives exactly the two frames, even from a generator consumed once."""
    ops = [operation(), operation(id="op-2", logs=[log(1, "success", "2026-05-04T09:00:00Z")])]
    ops_df, logs_df = operation_frames(op for op in ops)
    pd.testing.assert_frame_equal(ops_df, operations_frame(ops))
    pd.testing.assert_frame_equal(logs_df, logs_frame(ops))


def test_input_is_not_modified() -> None:
    """Building frames leaves the records as they were."""
    ops = [
        operation(logs=[log(2, "failed", "2026-05-04T08:51:05Z"), log(1, "failed", "2026-05-04T08:51:02Z")])
    ]
    before = copy.deepcopy(ops)
    operation_frames(ops)
    assert ops == before


def test_rejects_what_is_not_records() -> None:
    """A number is neither a record, a page nor an iterable."""
    with pytest.raises(TypeError, match="cannot read records"):
        operations_frame(42)


def test_messages_frame_columns_and_dtypes() -> None:
    """Message records keep their delivery status and times, typed; unknown fields become extra columns."""
    msg = {
        "id": "msg-1",
        "fleet_id": None,
        "created_at": "2026-05-04T09:15:00Z",
        "updated_at": "2026-05-04T09:20:00+00:00",
        "connection_id": CONN,
        "source_name": "samsara",
        "source_id": "98765432",
        "source_data_hash": "abc",
        "status": "read",
        "delivered_at": "2026-05-04T09:16:00Z",
        "read_at": "2026-05-04T09:19:00Z",
        "sent_by_driver": False,
        "recipient_ids": ["a", "b"],
    }
    df = messages_frame([msg, {"id": "msg-2", "status": "teleported"}])
    assert tuple(df.columns[: len(MESSAGE_COLUMNS)]) == MESSAGE_COLUMNS
    assert df.loc[0, "message_id"] == "msg-1"
    assert str(df["read_at"].dtype) == "datetime64[us, UTC]"
    assert df["status"].dtype == "category"
    assert df.loc[1, "status"] == "teleported"
    assert df["sent_by_driver"].dtype == "boolean"
    assert df.loc[0, "recipient_ids"] == ["a", "b"]
    assert is_missing(df.loc[1, "delivered_at"])


def test_sandbox_history_frames() -> None:
    """A sandbox history's union-shape records give consistent frames: one log row per attempt."""
    world_mod = pytest.importorskip("catena_nb.sandbox.sim.world")
    history_mod = pytest.importorskip("catena_nb.sandbox.sim.history")
    world = world_mod.build_world(3)
    history = history_mod.generate_history(world, 3, 2, dt.date(2026, 11, 1))
    ops_df, logs_df = operation_frames(history.operations)
    assert len(ops_df) == len(history.operations)
    assert int(ops_df["attempts"].sum()) == len(logs_df)
    assert logs_df.groupby("operation_id")["attempt"].max().sum() == len(logs_df)
    assert set(ops_df["status"].astype(str)) <= {"success", "failed", "pending"}


def test_client_models_read_like_their_wire_dicts() -> None:
    """The client's ResourceOperation models give the same frame as the wire dicts they were parsed from."""
    models = pytest.importorskip("catena_nb.models")
    wire = [operation(), operation(id="op-2", status="success", logs=[])]
    parsed = [models.ResourceOperation.model_validate(op) for op in wire]
    from_models = operations_frame(parsed)
    from_wire = operations_frame(wire)
    pd.testing.assert_frame_equal(from_models[list(OPERATION_COLUMNS)], from_wire[list(OPERATION_COLUMNS)])


def test_many_records_with_a_key_missing_in_one_of_them() -> None:
    """Across many blocks of rows, a key missing from one record is NA there and intact everywhere else."""
    ops = [operation(id=f"op-{i}", fleet_ref=f"F{i}") for i in range(1300)]
    del ops[1100]["fleet_ref"]
    df = operations_frame(ops)
    assert is_missing(df.loc[1100, "fleet_ref"])
    assert df["fleet_ref"].notna().sum() == 1299
    assert df.loc[1299, "fleet_ref"] == "F1299"
    assert list(df["operation_id"][:3]) == ["op-0", "op-1", "op-2"]


def test_logs_of_an_operation_without_id_keep_their_own_operation_id() -> None:
    """When the operation has no id, its logs are named by their resource_operation_id."""
    op = operation()
    del op["id"]
    logs = logs_frame([op, operation(id="op-2")])
    assert list(logs["operation_id"]) == [OP_ID, "op-2"]
    assert logs["operation_id"].dtype == "string"


def test_a_client_listing_is_read_from_its_raw_pages() -> None:
    """A listing and its pages give the same frame as their models, and a status filter still applies."""
    from catena_nb.client import CatenaClient
    from catena_nb.sandbox import Sandbox

    with Sandbox(seed=3, history=2, anchor="2026-11-01", time_scale=0.001, tsp_latency=0) as sb:
        client = CatenaClient(base_url=sb.url, token=sb.token, progress=False)
        window: dict[str, Any] = {"since": "2026-10-31", "until": "2026-11-02", "size": 500}
        from_models = operations_frame(client.operations.list(**window).to_list())
        from_listing = operations_frame(client.operations.list(**window))
        from_pages = operations_frame(list(client.operations.list(**window).pages()))
        failed = operations_frame(client.operations.list(status="failed", **window))
        client.close()
    pd.testing.assert_frame_equal(from_listing, from_models)
    pd.testing.assert_frame_equal(from_pages, from_models)
    assert len(failed) == (from_models["status"] == "failed").sum() > 0
    assert set(failed["status"]) == {"failed"}


def test_a_record_with_as_many_keys_but_another_one_is_read_by_name() -> None:
    """A record that swaps a known key for an unknown one (same key count): NA there, and an extra column."""
    ops = [operation(id=f"op-{i}") for i in range(1300)]
    del ops[700]["fleet_ref"]
    ops[700]["region"] = "eu"
    ops[1200]["shard"] = 3  # one key more than the others, in a later block
    df = operations_frame(ops)
    assert is_missing(df.loc[700, "fleet_ref"])
    assert df.loc[700, "region"] == "eu"
    assert df["region"].notna().sum() == 1
    assert df.loc[1200, "shard"] == 3
    assert df["shard"].dtype == "Int64"


def test_payloads_that_are_not_objects_or_grow_fields_later() -> None:
    """A payload that is null or text counts as empty; a field first seen later takes its place in the
    API's key order (jsonb: shorter first, then bytewise)."""
    ops = [
        operation(id="a"),
        operation(id="b", payload=None),
        operation(id="c", payload="junk"),
        operation(id="d", payload={"priority": "high", "template": "t-1"}),
    ]
    df = operations_frame(ops)
    payload_cols = [c for c in df.columns if c.startswith("payload_")]
    assert payload_cols == [
        "payload_priority",
        "payload_template",
        "payload_sender_id",
        "payload_message_text",
    ]
    assert list(df["payload_priority"].fillna("-")) == ["low", "-", "-", "high"]
    assert list(df["payload_template"].fillna("-")) == ["-", "-", "-", "t-1"]


def test_status_codes_beyond_int64_or_as_text() -> None:
    """Status codes that are text of a whole number are read; fractions, words and huge numbers become NA."""
    codes: list[int | str | float | None] = [401, "503", 2**70, 4.5, "teapot", None]
    ops = [
        operation(id=f"op-{i}", logs=[log(1, "failed", "2026-05-04T08:51:02Z", "tsp", c)])
        for i, c in enumerate(codes)
    ]
    df = operations_frame(ops)
    assert df["http_status"].dtype == "Int64"
    assert df["http_status"].tolist() == [401, 503, pd.NA, pd.NA, pd.NA, pd.NA]
    assert (
        operations_frame([operation(id="x", logs=[log(1, "failed", "2026-05-04T08:51:02Z", "tsp", 2**70)])])[
            "http_status"
        ]
        .isna()
        .all()
    )


def test_log_updated_at_is_read_where_it_differs_from_created_at() -> None:
    """A log's updated_at is its own, whether equal to its created_at, later, missing or unreadable."""
    logs = [log(i, "failed", f"2026-05-04T08:51:0{i}Z", "tsp", 503) for i in range(1, 5)]
    logs[1]["updated_at"] = "2026-05-04T10:51:02+02:00"  # the same instant, written another way
    logs[2]["updated_at"] = "2026-05-04T09:00:00Z"
    logs[3]["updated_at"] = None
    df = logs_frame([operation(logs=logs)])
    assert df["updated_at"].tolist()[:3] == [
        pd.Timestamp("2026-05-04T08:51:01Z"),
        pd.Timestamp("2026-05-04T08:51:02Z"),
        pd.Timestamp("2026-05-04T09:00:00Z"),
    ]
    assert is_missing(df.loc[3, "updated_at"])
    assert df["created_at"].tolist()[3] == pd.Timestamp("2026-05-04T08:51:04Z")
    df.loc[0, "updated_at"] = pd.Timestamp("2030-01-01T00:00:00Z")  # the two columns share no buffer
    assert df.loc[0, "created_at"] == pd.Timestamp("2026-05-04T08:51:01Z")


def test_first_attempt_ok_is_na_for_a_first_status_other_than_the_two() -> None:
    """first_attempt_ok: True, False, or NA for a first log that is neither success nor failed; a failure
    without logs failed at its first attempt."""
    ops = [
        operation(id="a", logs=[log(1, "success", "2026-05-04T08:51:02Z")]),
        operation(id="b"),
        operation(
            id="c",
            logs=[log(1, "pending", "2026-05-04T08:51:02Z"), log(2, "success", "2026-05-04T08:52:02Z")],
        ),
        operation(id="d", logs=[]),
    ]
    df = operations_frame(ops)
    assert df["first_attempt_ok"].dtype == "boolean"
    assert df["first_attempt_ok"].tolist() == [True, False, pd.NA, False]


def test_the_garbage_collector_is_paused_while_reading_and_resumed_after() -> None:
    """The cyclic collector is paused during a read and enabled again after it, even when the read fails."""
    import gc

    seen: list[bool] = []

    class Spy(dict[str, Any]):
        """A record that notes whether the collector runs while it is read."""

        def __getitem__(self, key: str) -> Any:
            seen.append(gc.isenabled())
            return super().__getitem__(key)

    assert gc.isenabled()
    operation_frames([Spy(operation())])
    assert seen
    assert not any(seen)
    assert gc.isenabled()
    with pytest.raises(TypeError):
        operations_frame([operation(), 42])
    assert gc.isenabled()
    gc.disable()
    try:
        logs_frame([operation()])
        assert not gc.isenabled()  # a caller's own pause is left as it was
    finally:
        gc.enable()
