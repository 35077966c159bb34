"""The second stage: wire values become typed columns, chunk by chunk, whatever their types."""

from __future__ import annotations

import numpy as np
import pandas as pd

from catena_nb.frames import _columns as c


def _objects(*values: object) -> np.ndarray:
    return np.array(list(values), dtype=object)


def test_whole_array_converters_keep_what_does_not_fit_as_na_or_text() -> None:
    """A number among text stays text; a fraction or a huge number is NA as Int64; free-form finds a type."""
    assert c.strings(_objects("a", None, 12)).tolist() == ["a", pd.NA, "12"]
    assert c.integers(_objects(1, None, "7", 4.5, 2**70)).tolist() == [1, pd.NA, 7, pd.NA, pd.NA]
    assert str(c.infer(_objects(True, None, np.nan).copy()).dtype) == "boolean"
    assert str(c.infer(_objects(1, None)).dtype) == "Int64"
    assert str(c.infer(_objects(1, 2.5)).dtype) == "Float64"
    assert c.infer(_objects("a", 1)).dtype == object
    assert list(c.category(_objects("b", "a", None)).categories) == ["a", "b"]


def test_builders_join_their_chunks_as_one_column() -> None:
    """Strings, Categories, Integers and Datetimes give, chunk by chunk, what one conversion gives."""
    chunks = [_objects("x", None), _objects("y", "x"), _objects(None)]
    text, enums = c.Strings(2), c.Categories()
    for chunk in chunks:
        text.add(chunk.copy())
        enums.add(chunk.copy())
    whole = np.concatenate(chunks)
    pd.testing.assert_extension_array_equal(text.finish(), c.strings(whole.copy()))
    assert list(enums.finish()) == list(c.category(whole))
    numbers = c.Integers()
    numbers.add(_objects(1, None))
    numbers.add(_objects("3"))
    assert numbers.finish().tolist() == [1, pd.NA, 3]
    times = c.Datetimes()
    times.add(_objects("2026-05-04T08:51:01Z"))
    times.add_like(
        _objects("2026-05-04T08:51:01Z", "x"), _objects("2026-05-04T08:51:01Z", "y"), np.array([1, 2])
    )
    assert times.finish().isna().tolist() == [False, False, True]


def test_free_form_fields_are_named_after_themselves_or_extra_on_a_clash() -> None:
    """``payload_`` in front of payload fields, and ``extra_`` in front of a name already taken."""
    taken = {"status", "payload_priority"}
    payloads = c.payload_columns([{"priority": "low", "text": "hi"}, None], taken)
    assert list(payloads) == ["payload_text", "extra_payload_priority"]  # in jsonb key order
    extras = c.free_form_columns([{"status": "x"}, {}], ["status"], taken)
    assert list(extras) == ["extra_status"]
    assert extras["extra_status"].tolist() == ["x", pd.NA]
