"""The three named incidents of the pre-seeded history, and the conditions each puts on its TSP's calls.

- a credential expiry: one connection's calls all answer 401 (``auth``) for most of a day;
- a network outage: most calls to one TSP time out or are refused (``network``) for a few hours; async
  operations retry, and many fail after the attempt limit;
- a validation change: one TSP lowers its message text limit to 160 characters (``validation``) for about two
  days.

They hit three different TSPs on different days, away from the window's edges. A caller may seed its own
instead (``parse_incidents``): any of these kinds at a chosen TSP or connection and time, or a
``degradation``, in which a TSP or one connection fails a given share of attempts with a given error_type.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from catena_nb.sandbox.sim.outcomes import Conditions
from catena_nb.sandbox.sim.profiles import PROFILES
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


DEGRADATION = "degradation"
KINDS = (*_KINDS, DEGRADATION)
ERROR_TYPES = ("auth", "validation", "network", "tsp")
_FIELDS = ("kind", "source_name", "connection_id", "start", "end", "error_type", "failure_rate", "name")


def conditions(incident: Incident) -> Conditions:
    """What the incident does to the calls it covers."""
    if incident.kind == DEGRADATION:
        return Conditions(
            p_degraded=_extra_share(incident.source_name, float(incident.failure_rate or 0.0)),
            degraded_error=incident.error_type,
        )
    return _KINDS[incident.kind].conditions


def _extra_share(source_name: str, failure_rate: float) -> float:
    """The share of calls a degradation fails itself so that ``failure_rate`` of all calls fail.

    The TSP's own random errors go on under it (at the profile's rate, on the calls it lets through), so the
    degradation fails ``q`` with ``q + (1 - q) * base = failure_rate``; nothing when the TSP fails that
    often anyway.
    """
    # assumed: a degradation's failure_rate counts every failed attempt in its window, the TSP's usual ones
    # included, as a dashboard over that window would
    profile = PROFILES[source_name]
    base = profile.p_auth + profile.p_validation + profile.p_network + profile.p_tsp
    return max(0.0, (failure_rate - base) / (1.0 - base))


def parse_incidents(
    specs: Iterable[Any], world: World, *, window: tuple[dt.datetime, dt.datetime] | None = None
) -> list[Incident]:
    """The incidents a caller asked for, checked against the world, by start.

    Each spec is a mapping or an object with ``kind``, ``source_name``, optional ``connection_id`` (None:
    every connection of the TSP), ``start`` and ``end`` (ISO 8601 strings or datetimes; naive ones are UTC),
    ``error_type`` (optional for the named kinds, which have their own) and, for a ``degradation``,
    ``failure_rate`` (the share of attempts that fail in the window, in (0, 1]); ``name`` is optional.
    With ``window`` (the history's start and end), an incident must overlap it.

    Raises:
        ValueError: naming the spec (its position) and the field at fault.
    """
    if isinstance(specs, (str, bytes, Mapping)):
        raise ValueError("incidents must be a list of incident specs (dicts or objects), not one spec")
    incidents = [_parse_one(i, spec, world) for i, spec in enumerate(specs)]
    for i, inc in enumerate(incidents):
        if window is not None and (inc.end <= window[0] or inc.start >= window[1]):
            raise ValueError(
                f"incidents[{i}] ({inc.start.isoformat()} to {inc.end.isoformat()}) falls outside the "
                f"history ({window[0].isoformat()} to {window[1].isoformat()})"
            )
    return sorted(incidents, key=lambda inc: inc.start)


def _field(spec: Any, name: str) -> Any:
    if isinstance(spec, Mapping):
        return spec.get(name)
    return getattr(spec, name, None)


def _parse_one(index: int, spec: Any, world: World) -> Incident:
    where = f"incidents[{index}]"
    if isinstance(spec, Mapping):
        unknown = sorted(set(map(str, spec)) - set(_FIELDS))
        if unknown:
            raise ValueError(
                f"{where}: unknown field(s) {', '.join(unknown)}; a spec has {', '.join(_FIELDS)}"
            )
    kind = _field(spec, "kind")
    if kind not in KINDS:
        raise ValueError(f"{where}.kind must be one of {', '.join(KINDS)}, not {kind!r}")
    tsps = sorted({c.source_name for c in world.message_connections})
    source_name = _field(spec, "source_name")
    if source_name not in tsps:
        raise ValueError(
            f"{where}.source_name must be a TSP with message traffic ({', '.join(tsps)}), not {source_name!r}"
        )
    connection_id = _field(spec, "connection_id")
    if connection_id is not None:
        ids = [c.id for c in world.message_connections if c.source_name == source_name]
        if str(connection_id) not in ids:
            raise ValueError(
                f"{where}.connection_id {connection_id!r} is not a connection of {source_name} "
                f"({', '.join(ids)})"
            )
        connection_id = str(connection_id)
    start, end = _time(where, "start", _field(spec, "start")), _time(where, "end", _field(spec, "end"))
    if not end > start:
        raise ValueError(f"{where}.end ({end.isoformat()}) must be after its start ({start.isoformat()})")
    error_type, failure_rate = _field(spec, "error_type"), _field(spec, "failure_rate")
    if kind == DEGRADATION:
        if error_type not in ERROR_TYPES:
            raise ValueError(
                f"{where}.error_type must be one of {', '.join(ERROR_TYPES)}, not {error_type!r}"
            )
        if isinstance(failure_rate, bool) or not isinstance(failure_rate, (int, float)):
            raise ValueError(f"{where}.failure_rate must be a share in (0, 1] for a degradation")
        if not 0.0 < float(failure_rate) <= 1.0:
            raise ValueError(f"{where}.failure_rate must be a share in (0, 1], not {failure_rate!r}")
        failure_rate = float(failure_rate)
    else:
        own = _KINDS[kind].error_type
        if error_type not in (None, own):
            raise ValueError(f"{where}.error_type of a {kind} is {own!r}, not {error_type!r}")
        if failure_rate is not None:
            raise ValueError(f"{where}.failure_rate applies to a degradation only, not to a {kind}")
        error_type = own
    name = _field(spec, "name")
    if name is None:
        conn = world.connection(connection_id) if connection_id else None
        name = f"{source_name}{'' if conn is None else ' ' + conn.fleet_ref} {kind.replace('_', ' ')}"
    return Incident(
        name=str(name),
        kind=kind,
        source_name=source_name,
        connection_id=connection_id,
        start=start,
        end=end,
        error_type=str(error_type),
        failure_rate=failure_rate,
    )


def _time(where: str, name: str, value: Any) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{where}.{name} must be an ISO 8601 time, not {value!r}") from exc
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{where}.{name} must be an ISO 8601 string or a datetime, not {value!r}")
    # assumed: a time without a zone is UTC, as every time of the API is
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


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
