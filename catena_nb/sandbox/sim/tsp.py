"""The simulated TSPs behind the sandbox's connections: each call decided, timed and rate-limited.

What a call answers comes from ``outcomes.py`` (pure); this module adds what is about time: the call waits
the TSP's latency, and a sync call that finds its connection's bucket empty is answered 429.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from catena_nb.sandbox.sim.outcomes import decide, draw, operation_key, rate_limited, read_timeout
from catena_nb.sandbox.sim.profiles import PROFILES, TspProfile
from catena_nb.sandbox.sim.ratelimit import RateLimiter
from catena_nb.sandbox.sim.types import AttemptOutcome, Pace, World


class TspSimulator:
    """The TSPs behind the sandbox's connections: decides, times and rate-limits each call.

    Args:
        world: the seeded connections.
        seed: mixed into every outcome.
        pace: how long a call takes in real seconds; the rate limits become ``rate / time_scale`` per real
            second.
        clock: the rate limiters' clock (tests may pass a fake).
    """

    def __init__(
        self, world: World, *, seed: int, pace: Pace, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seed = seed
        self.pace = pace
        self._profiles = {c.id: PROFILES[c.source_name] for c in world.connections}
        self._count_lock = threading.Lock()
        self.rate_limited: dict[str, int] = dict.fromkeys(self._profiles, 0)  # sync calls answered 429
        self._limiters = {
            conn_id: RateLimiter(p.rate_per_s / pace.time_scale, p.burst, clock=clock)
            for conn_id, p in self._profiles.items()
        }

    def profile(self, connection_id: str) -> TspProfile:
        """The profile of the TSP behind a connection (KeyError for an unknown connection)."""
        return self._profiles[connection_id]

    def limiter(self, connection_id: str) -> RateLimiter:
        """The rate-limit gate of a connection."""
        return self._limiters[connection_id]

    def decide(self, op: dict[str, Any], attempt: int, *, occurrence: int = 1) -> AttemptOutcome:
        """The outcome of attempt ``attempt`` of ``op`` (pure; no waiting, no rate limit)."""
        profile = self._profiles[op["connection_id"]]
        u = draw(self.seed, operation_key(op, occurrence), attempt)
        return decide(profile, u, text=(op.get("payload") or {}).get("message_text"))

    def jitter(self, op: dict[str, Any], attempt: int, *, occurrence: int = 1) -> float:
        """A uniform float in [0, 1) for the backoff after ``attempt``, seeded like the outcome."""
        return draw(self.seed, operation_key(op, occurrence), attempt)[3]

    def call(
        self,
        op: dict[str, Any],
        attempt: int,
        *,
        sync: bool,
        occurrence: int = 1,
        timeout: float | None = None,
    ) -> AttemptOutcome:
        """Make one call to the TSP: wait the latency and return what it answered.

        A sync call passes the connection's rate-limit gate itself and gets a 429 when the bucket is empty
        (Catena does not rate-limit sync writes). An async call must have been admitted by the worker
        (``limiter(connection_id).try_acquire()``) before it gets here. A call whose latency would pass
        ``timeout`` real seconds ends at the timeout as a network error (``read_timeout``).
        """
        profile = self._profiles[op["connection_id"]]
        if sync:
            # assumed: the TSP counts sync and async calls against one bucket per connection (one API token);
            # Catena does not throttle sync writes, so one that finds the bucket empty gets the TSP's 429.
            wait = self._limiters[op["connection_id"]].try_acquire()
            if wait > 0.0:
                with self._count_lock:
                    self.rate_limited[op["connection_id"]] += 1
                return rate_limited(profile, wait / self.pace.time_scale)
        outcome = self.decide(op, attempt, occurrence=occurrence)
        delay = self.pace.call_seconds(outcome.latency_s)
        if timeout is not None and delay > timeout:
            time.sleep(timeout)
            return read_timeout(timeout)
        if delay > 0.0:
            time.sleep(delay)
        return outcome if self.pace.tsp_latency is None else replace(outcome, latency_s=delay)
