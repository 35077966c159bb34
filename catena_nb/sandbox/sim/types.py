"""Records shared by the sandbox's server half (state, routes) and its simulation half (TSPs, worker,
history, webhooks).

Operations and messages themselves travel as plain dicts in the wire format (``records.py``,
``delivery.py``); these dataclasses describe the seeded world around them and what an attempt produced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


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
        """The Catena ids of this connection's drivers."""
        return [u.id for u in self.user_records if u.is_driver]

    @property
    def dispatchers(self) -> list[str]:
        """The Catena ids of this connection's dispatchers."""
        return [u.id for u in self.user_records if not u.is_driver]

    def source_id_of(self, user_id: str) -> str | None:
        """The TSP's id of one of this connection's users; None for anyone else."""
        for user in self.user_records:
            if user.id == user_id:
                return user.source_id
        return None


@dataclass(frozen=True)
class Tsp:
    """A TSP behind the sandbox's connections, with the status of its integration of each resource.

    ``integrations`` maps every resource (``ResourceEnum``) to ``implemented`` (the TSP supports it and
    Catena implemented it), ``not_implemented`` (the TSP supports it, Catena not yet) or ``not_supported``
    (the TSP has no such API), as ``GET /v2/integrations/tsps`` gives them (``TspIntegrationsRead``).
    """

    id: str
    slug: str
    source_name: str
    integrations: tuple[tuple[str, str], ...] = field(repr=False)

    def status(self, resource: str) -> str:
        """The integration status of ``resource`` (``not_supported`` for a resource the TSP does not list)."""
        return dict(self.integrations).get(resource, "not_supported")

    def writes(self, resource: str) -> bool:
        """Whether Catena can write ``resource`` records (e.g. ``message``) to this TSP."""
        return self.status(resource) == "implemented"


@dataclass(frozen=True)
class Incident:
    """A period seeded into the sandbox's history in which one TSP or connection failed more than usual."""

    name: str
    kind: str  # "credential_expiry" | "network_outage" | "validation_change" | "degradation"
    source_name: str
    connection_id: str | None  # None: every connection of that TSP
    start: dt.datetime
    end: dt.datetime
    error_type: str  # the error_type it produces: auth | network | validation | tsp
    # a degradation's share of attempts that fail in the window; None for the other kinds, whose share
    # follows from what they do (every call refused, most calls timing out, long texts rejected)
    failure_rate: float | None = None


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
class AttemptRecord:
    """What one attempt changes on its operation: the log it adds, the new status and the ids it produced.

    The operation's ``updated_at`` becomes the log's. With ``logged`` False (a success, when the sandbox logs
    failed attempts only) the log is not added, but its time still dates the change.
    """

    log: dict[str, Any]
    status: str  # pending (a retry follows) | success | failed
    resource_id: str | None = None  # on success: the id of the message it created
    source_id: str | None = None  # on success: the TSP's id of that message
    logged: bool = True


@dataclass(frozen=True)
class Pace:
    """How the simulation's time runs in real time.

    Args:
        time_scale: multiplies every simulated wait (latencies, retry backoffs, delivery delays); the TSPs'
            rate limits become ``limit / time_scale`` calls per real second.
        tsp_latency: real seconds every TSP call takes, overriding the profiles' latencies (None: each
            call's simulated latency times ``time_scale``).

    Raises:
        ValueError: ``time_scale`` is not positive.
    """

    time_scale: float = 1.0
    tsp_latency: float | None = None

    def __post_init__(self) -> None:
        if not self.time_scale > 0:
            raise ValueError("time_scale must be positive")

    def real(self, simulated_s: float) -> float:
        """Real seconds for a simulated wait."""
        return simulated_s * self.time_scale

    def call_seconds(self, latency_s: float) -> float:
        """Real seconds a TSP call of this simulated latency takes."""
        return self.real(latency_s) if self.tsp_latency is None else self.tsp_latency


@dataclass(frozen=True)
class World:
    """Everything seeded from ``seed``: the partner, its connections and their users, and their TSPs."""

    seed: int
    partner_id: str
    connections: tuple[Connection, ...]
    tsps: tuple[Tsp, ...] = ()

    def connection(self, connection_id: str) -> Connection | None:
        """The connection with that id, or None."""
        for conn in self.connections:
            if conn.id == connection_id:
                return conn
        return None

    def tsp(self, tsp_id: str) -> Tsp | None:
        """The TSP with that id, or None."""
        for tsp in self.tsps:
            if tsp.id == tsp_id:
                return tsp
        return None

    def writes(self, conn: Connection, resource: str) -> bool:
        """Whether ``resource`` records can be written through ``conn`` (its TSP has them implemented)."""
        tsp = self.tsp(conn.tsp_id)
        return tsp is not None and tsp.writes(resource)

    @property
    def message_connections(self) -> tuple[Connection, ...]:
        """The connections whose TSP takes message writes: the ones traffic goes through."""
        return tuple(c for c in self.connections if self.writes(c, "message"))
