"""UTC time buckets for timelines: fixed sizes (``"D"``, ``"h"``, ``"15min"``) or calendar ones (``"MS"``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset


def _fixed(freq: str) -> pd.Timedelta | None:
    """The bucket's length when it is fixed (``"D"``, ``"15min"``), None for calendar sizes (``"MS"``)."""
    offset: Any = to_offset(freq)
    try:
        return pd.Timedelta(offset)
    except (ValueError, TypeError):
        return None


def _is_fixed(freq: str) -> bool:
    return _fixed(freq) is not None


def time_buckets(times: pd.Series, freq: str) -> pd.Series:
    """The start (UTC) of the bucket of size ``freq`` holding each timestamp; NaT stays NaT.

    Fixed sizes are aligned on the epoch (a day starts at 00:00 UTC); calendar sizes start on the dates their
    offset lands on (``"MS"``: the 1st of each month; ``"W"``: Sundays).
    """
    t = pd.to_datetime(times, utc=True)
    if _is_fixed(freq):
        return t.dt.floor(freq)
    if t.isna().all():
        return t
    grid = period_grid(t.min(), t.max(), freq)
    pos = np.searchsorted(grid.asi8, pd.DatetimeIndex(t).as_unit(grid.unit).asi8, side="right") - 1
    starts = pd.Series(grid[np.clip(pos, 0, None)], index=t.index)
    return starts.where(t.notna())


def period_grid(first: Any, last: Any, freq: str) -> pd.DatetimeIndex:
    """Every bucket start from the bucket of ``first`` to that of ``last``, so empty buckets show up too."""
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    if _is_fixed(freq):
        return pd.date_range(first.floor(freq), last, freq=freq)
    start = to_offset(freq).rollback(first.normalize())
    return pd.date_range(start, last, freq=freq).as_unit(first.unit)


def bucket_end(start: pd.Timestamp, freq: str) -> pd.Timestamp:
    """The end (exclusive) of the bucket that starts at ``start``."""
    length = _fixed(freq)
    if length is not None:
        return start + length
    return pd.Timestamp(start + to_offset(freq))
