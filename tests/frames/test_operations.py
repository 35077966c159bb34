"""Frames read a chunk of operations at a time: the result must not depend on where the chunks end.

Each test builds awkward input whose oddities fall in different chunks (a key first seen late, a payload
field that turns numeric, a category met only in the last chunk, an operation without id, logs out of order)
and compares the frames read one operation per chunk, a few per chunk, and all in one chunk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catena_nb.frames import _operations, logs_frame, operation_frames, operations_frame
from tests.support.awkward_records import TSPS, awkward_operations, read_in_one_chunk


@pytest.fixture(params=[1, 2, 5])
def small_chunks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Chunks of 1, 2 and 5 operations."""
    monkeypatch.setattr(_operations, "CHUNK", request.param)
    return int(request.param)


def test_frames_do_not_depend_on_where_chunks_end(small_chunks: int) -> None:
    """The frames read in small chunks equal those read in one, from either call."""
    ops = awkward_operations(40)
    expected_ops, expected_logs = read_in_one_chunk(ops)
    ops_df, logs_df = operation_frames(ops)
    pd.testing.assert_frame_equal(ops_df, expected_ops)
    pd.testing.assert_frame_equal(logs_df, expected_logs)
    # and each frame on its own reads the same way
    pd.testing.assert_frame_equal(operations_frame(ops), expected_ops)
    pd.testing.assert_frame_equal(logs_frame(ops), expected_logs)


def test_awkward_input_gives_the_declared_types(small_chunks: int) -> None:
    """Oddities met in later chunks still give the declared dtypes, and attempts in created_at order."""
    ops_df, logs_df = operation_frames(awkward_operations(40))
    # a field first seen in a later chunk is missing, not absent, in the earlier rows
    assert ops_df["payload_retries"].dtype == "Int64"
    assert ops_df["payload_retries"].isna().iloc[:10].all()
    assert ops_df["region"].notna().sum() == 3
    assert logs_df["trace"].dtype == object  # text and a number: kept as they are
    # a TSP met only in the last chunk is a category like the others, sorted with them
    assert list(ops_df["source_name"].cat.categories) == sorted([*TSPS, "late_tsp"])
    # text where a number was once found is kept as text, numbers where text was expected too
    assert ops_df["fleet_ref"].dtype == "string"
    assert set(ops_df["fleet_ref"].dropna()) <= {"FLT-1", "12"}
    # a status code that is not a whole number within int64 is NA
    assert set(logs_df["http_status"].dropna()) <= {200, 401, 503}
    # the logs of an operation without id keep their own operation id
    lacking = ops_df.index[ops_df["operation_id"].isna()]
    assert len(lacking)
    assert logs_df["operation_id"].notna().all()
    # attempts are numbered in created_at order within each operation
    for _, attempts in logs_df.groupby("operation_id", sort=False):
        assert list(attempts["attempt"]) == list(range(1, len(attempts) + 1))
        assert attempts["created_at"].is_monotonic_increasing


def test_a_category_value_that_cannot_be_hashed_in_a_later_chunk(small_chunks: int) -> None:
    """An unhashable enum value in the last chunk becomes text in a category column."""
    ops = awkward_operations(12)
    ops[-1]["resource"] = {"odd": "value"}
    ops_df = operations_frame(ops)
    assert ops_df["resource"].dtype == "category"
    assert str(ops_df["resource"].iloc[-1]) == str({"odd": "value"})
    assert (ops_df["resource"].iloc[:-1] == "message").all()


def test_categories_of_several_types_in_different_chunks(small_chunks: int) -> None:
    """A number among the text of an enum makes every category text."""
    ops = awkward_operations(12)
    ops[-1]["status"] = 3  # a number among text: they do not sort together, so all become text
    ops_df = operations_frame(ops)
    assert "3" in set(ops_df["status"].astype(str))


def test_write_shape_names_its_tsp_from_connections_in_every_chunk(small_chunks: int) -> None:
    """Without source_name, every chunk takes the TSP from the connections given."""
    ops = awkward_operations(12)
    for op in ops:
        del op["source_name"]  # the write shape: the key itself is absent
    names = {f"conn-{i}": f"tsp-{i}" for i in range(4)}
    ops_df = operations_frame(ops, connections=names)
    assert list(ops_df["source_name"].astype(str)) == [f"tsp-{i % 4}" for i in range(12)]


