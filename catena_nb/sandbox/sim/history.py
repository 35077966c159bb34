"""Past traffic for the sandbox: days of message operations with their attempt logs, messages and incidents.

``generate_history(world, seed, days, anchor)`` is a pure function of its arguments (it never reads the
clock): the same arguments give the same records on any day. The window is the ``days`` whole UTC days that
end with the anchor day, i.e. at 00:00 UTC the day after ``anchor`` (the anchor is the last day of history).
Outcomes come from the same TSP profiles and the same ``tsp.decide`` as live sends;
three named incidents change them for a while:

- a credential expiry: one connection's calls all answer 401 (``auth``) for most of a day;
- a network outage: most calls to one TSP time out or are refused (``network``) for a few hours; async
  operations retry, and many fail after the attempt limit;
- a validation change: one TSP lowers its message text limit to 160 characters (``validation``) for about two
  days.

The incidents hit three different TSPs on different days, away from the window's edges.

Speed matters (30 days, ~60,000 operations, in about two seconds): records are built as dict literals, ids
come from a counter mixed into UUID version 7 strings, and timestamps from a per-minute prefix cache.
"""

from __future__ import annotations

import bisect
import datetime as dt
import gc
import hashlib
import random
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from catena_nb.sandbox.sim.delivery import (
    build_group_message,
    build_message,
    group_ids,
    plan_delivery,
    thread_ids,
)
from catena_nb.sandbox.sim.tsp import PROFILES, Conditions, TspProfile, decide, draw
from catena_nb.sandbox.sim.types import Connection, Incident, User, World
from catena_nb.sandbox.sim.worker import RetryPolicy

# Operations per weekday per connection, in the world's connection order; weekends carry less.
_DAILY_VOLUME = (560, 400, 450, 300, 370, 280)
_WEEKEND_FACTOR = 0.45
# Share of traffic per UTC hour: the fleets are in North America, so the working day is 12:00-01:00 UTC.
_HOURLY = (
    3,
    2,
    1.5,
    1,
    1,
    1,
    1,
    1.5,
    2,
    3,
    5,
    8,
    10,
    11,
    11,
    10,
    10,
    10,
    9,
    9,
    8,
    7,
    6,
    4,
)
_SYNC_SHARE = 0.15
_GROUP_SHARE = 0.04
_PRIORITIES = ("low", "low", "medium", "medium", "medium", "high", None, None)
INCIDENT_TEXT_LIMIT = 160
_OUTAGE_P_NETWORK = 0.9
_MIN_DAYS_FOR_INCIDENTS = 9  # room for three incidents on separate days, clear of the edges
_TWO_M24 = 1.0 / (1 << 24)

_SHORT = (
    "Delivery confirmed at warehouse {x}",
    "Please call dispatch when you reach stop {n}",
    "Load {n} is ready for pickup at dock {x}",
    "Running late? Update your ETA for order {n}",
    "Reefer temp alarm on trailer {n}, please check",
    "Take I-{m} north, detour on route {n}",
    "Your next pickup is {n} at gate {x}",
    "Fuel stop approved at exit {m}",
    "BOL for shipment {n} signed, thanks",
    "HOS reset needed before load {n}",
    "Customer {x} asks for a 30 min earlier arrival",
    "Drop trailer {n} at yard {x}",
    "OK",
    "Copy that",
)
_SENTENCES = (
    "The consignee changed the receiving hours to 06:00-14:00 for the rest of the week.",
    "Please make sure the seal number on the paperwork matches the one on the trailer doors.",
    "If the dock is full, wait in the staging lot and message dispatch with your position.",
    "Weather service expects heavy snow on the pass tonight, so chain up before the summit.",
    "Scale the load at the first open station and send a photo of the ticket.",
    "The customer will only accept pallets wrapped in clear film; refuse any damaged freight.",
    "Your detention clock starts two hours after the appointment time, log the arrival precisely.",
    "Call the broker before leaving the shipper if the piece count differs from the order.",
)


