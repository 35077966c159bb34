"""Frames read a chunk of operations at a time: the result must not depend on where the chunks end.

Each test builds awkward input whose oddities fall in different chunks (a key first seen late, a payload
field that turns numeric, a category met only in the last chunk, an operation without id, logs out of order)
and compares the frames read one operation per chunk, a few per chunk, and all in one chunk.
"""

from __future__ import annotations

import random
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from catena_nb.frames import _flatten, _wire, logs_frame, operation_frames, operations_frame

TSPS = ("samsara", "motive", "geotab")


def _stamp(rng: random.Random, base: int) -> str:
    seconds = base + rng.randint(0, 50_000)
    day, rest = divmod(seconds, 86_400)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    zone = rng.choice(["Z", "Z", "+02:00", "-05:30"])
    fraction = rng.choice(["", ".5", ".123", ".123456"])
    return f"2026-05-{day % 28 + 1:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"


def _awkward_operations(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    ops: list[dict[str, Any]] = []
    for i in range(n):
        logs: list[Any] = []
        for a in range(rng.randint(0, 4)):
            status = rng.choice(["failed", "failed", "success", "queued"])
            entry: dict[str, Any] = {
                "id": f"log-{i}-{a}",
                "created_at": _stamp(rng, i * 100),
                "updated_at": None,
                "resource_operation_id": f"op-{i}",
                "status": status,
                "error_type": rng.choice([None, "auth", "tsp", "network", "brand_new"]),
                "error_details": rng.choice([None, "boom", "<b>x</b>"]),
                "response_status_code": rng.choice([None, 200, 401, "503", 2**70, 4.5]),
            }
            entry["updated_at"] = entry["created_at"] if rng.random() < 0.7 else _stamp(rng, i * 100)
            if i > n // 2 and rng.random() < 0.3:
                entry["trace"] = rng.choice(["t1", "t2", 3])  # an unknown log field, first seen late
            logs.append(entry)
        rng.shuffle(logs)  # wire order is not attempt order
        payload: Any = {"priority": rng.choice(["low", "high"]), "message_text": f"msg {i} <i>"}
        if i > n // 3:
            payload["retries"] = rng.choice([1, 2, None])  # a payload field first seen late, numeric
        if i % 5 == 0:
            payload = rng.choice([None, "not an object", {}])
        op: dict[str, Any] = {
            "id": None if i % 11 == 3 else f"op-{i}",
            "created_at": _stamp(rng, i * 100),
            "updated_at": _stamp(rng, i * 100 + 60_000),
            "deleted_at": None if rng.random() < 0.9 else _stamp(rng, i * 100),
            "partner_id": "partner",
            "connection_id": f"conn-{i % 4}",
            "source_name": TSPS[i % 3] if i < n - 2 else "late_tsp",
            "fleet_ref": rng.choice([None, "FLT-1", 12]),
            "resource": "message",
            "operation_type": "create",
            "payload": payload,
            "resource_id": None,
            "source_id": None,
            "status": rng.choice(["success", "failed", "pending"]),
            "logs": None if i % 13 == 5 else logs,
        }
        if i % 7 == 2:
            del op["deleted_at"]  # a key some records lack
        if i > n - 4:
            op["region"] = "eu"  # an unknown top-level field, only in the last operations
        ops.append(op)
    return ops


@pytest.fixture(params=[1, 2, 5])
def small_chunks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(_flatten, "CHUNK", request.param)
    return int(request.param)


def _one_chunk(ops: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    saved = _flatten.CHUNK
    _flatten.CHUNK = 1_000_000
    try:
        return operation_frames(ops)
    finally:
        _flatten.CHUNK = saved


def test_frames_do_not_depend_on_where_chunks_end(small_chunks: int) -> None:
    ops = _awkward_operations(40)
    expected_ops, expected_logs = _one_chunk(ops)
    ops_df, logs_df = operation_frames(ops)
    pd.testing.assert_frame_equal(ops_df, expected_ops)
    pd.testing.assert_frame_equal(logs_df, expected_logs)
    # and each frame on its own reads the same way
    pd.testing.assert_frame_equal(operations_frame(ops), expected_ops)
    pd.testing.assert_frame_equal(logs_frame(ops), expected_logs)


def test_awkward_input_gives_the_declared_types(small_chunks: int) -> None:
    ops_df, logs_df = operation_frames(_awkward_operations(40))
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
    ops = _awkward_operations(12)
    ops[-1]["resource"] = {"odd": "value"}
    ops_df = operations_frame(ops)
    assert ops_df["resource"].dtype == "category"
    assert str(ops_df["resource"].iloc[-1]) == str({"odd": "value"})
    assert (ops_df["resource"].iloc[:-1] == "message").all()


def test_categories_of_several_types_in_different_chunks(small_chunks: int) -> None:
    ops = _awkward_operations(12)
    ops[-1]["status"] = 3  # a number among text: they do not sort together, so all become text
    ops_df = operations_frame(ops)
    assert "3" in set(ops_df["status"].astype(str))


def test_write_shape_names_its_tsp_from_connections_in_every_chunk(small_chunks: int) -> None:
    ops = _awkward_operations(12)
    for op in ops:
        del op["source_name"]  # the write shape: the key itself is absent
    names = {f"conn-{i}": f"tsp-{i}" for i in range(4)}
    ops_df = operations_frame(ops, connections=names)
    assert list(ops_df["source_name"].astype(str)) == [f"tsp-{i % 4}" for i in range(12)]


def test_table_reads_missing_keys_as_nan_and_falls_back_for_other_mappings() -> None:
    rows: list[Any] = [{"a": 1, "b": "x"}, {"a": 2}, {"a": 3, "b": None, "c": True}]
    arrays, present = _wire.table(rows, ["a", "b"])
    assert present == {"a", "b", "c"}
    assert list(arrays["a"]) == [1, 2, 3]
    assert arrays["b"][0] == "x"
    assert pd.isna(arrays["b"][1])
    assert arrays["b"][2] is None
    # a mapping that is not a dict is read by name too; a row that is no mapping at all is refused
    proxied, _ = _wire.table([MappingProxyType({"a": 1})], ["a"])
    assert list(proxied["a"]) == [1]
    with pytest.raises(TypeError):
        _wire.table([{"a": 1}, "not a row"], ["a"])  # type: ignore[list-item]


def test_free_form_column_that_turns_numeric_in_a_later_chunk(small_chunks: int) -> None:
    ops = _awkward_operations(10)
    for i, op in enumerate(ops):
        op["payload"] = {"priority": "low", "count": None if i < 6 else i}
    ops_df = operations_frame(ops)
    assert ops_df["payload_count"].dtype == "Int64"
    assert ops_df["payload_count"].tolist()[:6] == [pd.NA] * 6
    assert ops_df["payload_count"].tolist()[6:] == [6, 7, 8, 9]


def test_many_operations_keep_their_logs_lined_up() -> None:
    """More operations than one chunk, with a log count that outgrows the first chunk's guess."""
    n = _flatten.CHUNK * 2 + 17
    ops = []
    for i in range(n):
        count = 1 if i < _flatten.CHUNK else 6  # the first chunk guesses far too few logs
        stamps = [f"2026-05-04T08:{i % 60:02d}:{a:02d}.000001Z" for a in range(count)]
        logs = [
            {"id": f"l{i}-{a}", "created_at": t, "updated_at": t, "status": "failed", "error_type": "tsp"}
            for a, t in enumerate(stamps)
        ]
        ops.append({"id": f"op-{i}", "created_at": stamps[0], "status": "failed", "logs": logs})
    ops_df, logs_df = operation_frames(ops)
    assert ops_df["attempts"].sum() == len(logs_df) == _flatten.CHUNK + 6 * (n - _flatten.CHUNK)
    expected = [f"op-{i}" for i in range(n) for _ in range(1 if i < _flatten.CHUNK else 6)]
    assert logs_df["operation_id"].tolist() == expected
    assert logs_df["log_id"].iloc[-1] == f"l{n - 1}-5"
    assert np.array_equal(logs_df["attempt"].to_numpy()[-6:], np.arange(1, 7))


def test_frames_read_the_same_without_pandas_dict_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """pandas' ``dicts_to_array`` is not public: without it, the Python reader gives the same frames."""
    ops = _awkward_operations(30)
    expected_ops, expected_logs = _one_chunk(ops)
    monkeypatch.setattr(_wire, "_dicts_to_array", None)
    monkeypatch.setattr(_flatten, "CHUNK", 4)
    ops_df, logs_df = operation_frames(ops)
    pd.testing.assert_frame_equal(ops_df, expected_ops)
    pd.testing.assert_frame_equal(logs_df, expected_logs)
