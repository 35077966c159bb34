"""Grouping the rows of a frame for the tables of the analysis: the ``by`` argument, sums, shares, labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

By = str | pd.Grouper | Sequence[str | pd.Grouper] | None

SETTLED = ("success", "failed")  # the statuses whose outcome is known: the denominator of every rate


def keys_of(by: By) -> list[Any]:
    """``by`` as a list of group keys (column names or :class:`pandas.Grouper`)."""
    if by is None:
        return []
    if isinstance(by, str | pd.Grouper):
        return [by]
    return list(by)


def names_of(keys: list[Any]) -> list[str]:
    """The output column name of each group key."""
    return [str(k.key) if isinstance(k, pd.Grouper) else str(k) for k in keys]


def is_time_key(frame: pd.DataFrame, key: Any) -> bool:
    """Whether ``key`` groups by time (a Grouper, or a datetime column): such tables keep time order."""
    if isinstance(key, pd.Grouper):
        return True
    return key in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[key])


def flag(series: pd.Series, value: str) -> pd.Series:
    """``series == value`` as a plain bool Series (NA is False)."""
    return (series == value).fillna(False).astype(bool)


def group_sum(work: pd.DataFrame, keys: list[Any], values: list[str]) -> pd.DataFrame:
    """Sums of ``values`` per group, the group keys as columns (one row when there are no keys)."""
    if not keys:
        return work[values].sum().to_frame().T.reset_index(drop=True).astype("int64")
    return work.groupby(keys, observed=True, dropna=False, sort=True)[values].sum().reset_index()


def counts_by(work: pd.DataFrame, keys: list[Any], values: list[str]) -> pd.DataFrame:
    """:func:`group_sum`, or an empty table with the group columns and ``values`` when ``work`` is empty."""
    if len(work) or not keys:
        return group_sum(work, keys, values)
    return empty_table(names_of(keys), values)


def empty_table(names: list[str], counts: list[str]) -> pd.DataFrame:
    """A table without rows: the group columns ``names``, then integer ``counts``."""
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    for col in counts:
        frame[col] = pd.Series(dtype="int64")
    return frame


def group_totals(out: pd.DataFrame, names: list[str], column: str) -> npt.NDArray[np.float64]:
    """The sum of ``column`` over each row's group (over all rows without groups), for shares within it."""
    if names:
        totals = out.groupby(names, dropna=False, observed=True)[column].transform("sum")
        return totals.to_numpy(dtype=np.float64)
    return np.full(len(out), out[column].to_numpy(dtype=np.float64).sum())


def sort_worst_first(out: pd.DataFrame, frame: pd.DataFrame, keys: list[Any], column: str) -> pd.DataFrame:
    """``out`` with the largest ``column`` first (then the most ``n``), unless grouped by time."""
    if not keys or any(is_time_key(frame, k) for k in keys):
        return out.reset_index(drop=True)
    return out.sort_values([column, "n"], ascending=False, kind="stable").reset_index(drop=True)


def label(values: Sequence[Any]) -> str:
    """A group's values as one label, ``"samsara / conn-1"``; a missing value reads ``(none)``."""
    return " / ".join("(none)" if pd.isna(v) else str(v) for v in values)
