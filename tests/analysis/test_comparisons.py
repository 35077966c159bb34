"""compare_periods: two windows per group, the previous window by default, zero counts, and its checks."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats import proportion as sm
from statsmodels.stats.multitest import multipletests

from catena_nb.analysis import compare_periods, previous_window
from catena_nb.analysis.comparisons import COMPARE_COLUMNS
from tests.support.timed_ops import frame, spread

BEFORE = ("2026-10-01", "2026-10-08")
AFTER = ("2026-10-08", "2026-10-15")


def _two_tsps() -> pd.DataFrame:
    """samsara 10/200 failed before, 40/200 after; motive 5/100 both times; 7 pending ones after."""
    return frame(
        spread(*BEFORE, ok=190, failed=10, source="samsara"),
        spread(*AFTER, ok=160, failed=40, pending=7, source="samsara"),
        spread(*BEFORE, ok=95, failed=5, source="motive"),
        spread(*AFTER, ok=95, failed=5, source="motive"),
    )


def test_counts_rates_and_statistics_per_group() -> None:
    """Each group's counts and failure rates per window, with statsmodels' intervals, test and q-values."""
    out = compare_periods(_two_tsps(), before=BEFORE, after=AFTER, by="source_name")
    assert list(out.columns) == ["source_name", *COMPARE_COLUMNS]
    assert list(out["source_name"]) == ["samsara", "motive"]  # smallest p-value first
    samsara = out.iloc[0]
    counts = [samsara[c] for c in ("n_before", "failures_before", "n_after", "failures_after")]
    assert counts == [200, 10, 200, 40]
    assert samsara["rate_before"] == pytest.approx(0.05)
    assert samsara["rate_after"] == pytest.approx(0.20)
    assert samsara["difference"] == pytest.approx(0.15)
    low, high = sm.confint_proportions_2indep(40, 200, 10, 200, method="newcomb")
    assert (samsara["diff_ci_low"], samsara["diff_ci_high"]) == pytest.approx((low, high), abs=1e-12)
    rr_low, rr_high = sm.confint_proportions_2indep(40, 200, 10, 200, method="score", compare="ratio")
    assert samsara["risk_ratio"] == pytest.approx(4.0)
    assert (samsara["rr_ci_low"], samsara["rr_ci_high"]) == pytest.approx((rr_low, rr_high), rel=1e-7)
    p = [sm.test_proportions_2indep(a, 200, b, 200, method="score").pvalue for a, b in [(40, 10)]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p.append(sm.test_proportions_2indep(5, 100, 5, 100, method="score").pvalue)
    assert list(out["p_value"]) == pytest.approx(p, abs=1e-12)
    assert list(out["q_value"]) == list(multipletests(out["p_value"], method="fdr_bh")[1])
    assert out.iloc[1]["p_value"] == pytest.approx(1.0)


def test_before_defaults_to_the_window_of_equal_length_just_before() -> None:
    """after=(Oct 8, Oct 15) compares with Oct 1 to Oct 8; the windows used are in the table's attrs."""
    ops = _two_tsps()
    default = compare_periods(ops, after=AFTER, by="source_name")
    explicit = compare_periods(ops, before=BEFORE, after=AFTER, by="source_name")
    pd.testing.assert_frame_equal(default, explicit)
    start, end = pd.Timestamp("2026-10-01", tz="UTC"), pd.Timestamp("2026-10-08", tz="UTC")
    assert default.attrs["windows"]["before"] == (start, end)
    assert previous_window(*AFTER) == (start, end)
    assert default.attrs["catena_nb"] == "compare_periods"


def test_pending_operations_and_operations_outside_the_windows_are_left_out() -> None:
    """Pending operations count in neither window, nor do those created outside both."""
    outside = frame(spread("2026-09-01", "2026-09-02", ok=0, failed=50))
    ops = pd.concat([_two_tsps(), outside], ignore_index=True)
    out = compare_periods(ops, before=BEFORE, after=AFTER)
    assert (out.loc[0, "n_before"], out.loc[0, "n_after"]) == (300, 300)
    assert out.loc[0, "failures_after"] == 45


