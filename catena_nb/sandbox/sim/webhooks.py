"""The sandbox's sender of webhook deliveries, as Catena documents it (catena-api.md §9, §12).

Each event goes to every active subscription whose ``event_name`` matches it (exactly, or as a wildcard such
as ``resource_operation.*``) and whose filters admit the record's fleet. A delivery is a gzipped JSON
envelope (``version, event_name, webhook_id, timestamp, id, delivery_attempt, data``, catena-sdk-go
``webhooks/envelope.go``; ``data`` always a list) signed with the subscription's secret:
``X-Catena-Signature`` is ``base64(HMAC-SHA256(secret, timestamp + "." + uncompressed payload))`` where
``timestamp`` is the ``X-Catena-Timestamp`` header; each attempt has a new ``X-Request-ID`` and says its
number in ``X-Delivery-Attempt``.

Any answer but a 5xx counts as delivered (a 401 or 400 too, as Catena counts it); a 5xx, a timeout (3 s) or
a refused connection is retried up to 3 times within about 5 s, then the event goes to the subscription's
dead-letter queue (kept 14 days) until ``replay`` brings it back. Retries wait on a schedule, not on the
lane, so that one receiver down does not hold back the rest. The circuit breaker (``webhook_book``) marks a
subscription ``stale`` and sends ``webhook.staled`` to the subscriptions of that event. Delivery is at least
once: a seeded share of deliveries (``duplicates``) is sent twice, same event id, as a lost acknowledgement
would make Catena do.

Deliveries run on their own threads ("lanes"). The first attempts of one record's events go to the same
lane in order; a retried event may arrive after a later one (Catena: order by each record's ``updated_at``).
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
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from catena_nb.sandbox.sim.ids import new_uuid7, stable_int
from catena_nb.sandbox.sim.records import webhook_shape
from catena_nb.sandbox.sim.schedule import Schedule
from catena_nb.sandbox.sim.threads import ThreadGroup
from catena_nb.sandbox.sim.types import Pace
from catena_nb.sandbox.sim.webhook_book import DeadLetter, DeliveryBook

logger = logging.getLogger("catena_nb.sandbox.sim.webhooks")

ENVELOPE_VERSION = "1.0"
SCHEMA_VERSION = "1.2"
# A delivery answered with a 5xx or not within 3 s is retried "up to 3 times within approximately 5 seconds",
# then parked in the dead-letter queue (api-reference/webhooks/overview; catena-api.md §12): four attempts.
MAX_DELIVERY_ATTEMPTS = 4
# assumed: the spacing of those retries, 0.75, 1.5 and 3 s (5.25 s in all, times time_scale); the docs give
# only the total.
DELIVERY_BACKOFF_S = 0.75
# assumed: the receiver's 3 s is real time, not shrunk by time_scale (a real receiver answers in real time)
RECEIVER_TIMEOUT_S = 3.0
# assumed: a log of an attempt that got no HTTP answer (refused, timed out) has status_code 0 and the error's
# name in error_message (the spec requires an integer status_code)
NO_ANSWER = 0
_SHARE = float(1 << 64)


def event_matches(pattern: str, event_name: str) -> bool:
    """True if a subscription's ``event_name`` (an event or a wildcard) covers ``event_name``."""
    return pattern == event_name or fnmatch.fnmatchcase(event_name, pattern)


def _filters_admit(filters: Any, fleet_id: str | None, fleet_ref: str | None) -> bool:
    if not isinstance(filters, dict):
        return True
    fleet_ids = filters.get("fleet_ids") or []
    fleet_refs = filters.get("fleet_refs") or []
    if fleet_ids and fleet_id not in fleet_ids:
        return False
    return not (fleet_refs and fleet_ref not in fleet_refs)


def sign(secret: str, timestamp: str, payload: bytes) -> str:
    """``base64(HMAC-SHA256(secret, timestamp + "." + payload))``, as Catena signs deliveries."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def webhook_event(sub: Mapping[str, Any]) -> dict[str, Any]:
    """A subscription as a ``webhook.*`` event's data holds it (``BaseWebhookEvent``: no secret)."""
    return {k: sub.get(k) for k in ("id", "url", "event_name", "filters", "status")}


class Subscriptions(Protocol):
    """Where the subscriptions are kept (the sandbox's store), with the book of their deliveries."""

    deliveries: DeliveryBook

    def webhook_subscriptions(self) -> list[dict[str, Any]]: ...
    def get_webhook(self, webhook_id: str) -> dict[str, Any] | None: ...
    def set_webhook_status(self, webhook_id: str, status: str) -> None: ...


@dataclass
class _Delivery:
    webhook_id: str  # the subscription (and its secret) is looked up at each attempt, never carried
    event_name: str
    event_id: str
    data: list[dict[str, Any]]
    lane: int
    attempt: int = 0  # HTTP attempts so far, across a replay too
    tries: int = 0  # attempts in this round (a replay starts a new round of four)
    duplicate: bool = False
    timings: list[float] = field(default_factory=list, repr=False)


