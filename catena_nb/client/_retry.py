"""When a retry is safe, how long to wait, and `Retry-After`.

Only GETs and the token request are retried (a create is never resent automatically: the API has no
idempotency key). Retried: connection errors, 429, 500, 502, 503, 504. The wait is the server's hint when
it gave one (the `Retry-After` header, in seconds or as an HTTP date, then the 429 body's
`detail.retry_after_seconds`), capped, else exponential backoff with full jitter.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from catena_nb import _config

__all__ = ["RETRY_STATUSES", "Pacer", "RetryPolicy", "retry_after_s"]

logger = logging.getLogger("catena_nb.retry")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after_s(headers: Mapping[str, str], body: bytes | str | None = None) -> float | None:
    """The server's wait hint in seconds: `Retry-After` (seconds or HTTP date), then `retry_after_seconds`."""
    raw = headers.get("retry-after") or headers.get("Retry-After")
    if raw:
        raw = raw.strip()
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.UTC)
                return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            return None
        detail = data.get("detail") if isinstance(data, dict) else None
        if isinstance(detail, dict):
            value = detail.get("retry_after_seconds")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return max(0.0, float(value))
    return None


@dataclass
class RetryPolicy:
    """How many times to retry and how long to wait between tries."""

    max_retries: int = _config.DEFAULT_MAX_RETRIES
    initial_delay: float = _config.INITIAL_RETRY_DELAY_S
    max_delay: float = _config.MAX_RETRY_DELAY_S
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter for the given 0-based retry number."""
        ceiling = min(self.max_delay, self.initial_delay * (2**attempt))
        return self.rng.uniform(0, ceiling)

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """The wait before retry number `attempt`: the server's hint (capped) if any, else backoff."""
        if hint is not None:
            return min(hint, self.max_delay)
        return self.backoff(attempt)

    def should_retry_status(self, status_code: int, attempt: int) -> bool:
        """Whether a response with this status may be retried once more."""
        return status_code in RETRY_STATUSES and attempt < self.max_retries

    def log_decision(self, what: str, attempt: int, delay: float, reason: str) -> None:
        """Log one retry decision at debug level (never with headers or bodies, which may hold secrets)."""
        logger.debug(
            "retrying %s (retry %d of %d) in %.2f s after %s",
            what,
            attempt + 1,
            self.max_retries,
            delay,
            reason,
        )


class Pacer:
    """A pause shared by the workers of a batch: after a 429 every worker waits until the pause ends.

    Thread-safe; the clock and the sleep are injectable so tests take no time.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self._streak = 0
        self.pauses = 0

    def pause(self) -> tuple[float, float]:
        """Seconds left in the current pause (0 when none), and the pause's end for `resumed`."""
        with self._lock:
            return max(0.0, self._resume_at - self._clock()), self._resume_at

    def resumed(self, end: float) -> None:
        """Note that a worker slept until `end`: that pause is over (unless it was extended meanwhile)."""
        with self._lock:
            if self._resume_at == end:
                self._resume_at = min(end, self._clock())

    def wait(self) -> None:
        """Sleep until the current pause ends."""
        remaining, end = self.pause()
        if remaining > 0:
            self._sleep(remaining)
            self.resumed(end)

    def slow_down(self, hint: float | None) -> float:
        """Start (or extend) a pause after a 429 or a refused connection; returns its length."""
        with self._lock:
            delay = self._policy.delay(self._streak, hint)
            self._streak = min(self._streak + 1, 16)
            self._resume_at = max(self._resume_at, self._clock() + delay)
            self.pauses += 1
        logger.debug("batch paused for %.2f s (server hint %s)", delay, hint)
        return delay

    def ok(self) -> None:
        """Note a success: the next pause starts from the initial delay again."""
        with self._lock:
            self._streak = 0