def test_windows_are_half_open_and_may_touch() -> None:
    """An operation created at the shared bound counts in the later window only."""
    ops = frame(spread("2026-10-08", "2026-10-08T00:00:01", ok=0, failed=1))
    out = compare_periods(ops, before=BEFORE, after=AFTER)
    assert (out.loc[0, "n_before"], out.loc[0, "n_after"]) == (0, 1)


def test_a_group_seen_in_one_window_only_gets_nan_comparisons() -> None:
    """0/0 in a window: that rate and every comparison are NaN, the group is kept, and BH counts it out."""
    ops = frame(
        spread(*AFTER, ok=10, failed=0, source="geotab"),
        spread(*BEFORE, ok=90, failed=10, source="samsara"),
        spread(*AFTER, ok=70, failed=30, source="samsara"),
    )
    out = compare_periods(ops, after=AFTER, by="source_name").set_index("source_name")
    geotab = out.loc["geotab"]
    assert geotab["n_before"] == 0
    assert np.isnan(geotab["rate_before"])
    for col in ("difference", "diff_ci_low", "risk_ratio", "rr_ci_low", "p_value", "q_value"):
        assert np.isnan(geotab[col]), col
    q_value, p_value = out.loc[out.index == "samsara", ["q_value", "p_value"]].to_numpy()[0]
    assert q_value == p_value  # one test: no correction
    assert bool(geotab["small_sample"])


def test_no_failures_in_either_window_is_no_change() -> None:
    """0 of 50 against 0 of 60: difference 0 inside its interval, p = 1, ratio NaN with interval (0, inf)."""
    ops = frame(spread(*BEFORE, ok=50, failed=0), spread(*AFTER, ok=60, failed=0))
    row = compare_periods(ops, after=AFTER).iloc[0]
    assert row["difference"] == 0.0
    assert row["diff_ci_low"] < 0 < row["diff_ci_high"]
    assert row["p_value"] == 1.0
    assert np.isnan(row["risk_ratio"])
    assert (row["rr_ci_low"], row["rr_ci_high"]) == (0.0, np.inf)


def test_windows_accept_dates_datetimes_and_naive_bounds_as_utc() -> None:
    """Dates are midnight UTC; a naive bound is UTC; an aware one is converted."""
    ops = _two_tsps()
    a = compare_periods(ops, after=(dt.date(2026, 10, 8), dt.date(2026, 10, 15)))
    b = compare_periods(ops, after=("2026-10-08T02:00:00+02:00", dt.datetime(2026, 10, 15)))
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "after=\\(start, end\\)"),
        ({"after": ("2026-10-15", "2026-10-08")}, ValueError, "before or when it starts"),
        ({"after": ("2026-10-08", "2026-10-08")}, ValueError, "before or when it starts"),
        ({"before": ("2026-10-01", "2026-10-09"), "after": AFTER}, ValueError, "the windows overlap"),
        ({"before": AFTER, "after": AFTER}, ValueError, "the windows overlap"),
        ({"after": "2026-10-08"}, TypeError, "a pair \\(start, end\\)"),
        ({"after": ("2026-10-08", None)}, TypeError, "a pair \\(start, end\\)"),
        ({"after": ("2026-10-08", "yesterday")}, ValueError, "not a time"),
        ({"after": AFTER, "by": pd.Grouper(key="created_at", freq="D")}, ValueError, "not by a pd.Grouper"),
    ],
)
def test_bad_windows_and_groupings_raise_before_any_work(
    kwargs: dict[str, object], error: type, match: str
) -> None:
    """No window, reversed, empty or overlapping windows, a bound that is no time, a time Grouper: a clear
    error."""
    with pytest.raises(error, match=match):
        compare_periods(_two_tsps(), **kwargs)  # type: ignore[arg-type]


def test_an_empty_frame_gives_an_empty_table() -> None:
    """No operations: by a column, no rows; without groups, one row of zeros and NaNs."""
    empty = frame([])
    assert len(compare_periods(empty, after=AFTER, by="source_name")) == 0
    row = compare_periods(empty, after=AFTER).iloc[0]
    assert (row["n_before"], row["n_after"]) == (0, 0)
    assert np.isnan(row["p_value"])
