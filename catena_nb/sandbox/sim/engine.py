"""The simulation engine: what happens to an operation after the API accepted it.

Sync operations make one TSP attempt in the caller's thread; async ones go to the worker (retries, backoff,
rate limits) and fire ``resource_operation.*`` webhooks. Either way each attempt appends a log to the
operation, and a message the TSP accepted gets a record with its delivery life (``delivery.py``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any, Protocol

from catena_nb.sandbox.sim.delivery import MessageBook
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.message_events import MessageEvents
from catena_nb.sandbox.sim.outcomes import operation_key
from catena_nb.sandbox.sim.ratelimit import bucket_violations, max_window_count
from catena_nb.sandbox.sim.records import attempt_log
from catena_nb.sandbox.sim.timestamps import iso
from catena_nb.sandbox.sim.tsp import TspSimulator
from catena_nb.sandbox.sim.types import AttemptOutcome, AttemptRecord, Pace, World
from catena_nb.sandbox.sim.webhook_book import DeliveryBook
from catena_nb.sandbox.sim.webhooks import WebhookSender, webhook_event
from catena_nb.sandbox.sim.worker import AsyncWorker, Job, RetryPolicy


class StateLike(Protocol):
    """The part of the sandbox's store the engine uses."""

    world: World
    deliveries: DeliveryBook

    def add_operation(self, op: dict[str, Any]) -> None: ...
    def get_operation(self, op_id: str) -> dict[str, Any] | None: ...
    def record_attempt(self, op_id: str, attempt: AttemptRecord) -> dict[str, Any]: ...
    def add_message(self, msg: dict[str, Any]) -> None: ...
    def webhook_subscriptions(self) -> list[dict[str, Any]]: ...
    def get_webhook(self, webhook_id: str) -> dict[str, Any] | None: ...
    def set_webhook_status(self, webhook_id: str, status: str) -> None: ...


