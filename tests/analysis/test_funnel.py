"""funnel_table and funnel_limits: Spiegelhalter's exact binomial limits against scipy, and who is outside."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from catena_nb.analysis import funnel_table
from catena_nb.analysis.funnel import FUNNEL_COLUMNS, funnel_limits
from tests.support.timed_ops import frame, spread

DAY = ("2026-10-01", "2026-10-02")


def _interpolated(p0: float, n: np.ndarray, q: float) -> np.ndarray:
    """Spiegelhalter (2005) appendix A.1.1 through scipy's binomial distribution."""
    r = stats.binom.ppf(q, n, p0)
    cdf, below = stats.binom.cdf(r, n, p0), stats.binom.cdf(r - 1, n, p0)
    return np.asarray(np.clip((r - (cdf - q) / (cdf - below)) / n, 0.0, 1.0), dtype=np.float64)


@pytest.mark.parametrize("p0", [0.001, 0.01, 0.04, 0.3, 0.5, 0.97])
def test_limits_equal_the_interpolated_binomial_quantiles_of_scipy(p0: float) -> None:
    """From n = 1 to 200,000 the four limits agree with scipy's binomial quantiles to 1e-9."""
    n = np.unique(np.r_[1, 2, 3, 7, 30, 100, 999, 20_000, 200_000, np.geomspace(1, 50_000, 40).astype(int)])
    limits = funnel_limits(p0, n)
    for column, q in [("low_95", 0.025), ("high_95", 0.975), ("low_998", 0.001), ("high_998", 0.999)]:
        assert np.max(np.abs(limits[column].to_numpy() - _interpolated(p0, n, q))) < 1e-9, column


def test_limits_narrow_as_groups_grow_and_nest() -> None:
    """The 99.8% funnel holds the 95% one, and both close in on the target as n grows."""
    limits = funnel_limits(0.04, [50, 500, 5000, 50000])
    assert (limits["low_998"] <= limits["low_95"]).all()
    assert (limits["high_95"] <= limits["high_998"]).all()
    width = limits["high_95"] - limits["low_95"]
    assert width.is_monotonic_decreasing
    assert limits["low_95"].iloc[0] == 0.0  # 50 operations at 4%: no count is too low to be chance


def test_a_connection_failing_far_more_than_the_rest_is_above_the_funnel() -> None:
    """Four connections at 4% and one at 20% of 500: that one is above 99.8%, the others within."""
    parts = [spread(*DAY, ok=480, failed=20, source="samsara", connection=f"conn-{i}") for i in range(4)]
    parts.append(spread(*DAY, ok=400, failed=100, source="motive", connection="conn-bad"))
    table = funnel_table(frame(*parts), by="connection")
    assert list(table.columns) == ["connection_id", "source_name", *FUNNEL_COLUMNS]
    bad = table.loc[table["connection_id"] == "conn-bad"].iloc[0]
    assert bad["position"] == "above 99.8%"
    assert bad["source_name"] == "motive"
    assert bool(bad["outside_998"])
    assert bad["target"] == pytest.approx(180 / 2500)
    assert table.attrs["target"] == pytest.approx(180 / 2500)
    others = table.loc[table["connection_id"] != "conn-bad"]
    assert (others["position"] != "above 99.8%").all()


def test_pending_operations_are_left_out_and_groups_without_settled_ones_dropped() -> None:
    """A group of only pending operations has no rate and no row; pending ones count nowhere."""
    ops = frame(
        spread(*DAY, ok=90, failed=10, pending=50, source="samsara"),
        spread(*DAY, ok=0, failed=0, pending=5, source="geotab"),
    )
    table = funnel_table(ops, by="tsp")
    assert list(table["source_name"]) == ["samsara"]
    assert table.loc[0, "n"] == 100
    assert table.loc[0, "target"] == pytest.approx(0.1)
    assert table.loc[0, "position"] == "within"


def test_no_failures_at_all_gives_a_flat_funnel_at_zero() -> None:
    """An overall rate of 0: every limit is 0 and no group is outside."""
    ops = frame(spread(*DAY, ok=30, failed=0, source="a"), spread(*DAY, ok=5, failed=0, source="b"))
    table = funnel_table(ops, by="source_name")
    assert (table[["low_95", "high_95", "low_998", "high_998"]].to_numpy() == 0.0).all()
    assert not table["outside_95"].any()


def test_an_empty_frame_gives_an_empty_table() -> None:
    """No operations: no rows, the columns all there."""
    table = funnel_table(frame([]), by="connection_id")
    assert len(table) == 0
    assert set(FUNNEL_COLUMNS) <= set(table.columns)
