"""Records shared by the sandbox's server half (state, routes) and its simulation half (TSPs, worker,
history, webhooks).

Operations and messages themselves travel as plain dicts in the wire format (see ``state.py``); these
dataclasses describe the seeded world around them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class User:
    """A driver or dispatcher of a connection's fleet: the Catena id and the TSP's own id."""

    id: str
    source_id: str
    connection_id: str
    first_name: str
    last_name: str
    username: str
    is_driver: bool


@dataclass(frozen=True)
class Connection:
    """A Fleet/TSP pairing. ``users`` holds the Catena user ids a message may name."""

    id: str
    source_name: str
    tsp_id: str
    fleet_id: str
    fleet_ref: str
    description: str
    created_at: dt.datetime
    user_records: tuple[User, ...] = field(default=(), repr=False)

    @property
    def users(self) -> list[str]:
        """The Catena ids of this connection's users (senders and recipients)."""
        return [u.id for u in self.user_records]

    @property
    def drivers(self) -> list[str]:
        return [u.id for u in self.user_records if u.is_driver]

    @property
    def dispatchers(self) -> list[str]:
        return [u.id for u in self.user_records if not u.is_driver]


@dataclass(frozen=True)
class Incident:
    """A period seeded into the sandbox's history in which one TSP or connection failed more than usual."""

    name: str
    kind: str  # "credential_expiry" | "network_outage" | "validation_change"
    source_name: str
    connection_id: str | None  # None: every connection of that TSP
    start: dt.datetime
    end: dt.datetime
    error_type: str  # the error_type it produces: auth | network | validation | tsp


@dataclass(frozen=True)
class AttemptOutcome:
    """What one call to a simulated TSP returned."""

    ok: bool
    latency_s: float
    error_type: str | None = None  # auth | validation | network | tsp
    error_details: str | None = None
    response_status_code: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    retryable: bool = False
    source_id: str | None = None  # the TSP-side id of the created message, on success


@dataclass(frozen=True)
class World:
    """Everything seeded from ``seed``: the partner, its connections and their users."""

    seed: int
    partner_id: str
    connections: tuple[Connection, ...]

    def connection(self, connection_id: str) -> Connection | None:
        for conn in self.connections:
            if conn.id == connection_id:
                return conn
        return None

    def user(self, user_id: str) -> User | None:
        for conn in self.connections:
            for user in conn.user_records:
                if user.id == user_id:
                    return user
        return None
