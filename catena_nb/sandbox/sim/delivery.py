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

from catena_nb.sandbox.sim.tsp import TspProfile, draw, lognormal
from catena_nb.sandbox.sim.types import Connection, User
from catena_nb.sandbox.sim.world import iso, source_id_for, stable_uuid

# assumed: a message the TSP never delivers stays "sent" (it reached the TSP's queue), except this share of
# them, which the TSP never even hands to the device and which stay "pending".
_NEVER_SENT_SHARE = 0.3


def plan_delivery(
    profile: TspProfile, u: tuple[float, float, float, float, int]
) -> tuple[float | None, float | None, float | None]:
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


def build_message(
    *,
    conn: Connection,
    profile: TspProfile,
    message_id: str,
    source_id: str,
    sender: User,
    recipient: User,
    message_text: str | None,
    priority: str | None,
    reply_to_message_id: str | None,
    occurred_at: str,
    created_at: str,
    sent_at: str | None,
    delivered_at: str | None,
    read_at: str | None,
    thread_id: str,
    source_thread_id: str,
) -> dict[str, Any]:
    """A MessageRead record with its planned times (the stored form; see ``message_view``)."""
    text = message_text or ""
    return {
        "fleet_id": conn.fleet_id,
        "fleet_ref": conn.fleet_ref,
        "id": message_id,
        "created_at": created_at,
        "updated_at": created_at,
        "deleted_at": None,
        "connection_id": conn.id,
        "tsp_id": conn.tsp_id,
        "tsp_slug": conn.source_name,
        "source_name": conn.source_name,
        "source_id": source_id,
        "source_data_hash": _sha256(
            f"{source_id}|{sender.source_id}|{recipient.source_id}|{occurred_at}|{text}"
        ),
        "occurred_at": occurred_at,
        "execution_id": None,
        "schedule_id": None,
        "extras": {"priority": priority if profile.supports_priority else None},
        "source_sender_id": sender.source_id,
        "source_recipient_id": recipient.source_id,
        "sender_id": sender.id,
        "recipient_id": recipient.id,
        "message_text": message_text,
        "message_hash": _text_hash(text),
        "status": "pending",
        "delivered_at": delivered_at,
        "read_at": read_at,
        "sent_by_driver": sender.is_driver,
        "sender_name": f"{sender.first_name} {sender.last_name}",
        "recipient_name": f"{recipient.first_name} {recipient.last_name}",
        "thread_id": thread_id,
        "source_thread_id": source_thread_id,
        "reply_to_message_id": reply_to_message_id,
        "source_reply_to_message_id": None,
        "_sent_at": sent_at,
    }


def build_group_message(
    *,
    conn: Connection,
    message_id: str,
    source_id: str,
    sender: User,
    recipients: list[User],
    message_text: str | None,
    occurred_at: str,
    created_at: str,
    sent_at: str | None,
    delivered_at: str | None,
    group_id: str,
    source_group_id: str,
) -> dict[str, Any]:
    """A GroupMessageRead record with its planned times (no read_at, recipient_name or reply fields)."""
    text = message_text or ""
    return {
        "fleet_id": conn.fleet_id,
        "fleet_ref": conn.fleet_ref,
        "id": message_id,
        "created_at": created_at,
        "updated_at": created_at,
        "deleted_at": None,
        "connection_id": conn.id,
        "tsp_id": conn.tsp_id,
        "tsp_slug": conn.source_name,
        "source_name": conn.source_name,
        "source_id": source_id,
        "source_data_hash": _sha256(f"{source_id}|{sender.source_id}|{group_id}|{occurred_at}|{text}"),
        "occurred_at": occurred_at,
        "execution_id": None,
        "schedule_id": None,
        "extras": {},
        "source_sender_id": sender.source_id,
        "source_recipient_ids": [r.source_id for r in recipients],
        "sender_id": sender.id,
        "recipient_ids": [r.id for r in recipients],
        "group_id": group_id,
        "source_group_id": source_group_id,
        "message_text": message_text,
        "message_hash": _text_hash(text),
        "status": "pending",
        "delivered_at": delivered_at,
        "sent_by_driver": sender.is_driver,
        "sender_name": f"{sender.first_name} {sender.last_name}",
        "thread_id": None,
        "source_thread_id": None,
        "_sent_at": sent_at,
    }


