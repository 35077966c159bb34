"""Time in one place: every timestamp as an aware UTC datetime, the API's query form, and 45-day windows.

The list endpoints take `from_datetime`/`to_datetime` in ISO 8601 UTC and refuse a span longer than 45 days,
so a longer span is cut into consecutive half-open windows.

Catena writes its times as ``2026-10-05T15:38:48.867788Z`` (UTC, microseconds, always 27 characters):
:func:`canonical_utc` reads a whole array of them as digits, several times quicker than a parser per value,
and gives the same instants as pandas' ISO 8601 reader; any other form is left to that reader.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb import _config

__all__ = ["Window", "as_utc", "canonical_utc", "format_dt", "split_windows"]

Window = tuple[dt.datetime, dt.datetime]


def as_utc(value: dt.datetime | dt.date | str) -> dt.datetime:
    """A datetime, date or ISO string as an aware UTC datetime (naive values are taken as UTC)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    # assumed: a naive datetime is UTC, as every timestamp of the API is
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def format_dt(value: dt.datetime) -> str:
    """The query form of a UTC datetime: ISO 8601 with a `Z`."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def split_windows(
    since: dt.datetime, until: dt.datetime, max_days: int = _config.MAX_WINDOW_DAYS
) -> list[Window]:
    """Consecutive half-open windows `[from, to)` of at most `max_days` covering `[since, until)`."""
    step = dt.timedelta(days=max_days)
    out: list[Window] = []
    start = since
    while start < until:
        end = min(start + step, until)
        out.append((start, end))
        start = end
    return out


# ------------------------------------------------------------------------------- Catena's own form

_WIDTH = 27
_SEPARATORS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":", 19: ".", 26: "Z"}
_DIGITS = [i for i in range(_WIDTH) if i not in _SEPARATORS]  # 4 year, 2 each of the rest, 6 of fraction
_AT = list(_SEPARATORS)
_EXPECTED = np.frombuffer("".join(_SEPARATORS.values()).encode(), dtype=np.uint8)
_FRACTION = np.array([100_000, 10_000, 1_000, 100, 10, 1], dtype=np.int32)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
# years read here: well inside what pandas' nanosecond reader holds, so that both readers agree exactly
_FIRST_YEAR, _LAST_YEAR = 1700, 2200


def canonical_utc(values: npt.NDArray[Any], nat: int) -> npt.NDArray[np.int64] | None:
    """Microseconds since the epoch of each value (missing ones ``nat``), when every value that is not
    missing is text of Catena's form; else None."""
    n = len(values)
    try:
        joined = "".join(values)
    except TypeError:  # a missing value (or some other object): read the text among them, if all is text
        missing = np.asarray(pd.isna(values), dtype=bool)
        if not missing.any() or missing.all():
            return None
        present = canonical_utc(values[~missing], nat)
        if present is None:
            return None
        out = np.full(n, nat, dtype=np.int64)
        out[~missing] = present
        return out
    if len(joined) != _WIDTH * n or not joined.isascii():
        return None
    if n and min(map(len, values)) != _WIDTH:  # equal lengths: each value is a row of the matrix below
        return None
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(n, _WIDTH)
    if not bool((chars[:, _AT] == _EXPECTED).all()):
        return None
    digits = chars[:, _DIGITS] - np.uint8(ord("0"))  # a byte below "0" wraps above 9
    if int(digits.max(initial=0)) > 9:
        return None
    d = digits.astype(np.int32)
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month, day, hour, minute, second = (d[:, i] * 10 + d[:, i + 1] for i in range(4, 14, 2))
    fraction = d[:, 14:20] @ _FRACTION  # the six digits of the microseconds
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if not bool(((year >= _FIRST_YEAR) & (year <= _LAST_YEAR) & (month >= 1) & (month <= 12)).all()):
        return None
    days_in_month = _DAYS_IN_MONTH[month] + (leap & (month == 2))
    if not bool(((day >= 1) & (day <= days_in_month) & (hour < 24) & (minute < 60) & (second < 60)).all()):
        return None
    days = _days_from_civil(year, month, day).astype(np.int64)
    seconds = days * 86_400 + (hour * 3600 + minute * 60 + second)
    read: npt.NDArray[np.int64] = seconds * 1_000_000 + fraction
    return read


def _days_from_civil(year: Any, month: Any, day: Any) -> Any:
    """Days since 1970-01-01 of proleptic Gregorian dates (Howard Hinnant's ``days_from_civil``)."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468
