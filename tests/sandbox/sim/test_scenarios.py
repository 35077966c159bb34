"""Incident specs for the sandbox's history: checked before anything is built, seeded as asked."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.incidents import conditions, parse_incidents
from catena_nb.sandbox.sim.outcomes import decide, draw
from catena_nb.sandbox.sim.profiles import PROFILES
from catena_nb.sandbox.sim.world import build_world

ANCHOR = "2026-11-01"


@pytest.fixture(scope="module")
def world() -> Any:
    """The world of seed 7."""
    return build_world(7)


def _spec(world: Any, **fields: Any) -> dict[str, Any]:
    conn = next(c for c in world.message_connections if c.source_name == "samsara")
    spec = {
        "kind": "degradation",
        "source_name": "samsara",
        "connection_id": conn.id,
        "start": "2026-10-30T15:00:00Z",
        "end": "2026-10-30T18:00:00Z",
        "error_type": "validation",
        "failure_rate": 0.3,
    }
    spec.update(fields)
    return {k: v for k, v in spec.items() if v is not None or k == "connection_id"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "meltdown"}, "kind"),
        ({"source_name": "nosuchtsp"}, "source_name"),
        ({"source_name": "hos247"}, "source_name"),  # a TSP that takes no message writes has no traffic
        ({"connection_id": "not-a-connection"}, "connection_id"),
        ({"start": "yesterday"}, "start"),
        ({"end": 17}, "end"),
        ({"end": "2026-10-30T14:00:00Z"}, "end"),
        ({"error_type": "cosmic"}, "error_type"),
        ({"failure_rate": 1.5}, "failure_rate"),
        ({"failure_rate": 0}, "failure_rate"),
        ({"failure_rate": "0.3"}, "failure_rate"),
        ({"kind": "network_outage", "error_type": "auth", "failure_rate": None}, "error_type"),
        ({"kind": "network_outage", "error_type": None}, "failure_rate"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_spec_that_does_not_fit_names_its_field(world: Any, fields: dict[str, Any], field: str) -> None:
    """Each wrong field gives a ValueError naming the spec's position and that field."""
    with pytest.raises(ValueError, match=rf"incidents\[0\].*{field}|{field}.*incidents\[0\]"):
        parse_incidents([_spec(world, **fields)], world)


def test_the_sandbox_checks_specs_before_anything_is_built() -> None:
    """Sandbox(incidents=...) refuses a bad spec, one outside the history, or any without a history, at
    construction."""
    with pytest.raises(ValueError, match="kind"):
        Sandbox(seed=7, history=10, anchor=ANCHOR, incidents=[{"kind": "meltdown"}])
    outside = _spec(build_world(7), start="2026-01-01T00:00:00Z", end="2026-01-01T03:00:00Z")
    with pytest.raises(ValueError, match="outside the history"):
        Sandbox(seed=7, history=10, anchor=ANCHOR, incidents=[outside])
    with pytest.raises(ValueError, match="need a history"):
        Sandbox(seed=7, incidents=[_spec(build_world(7))])
    with pytest.raises(ValueError, match="a list"):
        Sandbox(seed=7, history=10, anchor=ANCHOR, incidents=_spec(build_world(7)))
    assert Sandbox(seed=7, incidents=[]).history == 0  # a quiet history of nothing is fine


def test_specs_as_objects_and_naive_times(world: Any) -> None:
    """An object with the fields works as a dict does; a time without a zone is UTC."""
    spec = SimpleNamespace(**_spec(world, start="2026-10-30T15:00:00", connection_id=None))
    (incident,) = parse_incidents([spec], world)
    assert incident.start == dt.datetime(2026, 10, 30, 15, tzinfo=dt.UTC)
    assert incident.connection_id is None
    assert incident.failure_rate == 0.3
    assert incident.name == "samsara degradation"


def test_a_degradation_fails_its_share_of_attempts(world: Any) -> None:
    """Under a degradation to 30%, 30% of a TSP's attempts fail (its own errors included), and those it
    adds carry the spec's error_type."""
    (incident,) = parse_incidents([_spec(world, error_type="tsp")], world)
    cond = conditions(incident)
    profile = PROFILES["samsara"]
    outcomes = [decide(profile, draw(1, f"k{i}", 1), text="ok", conditions=cond) for i in range(20_000)]
    failed = [o for o in outcomes if not o.ok]
    assert len(failed) / len(outcomes) == pytest.approx(0.3, abs=0.015)
    assert sum(o.error_type == "tsp" for o in failed) / len(failed) > 0.9


def test_a_quiet_history_has_the_same_traffic_without_incidents(world: Any) -> None:
    """incidents=[] keeps every operation of a history with an incident, with no incident in it; a
    history too short for the default three has none."""
    (incident,) = parse_incidents(
        [_spec(world, start="2026-10-31T12:00:00Z", end="2026-11-01T00:00:00Z")], world
    )
    seeded = generate_history(world, 7, 2, ANCHOR, incidents=[incident])
    quiet = generate_history(world, 7, 2, ANCHOR, incidents=[])
    assert seeded.incidents == [incident]
    assert quiet.incidents == [] == generate_history(world, 7, 1, ANCHOR).incidents
    assert [o["id"] for o in quiet.operations] == [o["id"] for o in seeded.operations]
    failed = sum(o["status"] == "failed" for o in seeded.operations)
    assert sum(o["status"] == "failed" for o in quiet.operations) < failed


def test_the_sandbox_lists_what_it_seeded(world: Any) -> None:
    """sb.incidents holds the asked-for incidents, with their kind, scope, times, error_type and rate."""
    spec = _spec(world, start="2026-10-31T15:00:00Z", end="2026-10-31T18:00:00Z")
    with Sandbox(seed=7, history=2, anchor=ANCHOR, incidents=[spec], time_scale=0.01) as sb:
        (incident,) = sb.incidents
        assert (incident.kind, incident.source_name, incident.connection_id) == (
            "degradation",
            "samsara",
            spec["connection_id"],
        )
        assert (incident.error_type, incident.failure_rate) == ("validation", 0.3)
        assert incident.start == dt.datetime(2026, 10, 31, 15, tzinfo=dt.UTC)
    with Sandbox(seed=7, history=2, anchor=ANCHOR, incidents=[], time_scale=0.01) as sb:
        assert sb.incidents == []
