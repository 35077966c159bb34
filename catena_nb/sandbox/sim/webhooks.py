"""The sandbox's sender of webhook deliveries (catena-api.md §9).

Each event goes to every active subscription whose ``event_name`` matches it (exactly, or as a wildcard
such as ``resource_operation.*`` or ``*``) and whose filters admit the operation's fleet. A delivery is a
gzipped JSON envelope signed with the subscription's secret: ``X-Catena-Signature`` is
``base64(HMAC-SHA256(secret, timestamp + "." + uncompressed payload))`` where ``timestamp`` is the
``X-Catena-Timestamp`` header. A 5xx answer or a connection error is retried with backoff; any other status
counts as delivered. Ten events undelivered in a row mark the subscription stale (the circuit breaker).

Deliveries run on their own threads ("lanes"), never on the worker's. All events of one operation go to the
same lane, in order, so a receiver sees ``created`` before ``succeeded`` or ``failed``.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import functools
import gzip
import hashlib
import hmac
import json
import logging
import queue
import threading
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.records import webhook_shape
from catena_nb.sandbox.sim.threads import ThreadGroup
from catena_nb.sandbox.sim.types import Pace

logger = logging.getLogger("catena_nb.sandbox.sim.webhooks")

ENVELOPE_VERSION = "1.0"
SCHEMA_VERSION = "1.2"
# A delivery answered with a 5xx or not within 3 s is retried "up to 3 times within approximately 5 seconds",
# then parked in the dead-letter queue (api-reference/webhooks/overview; catena-api.md §12): four attempts.
MAX_DELIVERY_ATTEMPTS = 4
# assumed: the spacing of those retries, 0.75, 1.5 and 3 s (5.25 s in all, times time_scale); the docs give
# only the total.
DELIVERY_BACKOFF_S = 0.75
RECEIVER_TIMEOUT_S = 3.0  # the docs ask receivers to answer within 3 s
# assumed: of Catena's circuit breaker (catena-api.md §9) only the rule for small volumes is kept: this many
# undelivered events in a row mark the subscription stale, and it gets nothing more until reactivated.
STALE_AFTER_FAILURES = 10


def event_matches(pattern: str, event_name: str) -> bool:
    """True if a subscription's ``event_name`` (an event or a wildcard) covers ``event_name``."""
    return pattern == event_name or fnmatch.fnmatchcase(event_name, pattern)


def _filters_admit(filters: Any, op: dict[str, Any], fleet_id: str | None) -> bool:
    if not isinstance(filters, dict):
        return True
    fleet_ids = filters.get("fleet_ids") or []
    fleet_refs = filters.get("fleet_refs") or []
    if fleet_ids and fleet_id not in fleet_ids:
        return False
    return not (fleet_refs and op.get("fleet_ref") not in fleet_refs)


