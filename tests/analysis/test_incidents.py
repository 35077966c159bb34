"""find_incidents: the flagging rule on hand-made timelines, and the seeded incidents of a sandbox history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from catena_nb.analysis import INCIDENT_COLUMNS, find_incidents, locate_incidents
from catena_nb.frames import operations_frame
from tests.support.cells import is_missing


def day_of_ops(day: int, source: str, ok: int, failed: int, error: str = "tsp") -> list[dict[str, Any]]:
    """``ok`` successes and ``failed`` failures for one TSP on 2026-10-<day>, spread over the day."""
    out = []
    total = ok + failed
    for i in range(total):
        created = pd.Timestamp(f"2026-10-{day:02d}T00:00:00Z") + pd.Timedelta(minutes=int(i * 1400 / total))
        status = "failed" if i < failed else "success"
        out.append(
            {
                "id": f"{source}-{day}-{i}",
                "created_at": created.isoformat(),
                "updated_at": (created + pd.Timedelta(seconds=2)).isoformat(),
                "source_name": source,
                "connection_id": f"conn-{source}",
                "status": status,
                "logs": [
                    {
                        "created_at": created.isoformat(),
                        "status": status,
                        "error_type": error if status == "failed" else None,
                    }
                ],
            }
        )
    return out


def timeline(spikes: dict[tuple[str, int], tuple[int, str]]) -> pd.DataFrame:
    """Ten days of two TSPs at 2% failures (200 ops a day); ``spikes[(tsp, day)] = (failures, error)``."""
    ops: list[dict[str, Any]] = []
    for day in range(1, 11):
        for source in ("samsara", "motive"):
            failed, error = spikes.get((source, day), (4, "tsp"))
            ops += day_of_ops(day, source, 200 - failed, failed, error)
    return operations_frame(ops)


def _stamp(value: object) -> pd.Timestamp:
    """A frame cell that holds a timestamp."""
    assert isinstance(value, pd.Timestamp), value
    return value


def test_a_spike_is_one_incident_with_its_dominant_error() -> None:
    """A day at 30% failures against a 2% baseline is one incident, with its error type and numbers."""
    table = find_incidents(timeline({("motive", 5): (60, "network")}), "D", "source_name")
    assert tuple(table.columns) == ("group", "source_name", *INCIDENT_COLUMNS[1:])
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["group"], row["source_name"]) == ("motive", "motive")
    assert row["start"] == pd.Timestamp("2026-10-05T00:00:00Z")
    assert row["end"] == pd.Timestamp("2026-10-06T00:00:00Z")
    assert (row["n"], row["failures"], row["failure_rate"]) == (200, 60, 0.3)
    assert row["dominant_error_type"] == "network"
    assert row["dominant_share"] == 1.0
    # the baseline leaves the flagged day out: 9 days x 4 failures of 200
    assert row["baseline_rate"] == pytest.approx(36 / 1800)
    assert row["ci_low"] > row["baseline_ci_high"]


def test_adjacent_days_merge_and_others_stay_apart() -> None:
    """Two flagged days in a row are one incident; a flagged day of another TSP is its own."""
    spikes = {
        ("samsara", 3): (50, "validation"),
        ("samsara", 4): (40, "validation"),
        ("motive", 8): (70, "auth"),
    }
    table = find_incidents(timeline(spikes), "D", "source_name")
    assert list(table["group"]) == ["samsara", "motive"]
    assert list(table["buckets"]) == [2, 1]
    assert _stamp(table.loc[0, "end"]) - _stamp(table.loc[0, "start"]) == pd.Timedelta(days=2)
    assert table.loc[0, "failures"] == 90
    assert list(table["dominant_error_type"]) == ["validation", "auth"]


def test_small_wobble_is_not_an_incident() -> None:
    """One day at 5% against 2% (10 failures of 200) is not evidence enough; min_ratio must be a rise."""
    quiet = timeline({("motive", 5): (10, "tsp")})
    assert find_incidents(quiet, "D", "source_name").empty
    with pytest.raises(ValueError, match="min_ratio"):
        find_incidents(quiet, "D", "source_name", min_ratio=1.0)


def test_baseline_choices_and_validation() -> None:
    """A fixed baseline rate and the all-groups baseline both work; nonsense baselines are refused."""
    data = timeline({("motive", 5): (60, "network")})
    assert list(find_incidents(data, "D", "source_name", baseline=0.02)["group"]) == ["motive"]
    assert list(find_incidents(data, "D", "source_name", baseline="overall")["group"]) == ["motive"]
    assert find_incidents(data, "D", "source_name", baseline=0.5).empty
    with pytest.raises(ValueError, match="baseline"):
        find_incidents(data, baseline="median")
    with pytest.raises(ValueError, match="rate in"):
        find_incidents(data, baseline=1.5)


def test_no_grouping_hourly_buckets_and_empty_input() -> None:
    """by=None judges all operations together; hourly buckets work; no operations give no incidents."""
    data = timeline({("motive", 5): (150, "network"), ("samsara", 5): (150, "network")})
    overall = find_incidents(data, "D", by=None)
    assert list(overall["group"]) == ["all"]
    hourly = find_incidents(data, "4h", "source_name")
    assert set(hourly["group"]) == {"motive", "samsara"}
    assert (hourly["start"] >= pd.Timestamp("2026-10-05T00:00Z")).all()
    assert (hourly["end"] <= pd.Timestamp("2026-10-06T00:00Z")).all()
    empty = find_incidents(operations_frame([]), "D", "source_name")
    assert empty.empty
    assert "start" in empty.columns


def test_grouping_by_several_columns_labels_the_group() -> None:
    """With a list of columns the group label joins their values."""
    data = timeline({("motive", 5): (60, "network")})
    table = find_incidents(data, "D", ["source_name", "connection_id"])
    assert list(table["group"]) == ["motive / conn-motive"]
    assert table.loc[0, "connection_id"] == "conn-motive"


# ------------------------------------------------------------------------------------ sandbox history


def _days(start: dt.datetime, end: dt.datetime) -> set[dt.date]:
    """The UTC days an interval touches (end exclusive)."""
    first, last = start.date(), (end - dt.timedelta(microseconds=1)).date()
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}


@pytest.fixture(scope="module")
def history() -> Any:
    """30 days of sandbox history with its three seeded incidents."""
    world_mod = pytest.importorskip("catena_nb.sandbox.sim.world")
    history_mod = pytest.importorskip("catena_nb.sandbox.sim.history")
    world = world_mod.build_world(7)
    return history_mod.generate_history(world, 7, 30, dt.date(2026, 11, 1))


@pytest.fixture(scope="module")
def history_ops(history: Any) -> pd.DataFrame:
    """The history's operations frame."""
    return operations_frame(history.operations)


