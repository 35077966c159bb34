"""The three named incidents of the pre-seeded history, and the conditions each puts on its TSP's calls.

- a credential expiry: one connection's calls all answer 401 (``auth``) for most of a day;
- a network outage: most calls to one TSP time out or are refused (``network``) for a few hours; async
  operations retry, and many fail after the attempt limit;
- a validation change: one TSP lowers its message text limit to 160 characters (``validation``) for about two
  days.

They hit three different TSPs on different days, away from the window's edges.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from catena_nb.sandbox.sim.outcomes import Conditions
from catena_nb.sandbox.sim.types import Incident, World

INCIDENT_TEXT_LIMIT = 160
MIN_DAYS_FOR_INCIDENTS = 9  # room for three incidents on separate days, clear of the edges
_OUTAGE_P_NETWORK = 0.9


@dataclass(frozen=True)
class _Kind:
    error_type: str  # the error_type it produces
    starts_h: tuple[float, float]  # the range of the hour of its day it starts at
    lasts_h: tuple[float, float]  # the range of how many hours it lasts
    conditions: Conditions


_KINDS = {
    "credential_expiry": _Kind("auth", (0.5, 2.5), (20.0, 21.4), Conditions(auth_expired=True)),
    "network_outage": _Kind("network", (13.0, 17.0), (3.0, 5.0), Conditions(p_network=_OUTAGE_P_NETWORK)),
    "validation_change": _Kind(
        "validation", (0.5, 2.0), (44.0, 45.5), Conditions(text_limit=INCIDENT_TEXT_LIMIT)
    ),
}


def conditions(incident: Incident) -> Conditions:
    """What the incident does to the calls it covers."""
    return _KINDS[incident.kind].conditions


def place_incidents(world: World, rng: random.Random, start: dt.datetime, days: int) -> list[Incident]:
    """The incidents of a window of ``days`` days from ``start``, by start (none below nine days)."""
    if days < MIN_DAYS_FOR_INCIDENTS:
        return []
    tsps = sorted({c.source_name for c in world.message_connections})
    rng.shuffle(tsps)
    expiry_tsp, outage_tsp, change_tsp = tsps[0], tsps[1], tsps[2]
    # Days 1 .. days-2 leave a clean day at each edge of the window for the baseline.
    free = list(range(1, days - 2))
    change_day = rng.choice(free[:-1])
    free = [d for d in free if d not in (change_day - 1, change_day, change_day + 1, change_day + 2)]
    expiry_day = rng.choice(free)
    free.remove(expiry_day)
    outage_day = rng.choice(free)
    expiry_conn = rng.choice([c for c in world.message_connections if c.source_name == expiry_tsp])
    hour = {kind: rng.uniform(*spec.starts_h) for kind, spec in _KINDS.items()}
    placed = (
        (
            "credential_expiry",
            expiry_day,
            expiry_tsp,
            expiry_conn.id,
            f"API credential expired for {expiry_conn.fleet_ref}",
        ),
        ("network_outage", outage_day, outage_tsp, None, "network outage"),
        (
            "validation_change",
            change_day,
            change_tsp,
            None,
            f"lowered its message text limit to {INCIDENT_TEXT_LIMIT} characters",
        ),
    )

    def at(day: int, hours: float) -> dt.datetime:
        return (start + dt.timedelta(days=day, hours=hours)).replace(microsecond=0)

    incidents = [
        Incident(
            name=f"{tsp} {what}",
            kind=kind,
            source_name=tsp,
            connection_id=conn_id,
            start=at(day, hour[kind]),
            end=at(day, hour[kind] + rng.uniform(*_KINDS[kind].lasts_h)),
            error_type=_KINDS[kind].error_type,
        )
        for kind, day, tsp, conn_id, what in placed
    ]
    return sorted(incidents, key=lambda i: i.start)
