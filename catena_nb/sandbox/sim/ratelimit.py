"""Each connection's rate limit at its TSP (a token bucket), and the checks that a run kept to it."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence


class RateLimiter:
    """A token bucket: at most ``burst + rate * (t_j - t_i)`` calls are admitted in any interval [t_i, t_j].

    It is the TSP's gate for one connection: the instant a call is admitted is the instant the TSP counts it,
    and those instants are kept so that the invariant can be checked (``call_times``).
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        keep: int = 200_000,
    ) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()
        self._calls: deque[float] = deque(maxlen=keep)
        self.admitted = 0  # every admitted call, including those older than the kept instants

    def try_acquire(self) -> float:
        """Take a token if one is there: 0.0 when admitted, else the seconds until one will be."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                self._calls.append(now)
                self.admitted += 1
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def call_times(self) -> list[float]:
        """The clock readings at which calls were admitted, oldest first (the most recent ``keep``)."""
        with self._lock:
            return list(self._calls)


def bucket_violations(times: Sequence[float], rate: float, burst: float) -> int:
    """How many calls in ``times`` (sorted) broke ``count(t_i..t_j) <= burst + rate * (t_j - t_i)``."""
    violations = 0
    best = float("-inf")  # max over i <= j of (rate * t_i - i)
    for j, t in enumerate(times):
        best = max(best, rate * t - j)
        if (j + 1) - rate * t + best > burst + 1e-6:
            violations += 1
    return violations


def max_window_count(times: Sequence[float], window: float) -> int:
    """The largest number of calls in ``times`` (sorted) inside any interval of length ``window``."""
    best, i = 0, 0
    for j, t in enumerate(times):
        while t - times[i] > window:
            i += 1
        best = max(best, j - i + 1)
    return best
