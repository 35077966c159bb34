"""Typed reads of single frame cells for the tests."""

from __future__ import annotations

import pandas as pd


def is_missing(value: object) -> bool:
    """``pd.isna`` of one frame cell."""
    # pandas-stubs' scalar overload of isna leaves out cell types that `.loc[row, col]` and `itertuples()`
    # may give (np.bool_, Period, Interval, object) although pd.isna takes any object at run time
    return bool(pd.isna(value))  # type: ignore[call-overload]
