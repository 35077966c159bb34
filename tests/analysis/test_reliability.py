"""Reliability tables: rates, Wilson intervals, breakdowns, timelines, retries, latency and the funnel."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from catena_nb.analysis import (
    attempts_distribution,
    delivery_funnel,
    error_breakdown,
    latency_summary,
    outcome_rates,
    rates_over_time,
    retry_effect,
)
from catena_nb.analysis._stats import wilson_interval
from catena_nb.frames import logs_frame, messages_frame, operations_frame

_counter = 0


def op(
    status: str,
    source: str | None = "samsara",
    attempts: Sequence[tuple[str, str | None]] | None = None,
    created: str = "2026-10-01T10:00:00Z",
    duration_s: float = 1.0,
    **extra: Any,
) -> dict[str, Any]:
    """A wire operation; ``attempts`` lists (status, error_type) in time order."""
    global _counter
    _counter += 1
    start = pd.Timestamp(created)
    logs = [
        {
            "id": f"l{_counter}-{i}",
            "created_at": (start + pd.Timedelta(seconds=i + 0.5)).isoformat(),
            "status": s,
            "error_type": e,
            "response_status_code": None if s == "success" else 500,
        }
        for i, (s, e) in enumerate(attempts or [])
    ]
    return {
        "id": f"op-{_counter}",
        "created_at": start.isoformat(),
        "updated_at": (start + pd.Timedelta(seconds=duration_s)).isoformat(),
        "connection_id": f"conn-{source}",
        "source_name": source,
        "resource": "message",
        "operation_type": "create",
        "status": status,
        "resource_id": f"msg-{_counter}" if status == "success" else None,
        "payload": {"priority": extra.pop("priority", "low")},
        "logs": logs,
        **extra,
    }


def _float(value: object) -> float:
    """A numeric frame cell as a float."""
    assert isinstance(value, (int, float, np.integer, np.floating)), value
    return float(value)


OK = [("success", None)]
FAIL_AUTH = [("failed", "auth")]


@pytest.fixture
def small() -> list[dict[str, Any]]:
    """samsara: 3 successes, 1 auth failure, 1 pending; motive: 2 network failures after retries."""
    return [
        op("success", "samsara", OK),
        op("success", "samsara", OK),
        op("success", "samsara", [("failed", "tsp"), ("success", None)]),
        op("failed", "samsara", FAIL_AUTH),
        op("pending", "samsara", []),
        op("failed", "motive", [("failed", "network"), ("failed", "network")]),
        op("failed", "motive", [("failed", "network")]),
    ]


# ------------------------------------------------------------------------------------------ Wilson


def test_wilson_matches_values_computed_by_hand() -> None:
    """8 of 10 gives (0.4902, 0.9433); 0 of 10 and 10 of 10 end exactly at 0 and 1; 0 of 3 reaches 56%."""
    low, high = wilson_interval([8, 0, 10, 0, 3], [10, 10, 10, 3, 3])
    assert low == pytest.approx([0.4902, 0.0, 0.7225, 0.0, 0.4385], abs=5e-5)
    assert high == pytest.approx([0.9433, 0.2775, 1.0, 0.5615, 1.0], abs=5e-5)
    assert low[1] == 0.0
    assert high[2] == 1.0
    assert high[4] == 1.0


def test_wilson_by_the_formula() -> None:
    """The vectorised bounds equal the textbook formula evaluated one value at a time."""
    z = 1.959963984540054
    for k, n in [(1, 7), (45, 50), (500, 1000), (3, 4000)]:
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        low, high = wilson_interval(k, n)
        assert float(low) == pytest.approx(centre - half, rel=1e-12)
        assert float(high) == pytest.approx(centre + half, rel=1e-12)


# statsmodels 0.15.0 proportion_confint(k, n, alpha=0.05, method="wilson"), recorded; scipy 1.17.1 agrees
RECORDED_WILSON = [
    (0, 5, 0.0, 0.43448246478317487),
    (5, 5, 0.5655175352168252, 1.0),
    (17, 40, 0.28509392559950375, 0.5780493145800893),
    (1, 1000, 0.00017654637062607765, 0.005642558597957937),
    (8, 10, 0.49016247153664183, 0.9433178485456247),
    (0, 3, 0.0, 0.5614970317550455),
    (3, 3, 0.43850296824495444, 1.0),
    (145, 554, 0.22685895066555012, 0.2998883073132495),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), RECORDED_WILSON)
def test_wilson_matches_recorded_statsmodels_values(k: int, n: int, low: float, high: float) -> None:
    """The bounds equal statsmodels' Wilson interval, k=0 and k=n included."""
    ours = wilson_interval(k, n)
    assert (float(ours[0]), float(ours[1])) == pytest.approx((low, high), abs=1e-12)


