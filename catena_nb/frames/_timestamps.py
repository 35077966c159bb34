"""Timestamps: ISO 8601 text (or datetimes) to microseconds since the epoch, UTC; bad values become NaT.

The API writes every timestamp in one form, ``2026-05-04T08:51:01.487639Z`` (``+00:00`` for the zone at
times, the fraction at times left out). A chunk of such text, all of one width, is laid out as one row of
bytes per timestamp; its zone is cut off, and numpy's own parser reads the rest (``astype("M8[us]")``): on
a chunk of the frames, half again as quick as ``pandas.to_datetime(format="ISO8601")``, which reads one
string at a time. The layout is checked first, since numpy's parser is lenient where pandas' is not (a
space for the ``T``, a sign before the year, a point without digits). Everything else, and whatever numpy
refuses (an impossible date anywhere in the chunk), is read by pandas: the result is always pandas' own.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

NAT = np.iinfo(np.int64).min  # how numpy stores NaT
_US_PER_MINUTE = 60_000_000
_DATE = "YYYY-MM-DDTHH:MM:SS"
_LITERALS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":"}  # where the date part holds no digit
_NEWLINE = ord("\n")


def microseconds(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Microseconds since the epoch (UTC) of a 1-d object array of ISO 8601 text with any offset, or of
    datetimes; NaT (:data:`NAT`) where a value is missing or bad."""
    if len(values) and _missing(values[0]) and bool(pd.isna(values).all()):
        return np.full(len(values), NAT, dtype=np.int64)  # an unset field (deleted_at): nothing to parse
    fast = _read_fixed_width(values)
    if fast is None:
        return _pandas_microseconds(values)
    us, unread = fast
    if unread.any():
        us[unread] = _pandas_microseconds(values[unread])
    return us


def _pandas_microseconds(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    return np.asarray(pd.DatetimeIndex(parsed).as_unit("us").asi8)


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Where a timestamp of one width keeps its parts, the newline that ends its row included."""

    date_width: int  # the characters numpy reads: the date, the time and the fraction
    literal_at: npt.NDArray[np.intp]
    literal: npt.NDArray[np.uint8]
    digits: npt.NDArray[np.intp]
    offset_at: int | None  # the sign of a ``±HH:MM`` zone; None for ``Z``


@functools.lru_cache(maxsize=16)
def _layout(width: int, zulu: bool) -> _Layout | None:
    """The layout of rows ``width`` bytes wide that end in ``Z`` or an offset (None: not a form read here)."""
    zone = 1 if zulu else 6
    date_width = width - 1 - zone
    fraction = date_width - len(_DATE) - 1  # digits after the point; -1 without a point
    if fraction not in range(-1, 7) or fraction == 0:
        return None
    literal = dict(_LITERALS)
    if fraction > 0:
        literal[len(_DATE)] = "."
    if zulu:
        literal[date_width] = "Z"
    else:
        literal[date_width + 3] = ":"  # the sign, + or -, is checked apart
    literal[width - 1] = "\n"
    offset_digits = [] if zulu else [date_width + i for i in (1, 2, 4, 5)]
    digits = [i for i in range(date_width) if i not in literal] + offset_digits
    return _Layout(
        date_width=date_width,
        literal_at=np.array(list(literal), dtype=np.intp),
        literal=np.frombuffer("".join(literal.values()).encode(), dtype=np.uint8),
        digits=np.array(digits, dtype=np.intp),
        offset_at=None if zulu else date_width,
    )


def _read_fixed_width(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]] | None:
    """Microseconds of the rows numpy can read, and which rows it could not (``(us, unread)``); None when the
    values are not all text of one width in the API's form, or numpy refuses one of them."""
    n = len(values)
    if not n:
        return None
    try:
        # Each row ends with a newline, which no timestamp holds: the rows are all of one width exactly when
        # the text divides into n rows with a newline at the end of each (checked below).
        text = ("\n".join(values.tolist()) + "\n").encode("ascii")
    except (TypeError, UnicodeEncodeError):  # None, a datetime, a number, or non-ASCII text
        return None
    width, rest = divmod(len(text), n)
    layout = None if rest or width < len(_DATE) + 3 else _layout(width, text[width - 2] == ord("Z"))
    if layout is None:
        return None
    rows = np.frombuffer(text, dtype=np.uint8).reshape(n, width)
    if not np.all(rows[:, -1] == _NEWLINE):
        return None  # rows of several widths that happen to add up: not one form
    digits = rows[:, layout.digits] - np.uint8(ord("0"))  # wraps around below "0": one test for both ends
    ok = np.all(digits <= 9, axis=1) & np.all(rows[:, layout.literal_at] == layout.literal, axis=1)
    year = _number(digits[:, :4])
    ok &= (year >= 1678) & (year <= 2261)  # the bounds of pandas' nanoseconds: its own rules apply beyond
    offset: Any = 0
    if layout.offset_at is not None:
        sign = rows[:, layout.offset_at]
        hours, minutes = _number(digits[:, -4:-2]), _number(digits[:, -2:])
        ok &= ((sign == ord("+")) | (sign == ord("-"))) & (hours <= 23) & (minutes <= 59)
        offset = np.where(sign == ord("-"), -1, 1) * (hours * 60 + minutes) * _US_PER_MINUTE
    # a copy (the date part of each row, side by side), read as one fixed-width byte string per row
    dates = rows[:, : layout.date_width].copy().view(f"S{layout.date_width}").ravel()
    dates[~ok] = b"1970-01-01T00:00:00"  # read by pandas instead
    try:
        local = dates.astype("M8[us]").view(np.int64)
    except ValueError:  # a date the layout allows but the calendar does not (February 30, hour 24)
        return None
    return local - offset, ~ok


def _number(digits: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """The decimal number each row of ``digits`` spells."""
    number = np.zeros(len(digits), dtype=np.int64)
    for column in range(digits.shape[1]):
        number = number * 10 + digits[:, column]
    return number


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)
