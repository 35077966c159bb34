"""What the sandbox's notifications service remembers of its deliveries: one log per HTTP attempt, each
subscription's dead-letter queue, the counts behind its metrics and the circuit breaker's state.

Sources (catenaclearing/catena-sdk-go ``specs/notifications/openapi.json``, components ``WebhookLogRead``,
``WebhookMetrics``, ``TimePeriodMetric``; catena-api.md §9 and §12):

- a log per HTTP attempt: ``created_at, webhook_id, message_id`` (the event's id), ``event_name, status,
  status_code, error_message, response_time_ms``; logs are kept 14 days;
- metrics over the 6h, 24h, 7d and 14d windows: ``http_attempts``, ``http_success_attempts``,
  ``http_failure_attempts``, ``message_count``, ``message_success_count``, ``success_rate`` (only with at
  least 200 messages), ``avg_response_time_ms``, and ``ewma_success_rate`` and ``dlq_count`` (the events
  parked, kept 14 days, brought back only by a replay);
- the breaker: with 50 or more deliveries an EWMA success rate below 95% marks the subscription ``stale``,
  with 20-49 below 80%, under 20 ten consecutive failures; never within 15 minutes of its creation or last
  update; it is never reactivated automatically.

Every span (windows, retention, grace) is simulated time, so ``time_scale`` shrinks it like every other wait.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.timestamps import iso

RETENTION_S = 14 * 86_400.0  # the DLQ keeps an event, and the logs an attempt, this long
GRACE_S = 15 * 60.0  # no breaker within this long of a subscription's creation or last update
WINDOWS = (("6h", 6 * 3600.0), ("24h", 86_400.0), ("7d", 7 * 86_400.0), ("14d", RETENTION_S))
SUCCESS_RATE_MIN_MESSAGES = 200  # "Only available if there are at least 200 messages"
# The breaker's thresholds by volume: (fewest deliveries, EWMA below which the subscription goes stale).
EWMA_RULES = ((50, 0.95), (20, 0.80))
STALE_AFTER_FAILURES = 10  # under 20 deliveries: this many consecutive failures
# assumed: the EWMA's weight of the newest delivery (the docs give the thresholds, not the weight); a new
# subscription starts at 1.0, healthy.
EWMA_ALPHA = 0.1
# assumed: the breaker counts the deliveries (events settled, after their retries) of the last 6 hours, as
# `webhook.staled`'s description ("the success rate for the last 6 hours") counts them.
BREAKER_WINDOW_S = 6 * 3600.0


@dataclass
class DeadLetter:
    """An event parked in a subscription's dead-letter queue."""

    event_id: str
    event_name: str
    data: list[dict[str, Any]]
    attempts: int  # HTTP attempts made so far (a replay's attempts count on from here)
    parked_at: float  # monotonic


@dataclass
class _Book:
    """One subscription's logs, settled deliveries, queue and EWMA."""

    logs: list[dict[str, Any]] = field(default_factory=list)  # by (created_at, id)
    attempts: deque[tuple[float, bool, int]] = field(default_factory=deque)  # (monotonic, 2xx, ms)
    # each event once, by id: (monotonic, delivered) of its first settling; a replay that delivers it marks
    # it delivered, so that "unique messages/events processed (regardless of retries)" counts it once
    messages: dict[str, tuple[float, bool]] = field(default_factory=dict)
    dlq: list[DeadLetter] = field(default_factory=list)
    ewma: float | None = None
    consecutive_failures: int = 0


