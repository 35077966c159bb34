"""The life of a message after the TSP accepted it: pending, sent, delivered, read.

A message that reached the TSP gets a MessageRead record (or GroupMessageRead, catena-api.md §6) whose
planned send, delivery and read times are drawn once, deterministically, from the TSP's delays. The record
keeps the plan (``_sent_at``, ``delivered_at``, ``read_at``); ``message_view`` renders it at a given instant,
showing a time only once it has passed. Timestamps are the sandbox's fixed-width ISO strings, which compare
like the instants they name, so a view costs no parsing.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import Any

from catena_nb.sandbox.sim.ids import source_id_for, stable_int, stable_uuid
from catena_nb.sandbox.sim.outcomes import Draw, draw, lognormal
from catena_nb.sandbox.sim.profiles import TspProfile
from catena_nb.sandbox.sim.timestamps import iso
from catena_nb.sandbox.sim.types import Connection, Pace, User

# assumed: a message the TSP never delivers stays "sent" (it reached the TSP's queue), except this share of
# them, which the TSP never even hands to the device and which stay "pending".
_NEVER_SENT_SHARE = 0.3


def plan_delivery(profile: TspProfile, u: Draw) -> tuple[float | None, float | None, float | None]:
    """Delays in simulated seconds from acceptance to (sent, delivered, read); None for never.

    Most messages are delivered within minutes, some never are; only a minority is ever read.
    """
    u_never, u_deliver, u_read, u_read_delay, n = u
    if u_never < profile.p_never_delivered * _NEVER_SENT_SHARE:
        return None, None, None
    sent = profile.sent_delay_s * (0.5 + (n & 0xFFFF) / 0x10000)
    if u_never < profile.p_never_delivered:
        return sent, None, None
    delivered = sent + lognormal(profile.delivered_median_s, 0.9, u_deliver)
    if u_read >= profile.p_read:
        return sent, delivered, None
    return sent, delivered, delivered + lognormal(profile.read_median_s, 1.1, u_read_delay)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=4096)
def _text_hash(text: str) -> str:
    # the history draws its texts from a small pool, so most hashes are repeats
    return _sha256(text)


Times = tuple[str | None, str | None, str | None]  # planned sent_at, delivered_at, read_at


class MessageBook:
    """Builds the records of the messages one connection's TSP accepted, caching the ids of its threads.

    A payload with ``recipient_ids`` gives a GroupMessageRead record, one with ``recipient_id`` a MessageRead
    record; both keep the planned times (``_sent_at``, ``delivered_at``, ``read_at``) for ``message_view``.

    Args:
        seed: seeds the ids of threads and groups.
        conn: the connection; the payload's users must be among its users.
        profile: its TSP's profile.
    """

    def __init__(self, seed: int, conn: Connection, profile: TspProfile) -> None:
        self.seed = seed
        self.conn = conn
        self.profile = profile
        self._users = {u.id: u for u in conn.user_records}
        self._threads: dict[tuple[str, str], tuple[str, str]] = {}

    def record(
        self, payload: dict[str, Any], message_id: str, source_id: str, occurred_at: str, times: Times
    ) -> dict[str, Any]:
        """The record of the message ``payload`` asked for, created when it occurred, with planned times."""
        sender = self._users[payload["sender_id"]]
        text = payload.get("message_text")
        sent_at, delivered_at, read_at = times
        if "recipient_ids" in payload:
            recipients = [self._users[r] for r in payload["recipient_ids"]]
            group_id, source_group_id = self.group_ids([r.id for r in recipients])
            return {
                **self._head(message_id, source_id, sender, group_id, occurred_at, text),
                "extras": {},
                "source_sender_id": sender.source_id,
                "source_recipient_ids": [r.source_id for r in recipients],
                "sender_id": sender.id,
                "recipient_ids": [r.id for r in recipients],
                "group_id": group_id,
                "source_group_id": source_group_id,
                "message_text": text,
                "message_hash": _text_hash(text or ""),
                "status": "pending",
                "delivered_at": delivered_at,
                "sent_by_driver": sender.is_driver,
                "sender_name": f"{sender.first_name} {sender.last_name}",
                "thread_id": None,
                "source_thread_id": None,
                "_sent_at": sent_at,
            }
        recipient = self._users[payload["recipient_id"]]
        thread_id, source_thread_id = self.thread_ids(sender.id, recipient.id)
        priority = payload.get("priority")
        return {
            **self._head(message_id, source_id, sender, recipient.source_id, occurred_at, text),
            "extras": {"priority": priority if self.profile.supports_priority else None},
            "source_sender_id": sender.source_id,
            "source_recipient_id": recipient.source_id,
            "sender_id": sender.id,
            "recipient_id": recipient.id,
            "message_text": text,
            "message_hash": _text_hash(text or ""),
            "status": "pending",
            "delivered_at": delivered_at,
            "read_at": read_at,
            "sent_by_driver": sender.is_driver,
            "sender_name": f"{sender.first_name} {sender.last_name}",
            "recipient_name": f"{recipient.first_name} {recipient.last_name}",
            "thread_id": thread_id,
            "source_thread_id": source_thread_id,
            "reply_to_message_id": payload.get("reply_to_message_id"),
            "source_reply_to_message_id": None,
            "_sent_at": sent_at,
        }

    def _head(
        self, message_id: str, source_id: str, sender: User, to: str, occurred_at: str, text: str | None
    ) -> dict[str, Any]:
        """The fields both records start with; ``to`` is the recipient's TSP id or the group's id."""
        conn = self.conn
        return {
            "fleet_id": conn.fleet_id,
            "fleet_ref": conn.fleet_ref,
            "id": message_id,
            "created_at": occurred_at,
            "updated_at": occurred_at,
            "deleted_at": None,
            "connection_id": conn.id,
            "tsp_id": conn.tsp_id,
            "tsp_slug": conn.source_name,
            "source_name": conn.source_name,
            "source_id": source_id,
            "source_data_hash": _sha256(f"{source_id}|{sender.source_id}|{to}|{occurred_at}|{text or ''}"),
            "occurred_at": occurred_at,
            "execution_id": None,
            "schedule_id": None,
        }

    def thread_ids(self, a: str, b: str) -> tuple[str, str]:
        """The Catena and TSP ids of the conversation between two users of the connection."""
        pair = (a, b) if a <= b else (b, a)
        ids = self._threads.get(pair)
        if ids is None:
            lo, hi = pair
            ids = self._threads[pair] = (
                stable_uuid(self.seed, "thread", self.conn.id, lo, hi),
                source_id_for(self.conn.source_name, stable_int(self.seed, "thread", lo, hi)),
            )
        return ids

    def group_ids(self, recipient_ids: list[str]) -> tuple[str, str]:
        """The Catena and TSP ids of the group a group message goes to."""
        key = ",".join(sorted(recipient_ids))
        return (
            stable_uuid(self.seed, "group", self.conn.id, key),
            source_id_for(self.conn.source_name, stable_int(self.seed, "group", key)),
        )

    def live(
        self, op: dict[str, Any], message_id: str, source_id: str, *, key: str, now: dt.datetime, pace: Pace
    ) -> dict[str, Any]:
        """The record of a message the TSP just accepted for ``op``, its delays paced into real time.

        Args:
            key: the operation's content key (``outcomes.operation_key``), so that the plan is as
                deterministic as the outcome.
        """
        sent, delivered, read = plan_delivery(self.profile, draw(self.seed, key, 0))

        def at(delay: float | None) -> str | None:
            return None if delay is None else iso(now + dt.timedelta(seconds=pace.real(delay)))

        return self.record(
            op.get("payload") or {}, message_id, source_id, iso(now), (at(sent), at(delivered), at(read))
        )


def message_view(msg: dict[str, Any], now: dt.datetime | str) -> dict[str, Any]:
    """The message as the list endpoints show it at ``now``: status and the times that have passed.

    ``status`` is ``pending`` until the TSP sends it, then ``sent``, ``delivered``, ``read``; a planned
    ``delivered_at`` or ``read_at`` still in the future shows as null. ``updated_at`` is the last change.
    Keys starting with ``_`` (the plan) are dropped.

    Args:
        msg: a stored record (``MessageBook.record``).
        now: a datetime, or a timestamp string in the sandbox's format.
    """
    now_s = now if isinstance(now, str) else iso(now)
    out = {k: v for k, v in msg.items() if not k.startswith("_")}
    status = "pending"
    updated = msg["created_at"]
    sent = msg.get("_sent_at")
    if sent is not None and sent <= now_s:
        status, updated = "sent", max(updated, sent)
    delivered = msg.get("delivered_at")
    if delivered is not None and delivered <= now_s:
        status, updated = "delivered", max(updated, delivered)
    elif "delivered_at" in out:
        out["delivered_at"] = None
    read = msg.get("read_at")
    if read is not None and read <= now_s and status == "delivered":
        status, updated = "read", max(updated, read)
    elif "read_at" in out:
        out["read_at"] = None
    out["status"] = status
    out["updated_at"] = updated
    return out
