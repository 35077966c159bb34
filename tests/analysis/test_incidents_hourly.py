"""find_incidents by the hour on sandbox histories: a 3-hour degradation found to the hour, quiet weeks
quiet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from catena_nb.analysis import find_incidents, locate_incidents
from catena_nb.frames import operations_frame
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.incidents import parse_incidents
from catena_nb.sandbox.sim.world import build_world

SEED = 12
ANCHOR = "2026-11-01"
DAYS = 7
START, END = pd.Timestamp("2026-10-28T16:00Z"), pd.Timestamp("2026-10-28T19:00Z")


def _degradation(conn: Any, **extra: Any) -> dict[str, Any]:
    spec = {
        "kind": "degradation",
        "source_name": conn.source_name,
        "connection_id": conn.id,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "error_type": "validation",
        "failure_rate": 0.3,
    }
    spec.update(extra)
    return spec


@pytest.fixture(scope="module")
def world() -> Any:
    """The seeded world of the histories."""
    return build_world(SEED)


@pytest.fixture(scope="module")
def degraded(world: Any) -> tuple[Any, pd.DataFrame]:
    """A week of history with a 3-hour degradation to 30% on one samsara connection (of two)."""
    conn = next(c for c in world.message_connections if c.source_name == "samsara")
    incidents = parse_incidents([_degradation(conn)], world)
    hist = generate_history(world, SEED, DAYS, ANCHOR, incidents=incidents)
    return conn, operations_frame(hist.operations)


@pytest.fixture(scope="module")
def quiet(world: Any) -> pd.DataFrame:
    """The same week without any incident."""
    return operations_frame(generate_history(world, SEED, DAYS, ANCHOR, incidents=[]).operations)


def test_a_three_hour_degradation_is_found_to_the_hour(degraded: tuple[Any, pd.DataFrame]) -> None:
    """The degraded connection's incident starts within an hour and ends within two of the truth, and
    nothing else is reported."""
    conn, ops = degraded
    found = find_incidents(ops, "h", by=["source_name", "connection_id"])
    assert list(found["connection_id"]) == [conn.id], found
    row = found.iloc[0]
    assert abs(row["start"] - START) <= pd.Timedelta(hours=1)
    assert abs(row["end"] - END) <= pd.Timedelta(hours=2)
    assert row["error_type"] == "validation"
    assert row["rate"] > 0.2
    assert row["baseline"] < 0.05
    assert row["ci_low"] < row["rate"] < row["ci_high"]
    assert row["baseline_ci_low"] <= row["baseline"] <= row["baseline_ci_high"]
    assert row["excess_failures"] == pytest.approx(row["failures"] - row["n"] * row["baseline"])
    assert START < row["detected_at"] <= row["end"]
    assert "Unprocessable Entity" in row["signature"]


def test_a_one_connection_degradation_is_located_at_the_connection(
    degraded: tuple[Any, pd.DataFrame],
) -> None:
    """locate_incidents places it at the connection, not at its TSP (whose other connection was fine)."""
    conn, ops = degraded
    located = locate_incidents(ops, "h")
    assert list(located["scope"]) == ["connection"]
    assert located.iloc[0]["connection"] == conn.id
    assert located.iloc[0]["source_name"] == "samsara"


def test_a_quiet_week_is_quiet_by_the_hour(quiet: pd.DataFrame) -> None:
    """Per TSP, per connection and located, a week without incidents reports none at freq='h'."""
    assert find_incidents(quiet, "h").empty
    assert find_incidents(quiet, "h", by=["source_name", "connection_id"]).empty
    assert locate_incidents(quiet, "h").empty


def test_a_tsp_wide_degradation_is_located_at_the_tsp(world: Any) -> None:
    """A degradation of every connection of a TSP is reported once, for the TSP."""
    conn = next(c for c in world.message_connections if c.source_name == "motive")
    spec = _degradation(conn, connection_id=None, failure_rate=0.5)
    hist = generate_history(world, SEED, 5, ANCHOR, incidents=parse_incidents([spec], world))
    located = locate_incidents(operations_frame(hist.operations), "h")
    assert list(located["scope"]) == ["tsp"]
    assert located.iloc[0]["source_name"] == "motive"
    assert located.iloc[0]["connections"] == 2
    assert abs(located.iloc[0]["start"] - START) <= pd.Timedelta(hours=1)


def test_new_options_are_checked(quiet: pd.DataFrame) -> None:
    """false_alarm, simulations and min_ratio out of range are refused before any work."""
    for bad, match in (
        ({"false_alarm": 0.0}, "false_alarm"),
        ({"false_alarm": 1.0}, "false_alarm"),
        ({"simulations": 10}, "simulations"),
        ({"min_ratio": 0.5}, "min_ratio"),
        ({"min_failures": -1}, "min_failures"),
    ):
        with pytest.raises(ValueError, match=match):
            find_incidents(quiet, "h", **bad)
    with pytest.raises(TypeError, match="unknown option"):
        locate_incidents(quiet, "h", threshold=3)


def test_the_same_data_give_the_same_incidents(degraded: tuple[Any, pd.DataFrame]) -> None:
    """The simulated threshold is seeded: two runs agree exactly."""
    _, ops = degraded
    first = find_incidents(ops, "h", by="connection_id")
    again = find_incidents(ops, "h", by="connection_id")
    pd.testing.assert_frame_equal(first, again)


def test_history_window_is_a_week(degraded: tuple[Any, pd.DataFrame]) -> None:
    """The fixture covers the seven days that end with the anchor (the degradation inside them)."""
    _, ops = degraded
    first, last = ops["created_at"].min(), ops["created_at"].max()
    assert first >= pd.Timestamp(dt.date(2026, 10, 26), tz="UTC")
    assert last < pd.Timestamp(dt.date(2026, 11, 2), tz="UTC")
    assert first < START < END < last