@pytest.mark.slow
@pytest.mark.parametrize("by", ["source_name", "connection_id"])
def test_sandbox_history_incidents_are_found(history: Any, history_ops: pd.DataFrame, by: str) -> None:
    """Each seeded incident is reported on its TSP or connection, its days and its error_type; at most one
    false alarm."""
    assert len(history.incidents) == 3
    found = find_incidents(history_ops, "D", by)
    matched: set[int] = set()
    for incident in history.incidents:
        if by == "source_name":
            mine = found["source_name"] == incident.source_name
        elif incident.connection_id is not None:
            mine = found["connection_id"] == incident.connection_id
        else:  # a TSP-wide incident shows on the TSP's connections
            conns = history_ops.loc[
                history_ops["source_name"] == incident.source_name, "connection_id"
            ].unique()
            mine = found["connection_id"].isin(list(conns))
        seeded_days = _days(incident.start, incident.end)
        hits = []
        for idx, row in found.loc[mine].iterrows():
            if _days(row["start"].to_pydatetime(), row["end"].to_pydatetime()) & seeded_days:
                hits.append(idx)
                assert row["dominant_error_type"] == incident.error_type, incident.name
                # the reported period covers the incident's busy days (a day clipped to its last hours is
                # allowed to fall below the bar)
                assert _days(row["start"].to_pydatetime(), row["end"].to_pydatetime()) <= seeded_days
        assert hits, f"not found: {incident.name}"
        matched.update(hits)
    false_alarms = len(found) - len(matched)
    assert false_alarms <= 1, found.drop(index=list(matched))


@pytest.mark.slow
def test_located_incidents_name_the_tsp_or_the_connection(history: Any, history_ops: pd.DataFrame) -> None:
    """A TSP-wide incident is reported once for the TSP, a one-connection incident for that connection."""
    located = locate_incidents(history_ops, "D")
    assert len(located) == len(history.incidents)
    for incident, row in zip(
        sorted(history.incidents, key=lambda i: i.start), located.itertuples(), strict=True
    ):
        assert row.source_name == incident.source_name
        assert row.dominant_error_type == incident.error_type
        assert _days(_stamp(row.start).to_pydatetime(), _stamp(row.end).to_pydatetime()) <= _days(
            incident.start, incident.end
        )
        if incident.connection_id is None:
            assert row.scope == "tsp"
            assert is_missing(row.connection)
        else:
            assert row.scope == "connection"
            assert row.connection == incident.connection_id


def test_locate_incidents_on_empty_input() -> None:
    """No operations, no incident, and still the documented columns."""
    located = locate_incidents(operations_frame([]))
    assert len(located) == 0
    assert list(located.columns[:4]) == ["scope", "source_name", "connection", "connections"]
