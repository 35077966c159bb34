"""Past traffic for the sandbox: days of message operations with their attempt logs, messages and incidents.

``generate_history(world, seed, days, anchor)`` is a pure function of its arguments (it never reads the
clock): the same arguments give the same records on any day. The window is the ``days`` whole UTC days that
end with the anchor day, i.e. at 00:00 UTC the day after ``anchor`` (the anchor is the last day of history).
Outcomes come from the same TSP profiles and the same ``outcomes.decide`` as live sends; the traffic's shape
is in ``traffic.py``, and three named incidents (``incidents.py``) change the outcomes for a while.

Speed matters (30 days, ~60,000 operations, in about two seconds): ids come from a counter mixed into UUID
version 7 strings (``ids.SeededIds``), and timestamps from a per-minute prefix cache (``timestamps.Stamper``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import gc
import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from catena_nb.sandbox.sim import traffic
from catena_nb.sandbox.sim.delivery import MessageBook, plan_delivery
from catena_nb.sandbox.sim.ids import SeededIds
from catena_nb.sandbox.sim.incidents import conditions, place_incidents
from catena_nb.sandbox.sim.outcomes import Conditions, Draw, decide, draw
from catena_nb.sandbox.sim.profiles import PROFILES
from catena_nb.sandbox.sim.records import attempt_log, group_message_payload, message_payload, new_operation
from catena_nb.sandbox.sim.timestamps import Stamper
from catena_nb.sandbox.sim.types import Incident, User, World
from catena_nb.sandbox.sim.worker import RetryPolicy

_TWO_M24 = 1.0 / (1 << 24)


@dataclass
class History:
    """Pre-seeded past traffic: operation records (with logs), message records and the incidents in it."""

    operations: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    incidents: list[Incident]
    start: dt.datetime  # the window's first instant (00:00 UTC of its first day)
    end: dt.datetime  # the instant after it (00:00 UTC the day after the anchor)


def generate_history(
    world: World,
    seed: int,
    days: int,
    anchor: dt.date | str,
    *,
    success_logs: bool = True,
    incidents: Sequence[Incident] | None = None,
) -> History:
    """Generate ``days`` days of past message traffic, the last of them ``anchor``.

    Args:
        world: the seeded connections and users (``world.build_world``).
        seed: the seed of volumes, contents, outcomes and incidents.
        days: how many whole days; 0 gives an empty history. Incidents need at least 9 days.
        anchor: the last day of the window, a date or ``YYYY-MM-DD``; the window ends at the midnight (UTC)
            that ends this day.
        success_logs: whether a successful attempt gets a log, as a failed one always does. Without them
            the history is the same, with only the failed attempts logged.
        incidents: the incidents to seed (``incidents.parse_incidents``); None: the three named ones placed
            from the seed, ``[]``: none (a quiet history). The traffic itself is the same either way.

    Returns:
        A ``History`` whose operations (internal records, by ``created_at``) carry one log per attempt: async
        operations retry retryable errors with the worker's backoff, sync ones have one attempt. Each
        successful operation has a message record (MessageRead or GroupMessageRead form). Only connections
        whose TSP takes message writes have traffic.

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
    if incidents is None:
        incidents = place_incidents(world, random.Random(f"{seed}:{days}:incidents"), start, days)
    else:
        incidents = sorted(incidents, key=lambda i: i.start)
    gen = _Generator(world, seed, start, incidents, rng, success_logs=success_logs)
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
    return History(operations=gen.ops, messages=gen.msgs, incidents=list(incidents), start=start, end=end)


