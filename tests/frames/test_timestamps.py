"""The fixed-width timestamp reader (numpy's parser) gives what pandas gives, and leaves the rest to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from catena_nb.frames import _columns, _timestamps


def _pandas(values: Sequence[object]) -> np.ndarray:
    return _timestamps._pandas_microseconds(np.array(values, dtype=object))


def _ours(values: Sequence[object]) -> np.ndarray:
    return _timestamps.microseconds(np.array(values, dtype=object))


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


@settings(max_examples=300, deadline=None)
@given(one_form())
def test_one_form_reads_as_pandas_reads_it(values: list[str]) -> None:
    """Timestamps of one width, valid or spoilt, read to the same microseconds as pandas reads them."""
    assert np.array_equal(_ours(values), _pandas(values))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(one_form(), st.just([None]), st.just(["not a time"])), min_size=1, max_size=4))
def test_mixed_forms_and_missing_values_read_as_pandas_reads_them(groups: list[list[object]]) -> None:
    """Several forms, missing values and text that is no time read as pandas reads them."""
    values = [v for group in groups for v in group]
    assert np.array_equal(_ours(values), _pandas(values))


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


def _fixed(values: Sequence[object]) -> tuple[np.ndarray, np.ndarray] | None:
    return _timestamps._read_fixed_width(np.array(values, dtype=object))


def test_what_the_reader_does_not_take() -> None:
    """Values of several widths, missing values, datetimes and non-ASCII text are left to pandas whole."""
    assert _fixed(["2026-05-04T08:51:01Z", "2026-05-04T08:51:01.5Z"]) is None
    assert _fixed(["2026-05-04T08:51:01Z", None]) is None
    assert _fixed([dt.datetime(2026, 5, 4, tzinfo=dt.UTC)]) is None
    assert _fixed(["2026-05-04T08:51:01.５Z"]) is None
    assert _fixed([]) is None
    # one width, but a newline inside a value shifts the rows: caught, not misread
    values = ["2026-05-04T08:51:01Z", "2026-05-04\nT8:51:01Z"]
    assert np.array_equal(_ours(values), _pandas(values))


def test_the_fixed_width_reader_is_numpys_and_leaves_what_it_doubts_to_pandas() -> None:
    """Rows numpy reads come back read, a spoilt row unread; an impossible date sends the chunk to pandas."""
    good = "2026-05-04T08:51:01.487639Z"
    read = _fixed([good, good])
    assert read is not None
    instant = dt.datetime(2026, 5, 4, 8, 51, 1, 487639, tzinfo=dt.UTC) - dt.datetime(
        1970, 1, 1, tzinfo=dt.UTC
    )
    assert read[0].tolist() == [instant // dt.timedelta(microseconds=1)] * 2
    assert not read[1].any()
    spoilt = _fixed([good, "2026-05-04 08:51:01.487639Z"])
    assert spoilt is not None
    assert spoilt[1].tolist() == [False, True]  # numpy would take the space: pandas decides
    assert _fixed([good, "2026-02-30T08:51:01.487639Z"]) is None
