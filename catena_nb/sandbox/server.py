"""``Sandbox``: the Catena stand-in served by uvicorn on 127.0.0.1, in a background thread."""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

from catena_nb.sandbox.api.app import serve_app
from catena_nb.sandbox.api.auth import REALM_PREFIX
from catena_nb.sandbox.api.context import EngineLike, RequestCounter, SandboxContext
from catena_nb.sandbox.api.costs import ApiCosts
from catena_nb.sandbox.api.faults import FaultInjector, FaultRates
from catena_nb.sandbox.api.state import SandboxState
from catena_nb.sandbox.api.tokens import TokenStore, check_scopes
from catena_nb.sandbox.sim.types import Connection, Incident, Pace, Tsp, World

logger = logging.getLogger("catena_nb.sandbox")

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
_T = TypeVar("_T")


class ServerThread:
    """Runs an ASGI app with uvicorn in a daemon thread, on a socket bound before the thread starts.

    Binding first (port 0 for a free one) avoids the race of picking a free port and binding it later, and
    gives the port at once (uvicorn cannot report a port-0 assignment).

    Args:
        app: the ASGI app.
        port: the port on 127.0.0.1; 0 picks a free one.
    """

    def __init__(self, app: ASGIApp, *, port: int = 0) -> None:
        self._app = app
        self._requested_port = port
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Bind, start serving, and return once uvicorn is accepting connections.

        Raises:
            OSError: the port is taken.
            RuntimeError: uvicorn did not start within ``timeout``.
        """
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
        # without it every answer (head, then body) waits ~40 ms for the client's delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, self._requested_port))
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_config=None,  # leave the host program's logging alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            # Longer than any client's keep-alive expiry, so the server never closes a connection that a
            # client is about to reuse.
            timeout_keep_alive=75,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"catena-sandbox:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._close_socket()
                raise RuntimeError("the sandbox's server stopped while starting (see the log)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox's server did not start within {timeout} s")
            time.sleep(0.005)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Ask uvicorn to exit and wait for its thread (forcing it out if it does not leave in time)."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout)
        self._close_socket()

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@dataclass
class Simulation:
    """Part of the sandbox that simulates the world behind the API: built by ``Sandbox._simulation``."""

    world: World
    engine_factory: Callable[[SandboxState], EngineLike]
    operations: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


def _started(value: _T | None) -> _T:
    """``value``, which a sandbox holds once started."""
    if value is None:
        raise RuntimeError("the sandbox is not running: use `with Sandbox(...) as sb:` or call start()")
    return value


def _parse_anchor(anchor: str | dt.date | None) -> dt.date | None:
    if anchor is None or (isinstance(anchor, dt.date) and not isinstance(anchor, dt.datetime)):
        return anchor
    if isinstance(anchor, dt.datetime):
        return anchor.date()
    try:
        return dt.date.fromisoformat(anchor)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"anchor must be a date such as '2026-11-01', not {anchor!r}") from exc


class Sandbox:
    """A local Catena API with simulated TSPs, served over real HTTP on 127.0.0.1.

    Use it as a context manager (or call ``start()``/``stop()``)::

        with Sandbox(seed=7) as sb:
            client = CatenaClient(base_url=sb.url, client_id=sb.client_id, client_secret=sb.client_secret,
                                  auth_url=sb.auth_url)

    Args:
        seed: seeds the world (connections, users), the TSPs' outcomes and the fault injector.
        history: days of past operations to pre-seed, ending at ``anchor``.
        anchor: the last day of the history (required with ``history``; never "today", so the same arguments
            give the same data on any day).
        faults: the share of API requests disturbed (500, 429, slow, dropped), or a dict per kind
            (``{"500": 0.05, "429": 0.05, "slow": 0.0, "drop": 0.01}``).
        tsp_latency: seconds per TSP call, overriding every TSP profile's latency.
        api_latency: seconds every API answer takes, plus the same again spread over a full list page of
            1,000 items (a page of 10 takes about the latency, a page of 1,000 twice it); with it, listings
            are rate limited to 50 requests a second per token (429 with ``retry_after_seconds``). None:
            answers as fast as they are made, and no rate limit.
        time_scale: shrinks every simulated wait (retry backoff, delivery delays, slow faults).
        token_ttl: seconds an OAuth token lives.
        port: the port on 127.0.0.1 (0: a free one).
        success_logs: whether a successful attempt gets a log, as every failed one does, in live traffic and
            in the history alike (Catena's docs show both; an analysis must not depend on it).
        scopes: the OAuth scopes the client credentials (and ``token``) are granted, e.g.
            ``["telematics:read"]``; default: every scope the routes require. A route whose scope is
            missing answers 403.
        webhook_duplicates: the share of webhook deliveries sent twice, as Catena's at-least-once delivery
            sometimes does (seeded: the same sends get the same duplicates); receivers dedupe on the
            envelope's ``id``.
        incidents: the incidents to seed into the history, as dicts or objects with ``kind``
            (``credential_expiry``, ``network_outage``, ``validation_change`` or ``degradation``),
            ``source_name``, optional ``connection_id``, ``start``, ``end`` (ISO strings or datetimes),
            ``error_type`` and, for a degradation, ``failure_rate`` (the share of attempts that fail in the
            window); ``[]`` gives a quiet history; None (the default): three named incidents placed from
            the seed (in a history of 9 days or more). ``sb.incidents`` lists what was seeded.
        client_secret: the OAuth client secret the client must present (default: a fresh random one), for
            a process that hands its sandbox's credentials out before the sandbox serves.

    Raises:
        ValueError: ``history`` without ``anchor``, an unknown scope, an incident spec that does not fit
            (naming its field), or an invalid argument.
    """

    def __init__(
        self,
        seed: int = 7,
        *,
        history: int = 0,
        anchor: str | dt.date | None = None,
        faults: float | Mapping[str, float] | None = None,
        tsp_latency: float | None = None,
        api_latency: float | None = None,
        time_scale: float = 1.0,
        token_ttl: float = 3600.0,
        port: int = 0,
        success_logs: bool = True,
        scopes: Iterable[str] | None = None,
        webhook_duplicates: float = 0.0,
        incidents: Iterable[Any] | None = None,
        client_secret: str | None = None,
    ) -> None:
        if history < 0:
            raise ValueError(f"history must be a number of days >= 0, not {history}")
        self.anchor = _parse_anchor(anchor)
        if history and self.anchor is None:
            raise ValueError(
                "history= needs anchor= (the last day of the history, e.g. anchor='2026-11-01'), so that the "
                "same arguments give the same data on any day"
            )
        if not time_scale > 0:
            raise ValueError(f"time_scale must be > 0, not {time_scale}")
        if not token_ttl > 0:
            raise ValueError(f"token_ttl must be > 0, not {token_ttl}")
        if tsp_latency is not None and tsp_latency < 0:
            raise ValueError(f"tsp_latency must be >= 0, not {tsp_latency}")
        if api_latency is not None and not api_latency >= 0:
            raise ValueError(f"api_latency must be >= 0, not {api_latency}")
        if client_secret is not None and (not isinstance(client_secret, str) or not client_secret):
            raise ValueError("client_secret must be a non-empty string")
        if not 0.0 <= webhook_duplicates <= 1.0:
            raise ValueError(f"webhook_duplicates must be a share between 0 and 1, not {webhook_duplicates}")
        self.webhook_duplicates = webhook_duplicates
        self.seed = seed
        self.history = history
        self._incident_specs = self._check_incidents(incidents)
        self.tsp_latency = tsp_latency
        self.api_latency = api_latency
        self.time_scale = time_scale
        self.token_ttl = token_ttl
        # assumed: successful attempts are logged by default, as the docs' "one entry per attempt" and the
        # log status `success` say, though the seed page's sync 200 example answers "logs": [] (catena-api.md
        # §12)
        self.success_logs = success_logs
        self.scopes = check_scopes(scopes)
        self._port = port
        self.fault_injector = FaultInjector(FaultRates.parse(faults), seed=seed, time_scale=time_scale)
        self.client_id = f"catena-sandbox-{seed}"
        self._client_secret = client_secret if client_secret is not None else secrets.token_urlsafe(24)
        self._server: ServerThread | None = None
        self._ctx: SandboxContext | None = None
        self._token: str | None = None
        self.incidents: list[Incident] = []

    def _check_incidents(self, specs: Iterable[Any] | None) -> list[Incident] | None:
        """The incidents asked for, checked before anything is built (None: the seeded default)."""
        if specs is None:
            return None
        from catena_nb.sandbox.sim.incidents import parse_incidents
        from catena_nb.sandbox.sim.world import build_world

        specs = list(specs) if not isinstance(specs, (str, bytes, Mapping)) else specs
        if specs and (not self.history or self.anchor is None):
            raise ValueError("incidents= need a history (history=DAYS, anchor=DATE) to happen in")
        window = None
        if self.anchor is not None:
            end = dt.datetime.combine(self.anchor, dt.time(0), dt.UTC) + dt.timedelta(days=1)
            window = (end - dt.timedelta(days=self.history), end)
        return parse_incidents(specs, build_world(self.seed), window=window)

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "not started"
        return f"Sandbox({where}, seed={self.seed})"

    # -- life cycle ----------------------------------------------------------------------------------------

    def _simulation(self) -> Simulation:
        """Build the simulated world, its history and its engine (the simulation modules of this package)."""
        from catena_nb.sandbox.sim.engine import Engine
        from catena_nb.sandbox.sim.world import build_world

        world = build_world(self.seed)
        sim = Simulation(
            world=world,
            engine_factory=lambda state: Engine(
                state,
                seed=self.seed,
                pace=Pace(time_scale=self.time_scale, tsp_latency=self.tsp_latency),
                success_logs=self.success_logs,
                webhook_duplicates=self.webhook_duplicates,
            ),
        )
        if self.history and self.anchor is not None:  # __init__ refuses a history without an anchor
            from catena_nb.sandbox.sim.history import generate_history

            hist = generate_history(
                world,
                self.seed,
                self.history,
                self.anchor,
                success_logs=self.success_logs,
                incidents=self._incident_specs,
            )
            sim.operations, sim.messages, sim.incidents = hist.operations, hist.messages, list(hist.incidents)
        return sim

    def start(self) -> Sandbox:
        """Build the world, start the simulation and serve the API; returns self.

        Raises:
            RuntimeError: already started, or the server did not start.
            OSError: the requested port is taken.
        """
        if self._server is not None:
            raise RuntimeError("this sandbox is already running")
        t0 = time.perf_counter()
        sim = self._simulation()
        state = SandboxState(sim.world)
        state.add_operations(sim.operations)
        state.add_messages(sim.messages)
        engine = sim.engine_factory(state)
        tokens = TokenStore(
            self.client_id, self._client_secret, sim.world.partner_id, self.token_ttl, scopes=self.scopes
        )
        ctx = SandboxContext(state=state, engine=engine, tokens=tokens)
        costs = None if self.api_latency is None else ApiCosts(self.api_latency)
        server = ServerThread(serve_app(ctx, self.fault_injector, costs), port=self._port)
        engine.start()
        try:
            server.start()
        except BaseException:
            engine.stop()
            raise
        self._ctx, self._server, self.incidents = ctx, server, sim.incidents
        self._token, _ = tokens.issue(ttl=math.inf)
        if sim.operations:
            # Render the history's lookup JSON in the background: the first listing is then as fast as later.
            threading.Thread(target=state.warm_json_cache, name="catena-sandbox-warm", daemon=True).start()
        logger.info(
            "sandbox serving at %s (seed %s) after %.2f s", self.url, self.seed, time.perf_counter() - t0
        )
        return self

    def stop(self) -> None:
        """Stop serving and stop the simulation's worker (safe to call twice)."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        if self._ctx is not None:
            self._ctx.engine.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what callers use ----------------------------------------------------------------------------------

    def _context(self) -> SandboxContext:
        """What the routes serve (kept after ``stop()``, so that tests can look at the store)."""
        return _started(self._ctx)

    @property
    def port(self) -> int:
        """The port the API listens on."""
        return _started(self._server).port

    @property
    def url(self) -> str:
        """The API's base URL, e.g. ``http://127.0.0.1:8000``."""
        return f"http://{HOST}:{self.port}"

    @property
    def auth_url(self) -> str:
        """The Keycloak realm URL; the token endpoint is ``auth_url + "/protocol/openid-connect/token"``."""
        return self.url + REALM_PREFIX

    @property
    def token_url(self) -> str:
        """The OAuth token endpoint."""
        return self.auth_url + "/protocol/openid-connect/token"

    @property
    def client_secret(self) -> str:
        """The OAuth client secret of this sandbox."""
        return self._client_secret

    @property
    def token(self) -> str:
        """A bearer token valid for the sandbox's whole life, with the sandbox's ``scopes``."""
        return _started(self._token)

    @property
    def state(self) -> SandboxState:
        """The store behind the API (for tests)."""
        return self._context().state

    @property
    def engine(self) -> EngineLike:
        """The simulation engine (for tests: ``.stats``)."""
        return self._context().engine

    @property
    def connections(self) -> list[Connection]:
        """The seeded connections, each with ``.id``, ``.source_name`` and ``.users``."""
        return list(self._context().state.world.connections)

    @property
    def message_connections(self) -> list[Connection]:
        """The seeded connections whose TSP takes message writes (the others' sends fail)."""
        return list(self._context().state.world.message_connections)

    @property
    def tsps(self) -> list[Tsp]:
        """The TSPs behind the connections, each with ``.id``, ``.slug`` and ``.status(resource)``."""
        return list(self._context().state.world.tsps)

    @property
    def partner_id(self) -> str:
        """The partner id every operation carries."""
        return self._context().state.world.partner_id

    @property
    def tsp_names(self) -> list[str]:
        """The ``source_name`` of every simulated TSP behind the connections."""
        return sorted({c.source_name for c in self.connections})

    @property
    def requests(self) -> RequestCounter:
        """Requests that reached the server per (method, route path), rejected ones included."""
        return self._context().requests

    @property
    def fault_counts(self) -> dict[str, int]:
        """How many faults of each kind (``500``, ``429``, ``slow``, ``drop``) were injected."""
        return self.fault_injector.counts

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until the async worker has settled every queued operation; False on timeout."""
        return self._context().engine.wait_idle(timeout)
