"""Timestamps in the frames: whatever their form, read as pandas' own ISO 8601 reading reads them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from catena_nb.frames import _columns, operation_frames


def _pandas(values: Sequence[object]) -> np.ndarray:
    parsed = pd.to_datetime(np.array(values, dtype=object), utc=True, format="ISO8601", errors="coerce")
    return np.asarray(pd.DatetimeIndex(parsed).as_unit("us").asi8)


def _frames(values: Sequence[object]) -> list[np.ndarray]:
    """The operations' created_at and updated_at, and their logs', of operations holding ``values``."""
    later = list(reversed(values))  # mostly other text than created_at: parsed, not copied
    ops: list[dict[str, Any]] = [
        {
            "id": f"op-{i}",
            "created_at": v,
            "updated_at": later[i],
            "logs": [{"created_at": v, "updated_at": v}],
        }
        for i, v in enumerate(values)
    ]
    ops_df, logs_df = operation_frames(ops)
    columns = [ops_df["created_at"], ops_df["updated_at"], logs_df["created_at"], logs_df["updated_at"]]
    return [np.asarray(pd.DatetimeIndex(c).asi8) for c in columns]


def _assert_read_as_pandas(values: Sequence[object]) -> None:
    created, updated, log_created, log_updated = _frames(values)
    expected = _pandas(values)
    assert np.array_equal(created, expected)
    assert np.array_equal(updated, expected[::-1])
    assert np.array_equal(log_created, expected)
    assert np.array_equal(log_updated, expected)


@st.composite
def timestamps(draw: st.DrawFn, fraction: int, zone: str) -> str:
    """A timestamp text of one form: ``fraction`` digits after the point (0: no point), ``zone`` Z or an
    offset form; the fields are sometimes out of range (month 13, day 31 of a short month, hour 24)."""
    year = draw(st.sampled_from([1, 1677, 1678, 1970, 2000, 2024, 2026, 2100, 2261, 2262, 9999]))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 31))
    hour, minute, second = draw(st.integers(0, 24)), draw(st.integers(0, 60)), draw(st.integers(0, 60))
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if fraction:
        text += "." + "".join(
            draw(st.lists(st.sampled_from("0123456789"), min_size=fraction, max_size=fraction))
        )
    if zone == "Z":
        return text + "Z"
    sign = draw(st.sampled_from("+-"))
    return text + f"{sign}{draw(st.integers(0, 24)):02d}:{draw(st.integers(0, 60)):02d}"


@st.composite
def one_form(draw: st.DrawFn) -> list[str]:
    """Several timestamps of one width, some of them spoilt by a stray character."""
    fraction, zone = draw(st.sampled_from([0, 1, 3, 6, 7, 9])), draw(st.sampled_from(["Z", "offset"]))
    values = draw(st.lists(timestamps(fraction, zone), min_size=1, max_size=40))
    spoil = draw(
        st.lists(st.tuples(st.integers(0, 39), st.integers(0, 40), st.sampled_from("x:-T. 9")), max_size=3)
    )
    for row, position, char in spoil:
        if row < len(values) and position < len(values[row]):
            values[row] = values[row][:position] + char + values[row][position + 1 :]
    return values


@settings(max_examples=150, deadline=None)
@given(one_form())
def test_one_form_reads_as_pandas_reads_it(values: list[str]) -> None:
    """Timestamps of one form, valid or spoilt, read in every column to the microseconds pandas reads."""
    _assert_read_as_pandas(values)


@settings(max_examples=75, deadline=None)
@given(st.lists(st.one_of(one_form(), st.just([None]), st.just(["not a time"])), min_size=1, max_size=4))
def test_mixed_forms_and_missing_values_read_as_pandas_reads_them(groups: list[list[object]]) -> None:
    """Several forms, missing values and text that is no time read as pandas reads them."""
    _assert_read_as_pandas([v for group in groups for v in group])


def test_the_api_form_is_read_to_the_microsecond() -> None:
    """The API's own form, with Z or an offset, becomes the exact UTC instant."""
    values = [
        "2026-05-04T08:51:01.487639Z",
        "2026-05-04T10:51:01.487639+02:00",
        "2024-02-29T23:59:59.000001Z",
    ]
    expected = [
        dt.datetime(2026, 5, 4, 8, 51, 1, 487639, tzinfo=dt.UTC),
        dt.datetime(2026, 5, 4, 8, 51, 1, 487639, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 29, 23, 59, 59, 1, tzinfo=dt.UTC),
    ]
    assert list(_columns.datetimes(values)) == [pd.Timestamp(t) for t in expected]


def test_datetimes_missing_and_bad_values() -> None:
    """Datetimes are taken as they are; None, NaN and text that is no time become NaT; an unset column too."""
    moment = dt.datetime(2026, 5, 4, 8, 51, 1, tzinfo=dt.UTC)
    read = _columns.datetimes([moment, None, float("nan"), "not a time", "2026-05-04T08:51:01Z"])
    assert read.isna().tolist() == [False, True, True, True, False]
    assert read[0] == read[4] == pd.Timestamp(moment)
    unset = _columns.microseconds(np.array([None, None], dtype=object))
    assert unset.tolist() == [_columns.NAT] * 2
