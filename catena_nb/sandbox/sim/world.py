"""The seeded world behind the sandbox: one partner, its connections to TSPs, and their users.

Everything here is a pure function of the seed: the same seed gives the same ids, names and TSP-side source
ids on any machine and any day. Ids are UUID-formatted digests of ``(seed, kind, index)`` (``ids.py``).
"""

from __future__ import annotations

import datetime as dt
import random

from catena_nb.sandbox.sim.ids import source_id_for, stable_int, stable_uuid
from catena_nb.sandbox.sim.integrations import build_tsp
from catena_nb.sandbox.sim.types import Connection, User, World

# (source_name, fleet name) per connection; samsara and motive serve two fleets each, so an audit can tell a
# TSP-wide problem from one connection's. The last one goes to a TSP that takes no message writes
# (sim/integrations.py); it comes last so that the others' users and ids stay what they were without it.
_CONNECTIONS = (
    ("samsara", "Northwind Freight"),
    ("samsara", "Blue Ridge Haulers"),
    ("motive", "Northwind Freight"),
    ("motive", "Prairie Cold Chain"),
    ("geotab", "Harbor Logistics"),
    ("omnitracs", "Summit Tank Lines"),
    ("hos247", "Harbor Logistics"),
)

_FIRST = (
    "James",
    "Maria",
    "Robert",
    "Linda",
    "Michael",
    "Patricia",
    "David",
    "Jennifer",
    "Carlos",
    "Aisha",
    "Daniel",
    "Emily",
    "Jose",
    "Grace",
    "Kevin",
    "Nadia",
    "Brian",
    "Olivia",
    "Luis",
    "Hannah",
    "Tyrone",
    "Mei",
    "Samuel",
    "Fatima",
    "Ethan",
    "Rosa",
    "Marcus",
    "Chloe",
    "Ivan",
    "Priya",
)
_LAST = (
    "Smith",
    "Johnson",
    "Garcia",
    "Brown",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Moore",
    "Jackson",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Baker",
)


def _username(style: str, first: str, last: str, n: int) -> str:
    if style == "samsara":
        return f"{first[0].lower()}{last.lower()}"
    if style == "motive":
        return f"{first.lower()}.{last.lower()}"
    if style == "geotab":
        return f"{first.lower()}.{last.lower()}@fleet.example"
    return f"{last.upper()[:5]}{n % 100:02d}"


def build_world(seed: int) -> World:
    """Build the partner, connections and users for ``seed``.

    Args:
        seed: any integer; the same seed gives the same world.

    Returns:
        A ``World`` with seven connections to five TSPs (samsara and motive with two fleets each; hos247 takes
        no message writes), each with five to eight users: one or two dispatchers, the rest drivers.
    """
    rng = random.Random(f"catena-sandbox-world:{seed}")
    partner_id = stable_uuid(seed, "partner", 0)
    fleets: dict[str, tuple[str, str]] = {}
    connections: list[Connection] = []
    # assumed: connections were made before any history a caller asks for (history windows are at most a
    # year in practice), so they date from 2025.
    base_created = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
    for index, (source_name, fleet_name) in enumerate(_CONNECTIONS):
        if fleet_name not in fleets:
            ref = "FLT-" + "".join(w[0] for w in fleet_name.split()).upper() + f"-{len(fleets) + 1:02d}"
            fleets[fleet_name] = (stable_uuid(seed, "fleet", fleet_name), ref)
        fleet_id, fleet_ref = fleets[fleet_name]
        conn_id = stable_uuid(seed, "connection", index)
        n_users = rng.randint(5, 8)
        n_dispatchers = 1 if n_users < 7 else 2
        users: list[User] = []
        for u in range(n_users):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            number = stable_int(seed, "user-source", index, u)
            users.append(
                User(
                    id=stable_uuid(seed, "user", index, u),
                    source_id=source_id_for(source_name, number),
                    connection_id=conn_id,
                    first_name=first,
                    last_name=last,
                    username=_username(source_name, first, last, number),
                    is_driver=u >= n_dispatchers,
                )
            )
        connections.append(
            Connection(
                id=conn_id,
                source_name=source_name,
                tsp_id=stable_uuid(seed, "tsp", source_name),
                fleet_id=fleet_id,
                fleet_ref=fleet_ref,
                description=f"{fleet_name} on {source_name.capitalize()}",
                created_at=base_created + dt.timedelta(days=7 * index, hours=rng.randint(0, 8)),
                user_records=tuple(users),
            )
        )
    tsps = tuple(build_tsp(seed, name) for name in dict.fromkeys(c.source_name for c in connections))
    return World(seed=seed, partner_id=partner_id, connections=tuple(connections), tsps=tsps)