class WebhookSender:
    """Posts events to the matching subscriptions on a few lane threads, with retries and a DLQ.

    Args:
        store: holds the subscriptions (each ``id, url, event_name, secret, filters, status, updated_at``)
            and the book of their deliveries; the circuit breaker marks one ``stale`` there.
        fleets: the fleet id of each connection id (for ``filters.fleet_ids``).
        pace: turns the backoff, and the book's windows, into real seconds.
        seed: seeds which deliveries are duplicated.
        duplicates: the share of deliveries sent twice (at-least-once delivery).
        lanes: delivery threads.
        receiver_timeout: real seconds a receiver has to answer.
    """

    def __init__(
        self,
        store: Subscriptions,
        *,
        fleets: Mapping[str, str],
        pace: Pace,
        seed: int = 0,
        duplicates: float = 0.0,
        lanes: int = 4,
        receiver_timeout: float = RECEIVER_TIMEOUT_S,
    ) -> None:
        if not 0.0 <= duplicates <= 1.0:
            raise ValueError(f"webhook duplicates must be a share between 0 and 1, not {duplicates}")
        self._store = store
        self.book = store.deliveries
        self.book.time_scale = pace.time_scale  # the book's windows run on the simulation's pace
        self._fleets = fleets
        self._pace = pace
        self._seed = seed
        self._duplicates = duplicates
        self._timeout = receiver_timeout
        self._queues: list[queue.SimpleQueue[_Delivery | None]] = [queue.SimpleQueue() for _ in range(lanes)]
        self._threads = ThreadGroup(
            [(f"sandbox-webhook-{i}", functools.partial(self._lane, q)) for i, q in enumerate(self._queues)]
        )
        self.schedule = Schedule("sandbox-webhook-schedule")
        self._client: httpx.Client | None = None
        self._cond = threading.Condition()
        self._in_flight = 0
        self._occurrences: dict[int, int] = {}
        self._stop = threading.Event()
        self._staling = threading.Lock()
        self.sent = 0
        self.failed = 0
        self.attempts = 0
        self.duplicated = 0

    def start(self) -> None:
        """Start the lane threads and the schedule (idempotent)."""
        if self._client is None:
            # trust_env=False: deliveries go to the subscriber's URL itself, never through an env proxy
            self._client = httpx.Client(timeout=self._timeout, trust_env=False)
        self.schedule.start()
        self._threads.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the lanes and the schedule (idempotent); deliveries not yet made are dropped."""
        self._stop.set()
        self.schedule.stop()
        if self._threads.stop(self._wake_lanes, timeout) and self._client is not None:
            self._client.close()

    def _wake_lanes(self) -> None:
        for q in self._queues:
            q.put(None)

    # -- events --------------------------------------------------------------------------------------------

    def publish(self, event_name: str, op: dict[str, Any]) -> int:
        """Queue ``event_name`` about the operation ``op`` (an internal record); how many were queued."""
        fleet = self._fleets.get(str(op.get("connection_id")))
        key = (
            event_name,
            op.get("resource"),
            json.dumps(op.get("payload"), sort_keys=True),
            op.get("status"),
        )
        return self.emit(
            event_name, webhook_shape(op), fleet_id=fleet, fleet_ref=op.get("fleet_ref"), key=key
        )

    def emit(
        self,
        event_name: str,
        record: dict[str, Any],
        *,
        fleet_id: str | None = None,
        fleet_ref: str | None = None,
        key: object = None,
    ) -> int:
        """Queue an event holding ``record`` for every active subscription of it that admits the fleet.

        Args:
            key: what the record is, independent of ids and clocks: which deliveries are duplicated is a
                function of the seed and this key (and how often it occurred), never of timing.

        Returns:
            How many deliveries were queued.
        """
        if self._stop.is_set():
            return 0
        # assumed: a paused (inactive) or stale subscription gets no events and none are kept for it (the
        # docs say Catena "stop[s] sending events", not that it queues them)
        subs = [
            s
            for s in self._store.webhook_subscriptions()
            if s.get("status", "active") == "active"
            and event_matches(str(s.get("event_name", "")), event_name)
            and _filters_admit(s.get("filters"), fleet_id, fleet_ref)
        ]
        if not subs:
            return 0
        lane = zlib.crc32(str(record.get("id")).encode()) % len(self._queues)
        base = stable_int(self._seed, "webhook-event", repr(key))
        with self._cond:
            n = self._occurrences.get(base, 0) + 1
            self._occurrences[base] = n
            self._in_flight += len(subs)
        for sub in subs:
            share = stable_int(self._seed, "duplicate", base, n, sub.get("event_name")) / _SHARE
            delivery = _Delivery(
                str(sub["id"]), event_name, new_uuid7(), [record], lane, duplicate=share < self._duplicates
            )
            self._queues[lane].put(delivery)
        return len(subs)

    def replay(self, webhook_id: str) -> int:
        """Deliver again every event of the subscription's dead-letter queue; how many were queued."""
        # assumed: a replay delivers whatever the subscription's status (it is asked for explicitly), and each
        # event gets a new round of four attempts, its delivery_attempt counting on
        letters = self.book.take_dead_letters(webhook_id)
        with self._cond:
            self._in_flight += len(letters)
        for letter in letters:
            lane = zlib.crc32(str(letter.data[0].get("id") if letter.data else "").encode()) % len(
                self._queues
            )
            self._queues[lane].put(
                _Delivery(webhook_id, letter.event_name, letter.event_id, letter.data, lane, letter.attempts)
            )
        return len(letters)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no delivery is queued, waiting for a retry or in flight; False if ``timeout`` passed."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight == 0, timeout)

    # -- delivery ------------------------------------------------------------------------------------------

    def _lane(self, q: queue.SimpleQueue[_Delivery | None]) -> None:
        while True:
            delivery = q.get()
            if delivery is None or self._stop.is_set():
                return
            try:
                self._try(delivery)
            except Exception:  # a bug must not stop the lane
                logger.exception("webhook delivery of %s failed", delivery.event_name)
                self._settle(delivery, None, parked=False)

    def _try(self, d: _Delivery) -> None:
        sub = self._store.get_webhook(d.webhook_id)
        if sub is None:  # deleted meanwhile: nothing to deliver to
            self._settle(d, None, parked=False)
            return
        d.tries += 1
        if self._post(sub, d):
            # assumed: a duplicate is the same envelope (same id) sent again at once as the next attempt, as a
            # lost acknowledgement would make Catena send it
            if d.duplicate:
                with self._cond:
                    self.duplicated += 1
                self._post(sub, d)
            self._settle(d, sub, parked=False)
        elif d.tries < MAX_DELIVERY_ATTEMPTS and not self._stop.is_set():
            lane = self._queues[d.lane]
            self.schedule.after(self._pace.real(DELIVERY_BACKOFF_S * 2 ** (d.tries - 1)), lambda: lane.put(d))
        else:
            logger.info(
                "webhook %s: %s undelivered after %d attempts, kept in its dead-letter queue",
                d.webhook_id,
                d.event_name,
                d.tries,
            )
            self._settle(d, sub, parked=True)

    def _post(self, sub: dict[str, Any], d: _Delivery) -> bool:
        """One HTTP attempt, logged in the book; True if delivered (any answer but a 5xx)."""
        d.attempt += 1
        moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
        timestamp = moment.isoformat()  # RFC 3339, "+00:00", as the docs' example header
        envelope = {
            "version": ENVELOPE_VERSION,
            "event_name": d.event_name,
            "webhook_id": d.webhook_id,
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "id": d.event_id,
            "delivery_attempt": d.attempt,
            "data": d.data,
        }
        payload = json.dumps(envelope, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": "Catena-Webhook",
            "X-Catena-Signature": sign(str(sub.get("secret") or ""), timestamp, payload),
            "X-Catena-Timestamp": timestamp,
            "X-Event-Type": d.event_name,
            "X-Webhook-ID": d.webhook_id,
            "X-Request-ID": str(uuid.uuid4()),
            "X-Schema-Version": SCHEMA_VERSION,
            "X-Source": "catena-notifications",
            "X-Delivery-Attempt": str(d.attempt),
        }
        with self._cond:
            self.attempts += 1
        if self._client is None:
            raise RuntimeError("the webhook sender is not started")
        t0 = time.perf_counter()
        error: str | None = None
        try:
            response = self._client.post(str(sub["url"]), content=gzip.compress(payload), headers=headers)
            status = response.status_code
            if status >= 500:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            status, error = NO_ANSWER, type(exc).__name__
        ms = round((time.perf_counter() - t0) * 1000)
        delivered = status != NO_ANSWER and status < 500
        self.book.log_attempt(
            d.webhook_id,
            event_id=d.event_id,
            event_name=d.event_name,
            attempt=d.attempt,
            status_code=status,
            delivered=delivered,
            error_message=error,
            response_time_ms=None if status == NO_ANSWER else ms,
        )
        if not delivered:
            logger.debug(
                "delivery %d of %s to webhook %s failed (%s)", d.attempt, d.event_name, sub["id"], error
            )
        return delivered

    def _settle(self, d: _Delivery, sub: dict[str, Any] | None, *, parked: bool) -> None:
        if sub is not None:
            letter = DeadLetter(d.event_id, d.event_name, d.data, d.attempt, 0.0) if parked else None
            self.book.settle(d.webhook_id, d.event_id, letter)
        with self._cond:
            self._in_flight -= 1
            if parked:
                self.failed += 1
            elif sub is not None:
                self.sent += 1
            self._cond.notify_all()
        if (
            sub is not None
            and sub.get("status") == "active"
            and self.book.trips(d.webhook_id, sub["updated_at"])
        ):
            self._stale(sub)

    def _stale(self, sub: dict[str, Any]) -> None:
        with self._staling:  # two lanes settling at once mark it, and tell of it, once
            current = self._store.get_webhook(str(sub["id"]))
            if current is None or current.get("status") != "active":
                return
            logger.info("webhook %s marked stale by the circuit breaker", sub["id"])
            self._store.set_webhook_status(str(sub["id"]), "stale")
            current["status"] = "stale"
        self.emit("webhook.staled", webhook_event(current), key=("webhook.staled", sub["id"]))
