"""Catena's own time form read as digits: the same instants as pandas' ISO 8601 reader, or no answer."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from catena_nb._time import canonical_utc
from catena_nb.frames._columns import NAT, microseconds

_INSTANTS = st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2200, 12, 31, 23, 59, 59))


def _by_pandas(values: np.ndarray) -> np.ndarray:
    parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    return np.asarray(pd.DatetimeIndex(parsed).as_unit("us").asi8)


def _text(instant: dt.datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@given(st.lists(_INSTANTS | st.none(), min_size=1, max_size=40))
def test_catenas_form_gives_the_instants_pandas_gives(instants: list[dt.datetime | None]) -> None:
    """Any instant from 1700 to 2200 in Catena's form, missing values among them, reads as pandas reads it."""
    values = np.array([None if i is None else _text(i) for i in instants], dtype=object)
    got = canonical_utc(values, NAT)
    if all(i is None for i in instants):
        assert got is None  # nothing to read: the general reader says all is NaT
    else:
        assert got is not None
        assert np.array_equal(got, _by_pandas(values))


@given(_INSTANTS, st.integers(0, 26), st.characters(codec="utf-8"))
def test_any_other_form_is_left_to_pandas_or_read_alike(instant: dt.datetime, at: int, char: str) -> None:
    """A character changed anywhere (another offset, a letter for a digit, 29 February of a common year, a
    25th hour) is either still Catena's form and read alike, or left to pandas' reader."""
    text = _text(instant)
    changed = np.array([text[:at] + char + text[at + 1 :], text], dtype=object)
    got = canonical_utc(changed, NAT)
    if got is not None:
        assert np.array_equal(got, _by_pandas(changed))
    assert np.array_equal(microseconds(changed), _by_pandas(changed))


def test_values_of_other_lengths_that_join_into_the_form_are_not_read() -> None:
    """Two values whose lengths make up for each other would join into two well-formed slots: refused."""
    a, b = "2026-10-05T15:38:48.867788Z", "2026-10-05T15:38:49.000001Z"
    values = np.array([a + b[0], b[1:]], dtype=object)
    assert canonical_utc(values, NAT) is None
    assert (microseconds(values) == NAT).all()
    for odd in ([a, 12], [a, "2026-10-05T15:38:48Z"], [a, "2026-10-05T17:38:48.867788+02:00"]):
        assert canonical_utc(np.array(odd, dtype=object), NAT) is None