def sign(secret: str, timestamp: str, payload: bytes) -> str:
    """``base64(HMAC-SHA256(secret, timestamp + "." + payload))``, as Catena signs deliveries."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class Subscriptions(Protocol):
    """Where the subscriptions are kept (the sandbox's store)."""

    def webhook_subscriptions(self) -> list[dict[str, Any]]: ...
    def set_webhook_status(self, webhook_id: str, status: str) -> None: ...


@dataclass
class _Delivery:
    subscription: dict[str, Any] = field(repr=False)  # holds the secret, which must never reach a log
    event_name: str
    event_id: str
    data: list[dict[str, Any]]


class WebhookSender:
    """Posts events to the matching subscriptions on a few lane threads, with retries.

    Args:
        store: holds the subscriptions (each ``id, url, event_name, secret, filters, status``); the circuit
            breaker marks one ``stale`` there.
        fleets: the fleet id of each connection id (for ``filters.fleet_ids``).
        pace: turns the backoff between attempts into real seconds.
        lanes: delivery threads.
    """

    def __init__(
        self, store: Subscriptions, *, fleets: Mapping[str, str], pace: Pace, lanes: int = 4
    ) -> None:
        self._store = store
        self._fleets = fleets
        self._pace = pace
        self._consecutive_failures: dict[str, int] = {}
        self._queues: list[queue.SimpleQueue[_Delivery | None]] = [queue.SimpleQueue() for _ in range(lanes)]
        self._threads = ThreadGroup(
            [(f"sandbox-webhook-{i}", functools.partial(self._lane, q)) for i, q in enumerate(self._queues)]
        )
        self._client: httpx.Client | None = None
        self._cond = threading.Condition()
        self._in_flight = 0
        self._stop = threading.Event()  # cuts the backoff of a delivery short
        self.sent = 0
        self.failed = 0
        self.attempts = 0

    def start(self) -> None:
        """Start the lane threads (idempotent)."""
        if self._client is None:
            # trust_env=False: deliveries go to the subscriber's URL itself, never through an env proxy
            self._client = httpx.Client(timeout=RECEIVER_TIMEOUT_S, trust_env=False)
        self._threads.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the lanes (idempotent); deliveries not yet made are dropped."""
        if self._threads.stop(self._wake_lanes, timeout) and self._client is not None:
            self._client.close()

    def _wake_lanes(self) -> None:
        self._stop.set()
        for q in self._queues:
            q.put(None)

    def publish(self, event_name: str, op: dict[str, Any]) -> int:
        """Queue ``event_name`` about ``op`` (an internal record) for every matching subscription.

        Returns:
            How many deliveries were queued.
        """
        if self._stop.is_set():
            return 0
        subs = [
            s
            for s in self._store.webhook_subscriptions()
            if s.get("status", "active") == "active"
            and event_matches(str(s.get("event_name", "")), event_name)
            and _filters_admit(s.get("filters"), op, self._fleets.get(str(op.get("connection_id"))))
        ]
        if not subs:
            return 0
        data = [webhook_shape(op)]
        lane = self._queues[zlib.crc32(str(op.get("id")).encode()) % len(self._queues)]
        with self._cond:
            self._in_flight += len(subs)
        for sub in subs:
            lane.put(_Delivery(subscription=sub, event_name=event_name, event_id=new_uuid7(), data=data))
        return len(subs)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no delivery is queued or in flight; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight == 0, timeout)

    def _lane(self, q: queue.SimpleQueue[_Delivery | None]) -> None:
        while True:
            delivery = q.get()
            if delivery is None:
                return
            try:
                ok = self._deliver(delivery)
            except Exception:  # a bug must not stop the lane
                logger.exception("webhook delivery of %s failed", delivery.event_name)
                ok = False
            sub_id = str(delivery.subscription["id"])
            with self._cond:
                self._in_flight -= 1
                if ok:
                    self.sent += 1
                    self._consecutive_failures[sub_id] = 0
                else:
                    self.failed += 1
                    self._consecutive_failures[sub_id] = self._consecutive_failures.get(sub_id, 0) + 1
                stale = self._consecutive_failures[sub_id] == STALE_AFTER_FAILURES
                self._cond.notify_all()
            if stale:
                logger.info(
                    "webhook %s marked stale after %d undelivered events", sub_id, STALE_AFTER_FAILURES
                )
                self._store.set_webhook_status(sub_id, "stale")

    def _http(self) -> httpx.Client:
        if self._client is None:
            raise RuntimeError("the webhook sender is not started")
        return self._client

    def _deliver(self, delivery: _Delivery) -> bool:
        sub = delivery.subscription
        for attempt in range(1, MAX_DELIVERY_ATTEMPTS + 1):
            if self._stop.is_set():
                return False
            moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
            timestamp = moment.isoformat()  # RFC 3339, "+00:00", as the docs' example header
            envelope = {
                "version": ENVELOPE_VERSION,
                "event_name": delivery.event_name,
                "webhook_id": sub["id"],
                "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "id": delivery.event_id,
                "delivery_attempt": attempt,
                "data": delivery.data,
            }
            payload = json.dumps(envelope, separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "User-Agent": "Catena-Webhook",
                "X-Catena-Signature": sign(str(sub.get("secret") or ""), timestamp, payload),
                "X-Catena-Timestamp": timestamp,
                "X-Event-Type": delivery.event_name,
                "X-Webhook-ID": str(sub["id"]),
                "X-Request-ID": str(uuid.uuid4()),
                "X-Schema-Version": SCHEMA_VERSION,
                "X-Source": "catena-notifications",
                "X-Delivery-Attempt": str(attempt),
            }
            with self._cond:
                self.attempts += 1
            try:
                response = self._http().post(str(sub["url"]), content=gzip.compress(payload), headers=headers)
                if response.status_code < 500:
                    return True
                reason = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            logger.debug(
                "delivery %d of %s to webhook %s failed (%s)", attempt, delivery.event_name, sub["id"], reason
            )
            if attempt < MAX_DELIVERY_ATTEMPTS:
                self._stop.wait(self._pace.real(DELIVERY_BACKOFF_S * 2 ** (attempt - 1)))
        logger.info(
            "webhook %s: %s undelivered after %d attempts",
            sub["id"],
            delivery.event_name,
            MAX_DELIVERY_ATTEMPTS,
        )
        return False