class DeliveryBook:
    """The notifications service's records of every subscription's deliveries (thread-safe).

    Args:
        time_scale: shrinks the windows, the retention and the grace period (as every simulated wait).
        clock: the monotonic clock (tests pass their own).
    """

    def __init__(self, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.time_scale = time_scale
        self._clock = clock
        self._lock = threading.Lock()
        self._books: dict[str, _Book] = {}

    def _book(self, webhook_id: str) -> _Book:
        book = self._books.get(webhook_id)
        if book is None:
            book = self._books[webhook_id] = _Book()
        return book

    def _span(self, simulated_s: float) -> float:
        return simulated_s * self.time_scale

    def _purge(self, book: _Book, now: float) -> None:
        horizon = now - self._span(RETENTION_S)
        while book.attempts and book.attempts[0][0] < horizon:
            book.attempts.popleft()
        old = [event_id for event_id, (t, _) in book.messages.items() if t < horizon]
        for event_id in old:
            del book.messages[event_id]
        book.dlq = [d for d in book.dlq if d.parked_at >= horizon]
        wall = iso(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=self._span(RETENTION_S)))
        cut = bisect.bisect_left(book.logs, wall, key=lambda log: log["created_at"])
        del book.logs[:cut]

    # -- what the sender records -----------------------------------------------------------------------

    def log_attempt(
        self,
        webhook_id: str,
        *,
        event_id: str,
        event_name: str,
        attempt: int,
        status_code: int,
        delivered: bool,
        error_message: str | None,
        response_time_ms: int | None,
    ) -> None:
        """Record one HTTP attempt (``delivered``: any answer but a 5xx, as Catena counts it)."""
        log = {
            "created_at": iso(dt.datetime.now(dt.UTC)),
            "webhook_id": webhook_id,
            "message_id": event_id,
            "event_name": event_name,
            # assumed: a log's status is `success` or `failed`, the values the logs route filters on (the
            # spec's WebhookLogRead names the subscription StatusEnum, whose values fit no attempt)
            "status": "success" if delivered else "failed",
            "status_code": status_code,
            "error_message": error_message,
            "response_time_ms": response_time_ms,
            # assumed: each log also says which attempt of its event it was (the docs' fields do not)
            "delivery_attempt": attempt,
            "id": new_uuid7(),
        }
        with self._lock:
            book = self._book(webhook_id)
            book.logs.append(log)
            book.attempts.append((self._clock(), 200 <= status_code < 300, response_time_ms or 0))

    def settle(self, webhook_id: str, event_id: str, letter: DeadLetter | None) -> None:
        """Record an event's end: delivered (``letter`` None), or parked in the dead-letter queue."""
        delivered = letter is None
        with self._lock:
            book = self._book(webhook_id)
            now = self._clock()
            first = book.messages.get(event_id)
            book.messages[event_id] = (
                now if first is None else first[0],
                delivered or bool(first and first[1]),
            )
            x = 1.0 if delivered else 0.0
            book.ewma = (1.0 if book.ewma is None else book.ewma) * (1 - EWMA_ALPHA) + EWMA_ALPHA * x
            book.consecutive_failures = 0 if delivered else book.consecutive_failures + 1
            if letter is not None:
                letter.parked_at = now
                book.dlq.append(letter)

    def trips(self, webhook_id: str, updated_at: str) -> bool:
        """Whether the circuit breaker marks the subscription stale now.

        Args:
            updated_at: the subscription's creation or last update (the sandbox's timestamp), which starts
                its grace period.
        """
        since = dt.datetime.fromisoformat(updated_at.replace("Z", "+00:00"))
        if (dt.datetime.now(dt.UTC) - since).total_seconds() < self._span(GRACE_S):
            return False
        with self._lock:
            book = self._book(webhook_id)
            horizon = self._clock() - self._span(BREAKER_WINDOW_S)
            volume = sum(1 for t, _ in book.messages.values() if t >= horizon)
            ewma = 1.0 if book.ewma is None else book.ewma
            for fewest, threshold in EWMA_RULES:
                if volume >= fewest:
                    return ewma < threshold
            return book.consecutive_failures >= STALE_AFTER_FAILURES

    def take_dead_letters(self, webhook_id: str) -> list[DeadLetter]:
        """Empty the subscription's dead-letter queue (a replay), oldest first."""
        with self._lock:
            book = self._book(webhook_id)
            self._purge(book, self._clock())
            letters, book.dlq = book.dlq, []
            return letters

    def forget(self, webhook_id: str) -> None:
        """Drop everything about a deleted subscription."""
        with self._lock:
            self._books.pop(webhook_id, None)

    # -- what the routes read --------------------------------------------------------------------------

    def logs(self, webhook_id: str) -> list[dict[str, Any]]:
        """Copies of the subscription's logs of the last 14 days, oldest first."""
        with self._lock:
            book = self._book(webhook_id)
            self._purge(book, self._clock())
            return [dict(log) for log in book.logs]

    def dlq_count(self, webhook_id: str) -> int:
        """How many events the subscription's dead-letter queue holds."""
        with self._lock:
            book = self._book(webhook_id)
            self._purge(book, self._clock())
            return len(book.dlq)

    def metrics(self, webhook_id: str) -> dict[str, Any]:
        """The subscription's ``WebhookMetrics``."""
        with self._lock:
            book = self._book(webhook_id)
            now = self._clock()
            self._purge(book, now)
            out: dict[str, Any] = {"webhook_id": webhook_id}
            names = (
                "http_attempts",
                "http_success_attempts",
                "http_failure_attempts",
                "message_count",
                "message_success_count",
                "success_rate",
                "avg_response_time_ms",
            )
            for name in names:
                out[name] = {}
            for label, span in WINDOWS:
                since = now - self._span(span)
                attempts = [(ok, ms) for t, ok, ms in book.attempts if t >= since]
                messages = [ok for t, ok in book.messages.values() if t >= since]
                ok_attempts = sum(1 for ok, _ in attempts if ok)
                delivered = sum(messages)
                out["http_attempts"][label] = len(attempts)
                out["http_success_attempts"][label] = ok_attempts
                out["http_failure_attempts"][label] = len(attempts) - ok_attempts
                out["message_count"][label] = len(messages)
                out["message_success_count"][label] = delivered
                # a percentage, as the spec's example gives it (96, 97, 98)
                out["success_rate"][label] = (
                    round(100 * delivered / len(messages))
                    if len(messages) >= SUCCESS_RATE_MIN_MESSAGES
                    else None
                )
                out["avg_response_time_ms"][label] = (
                    round(sum(ms for _, ms in attempts) / len(attempts)) if attempts else None
                )
            out["ewma_success_rate"] = None if book.ewma is None else round(book.ewma, 4)
            out["dlq_count"] = len(book.dlq)
            return out