def test_wilson_matches_statsmodels_when_installed() -> None:
    """Where statsmodels is installed, its method='wilson' gives the same bounds, k=0 and k=n included."""
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    for k, n in [(0, 5), (5, 5), (17, 40), (1, 1000)]:
        ref = proportion.proportion_confint(k, n, alpha=0.05, method="wilson")
        assert [float(b) for b in wilson_interval(k, n)] == pytest.approx(list(ref), abs=1e-9)


def test_wilson_matches_scipy_when_installed() -> None:
    """Where scipy is installed, binomtest(...).proportion_ci(method='wilson') gives the same bounds."""
    stats = pytest.importorskip("scipy.stats")
    for k, n in [(0, 5), (5, 5), (17, 40), (1, 1000)]:
        ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert [float(b) for b in wilson_interval(k, n)] == pytest.approx([ref.low, ref.high], abs=1e-9)


def test_wilson_nan_without_trials_and_rejects_bad_counts() -> None:
    """No trials give NaN bounds; a count above n or below 0 is an error."""
    low, high = wilson_interval(0, 0)
    assert np.isnan(low)
    assert np.isnan(high)
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(4, 3)
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(-1, 3)


# ------------------------------------------------------------------------------------ outcome_rates


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
    assert np.isnan(_float(empty.loc[0, "rate"]))
    assert np.isnan(_float(empty.loc[0, "ci_low"]))
    pending = outcome_rates(operations_frame([op("pending")]))
    assert pending.loc[0, "pending"] == 1
    assert np.isnan(_float(pending.loc[0, "rate"]))
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
    assert np.isnan(_float(table.loc[1, "rate"]))
    by_tsp = rates_over_time(operations_frame([*ops, op("success", "motive", OK)]), "D", by="source_name")
    assert len(by_tsp) == 6  # two TSPs x three days


# ----------------------------------------------------------------------------------------- retries


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


# ----------------------------------------------------------------------------------------- latency


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


# ------------------------------------------------------------------------------------------ funnel


def test_delivery_funnel_stages_exact() -> None:
    """created → accepted → delivered → read, matched on resource_id, with shares and step rates."""
    ops = [op("success", attempts=OK) for _ in range(4)] + [op("failed", attempts=FAIL_AUTH)]
    ids = [o["resource_id"] for o in ops[:4]]
    messages = [
        {
            "id": ids[0],
            "status": "read",
            "read_at": "2026-10-01T10:05:00Z",
            "delivered_at": "2026-10-01T10:01Z",
        },
        {"id": ids[1], "status": "delivered", "delivered_at": "2026-10-01T10:01:00Z"},
        {"id": ids[2], "status": "sent"},
        {"id": "someone-else", "status": "read"},
    ]
    table = delivery_funnel(operations_frame(ops), messages_frame(messages))
    assert list(table["stage"].astype(str)) == ["created", "accepted", "delivered", "read"]
    assert list(table["n"]) == [5, 4, 2, 1]
    assert list(table["share"]) == pytest.approx([1.0, 0.8, 0.4, 0.2])
    assert list(table["step_rate"]) == pytest.approx([1.0, 0.8, 0.5, 0.5])
    low, _ = wilson_interval(2, 4)
    assert table.loc[2, "step_ci_low"] == pytest.approx(float(low))
    grouped = delivery_funnel(operations_frame(ops), messages_frame(messages), by="source_name")
    assert len(grouped) == 4
    assert set(grouped["source_name"]) == {"samsara"}