class Engine:
    """Runs sync and async operations against the simulated TSPs and records what happened.

    Args:
        state: the sandbox's store.
        seed: the seed of every outcome (with the operation's content and attempt number).
        pace: how simulated time runs in real time (default: as simulated, each TSP at its own latency).
        workers: threads making async attempts.
        policy: the async retry policy (default: 5 attempts, backoff from 2 s).
        success_logs: whether a successful attempt gets a log, as every failed one does.
        webhook_duplicates: the share of webhook deliveries sent twice (at-least-once delivery).

    Example:
        >>> engine = Engine(state, seed=7, pace=Pace(time_scale=0.001, tsp_latency=0.0))  # doctest: +SKIP
        >>> engine.start(); engine.enqueue(op); engine.wait_idle(30); engine.stop()  # doctest: +SKIP
    """

    def __init__(
        self,
        state: StateLike,
        *,
        seed: int,
        pace: Pace | None = None,
        workers: int = 8,
        policy: RetryPolicy | None = None,
        success_logs: bool = True,
        webhook_duplicates: float = 0.0,
    ) -> None:
        self._state = state
        self._pace = pace or Pace()
        self._success_logs = success_logs
        self._conns = {c.id: c for c in state.world.connections}
        self.tsp = TspSimulator(state.world, seed=seed, pace=self._pace)
        self._books = {c.id: MessageBook(seed, c, self.tsp.profile(c.id)) for c in state.world.connections}
        self.webhooks = WebhookSender(
            state,
            fleets={c.id: c.fleet_id for c in state.world.connections},
            pace=self._pace,
            seed=seed,
            duplicates=webhook_duplicates,
        )
        self._message_events = MessageEvents(self.webhooks)
        self.worker = AsyncWorker(
            call=lambda job: self._attempt(job.op, job.attempt, job.occurrence, sync=False),
            report=self._report_async,
            gate=lambda conn_id: self.tsp.limiter(conn_id).try_acquire(),
            jitter=lambda job: self.tsp.jitter(job.op, job.attempt, occurrence=job.occurrence),
            pace=self._pace,
            policy=policy,
            threads=workers,
        )
        self._lock = threading.Lock()
        self._occurrences: dict[str, int] = {}
        self._attempts = 0
        self._sync_calls = 0
        self._async_ops = 0
        self._stopped = False

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker and webhook threads (idempotent)."""
        self.webhooks.start()
        self.worker.start()

    def stop(self) -> None:
        """Stop and join every thread (idempotent); queued work is dropped."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self.worker.stop()
        self.webhooks.stop()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no async operation is pending and no webhook delivery is in flight.

        Returns:
            True once idle; False if ``timeout`` seconds passed first.
        """
        deadline = time.monotonic() + timeout
        if not self.worker.wait_idle(timeout):
            return False
        return self.webhooks.wait_idle(max(0.0, deadline - time.monotonic()))

    def notify_webhook(self, event_name: str, sub: dict[str, Any]) -> None:
        """Send ``webhook.created``, ``.updated`` or ``.deleted`` about the subscription ``sub``."""
        self.webhooks.emit(
            event_name, webhook_event(sub), key=(event_name, sub.get("event_name"), sub.get("url"))
        )

    def replay_webhook(self, webhook_id: str) -> int:
        """Deliver again what the subscription's dead-letter queue holds; how many events."""
        return self.webhooks.replay(webhook_id)

    # -- operations ----------------------------------------------------------------------------------------

    def execute_sync(self, op: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Make the one TSP attempt of a sync operation (blocking) and return the updated record.

        The attempt is logged; on success the record gets ``resource_id`` (the new message's id) and
        ``source_id`` (the TSP's), and the message is stored. No webhook fires (as the real API). A TSP
        call that would outlast ``timeout`` real seconds fails as a read timeout when they have passed.
        """
        self._ensure_stored(op)
        reason = self._invalid_reason(op)
        if reason is not None:
            return self._record(op, self._validation_failure(reason), final=True, key="")
        occurrence = self._next_occurrence(op)
        outcome = self._attempt(op, 1, occurrence, sync=True, timeout=timeout)
        return self._record(op, outcome, final=True, key=operation_key(op, occurrence))

    def enqueue(self, op: dict[str, Any]) -> None:
        """Accept an async operation: fire ``resource_operation.created`` and hand it to the worker.

        An operation naming a user that is not one of its connection's fails at once (a validation log, no
        TSP call) and fires ``resource_operation.failed``.
        """
        stored = self._ensure_stored(op)
        self.webhooks.publish("resource_operation.created", stored)
        reason = self._invalid_reason(op)
        if reason is not None:
            updated = self._record(op, self._validation_failure(reason), final=True, key="")
            self.webhooks.publish("resource_operation.failed", updated)
            return
        with self._lock:
            self._async_ops += 1
        occurrence = self._next_occurrence(op)
        self.worker.submit(Job(op=op, connection_id=op["connection_id"], occurrence=occurrence))

    # -- stats ---------------------------------------------------------------------------------------------

    def call_times(self, connection_id: str) -> list[float]:
        """The monotonic-clock instants at which the connection's TSP admitted calls."""
        return self.tsp.limiter(connection_id).call_times()

    @property
    def stats(self) -> dict[str, Any]:
        """Counters: attempts, retries, per-connection call rates and rate-limit checks, webhook deliveries.

        ``max_calls_per_s`` is the most calls the TSP saw in any one simulated second;
        ``rate_limit_violations`` counts calls that broke the connection's token bucket (always 0 unless
        there is a bug); ``sync_rate_limited`` counts sync calls answered 429 for exceeding it.
        """
        connections: dict[str, dict[str, Any]] = {}
        for conn_id, conn in self._conns.items():
            limiter = self.tsp.limiter(conn_id)
            times = limiter.call_times()
            profile = self.tsp.profile(conn_id)
            connections[conn_id] = {
                "source_name": conn.source_name,
                "calls": limiter.admitted,
                "rate_limit_per_s": profile.rate_per_s,
                "burst": profile.burst,
                "max_calls_per_s": max_window_count(times, self._pace.time_scale),
                "rate_limit_violations": bucket_violations(times, limiter.rate, limiter.burst),
                "sync_rate_limited": self.tsp.rate_limited[conn_id],
            }
        with self._lock:
            counters = {
                "attempts": self._attempts,
                "sync_calls": self._sync_calls,
                "async_operations": self._async_ops,
            }
        return {
            **counters,
            "retries": self.worker.retries,
            "throttled": self.worker.throttled,
            "pending": self.worker.pending,
            "connections": connections,
            "webhook_deliveries_sent": self.webhooks.sent,
            "webhook_deliveries_failed": self.webhooks.failed,
            "webhook_attempts": self.webhooks.attempts,
            "webhook_duplicates": self.webhooks.duplicated,
        }

    # -- internals -----------------------------------------------------------------------------------------

    def _ensure_stored(self, op: dict[str, Any]) -> dict[str, Any]:
        stored = self._state.get_operation(op["id"])
        if stored is None:
            self._state.add_operation(op)
            return op
        return stored

    def _next_occurrence(self, op: dict[str, Any]) -> int:
        # Identical content sent twice is two operations; the occurrence number tells them apart without
        # depending on ids or timing.
        base = operation_key(op, 0)
        with self._lock:
            n = self._occurrences.get(base, 0) + 1
            self._occurrences[base] = n
            return n

    def _invalid_reason(self, op: dict[str, Any]) -> str | None:
        # assumed (catena-api.md §11): Catena maps sender and recipients to TSP ids before calling the TSP; an
        # id that is not a user of the connection fails the operation at once with a validation error.
        conn_id = op.get("connection_id")
        conn = self._conns.get(str(conn_id))
        if conn is None:
            return f"connection_id '{conn_id}' is not a connection of this partner"
        resource = str(op.get("resource"))
        tsp = self._state.world.tsp(conn.tsp_id)
        if tsp is None or not tsp.writes(resource):
            # assumed: a write of a resource the connection's TSP does not take (GET /v2/integrations/tsps:
            # not_supported or not_implemented) fails at once with a validation error, without a TSP call;
            # the docs do not say how Catena answers it.
            status = "not_supported" if tsp is None else tsp.status(resource)
            name = conn.source_name if tsp is None else tsp.slug
            return (
                f"the TSP {name} of connection '{conn.id}' does not support {resource} writes ({status}); "
                "see GET /v2/integrations/tsps"
            )
        payload = op.get("payload") or {}
        named = [("sender_id", payload.get("sender_id"))]
        if op.get("resource") == "group_message":
            named += [("recipient_ids", r) for r in payload.get("recipient_ids") or []]
            if not payload.get("recipient_ids"):
                # assumed: an empty recipient_ids fails the operation as a validation error (the spec's
                # GroupMessageCreate requires the list but sets no minimum length)
                return "recipient_ids must name at least one user"
        else:
            named.append(("recipient_id", payload.get("recipient_id")))
        for field, user_id in named:
            if conn.source_id_of(str(user_id)) is None:
                return f"{field} '{user_id}' is not a user of connection '{conn.id}'"
        return None

    @staticmethod
    def _validation_failure(reason: str) -> AttemptOutcome:
        return AttemptOutcome(
            ok=False, latency_s=0.0, error_type="validation", error_details=f"Validation error: {reason}"
        )

    def _attempt(
        self, op: dict[str, Any], attempt: int, occurrence: int, *, sync: bool, timeout: float | None = None
    ) -> AttemptOutcome:
        outcome = self.tsp.call(op, attempt, sync=sync, occurrence=occurrence, timeout=timeout)
        with self._lock:
            self._attempts += 1
            if sync:
                self._sync_calls += 1
        return outcome

    def _report_async(self, job: Job, outcome: AttemptOutcome, final: bool) -> None:
        updated = self._record(job.op, outcome, final=final, key=operation_key(job.op, job.occurrence))
        if final:
            event = "resource_operation.succeeded" if outcome.ok else "resource_operation.failed"
            self.webhooks.publish(event, updated)

    def _record(
        self, op: dict[str, Any], outcome: AttemptOutcome, *, final: bool, key: str
    ) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        log = attempt_log(new_uuid7(), op["id"], iso(now), outcome)
        if not outcome.ok:
            return self._state.record_attempt(op["id"], AttemptRecord(log, "failed" if final else "pending"))
        message_id = new_uuid7()
        book = self._books[op["connection_id"]]
        source_id = str(outcome.source_id)
        message = book.live(op, message_id, source_id, key=key, now=now, pace=self._pace)
        self._state.add_message(message)
        self._message_events.added(message)
        # Whether Catena logs a successful attempt is not settled: the seed page's 200 example answers an
        # empty list, while the same page says the list holds one entry per attempt (catena-api.md §12).
        # `Sandbox(success_logs=)` chooses, so that both shapes are tested.
        return self._state.record_attempt(
            op["id"],
            AttemptRecord(log, "success", message_id, outcome.source_id, logged=self._success_logs),
        )
