"""time_to_settle and time_to_deliver: Kaplan–Meier times with the pending operations censored."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import catena_nb as cn
from catena_nb.analysis.settle import kaplan_meier
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.world import build_world
from tests.support.km_reference import T0, crosscheck, ops_frame


def test_agrees_with_scipy_ecdf_on_censored_data() -> None:
    """On 250 random groups with ties and heavy censoring, computed at once: survival, band, median, its
    interval and p90 equal scipy.stats.ecdf on CensoredData to 1e-9."""
    check = crosscheck(seed=18, cases=250)
    assert check.groups > 200
    assert max(check.survival, check.band, check.quantiles) < 1e-9


def test_pending_operations_are_censored_not_dropped() -> None:
    """Two slow sends still pending lift the median above what the settled ones alone give."""
    ops = ops_frame([0, 0, 0, 0], [1, 2, 0, 0], ["success", "failed", "pending", "pending"], ["a"] * 4)
    table = cn.time_to_settle(ops, until=T0 + pd.Timedelta(seconds=10))
    assert list(table.loc[0, ["n", "events", "censored"]]) == [4, 2, 2]
    assert table.loc[0, "median_s"] == 2.0  # S: 0.75 after 1 s, 0.5 after 2 s
    assert table["p90_s"].isna().all()  # half are still pending: S never reaches 0.1
    assert cn.latency_summary(ops).loc[0, "p50_s"] == 1.5  # the settled alone: biased low


def test_until_cuts_the_observation() -> None:
    """An operation settled after `until` is censored at it; one created after `until` is left out."""
    ops = ops_frame([0, 0, 20], [5, 15, 1], ["success", "success", "success"], ["a"] * 3)
    table = cn.time_to_settle(ops, until=T0 + pd.Timedelta(seconds=10))
    assert list(table.loc[0, ["n", "events", "censored"]]) == [2, 1, 1]
    assert list(cn.time_to_settle(ops).loc[0, ["n", "events", "censored"]]) == [3, 3, 0]


def test_kaplan_meier_hand_computed() -> None:
    """Times 1, 2+, 3, 3, 4+: S = 4/5, then 4/5 * 1/3 at 3 (3 at risk, 2 events)."""
    km = kaplan_meier([0] * 5, [1, 2, 3, 3, 4], [True, False, True, True, False])
    assert km.time.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert km.at_risk.tolist() == [5, 4, 3, 1]
    assert km.survival == pytest.approx([0.8, 0.8, 0.8 / 3, 0.8 / 3])


def test_groups_sorted_slowest_first_and_small_samples_flagged() -> None:
    """A group that never reaches half settled sorts first; groups under 30 are flagged."""
    ops = ops_frame(
        [0] * 6, [1, 1, 9, 0, 0, 0], ["success"] * 3 + ["pending"] * 3, ["a", "a", "b", "c", "c", "c"]
    )
    table = cn.time_to_settle(ops, by="source_name", until=T0 + pd.Timedelta(seconds=20))
    assert table["source_name"].tolist() == ["c", "b", "a"]
    assert table["small_sample"].all()


def test_time_to_deliver_and_read_on_a_history() -> None:
    """Send to delivered and to read per TSP: reads come later than deliveries, never-read ones censored."""
    history = generate_history(build_world(3), 3, 3, dt.date(2026, 11, 1))
    messages = cn.messages_frame(history.messages)
    delivered = cn.time_to_deliver(messages, by="source_name").set_index("source_name")
    read = cn.time_to_deliver(messages, by="source_name", event="read").set_index("source_name")
    read = read.loc[delivered.index]
    assert (delivered["n"] == read["n"]).all()
    assert (read["events"] < delivered["events"]).all()
    assert (delivered["censored"] > 0).all()
    samsara = delivered.loc["samsara"]
    assert samsara["median_ci_low"] <= samsara["median_s"] <= samsara["median_ci_high"]
    assert delivered["median_s"].max() == delivered.loc["omnitracs", "median_s"]  # the slowest profile


def test_empty_frames_give_one_empty_row() -> None:
    """The frames of no records answer n == 0 and NaN times."""
    table = cn.time_to_settle(cn.operations_frame([]))
    assert table.loc[0, "n"] == 0
    assert table["median_s"].isna().all()
    assert cn.time_to_deliver(cn.messages_frame([])).loc[0, "n"] == 0


@pytest.mark.parametrize(
    ("until", "error", "match"),
    [
        ("2026-11-01T00:00:00", ValueError, "no time zone"),
        (dt.datetime(2026, 11, 1), ValueError, "no time zone"),
        ("2020-01-01T00:00:00Z", ValueError, "before the first operation"),
        (42, TypeError, "until must be a tz-aware time"),
        ("soon", ValueError, "not a time"),
    ],
)
def test_bad_until_is_refused(until: object, error: type[Exception], match: str) -> None:
    """until: naive, before the data, not a time -> a clear error before any work."""
    ops = ops_frame([0, 1], [1, 1], ["success", "success"], ["a", "a"])
    with pytest.raises(error, match=match):
        cn.time_to_settle(ops, until=until)  # type: ignore[arg-type]


def test_bad_event_is_refused() -> None:
    """time_to_deliver's event is 'delivered' or 'read'."""
    with pytest.raises(ValueError, match="event must be 'delivered' or 'read'"):
        cn.time_to_deliver(cn.messages_frame([]), event="sent")  # type: ignore[arg-type]


def test_grouped_by_day_keeps_time_order() -> None:
    """by= a pd.Grouper: one row per day and group, in time order."""
    ops = ops_frame([0, 1, 86400, 86401], [1, 2, 3, 4], ["success"] * 4, ["a", "b", "a", "b"])
    table = cn.time_to_settle(ops, by=[pd.Grouper(key="created_at", freq="D"), "source_name"])
    assert table["created_at"].is_monotonic_increasing
    assert table["median_s"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_naive_delivery_times_are_refused() -> None:
    """A delivered_at without a time zone raises a ValueError naming the frame expected."""
    history = generate_history(build_world(3), 3, 3, dt.date(2026, 11, 1))
    messages = cn.messages_frame(history.messages)
    messages["delivered_at"] = messages["delivered_at"].dt.tz_localize(None)
    with pytest.raises(ValueError, match=r"needs a messages frame .* with UTC times in 'delivered_at'"):
        cn.time_to_deliver(messages)


def test_format_table_folds_the_median_interval() -> None:
    """format_table shows the median with its interval in one column, a bound never reached as n/a."""
    ops = ops_frame([0, 0, 0, 0], [1, 2, 0, 0], ["success", "failed", "pending", "pending"], ["a"] * 4)
    shown = cn.format_table(cn.time_to_settle(ops, until=T0 + pd.Timedelta(seconds=10)))
    assert "median_ci_low" not in shown.columns
    median = str(shown.loc[0, "median_s (95% CI)"])
    assert median.startswith("2.00 s (")
    assert median.endswith("n/a)")
