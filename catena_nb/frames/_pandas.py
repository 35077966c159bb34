"""The private pandas the frames lean on, each behind a public fallback that gives the same frames.

- ``pandas._libs.lib.dicts_to_array``: the C loop behind ``DataFrame(list_of_dicts)``, which reads the
  fields of dicts into one object matrix. Without it, :mod:`~._records` reads them from Python.
- ``StringArray._from_backing_data`` (``NDArrayBacked``, pandas >= 1.4): wraps an object array as a
  ``string`` column without checking it, for text that was checked chunk by chunk already
  (:class:`~._columns.Strings`). That relies on ``StringArray(values)`` checking ``values`` in place,
  turning each missing value into ``NA`` there, which is probed once below. Without either, the column is
  checked once more through the public constructor.

Both are in every pandas this package supports; ``tests/frames/test_pandas.py`` turns them off and compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas._libs import lib as _lib

dicts_to_array: Any = getattr(_lib, "dicts_to_array", None)


def _wrap_without_check() -> Any:
    """``StringArray._from_backing_data`` of an empty array, when the check works in place; else None."""
    probe = np.array(["text", None], dtype=object)
    pd.arrays.StringArray(probe)
    empty = pd.arrays.StringArray(np.zeros(0, dtype=object))
    wrap = getattr(empty, "_from_backing_data", None)
    return wrap if probe[1] is pd.NA else None


wrap_checked_text: Any = _wrap_without_check()


def dict_matrix(rows: Sequence[Any], keys: Sequence[str]) -> npt.NDArray[Any] | None:
    """The values of ``keys`` across ``rows`` (plain dicts) as an ``(n, k)`` object matrix, NaN where a row
    lacks a key; None when pandas' loop is not at hand or a row is not a plain dict."""
    if dicts_to_array is None:
        return None
    try:
        matrix: npt.NDArray[Any] = dicts_to_array(rows, list(keys))
    except TypeError:  # a row that is not a plain dict
        return None
    return matrix


def is_text(values: npt.NDArray[Any]) -> bool:
    """Whether ``values`` holds only text and missing values; missing ones become ``NA`` in ``values``."""
    try:
        pd.arrays.StringArray(values)  # checks in C, on the array itself (no copy)
    except ValueError:
        return False
    return True


def checked_text(values: npt.NDArray[Any]) -> Any:
    """A ``string`` column over ``values``, which :func:`is_text` has already passed (chunk by chunk)."""
    if wrap_checked_text is None:
        return pd.arrays.StringArray(values)
    return wrap_checked_text(values)
