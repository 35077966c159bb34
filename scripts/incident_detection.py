"""How well find_incidents finds incidents in sandbox histories, and how rarely it cries wolf.

1. For each seed, a 3-hour ``degradation`` on one connection in working hours (a weekday, 15:00-18:00 UTC,
   the connection taken in turn), failing 30% of attempts with ``validation`` errors (not retried, so 30%
   of the operations fail): the true and the found start and end, at ``freq="h"``.
2. For each seed, a quiet history (``incidents=[]``): the incidents reported at ``freq="h"``, per TSP, per
   connection and located.
3. The three default incidents of each seed: found at their scope (``locate_incidents``), by hour and day.

Run: ``.venv/bin/python scripts/incident_detection.py [seed ...]`` (default seeds 1 to 5).
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import pandas as pd

from catena_nb.analysis import find_incidents, locate_incidents
from catena_nb.frames import operations_frame
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.incidents import parse_incidents
from catena_nb.sandbox.sim.types import Incident
from catena_nb.sandbox.sim.world import build_world

DAYS = 30
ANCHOR = dt.date(2026, 11, 1)
START_TOL = pd.Timedelta(hours=1)
END_TOL = pd.Timedelta(hours=2)


def _history(seed: int, incidents: list[Incident] | None) -> tuple[Any, pd.DataFrame]:
    hist = generate_history(build_world(seed), seed, DAYS, ANCHOR, incidents=incidents)
    return hist, operations_frame(hist.operations)


def degradation_spec(seed: int) -> dict[str, Any]:
    """A 3-hour degradation on one connection, on a weekday of the window, 15:00-18:00 UTC."""
    world = build_world(seed)
    conns = list(world.message_connections)
    conn = conns[seed % len(conns)]
    day = dt.date(2026, 10, 12) + dt.timedelta(days=(3 * seed) % 14)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(15), dt.UTC)
    return {
        "kind": "degradation",
        "source_name": conn.source_name,
        "connection_id": conn.id,
        "start": start.isoformat(),
        "end": (start + dt.timedelta(hours=3)).isoformat(),
        "error_type": "validation",
        "failure_rate": 0.3,
    }


def detection(seeds: list[int]) -> bool:
    print("1. A 3-hour degradation at 30% of attempts on one connection (freq='h')")
    ok_all = True
    for seed in seeds:
        spec = degradation_spec(seed)
        incidents = parse_incidents([spec], build_world(seed))
        _, ops = _history(seed, incidents)
        conn = spec["connection_id"]
        inc = incidents[0]
        outside = ops[
            (ops["connection_id"] == conn)
            & ((ops["created_at"] < inc.start) | (ops["created_at"] >= inc.end))
        ]
        settled = outside[outside["status"].isin(["success", "failed"])]
        usual = float((settled["status"] == "failed").mean())
        found = find_incidents(ops, "h", by=["source_name", "connection_id"])
        mine = found[found["connection_id"] == conn]
        located = locate_incidents(ops, "h")
        # a TSP with one connection: locate_incidents reports its incident at the TSP
        alone = ops.loc[ops["source_name"] == inc.source_name, "connection_id"].nunique() == 1
        loc = located[
            (located["source_name"] == inc.source_name) & (located["scope"] == "tsp")
            if alone
            else (located["connection"] == conn)
        ]
        where = "at its TSP (its only connection)" if alone else "at the connection"
        true_start, true_end = pd.Timestamp(inc.start), pd.Timestamp(inc.end)
        if len(mine):
            row = mine.iloc[0]
            ok = abs(row["start"] - true_start) <= START_TOL and abs(row["end"] - true_end) <= END_TOL
            got = (
                f"found {row['start']:%Y-%m-%d %H:%M} .. {row['end']:%H:%M} "
                f"({row['failures']}/{row['n']} = {row['rate']:.1%}, detected {row['detected_at']:%H:%M})"
            )
        else:
            ok, got = False, "NOT FOUND"
        ok = ok and len(loc) == 1
        ok_all &= ok
        print(
            f"  seed {seed}: {inc.source_name} {conn[:8]} usual {usual:.1%} (30% is {0.3 / usual:.0f}x); "
            f"true {true_start:%Y-%m-%d %H:%M} .. {true_end:%H:%M}; {got}; "
            f"located {len(loc)} {where}, {len(found) - len(mine)} other incident(s) "
            f"-> {'OK' if ok else 'MISSED'}"
        )
    return ok_all


def quiet(seeds: list[int]) -> bool:
    print("2. Quiet histories (incidents=[]), freq='h': incidents reported")
    total = 0
    for seed in seeds:
        _, ops = _history(seed, [])
        tsp = len(find_incidents(ops, "h"))
        conn = len(find_incidents(ops, "h", by=["source_name", "connection_id"]))
        loc = len(locate_incidents(ops, "h"))
        total += tsp
        print(f"  seed {seed}: {len(ops):,} operations; per TSP {tsp}, per connection {conn}, located {loc}")
    print(f"  total per TSP (find_incidents(ops_df, 'h')): {total} (bar: at most 1)")
    return total <= 1


def defaults(seeds: list[int]) -> bool:
    print("3. The three default incidents, located (scope), by hour and by day")
    ok_all = True
    for seed in seeds:
        hist, ops = _history(seed, None)
        for freq in ("h", "D"):
            located = locate_incidents(ops, freq)
            marks = []
            for inc in hist.incidents:
                hit = located[
                    (located["source_name"] == inc.source_name)
                    & (located["start"] < pd.Timestamp(inc.end))
                    & (located["end"] > pd.Timestamp(inc.start))
                ]
                conns = ops.loc[ops["source_name"] == inc.source_name, "connection_id"].nunique()
                # one connection of a TSP with several is the connection's; the only one is the TSP's
                scope = "connection" if inc.connection_id and conns > 1 else "tsp"
                good = (
                    len(hit) == 1
                    and hit.iloc[0]["scope"] == scope
                    and hit.iloc[0]["error_type"] == inc.error_type
                    and (scope == "tsp" or hit.iloc[0]["connection"] == inc.connection_id)
                )
                ok_all &= good
                span = ""
                if len(hit):
                    span = f" {hit.iloc[0]['start']:%m-%d %H:%M}..{hit.iloc[0]['end']:%m-%d %H:%M}"
                marks.append(
                    f"{inc.kind} at {scope} {inc.start:%m-%d %H:%M}..{inc.end:%m-%d %H:%M}:"
                    f"{span} {'OK' if good else 'WRONG'}"
                )
            extra = len(located) - len(hist.incidents)
            print(f"  seed {seed} freq={freq}: " + "; ".join(marks) + f"; other incidents {extra}")
    return ok_all


def main(argv: list[str]) -> int:
    seeds = [int(a) for a in argv] or [1, 2, 3, 4, 5]
    results = [detection(seeds), quiet(seeds), defaults(seeds)]
    print("all bars met" if all(results) else "a bar is NOT met")
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
