"""The private pandas behind ``frames._pandas``: without it, the public fallbacks give the same frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catena_nb.frames import _operations, _pandas, messages_frame, operation_frames
from tests.support.awkward_records import awkward_operations, read_in_one_chunk


def test_both_private_apis_are_in_use_with_this_pandas() -> None:
    """With the pandas under test, the C dict loop and the unchecked wrap are found (the fast path runs)."""
    assert _pandas.dicts_to_array is not None
    assert _pandas.wrap_checked_text is not None


def test_frames_read_the_same_without_pandas_dict_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """pandas' ``dicts_to_array`` is not public: without it, the Python reader gives the same frames."""
    ops = awkward_operations(30)
    expected_ops, expected_logs = read_in_one_chunk(ops)
    monkeypatch.setattr(_pandas, "dicts_to_array", None)
    monkeypatch.setattr(_operations, "CHUNK", 4)
    ops_df, logs_df = operation_frames(ops)
    pd.testing.assert_frame_equal(ops_df, expected_ops)
    pd.testing.assert_frame_equal(logs_df, expected_logs)


def test_frames_read_the_same_without_any_private_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    """With both fallbacks forced (no dict loop, text checked again), the frames equal the fast path's."""
    ops = awkward_operations(30)
    messages = [{"id": "m1", "status": "read", "source_name": "samsara"}, {"id": "m2", "region": "eu"}]
    expected_ops, expected_logs = read_in_one_chunk(ops)
    expected_messages = messages_frame(messages)
    monkeypatch.setattr(_pandas, "dicts_to_array", None)
    monkeypatch.setattr(_pandas, "wrap_checked_text", None)
    monkeypatch.setattr(_operations, "CHUNK", 4)
    ops_df, logs_df = operation_frames(ops)
    pd.testing.assert_frame_equal(ops_df, expected_ops)
    pd.testing.assert_frame_equal(logs_df, expected_logs)
    pd.testing.assert_frame_equal(messages_frame(messages), expected_messages)


def test_checked_text_holds_na_for_every_missing_value() -> None:
    """Text checked by ``is_text`` holds NA for None and NaN, so the unchecked wrap makes a valid column."""
    values = np.array(["a", None, np.nan], dtype=object)
    assert _pandas.is_text(values)
    column = _pandas.checked_text(values)
    assert column.isna().tolist() == [False, True, True]
    assert not _pandas.is_text(np.array(["a", 3], dtype=object))