class _Generator:
    """The loop of ``generate_history``, with its caches."""

    def __init__(
        self,
        world: World,
        seed: int,
        start: dt.datetime,
        incidents: Sequence[Incident],
        rng: random.Random,
        *,
        success_logs: bool,
    ) -> None:
        self.world = world
        self.seed = seed
        self.rng = rng
        self.success_logs = success_logs
        # assumed: the history holds no sends through a TSP that takes no message writes (a partner reading
        # GET /v2/integrations/tsps sends none there); such a send fails live (sim/engine.py).
        conns = world.message_connections
        self.books = [MessageBook(seed, c, PROFILES[c.source_name]) for c in conns]
        self.drivers: list[list[User]] = [[u for u in c.user_records if u.is_driver] for c in conns]
        self.dispatchers: list[list[User]] = [[u for u in c.user_records if not u.is_driver] for c in conns]
        self.texts = traffic.text_pool(rng)
        self.hour_cum = list(accumulate(traffic.HOURLY_SHARE))
        start_ms = int(start.timestamp() * 1000)
        self.stamp = Stamper(start)
        self.op_ids = SeededIds(seed, "operation", start_ms)
        self.log_ids = SeededIds(seed, "log", start_ms)
        self.msg_ids = SeededIds(seed, "message", start_ms)
        self.policy = RetryPolicy()
        self.windows: list[list[tuple[float, float, Conditions]]] = [[] for _ in conns]
        for inc in incidents:
            lo, hi = (inc.start - start).total_seconds(), (inc.end - start).total_seconds()
            for i, conn in enumerate(conns):
                if conn.source_name == inc.source_name and inc.connection_id in (None, conn.id):
                    self.windows[i].append((lo, hi, conditions(inc)))
        self.ops: list[dict[str, Any]] = []
        self.msgs: list[dict[str, Any]] = []
        self.count = 0

    def day(self, day: int, weekend: bool) -> None:
        rng = self.rng
        total = self.hour_cum[-1]
        factor = traffic.WEEKEND_FACTOR if weekend else 1.0
        arrivals: list[tuple[float, int]] = []
        for ci in range(len(self.books)):
            volume = traffic.DAILY_VOLUME[ci % len(traffic.DAILY_VOLUME)]
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

    def payload(self, ci: int, group: bool, text: str, priority: str | None) -> dict[str, Any]:
        """A dispatcher writes to a few drivers, or one user to another (mostly dispatcher to driver)."""
        rng, conn = self.rng, self.books[ci].conn
        dispatcher = self.dispatchers[ci][int(rng.random() * len(self.dispatchers[ci]))]
        drivers = self.drivers[ci]
        if group:
            recipients = rng.sample(drivers, min(len(drivers), rng.randint(2, 4)))
            return group_message_payload(
                conn, dispatcher.id, [r.id for r in recipients], message_text=text, priority=priority
            )
        driver = drivers[int(rng.random() * len(drivers))]
        sender, recipient = (driver, dispatcher) if rng.random() < 0.2 else (dispatcher, driver)
        return message_payload(conn, sender.id, recipient.id, message_text=text, priority=priority)

    def operation(self, t0: float, ci: int) -> None:
        rng, book, stamp = self.rng, self.books[ci], self.stamp
        self.count += 1
        key = f"history|{self.count}"
        sync = rng.random() < traffic.SYNC_SHARE
        group = rng.random() < traffic.GROUP_SHARE
        text = self.texts[int(rng.random() * len(self.texts))]
        priority = traffic.PRIORITIES[int(rng.random() * len(traffic.PRIORITIES))]
        resource = "group_message" if group else "message"
        payload = self.payload(ci, group, text, priority)
        op = new_operation(self.op_ids(t0), stamp(t0), self.world.partner_id, book.conn, resource, payload)
        # Async operations wait in Catena's queue for a moment before the first attempt.
        t = t0 + (0.05 if sync else 0.2 + 2.5 * rng.random())
        attempt = 0
        while True:
            attempt += 1
            u = draw(self.seed, key, attempt)
            outcome = decide(
                book.profile, u, text=text, conditions=self.conditions(ci, t) if self.windows[ci] else None
            )
            t += outcome.latency_s
            when = stamp(t)
            # the id is drawn either way, so that the failed attempts' logs are the same with or without the
            # successes logged
            log = attempt_log(self.log_ids(t), op["id"], when, outcome)
            if self.success_logs or not outcome.ok:
                op["logs"].append(log)
            if sync or not self.policy.should_retry(outcome, attempt):
                break
            t += self.policy.delay_s(attempt, u[3])
        if outcome.ok:
            op["resource_id"] = self.msg_ids(t)
            op["source_id"] = outcome.source_id
            self.msgs.append(self.message(book, op, t, when, u))
        op["updated_at"] = stamp(t + 0.02 + 0.1 * rng.random())
        op["status"] = "success" if outcome.ok else "failed"
        self.ops.append(op)

    def message(
        self, book: MessageBook, op: dict[str, Any], t: float, occurred: str, u: Draw
    ) -> dict[str, Any]:
        # The successful attempt's draw has bits to spare (its kind and jitter floats and the high bits of its
        # integer decide nothing on success), which saves a hash per message.
        n = u[4]
        plan = ((n >> 40) * _TWO_M24, ((n >> 16) & 0xFFFFFF) * _TWO_M24, u[1], u[3], n)
        sent, delivered, read = plan_delivery(book.profile, plan)
        stamp = self.stamp
        times = (
            None if sent is None else stamp(t + sent),
            None if delivered is None else stamp(t + delivered),
            None if read is None else stamp(t + read),
        )
        return book.record(op["payload"], op["resource_id"], str(op["source_id"]), occurred, times)
