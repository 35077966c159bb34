"""Retries: first attempt against final success on the same operations, and the attempts they took."""

from __future__ import annotations

from typing import Any

import pytest

from catena_nb.analysis import attempts_distribution, retry_effect
from catena_nb.analysis.intervals import wilson_interval
from catena_nb.frames import logs_frame, operations_frame
from tests.support.analysis_records import op


def test_retry_effect_paired_rates(small: list[dict[str, Any]]) -> None:
    """First-attempt and final success over the same settled operations, and those rescued by a retry."""
    df = operations_frame(small)
    row = retry_effect(df).iloc[0]
    assert row["n"] == 6
    assert row["first_attempt_successes"] == 2
    assert row["final_successes"] == 3
    assert row["rescued"] == 1
    assert row["rescued_share"] == pytest.approx(1 / 4)
    assert row["retried"] == 2
    assert row["mean_attempts"] == pytest.approx(8 / 6)
    assert row["max_attempts"] == 2
    low, high = wilson_interval(2, 6)
    assert (row["first_ci_low"], row["first_ci_high"]) == (
        pytest.approx(float(low)),
        pytest.approx(float(high)),
    )
    from_logs = retry_effect(df, logs_frame(small)).iloc[0]
    assert from_logs["first_attempt_successes"] == 2
    assert from_logs["rescued"] == 1


def test_retry_effect_treats_a_success_without_logs_as_first_attempt() -> None:
    """The sync 200 answer carries no logs: it counts as a first-attempt success."""
    row = retry_effect(operations_frame([op("success", attempts=[])])).iloc[0]
    assert (row["first_attempt_rate"], row["final_rate"], row["rescued"]) == (1.0, 1.0, 0)


def test_attempts_distribution(small: list[dict[str, Any]]) -> None:
    """Operations per attempt count, split by final outcome, with their share."""
    table = attempts_distribution(operations_frame(small)).set_index("attempts")
    assert table.loc[0, "pending"] == 1
    assert (table.loc[1, "success"], table.loc[1, "failed"]) == (2, 2)
    assert (table.loc[2, "success"], table.loc[2, "failed"]) == (1, 1)
    assert table["share"].sum() == pytest.approx(1.0)