def test_free_form_column_that_turns_numeric_in_a_later_chunk(small_chunks: int) -> None:
    """A payload field missing at first and numeric later is an Int64 column, NA before."""
    ops = awkward_operations(10)
    for i, op in enumerate(ops):
        op["payload"] = {"priority": "low", "count": None if i < 6 else i}
    ops_df = operations_frame(ops)
    assert ops_df["payload_count"].dtype == "Int64"
    assert ops_df["payload_count"].tolist()[:6] == [pd.NA] * 6
    assert ops_df["payload_count"].tolist()[6:] == [6, 7, 8, 9]


def test_many_operations_keep_their_logs_lined_up() -> None:
    """More operations than one chunk, with a log count that outgrows the first chunk's guess."""
    n = _operations.CHUNK * 2 + 17
    ops = []
    for i in range(n):
        count = 1 if i < _operations.CHUNK else 6  # the first chunk guesses far too few logs
        stamps = [f"2026-05-04T08:{i % 60:02d}:{a:02d}.000001Z" for a in range(count)]
        logs = [
            {"id": f"l{i}-{a}", "created_at": t, "updated_at": t, "status": "failed", "error_type": "tsp"}
            for a, t in enumerate(stamps)
        ]
        ops.append({"id": f"op-{i}", "created_at": stamps[0], "status": "failed", "logs": logs})
    ops_df, logs_df = operation_frames(ops)
    assert ops_df["attempts"].sum() == len(logs_df) == _operations.CHUNK + 6 * (n - _operations.CHUNK)
    expected = [f"op-{i}" for i in range(n) for _ in range(1 if i < _operations.CHUNK else 6)]
    assert logs_df["operation_id"].tolist() == expected
    assert logs_df["log_id"].iloc[-1] == f"l{n - 1}-5"
    assert np.array_equal(logs_df["attempt"].to_numpy()[-6:], np.arange(1, 7))


def test_logs_of_an_operation_without_connection_hold_na() -> None:
    """A log whose operation has no connection_id holds NA there (a column pandas can test for missing)."""
    logs = [{"id": "l", "created_at": "2026-01-01T00:00:00Z", "status": "failed"}]
    ops = [
        {"id": "a", "connection_id": None, "status": "failed", "logs": logs},
        {"id": "b", "status": "failed", "logs": [{**logs[0], "id": "l2"}]},
        {"id": "c", "connection_id": "conn", "status": "failed", "logs": [{**logs[0], "id": "l3"}]},
    ]
    logs_df = logs_frame(ops)
    assert logs_df["connection_id"].isna().tolist() == [True, True, False]
    assert logs_df["connection_id"].tolist() == [pd.NA, pd.NA, "conn"]


def test_a_log_without_a_time_is_the_first_attempt_as_in_the_model() -> None:
    """Attempt order and the last error follow ``ResourceOperation.sorted_logs``/``last_error``."""
    from catena_nb.models import ResourceOperation

    op = {
        "id": "019df22e-f255-7a7c-b1d7-59f509071b6d",
        "connection_id": "019ddd87-eedd-710f-967c-1c6cc72ac985",
        "resource": "message",
        "operation_type": "create",
        "status": "failed",
        "logs": [
            {"id": "late", "created_at": "2026-01-01T00:00:02Z", "status": "failed", "error_type": "tsp"},
            {"id": "timeless", "created_at": None, "status": "failed", "error_type": "auth"},
            {
                "id": "early",
                "created_at": "2026-01-01T00:00:01Z",
                "status": "failed",
                "error_type": "network",
            },
        ],
    }
    ops_df, logs_df = operation_frames([op])
    model = ResourceOperation.model_validate(op)
    assert (
        logs_df["log_id"].tolist() == [log.id for log in model.sorted_logs] == ["timeless", "early", "late"]
    )
    assert model.last_error is not None
    assert ops_df["error_type"].tolist() == [model.last_error.error_type] == ["tsp"]
