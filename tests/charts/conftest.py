"""Fixtures of the chart tests: four days of operations on three TSPs."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from catena_nb.frames import operations_frame
from tests.support.chart_records import four_days


@pytest.fixture(scope="module")
def ops() -> list[dict[str, Any]]:
    """Four days: samsara 40 ops a day (10% failing), motive 40 (25%, a bad day 3), tiny 'rare' with 3 ops."""
    return four_days()


@pytest.fixture(scope="module")
def ops_df(ops: list[dict[str, Any]]) -> pd.DataFrame:
    """The operations frame of ``ops``."""
    return operations_frame(ops)
