"""The history's incidents: three kinds on three TSPs, on separate days inside any window long enough."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from catena_nb.sandbox.sim.incidents import INCIDENT_TEXT_LIMIT, conditions, place_incidents
from catena_nb.sandbox.sim.world import build_world


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_incidents_fit_any_window_length(seed):
    """From 9 to 60 days, the three incidents always find separate days inside the window."""
    world = build_world(seed)
    for days in range(9, 61):
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        incidents = place_incidents(world, random.Random(f"{seed}:{days}"), start, days)
        assert len(incidents) == 3
        end = start + dt.timedelta(days=days)
        assert all(start < i.start < i.end < end for i in incidents)
        assert len({i.start.date() for i in incidents}) == 3


def test_each_kind_sets_its_conditions():
    """An expiry fails every call as auth, an outage raises network errors, a change lowers the text limit."""
    world = build_world(7)
    incidents = place_incidents(world, random.Random("x"), dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 30)
    by_kind = {i.kind: conditions(i) for i in incidents}
    assert by_kind["credential_expiry"].auth_expired
    assert (by_kind["network_outage"].p_network or 0) > 0.5
    assert by_kind["validation_change"].text_limit == INCIDENT_TEXT_LIMIT
    assert {i.kind: i.error_type for i in incidents} == {
        "credential_expiry": "auth",
        "network_outage": "network",
        "validation_change": "validation",
    }
