"""Outcome rates per group and over time, and failures by error type."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from catena_nb.analysis import error_breakdown, outcome_rates, rates_over_time
from catena_nb.analysis.intervals import wilson_interval
from catena_nb.frames import logs_frame, operations_frame
from tests.support.analysis_records import FAIL_AUTH, OK, as_float, op


def test_outcome_rates_by_group_exact(small: list[dict[str, Any]]) -> None:
    """Counts, rates over settled operations (pending apart) and intervals per TSP, most failures first."""
    table = outcome_rates(operations_frame(small), by="source_name")
    assert list(table["source_name"]) == ["motive", "samsara"]
    motive, samsara = table.iloc[0], table.iloc[1]
    assert (samsara["n"], samsara["successes"], samsara["failures"], samsara["pending"]) == (5, 3, 1, 1)
    assert samsara["settled"] == 4
    assert samsara["rate"] == 0.75
    assert samsara["failure_rate"] == 0.25
    low, high = wilson_interval(3, 4)
    assert (samsara["ci_low"], samsara["ci_high"]) == (pytest.approx(float(low)), pytest.approx(float(high)))
    assert samsara["failure_ci_low"] == pytest.approx(1 - float(high))
    assert samsara["failure_ci_high"] == pytest.approx(1 - float(low))
    assert (motive["rate"], motive["ci_low"]) == (0.0, 0.0)
    assert bool(motive["small_sample"])
    assert bool(samsara["small_sample"])


def test_outcome_rates_overall_single_group_and_na_group(small: list[dict[str, Any]]) -> None:
    """Without by there is one row; a single group gives one row; missing values form their own group."""
    df = operations_frame(small)
    overall = outcome_rates(df)
    assert len(overall) == 1
    assert (overall.loc[0, "n"], overall.loc[0, "successes"], overall.loc[0, "failures"]) == (7, 3, 3)
    assert outcome_rates(df.loc[df["source_name"] == "motive"], by="source_name")["n"].tolist() == [2]
    with_na = operations_frame([*small, op("failed", None, FAIL_AUTH)])
    table = outcome_rates(with_na, by="source_name")
    assert table["source_name"].isna().sum() == 1
    assert table.loc[table["source_name"].isna(), "failures"].item() == 1


def test_outcome_rates_empty_and_no_settled() -> None:
    """An empty frame gives one row of zeros with NaN rates; only pending operations give NaN too."""
    empty = outcome_rates(operations_frame([]))
    assert empty.loc[0, "n"] == 0
    assert np.isnan(as_float(empty.loc[0, "rate"]))
    assert np.isnan(as_float(empty.loc[0, "ci_low"]))
    pending = outcome_rates(operations_frame([op("pending")]))
    assert pending.loc[0, "pending"] == 1
    assert np.isnan(as_float(pending.loc[0, "rate"]))
    assert outcome_rates(operations_frame([]), by="source_name").empty


def test_outcome_rates_by_several_columns_and_time_bucket(small: list[dict[str, Any]]) -> None:
    """A list of columns, a payload field and a pd.Grouper time bucket all group; time stays in order."""
    ops = [*small, op("failed", "samsara", FAIL_AUTH, created="2026-10-03T10:00:00Z", priority="high")]
    df = operations_frame(ops)
    by_two = outcome_rates(df, by=["source_name", "payload_priority"])
    assert set(zip(by_two["source_name"], by_two["payload_priority"], strict=True)) == {
        ("samsara", "low"),
        ("samsara", "high"),
        ("motive", "low"),
    }
    daily = outcome_rates(df, by=pd.Grouper(key="created_at", freq="D"))
    assert list(daily["created_at"].dt.day) == [1, 2, 3]  # a Grouper keeps the empty day between
    assert list(daily["n"]) == [7, 0, 1]
    assert list(daily["failures"]) == [3, 0, 1]


# ------------------------------------------------------------------------------------ error_breakdown


def test_error_breakdown_shares_rescued_and_unknown(small: list[dict[str, Any]]) -> None:
    """Failures per error_type with their share of all failures; rescued ops apart; no type is 'unknown'."""
    ops = [*small, op("failed", "geotab", []), op("failed", "geotab", [("failed", "quantum")])]
    table = error_breakdown(operations_frame(ops)).set_index("error_type")
    assert table.loc["network", "failures"] == 2
    assert table.loc["auth", "failures"] == 1
    assert table.loc["unknown", "failures"] == 1
    assert table.loc["quantum", "failures"] == 1
    assert table.loc["tsp", "failures"] == 0
    assert table.loc["tsp", "rescued"] == 1
    assert table["share"].sum() == pytest.approx(1.0)
    assert table.loc["network", "share"] == pytest.approx(2 / 5)
    low, _high = wilson_interval(2, 5)
    assert table.loc["network", "ci_low"] == pytest.approx(float(low))
    assert table.index[0] == "network"  # most failures first


def test_error_breakdown_counts_failed_attempts_per_group(small: list[dict[str, Any]]) -> None:
    """With the logs frame, failed attempts are counted per error type and group, with their share."""
    table = error_breakdown(operations_frame(small), logs_frame(small), by="source_name")
    motive = table.loc[table["source_name"] == "motive"].set_index("error_type")
    assert motive.loc["network", "failed_attempts"] == 3
    assert motive.loc["network", "attempt_share"] == 1.0
    samsara = table.loc[table["source_name"] == "samsara"].set_index("error_type")
    assert samsara.loc["tsp", "failed_attempts"] == 1
    assert samsara.loc["auth", "share"] == 1.0  # the only samsara operation that ended failed


def test_error_breakdown_of_a_clean_run_is_empty() -> None:
    """Without failures the breakdown has no rows but keeps its columns."""
    table = error_breakdown(operations_frame([op("success", attempts=OK)]))
    assert table.empty
    assert {"error_type", "failures", "share", "ci_low"} <= set(table.columns)


# ------------------------------------------------------------------------------------ rates_over_time


def test_rates_over_time_fills_empty_buckets() -> None:
    """Every day of the window appears, an empty one with n=0 and NaN rates."""
    ops = [
        op("success", created="2026-10-01T01:00:00Z", attempts=OK),
        op("failed", created="2026-10-01T23:00:00+02:00", attempts=FAIL_AUTH),  # 21:00 UTC, same day
        op("failed", created="2026-10-03T00:30:00Z", attempts=FAIL_AUTH),
    ]
    table = rates_over_time(operations_frame(ops), "D")
    assert list(table["period"].dt.day) == [1, 2, 3]
    assert list(table["n"]) == [2, 0, 1]
    assert table.loc[0, "failure_rate"] == 0.5
    assert np.isnan(as_float(table.loc[1, "rate"]))
    by_tsp = rates_over_time(operations_frame([*ops, op("success", "motive", OK)]), "D", by="source_name")
    assert len(by_tsp) == 6  # two TSPs x three days
