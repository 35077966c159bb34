"""The seeded world behind the sandbox: one partner, its connections to TSPs, and their users.

Everything here is a pure function of the seed: the same seed gives the same ids, names and TSP-side source
ids on any machine and any day. Ids are UUID-formatted digests of ``(seed, kind, index)``.

It also holds the small conventions the simulation shares: the timestamp format and id makers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import time
import uuid
from typing import Any

from catena_nb.sandbox.sim.types import Connection, User, World

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# (source_name, fleet name) per connection; samsara and motive serve two fleets each, so an audit can tell a
# TSP-wide problem from one connection's.
_CONNECTIONS = (
    ("samsara", "Northwind Freight"),
    ("samsara", "Blue Ridge Haulers"),
    ("motive", "Northwind Freight"),
    ("motive", "Prairie Cold Chain"),
    ("geotab", "Harbor Logistics"),
    ("omnitracs", "Summit Tank Lines"),
)
TSP_NAMES = ("samsara", "motive", "geotab", "omnitracs")

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


def iso(moment: dt.datetime) -> str:
    """Format a datetime as the sandbox's timestamp string (naive datetimes are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime(ISO_FORMAT)


def stable_uuid(seed: int, kind: str, *parts: object) -> str:
    """A UUID-formatted id that depends only on ``(seed, kind, *parts)``."""
    digest = hashlib.blake2b(f"{seed}\x1f{kind}\x1f{parts!r}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=5))


def uuid7_at(ms: int, rand: int) -> str:
    """A UUID version 7 string for the millisecond ``ms`` with 74 bits of ``rand``."""
    return "%08x-%04x-7%03x-%04x-%012x" % (  # noqa: UP031 - %-formatting is the fastest here (history)
        ms >> 16 & 0xFFFF_FFFF,
        ms & 0xFFFF,
        rand >> 62 & 0xFFF,
        0x8000 | (rand >> 48 & 0x3FFF),
        rand & 0xFFFF_FFFF_FFFF,
    )


def new_uuid7() -> str:
    """A fresh time-ordered id, like the real API's operation and message ids."""
    return uuid7_at(time.time_ns() // 1_000_000, int.from_bytes(os.urandom(10), "big"))


def source_id_for(style: str, n: int) -> str:
    """A TSP-side id in the TSP's own style, made from the non-negative integer ``n``."""
    if style == "samsara":  # numeric ids (the seed page shows "51477344", "98765432")
        return str(10_000_000 + n % 90_000_000)
    if style == "motive":  # numeric, seven digits
        return str(1_000_000 + n % 9_000_000)
    if style == "geotab":  # short base-36 entity ids such as "b2F7"
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        out = ["b"]
        for _ in range(5):
            n, r = divmod(n, len(alphabet))
            out.append(alphabet[r])
        return "".join(out)
    # omnitracs-style prefixed alphanumerics
    return f"OMX{n % 10_000_000:07d}"


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
        A ``World`` with six connections to four TSPs (samsara and motive with two fleets each), each with
        five to eight users: one or two dispatchers, the rest drivers.
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
            number = int.from_bytes(
                hashlib.blake2b(f"{seed}|user-source|{index}|{u}".encode(), digest_size=8).digest(), "big"
            )
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
    return World(seed=seed, partner_id=partner_id, connections=tuple(connections))


def user_index(world: World) -> dict[str, User]:
    """Every user of the world by Catena id."""
    return {u.id: u for c in world.connections for u in c.user_records}


def message_payload(
    world: World,
    *,
    connection_id: str,
    sender_id: str,
    recipient_id: str,
    message_text: str | None,
    priority: str | None,
    reply_to_message_id: str | None = None,
    users: dict[str, User] | None = None,
) -> dict[str, Any]:
    """The operation ``payload`` Catena shows for a message: the request plus the TSP-side ids it mapped.

    Key order follows the seed page's example (PostgreSQL jsonb order: by length, then bytes). A user the
    world does not know maps to a null source id.
    """
    users = user_index(world) if users is None else users
    sender, recipient = users.get(sender_id), users.get(recipient_id)
    return {
        "priority": priority,
        "sender_id": sender_id,
        "message_text": message_text,
        "recipient_id": recipient_id,
        "connection_id": connection_id,
        "source_sender_id": None if sender is None else sender.source_id,
        "reply_to_message_id": reply_to_message_id,
        "source_recipient_id": None if recipient is None else recipient.source_id,
        "source_reply_to_message_id": None,
    }


def group_message_payload(
    world: World,
    *,
    connection_id: str,
    sender_id: str,
    recipient_ids: list[str],
    message_text: str | None,
    priority: str | None,
    users: dict[str, User] | None = None,
) -> dict[str, Any]:
    """The operation ``payload`` for a group message, with the mapped TSP-side ids (keys in jsonb order)."""
    users = user_index(world) if users is None else users
    sender = users.get(sender_id)
    return {
        "priority": priority,
        "sender_id": sender_id,
        "message_text": message_text,
        "connection_id": connection_id,
        "recipient_ids": list(recipient_ids),
        "source_sender_id": None if sender is None else sender.source_id,
        "source_recipient_ids": [None if users.get(r) is None else users[r].source_id for r in recipient_ids],
    }
