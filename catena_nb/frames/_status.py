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


def http_statuses(codes: ObjectArray, details: ObjectArray) -> tuple[Any, npt.NDArray[np.int8]]:
    """Each attempt's HTTP status and where it came from.

    Args:
        codes: the logs' ``response_status_code`` values (missing, text or junk become NA, as in the frames).
        details: the logs' ``error_details`` values, read where the code is missing.

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
    named = np.array(
        [status_in_text(u) if isinstance(u, str) else None for u in uniques] + [None], dtype=object
    )[found]  # code -1 (missing text) picks the None appended last
    hit = np.array([v is not None for v in named], dtype=bool)
    if not hit.any():
        return statuses, source
    data = statuses.to_numpy(dtype=np.int64, na_value=0)
    mask = missing.copy()
    data[rows[hit]] = named[hit].astype(np.int64)
    mask[rows[hit]] = False
    source[rows[hit]] = 1
    return pd.arrays.IntegerArray(data, mask), source


def source_column(codes: npt.NDArray[np.int8]) -> pd.Categorical:
    """The ``http_status_source`` column from the source codes of :func:`http_statuses`."""
    return pd.Categorical.from_codes(codes, dtype=SOURCE_DTYPE)
