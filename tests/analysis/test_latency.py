"""Latency: percentiles of the time to settle, per group."""

from __future__ import annotations

import pytest

from catena_nb.analysis import latency_summary
from catena_nb.frames import operations_frame
from tests.support.analysis_records import FAIL_AUTH, OK, op


def test_latency_summary_percentiles() -> None:
    """p50/p95/p99 of duration_s over settled operations per group (pending ones left out)."""
    ops = [op("success", "samsara", OK, duration_s=d) for d in (1, 2, 3, 4)]
    ops += [op("pending", "samsara", [], duration_s=100), op("failed", "motive", FAIL_AUTH, duration_s=10)]
    table = latency_summary(operations_frame(ops), by="source_name").set_index("source_name")
    assert table.loc["samsara", "n"] == 4
    assert table.loc["samsara", "p50_s"] == pytest.approx(2.5)
    assert table.loc["samsara", "p95_s"] == pytest.approx(3.85)
    assert table.loc["samsara", "max_s"] == 4
    assert table.index[0] == "motive"  # slowest p95 first
    assert latency_summary(operations_frame([])).loc[0, "n"] == 0