def thread_ids(seed: int, conn: Connection, a: str, b: str) -> tuple[str, str]:
    """The Catena and TSP ids of the conversation between two users of a connection."""
    lo, hi = sorted((a, b))
    n = int.from_bytes(hashlib.blake2b(f"{seed}|thread|{lo}|{hi}".encode(), digest_size=8).digest(), "big")
    return stable_uuid(seed, "thread", conn.id, lo, hi), source_id_for(conn.source_name, n)


def group_ids(seed: int, conn: Connection, recipient_ids: list[str]) -> tuple[str, str]:
    """The Catena and TSP ids of the group a group message goes to."""
    key = ",".join(sorted(recipient_ids))
    n = int.from_bytes(hashlib.blake2b(f"{seed}|group|{key}".encode(), digest_size=8).digest(), "big")
    return stable_uuid(seed, "group", conn.id, key), source_id_for(conn.source_name, n)


def live_message(
    *,
    seed: int,
    key: str,
    op: dict[str, Any],
    conn: Connection,
    profile: TspProfile,
    users: dict[str, User],
    message_id: str,
    source_id: str,
    now: dt.datetime,
    time_scale: float,
) -> dict[str, Any]:
    """The record of a message the TSP just accepted for ``op``, its delays shrunk by ``time_scale``.

    Args:
        key: the operation's content key (``tsp.operation_key``), so that the plan is as deterministic as
            the outcome.
    """
    payload = op.get("payload") or {}
    sent_d, delivered_d, read_d = plan_delivery(profile, draw(seed, key, 0))

    def at(delay: float | None) -> str | None:
        return None if delay is None else iso(now + dt.timedelta(seconds=delay * time_scale))

    occurred = iso(now)
    sender = users[payload["sender_id"]]
    if op.get("resource") == "group_message":
        recipients = [users[r] for r in payload.get("recipient_ids") or []]
        group_id, source_group_id = group_ids(seed, conn, [r.id for r in recipients])
        return build_group_message(
            conn=conn,
            message_id=message_id,
            source_id=source_id,
            sender=sender,
            recipients=recipients,
            message_text=payload.get("message_text"),
            occurred_at=occurred,
            created_at=occurred,
            sent_at=at(sent_d),
            delivered_at=at(delivered_d),
            group_id=group_id,
            source_group_id=source_group_id,
        )
    recipient = users[payload["recipient_id"]]
    thread_id, source_thread_id = thread_ids(seed, conn, sender.id, recipient.id)
    return build_message(
        conn=conn,
        profile=profile,
        message_id=message_id,
        source_id=source_id,
        sender=sender,
        recipient=recipient,
        message_text=payload.get("message_text"),
        priority=payload.get("priority"),
        reply_to_message_id=payload.get("reply_to_message_id"),
        occurred_at=occurred,
        created_at=occurred,
        sent_at=at(sent_d),
        delivered_at=at(delivered_d),
        read_at=at(read_d),
        thread_id=thread_id,
        source_thread_id=source_thread_id,
    )


def message_view(msg: dict[str, Any], now: dt.datetime | str) -> dict[str, Any]:
    """The message as the list endpoints show it at ``now``: status and the times that have passed.

    ``status`` is ``pending`` until the TSP sends it, then ``sent``, ``delivered``, ``read``; a planned
    ``delivered_at`` or ``read_at`` still in the future shows as null. ``updated_at`` is the last change.
    Keys starting with ``_`` (the plan) are dropped.

    Args:
        msg: a stored record (``build_message`` / ``build_group_message``).
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
