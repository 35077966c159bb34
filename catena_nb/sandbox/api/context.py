"""What every route of the sandbox app shares: the store, the simulation engine, tokens and settings."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import anyio
from fastapi import Depends, Request

from catena_nb.sandbox.api.state import SandboxState
from catena_nb.sandbox.api.tokens import TokenStore

# Sync sends sleep for the simulated TSP latency in worker threads; this many may run at once.
SYNC_THREADS = 64
# assumed: Catena stops waiting for a sync send's TSP after this many seconds (29 s, the usual API gateway
# limit), and the send fails as a network read timeout: a 502 with the failed operation. The write endpoints
# list no 504 (specs/telematics/openapi.json), and the docs give no timeout.
SYNC_TSP_TIMEOUT_S = 29.0


class EngineLike(Protocol):
    """The part of the simulation engine the routes call."""

    def execute_sync(self, op: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Make one TSP attempt for ``op`` (blocking, at most ``timeout`` s) and return the updated record."""
        ...

    def enqueue(self, op: dict[str, Any]) -> None:
        """Queue ``op`` for the asynchronous worker."""
        ...

    def notify_webhook(self, event_name: str, sub: dict[str, Any]) -> None:
        """Send ``webhook.created``, ``.updated`` or ``.deleted`` about the subscription ``sub``."""
        ...

    def replay_webhook(self, webhook_id: str) -> int:
        """Deliver again what a subscription's dead-letter queue holds; how many events."""
        ...

    def start(self) -> None:
        """Start the worker threads."""
        ...

    def stop(self) -> None:
        """Stop the worker threads."""
        ...

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no operation is queued or in flight; False on timeout."""
        ...


class RequestCounter:
    """How many requests reached the server, per (method, route path); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, method: str, route: str) -> None:
        """Count one request."""
        with self._lock:
            self._counts[(method, route)] += 1

    def __getitem__(self, key: tuple[str, str]) -> int:
        with self._lock:
            return self._counts[key]

    def snapshot(self) -> dict[tuple[str, str], int]:
        """A copy of every count."""
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        """All requests counted."""
        with self._lock:
            return sum(self._counts.values())

    def __repr__(self) -> str:
        return f"RequestCounter({self.snapshot()!r})"


@dataclass
class SandboxContext:
    """The objects behind the routes; stored on ``app.state.ctx``."""

    state: SandboxState
    engine: EngineLike
    tokens: TokenStore
    requests: RequestCounter = field(default_factory=RequestCounter)
    sync_timeout: float = SYNC_TSP_TIMEOUT_S
    _limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        """The thread limiter of sync sends (created on the event loop, on first use)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(SYNC_THREADS)
        return self._limiter


def get_ctx(request: Request) -> SandboxContext:
    """The sandbox context of the app serving ``request``.

    Raises:
        TypeError: the app was not made by ``app.create_app``.
    """
    ctx = request.app.state.ctx
    if not isinstance(ctx, SandboxContext):
        raise TypeError(f"the app holds no SandboxContext but {type(ctx).__name__}")
    return ctx


# A route's parameter ``ctx: Ctx`` receives the context.
Ctx = Annotated[SandboxContext, Depends(get_ctx)]
