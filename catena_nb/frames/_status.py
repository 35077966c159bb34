"""The columns ``http_status`` and ``http_status_source`` of the operations and logs frames.

Catena's lookup logs (``ResourceOperationLogRead``) carry no ``response_status_code``; only the write answers
do. Where the field is missing the status is read from ``error_details`` with the phrasings of
:mod:`catena_nb._http_status`, and ``http_status_source`` says which of the two gave it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb._http_status import status_in_text
from catena_nb.frames import _columns as c
from catena_nb.frames._records import ObjectArray

# The values of the http_status_source column, in the order of its categories.
RESPONSE, ERROR_DETAILS = "response", "error_details"
SOURCE_DTYPE = pd.CategoricalDtype([RESPONSE, ERROR_DETAILS])


def http_statuses(
    codes: ObjectArray, details: ObjectArray, read: dict[str, int | None] | None = None
) -> tuple[Any, npt.NDArray[np.int8]]:
    """Each attempt's HTTP status and where it came from.

    Args:
        codes: the logs' ``response_status_code`` values (missing, text or junk become NA, as in the frames).
        details: the logs' ``error_details`` values, read where the code is missing.
        read: the status of each text read so far, kept across calls (a failed attempt's text is read for
            its log's row and again for its operation's last error).

    Returns:
        The statuses as a nullable ``Int64`` array, and the codes of their source in :data:`SOURCE_DTYPE`
        (0 ``response``, 1 ``error_details``, -1 neither).
    """
    statuses = c.integers(codes)
    missing = np.asarray(statuses.isna(), dtype=bool)
    source = np.where(missing, -1, 0).astype(np.int8)
    rows = np.flatnonzero(missing)
    if not len(rows):
        return statuses, source
    texts = details[rows]
    try:
        found, uniques = pd.factorize(texts)  # the same text recurs: each is read once
    except TypeError:  # an unhashable value where text was expected
        found, uniques = pd.factorize(np.array([v if isinstance(v, str) else None for v in texts], object))
    memo: dict[str, int | None] = {} if read is None else read
    statuses_of = [
        None if not isinstance(u, str) else memo[u] if u in memo else _read(memo, u) for u in uniques
    ]
    named = np.array([*statuses_of, None], dtype=object)[
        found
    ]  # code -1 (missing text) picks the None appended last
    hit = np.array([v is not None for v in named], dtype=bool)
    if not hit.any():
        return statuses, source
    data = statuses.to_numpy(dtype=np.int64, na_value=0)
    mask = missing.copy()
    data[rows[hit]] = named[hit].astype(np.int64)
    mask[rows[hit]] = False
    source[rows[hit]] = 1
    return pd.arrays.IntegerArray(data, mask), source


def _read(memo: dict[str, int | None], text: str) -> int | None:
    memo[text] = status = status_in_text(text)
    return status


def source_column(codes: npt.NDArray[np.int8]) -> pd.Categorical:
    """The ``http_status_source`` column from the source codes of :func:`http_statuses`."""
    return pd.Categorical.from_codes(codes, dtype=SOURCE_DTYPE)