@dataclass
class History:
    """Pre-seeded past traffic: operation records (with logs), message records and the incidents in it."""

    operations: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    incidents: list[Incident]
    start: dt.datetime  # the window's first instant (00:00 UTC of its first day)
    end: dt.datetime  # the instant after it (00:00 UTC the day after the anchor)


class _Stamper:
    """Seconds since the window start -> the sandbox's timestamp string, quickly."""

    def __init__(self, start: dt.datetime) -> None:
        self._start = start
        self._prefix: dict[int, str] = {}
        self._hour: dict[int, str] = {}

    def __call__(self, t: float) -> str:
        us = int(t * 1_000_000)
        minute = us // 60_000_000
        prefix = self._prefix.get(minute)
        if prefix is None:
            hour = self._hour.get(minute // 60)
            if hour is None:
                hour = self._hour[minute // 60] = (self._start + dt.timedelta(hours=minute // 60)).strftime(
                    "%Y-%m-%dT%H:"
                )
            prefix = self._prefix[minute] = f"{hour}{minute % 60:02d}:"
        return "%s%02d.%06dZ" % (prefix, us // 1_000_000 % 60, us % 1_000_000)  # noqa: UP031 - fastest


class _Ids:
    """UUID version 7 ids: the record's millisecond plus a counter mixed by an odd multiplier (unique)."""

    _MASK = (1 << 74) - 1

    def __init__(self, seed: int, kind: str, start_ms: int) -> None:
        digest = hashlib.blake2b(f"{seed}|ids|{kind}".encode(), digest_size=16).digest()
        self._salt = int.from_bytes(digest, "big") & self._MASK
        self._start_ms = start_ms
        self._n = 0

    def __call__(self, t: float) -> str:
        self._n += 1
        rand = (self._n * 0x9E3779B97F4A7C15F39 + self._salt) & self._MASK
        ms = self._start_ms + int(t * 1000)
        # uuid7_at, inlined: this runs three times per operation
        return "%08x-%04x-7%03x-%04x-%012x" % (  # noqa: UP031 - the fastest formatting here
            ms >> 16 & 0xFFFF_FFFF,
            ms & 0xFFFF,
            rand >> 62 & 0xFFF,
            0x8000 | (rand >> 48 & 0x3FFF),
            rand & 0xFFFF_FFFF_FFFF,
        )


def _texts(rng: random.Random) -> list[str]:
    # 75% short (at most 160 characters), 20% medium (161-480), 5% long (481-1400)
    pool: list[str] = []
    for i in range(300):
        n = rng.randint(1000, 99999)
        template = rng.choice(_SHORT)
        short = template.format(n=n, m=rng.randint(5, 95), x=rng.choice("ABCDEFGH"))
        if i < 225:
            pool.append(short)
            continue
        target = rng.randint(161, 480) if i < 285 else rng.randint(481, 1400)
        parts = [short + "."]
        while sum(len(p) + 1 for p in parts) < target:
            parts.append(rng.choice(_SENTENCES))
        pool.append(" ".join(parts)[:target])
    return pool


def _place_incidents(world: World, rng: random.Random, start: dt.datetime, days: int) -> list[Incident]:
    if days < _MIN_DAYS_FOR_INCIDENTS:
        return []
    tsps = sorted({c.source_name for c in world.connections})
    rng.shuffle(tsps)
    expiry_tsp, outage_tsp, change_tsp = tsps[0], tsps[1], tsps[2]
    # Days 1 .. days-2 leave a clean day at each edge of the window for the baseline.
    free = list(range(1, days - 2))
    change_day = rng.choice(free[:-1])
    free = [d for d in free if d not in (change_day - 1, change_day, change_day + 1, change_day + 2)]
    expiry_day = rng.choice(free)
    free.remove(expiry_day)
    outage_day = rng.choice(free)

    def at(day: int, hours: float) -> dt.datetime:
        moment = start + dt.timedelta(days=day, hours=hours)
        return moment.replace(microsecond=0)

    expiry_conn = rng.choice([c for c in world.connections if c.source_name == expiry_tsp])
    expiry_start = rng.uniform(0.5, 2.5)
    outage_start = rng.uniform(13.0, 17.0)
    change_start = rng.uniform(0.5, 2.0)
    return sorted(
        [
            Incident(
                name=f"{expiry_tsp} API credential expired for {expiry_conn.fleet_ref}",
                kind="credential_expiry",
                source_name=expiry_tsp,
                connection_id=expiry_conn.id,
                start=at(expiry_day, expiry_start),
                end=at(expiry_day, expiry_start + rng.uniform(20.0, 21.4)),
                error_type="auth",
            ),
            Incident(
                name=f"{outage_tsp} network outage",
                kind="network_outage",
                source_name=outage_tsp,
                connection_id=None,
                start=at(outage_day, outage_start),
                end=at(outage_day, outage_start + rng.uniform(3.0, 5.0)),
                error_type="network",
            ),
            Incident(
                name=f"{change_tsp} lowered its message text limit to {INCIDENT_TEXT_LIMIT} characters",
                kind="validation_change",
                source_name=change_tsp,
                connection_id=None,
                start=at(change_day, change_start),
                end=at(change_day, change_start + rng.uniform(44.0, 45.5)),
                error_type="validation",
            ),
        ],
        key=lambda i: i.start,
    )


def _conditions(incident: Incident) -> Conditions:
    if incident.kind == "credential_expiry":
        return Conditions(auth_expired=True)
    if incident.kind == "network_outage":
        return Conditions(p_network=_OUTAGE_P_NETWORK)
    return Conditions(text_limit=INCIDENT_TEXT_LIMIT)


def generate_history(world: World, seed: int, days: int, anchor: dt.date | str) -> History:
    """Generate ``days`` days of past message traffic, the last of them ``anchor``.

    Args:
        world: the seeded connections and users (``world.build_world``).
        seed: the seed of volumes, contents, outcomes and incidents.
        days: how many whole days; 0 gives an empty history. Incidents need at least 9 days.
        anchor: the last day of the window, a date or ``YYYY-MM-DD``; the window ends at the midnight (UTC)
            that ends this day.

    Returns:
        A ``History`` whose operations (internal records, by ``created_at``) carry one log per attempt: async
        operations retry retryable errors with the worker's backoff, sync ones have one attempt. Each
        successful operation has a message record (MessageRead or GroupMessageRead form).

    Raises:
        ValueError: ``days`` is negative.
    """
    if days < 0:
        raise ValueError("days must be zero or more")
    anchor_date = dt.date.fromisoformat(anchor) if isinstance(anchor, str) else anchor
    # assumed: "ending at the anchor" includes the anchor day, so history=1 is the anchor day itself.
    end = dt.datetime.combine(anchor_date, dt.time(0), dt.UTC) + dt.timedelta(days=1)
    start = end - dt.timedelta(days=days)
    rng = random.Random(f"catena-sandbox-history:{seed}:{days}:{anchor_date.isoformat()}")
    incidents = _place_incidents(world, random.Random(f"{seed}:{days}:incidents"), start, days)
    gen = _Generator(world, seed, start, incidents, rng)
    # The records form no cycles; the collector's passes over 300,000 young dicts would cost more than the
    # generation itself.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for day in range(days):
            gen.day(day, (start + dt.timedelta(days=day)).weekday() >= 5)
    finally:
        if was_enabled:
            gc.enable()
    return History(operations=gen.ops, messages=gen.msgs, incidents=incidents, start=start, end=end)


class _Generator:
    """The loop of ``generate_history``, with its caches."""

    def __init__(
        self, world: World, seed: int, start: dt.datetime, incidents: list[Incident], rng: random.Random
    ) -> None:
        self.world = world
        self.seed = seed
        self.rng = rng
        self.conns: list[Connection] = list(world.connections)
        self.profiles: list[TspProfile] = [PROFILES[c.source_name] for c in self.conns]
        self.drivers: list[list[User]] = [[u for u in c.user_records if u.is_driver] for c in self.conns]
        self.dispatchers: list[list[User]] = [
            [u for u in c.user_records if not u.is_driver] for c in self.conns
        ]
        self.texts = _texts(rng)
        self.hour_cum = list(accumulate(_HOURLY))
        start_ms = int(start.timestamp() * 1000)
        self.stamp = _Stamper(start)
        self.op_ids = _Ids(seed, "operation", start_ms)
        self.log_ids = _Ids(seed, "log", start_ms)
        self.msg_ids = _Ids(seed, "message", start_ms)
        self.policy = RetryPolicy()
        self.threads: dict[tuple[str, str], tuple[str, str]] = {}
        self.windows: list[list[tuple[float, float, Conditions]]] = [[] for _ in self.conns]
        for inc in incidents:
            lo, hi = (inc.start - start).total_seconds(), (inc.end - start).total_seconds()
            for i, conn in enumerate(self.conns):
                if conn.source_name == inc.source_name and inc.connection_id in (None, conn.id):
                    self.windows[i].append((lo, hi, _conditions(inc)))
        self.ops: list[dict[str, Any]] = []
        self.msgs: list[dict[str, Any]] = []
        self.count = 0

    def day(self, day: int, weekend: bool) -> None:
        rng = self.rng
        total = self.hour_cum[-1]
        factor = _WEEKEND_FACTOR if weekend else 1.0
        arrivals: list[tuple[float, int]] = []
        for ci in range(len(self.conns)):
            volume = _DAILY_VOLUME[ci % len(_DAILY_VOLUME)]
            n = round(volume * factor * rng.uniform(0.85, 1.15))
            for _ in range(n):
                hour = bisect.bisect_right(self.hour_cum, rng.random() * total)
                arrivals.append((day * 86400.0 + (hour + rng.random()) * 3600.0, ci))
        arrivals.sort()
        for t0, ci in arrivals:
            self.operation(t0, ci)

    def conditions(self, ci: int, t: float) -> Conditions | None:
        for lo, hi, cond in self.windows[ci]:
            if lo <= t < hi:
                return cond
        return None

    def operation(self, t0: float, ci: int) -> None:
        rng, conn, profile, stamp = self.rng, self.conns[ci], self.profiles[ci], self.stamp
        self.count += 1
        key = f"history|{self.count}"
        sync = rng.random() < _SYNC_SHARE
        group = rng.random() < _GROUP_SHARE
        text = self.texts[int(rng.random() * len(self.texts))]
        priority = _PRIORITIES[int(rng.random() * len(_PRIORITIES))]
        dispatcher = self.dispatchers[ci][int(rng.random() * len(self.dispatchers[ci]))]
        drivers = self.drivers[ci]
        op_id = self.op_ids(t0)
        recipients: list[User] = []
        if group:
            sender = dispatcher
            recipients = rng.sample(drivers, min(len(drivers), rng.randint(2, 4)))
            payload: dict[str, Any] = {
                "priority": priority,
                "sender_id": sender.id,
                "message_text": text,
                "connection_id": conn.id,
                "recipient_ids": [r.id for r in recipients],
                "source_sender_id": sender.source_id,
                "source_recipient_ids": [r.source_id for r in recipients],
            }
        else:
            driver = drivers[int(rng.random() * len(drivers))]
            sender, recipient = (driver, dispatcher) if rng.random() < 0.2 else (dispatcher, driver)
            recipients = [recipient]
            payload = {
                "priority": priority,
                "sender_id": sender.id,
                "message_text": text,
                "recipient_id": recipient.id,
                "connection_id": conn.id,
                "source_sender_id": sender.source_id,
                "reply_to_message_id": None,
                "source_recipient_id": recipient.source_id,
                "source_reply_to_message_id": None,
            }
        # Async operations wait in Catena's queue for a moment before the first attempt.
        t = t0 + (0.05 if sync else 0.2 + 2.5 * rng.random())
        logs: list[dict[str, Any]] = []
        attempt = 0
        while True:
            attempt += 1
            u = draw(self.seed, key, attempt)
            outcome = decide(
                profile, u, text=text, conditions=self.conditions(ci, t) if self.windows[ci] else None
            )
            t += outcome.latency_s
            when = stamp(t)
            logs.append(
                {
                    "id": self.log_ids(t),
                    "created_at": when,
                    "updated_at": when,
                    "resource_operation_id": op_id,
                    "status": "success" if outcome.ok else "failed",
                    "error_type": outcome.error_type,
                    "error_details": outcome.error_details,
                    "response_status_code": outcome.response_status_code,
                    "response_headers": outcome.response_headers,
                }
            )
            if sync or not self.policy.should_retry(outcome, attempt):
                break
            t += self.policy.delay_s(attempt, u[3])
        resource_id: str | None = None
        if outcome.ok:
            resource_id = self.msg_ids(t)
            self.msgs.append(
                self.message(
                    t,
                    when,
                    u,
                    conn,
                    profile,
                    resource_id,
                    str(outcome.source_id),
                    sender,
                    recipients,
                    text,
                    priority,
                    group,
                )
            )
        self.ops.append(
            {
                "id": op_id,
                "created_at": stamp(t0),
                "updated_at": stamp(t + 0.02 + 0.1 * rng.random()),
                "deleted_at": None,
                "partner_id": self.world.partner_id,
                "connection_id": conn.id,
                "source_name": conn.source_name,
                "fleet_ref": conn.fleet_ref,
                "resource": "group_message" if group else "message",
                "operation_type": "create",
                "payload": payload,
                "resource_id": resource_id,
                "source_id": outcome.source_id if outcome.ok else None,
                "status": "success" if outcome.ok else "failed",
                "logs": logs,
            }
        )

    def message(
        self,
        t: float,
        occurred: str,
        u: tuple[float, float, float, float, int],
        conn: Connection,
        profile: TspProfile,
        message_id: str,
        source_id: str,
        sender: User,
        recipients: list[User],
        text: str,
        priority: str | None,
        group: bool,
    ) -> dict[str, Any]:
        stamp = self.stamp
        # The successful attempt's draw has bits to spare (its kind and jitter floats and the high bits of its
        # integer decide nothing on success), which saves a hash per message.
        n = u[4]
        plan = ((n >> 40) * _TWO_M24, ((n >> 16) & 0xFFFFFF) * _TWO_M24, u[1], u[3], n)
        sent_d, delivered_d, read_d = plan_delivery(profile, plan)
        created = occurred
        sent = None if sent_d is None else stamp(t + sent_d)
        delivered = None if delivered_d is None else stamp(t + delivered_d)
        if group:
            group_id, source_group_id = group_ids(self.seed, conn, [r.id for r in recipients])
            return build_group_message(
                conn=conn,
                message_id=message_id,
                source_id=source_id,
                sender=sender,
                recipients=recipients,
                message_text=text,
                occurred_at=occurred,
                created_at=created,
                sent_at=sent,
                delivered_at=delivered,
                group_id=group_id,
                source_group_id=source_group_id,
            )
        recipient = recipients[0]
        pair = (sender.id, recipient.id)
        thread = self.threads.get(pair)
        if thread is None:
            thread = self.threads[pair] = thread_ids(self.seed, conn, sender.id, recipient.id)
        return build_message(
            conn=conn,
            profile=profile,
            message_id=message_id,
            source_id=source_id,
            sender=sender,
            recipient=recipient,
            message_text=text,
            priority=priority,
            reply_to_message_id=None,
            occurred_at=occurred,
            created_at=created,
            sent_at=sent,
            delivered_at=delivered,
            read_at=None if read_d is None else stamp(t + read_d),
            thread_id=thread[0],
            source_thread_id=thread[1],
        )
