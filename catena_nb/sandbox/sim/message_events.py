"""``message.added`` / ``message.modified`` and ``group_message.added`` / ``modified``: the webhook events of
a message's delivery life (catena-api.md §9).

A message the TSP accepted is ``added`` (``pending``), then ``modified`` at each change of its delivery
status: sent, delivered, read, at the instants its plan holds (``delivery.py``). Each event's data is the
record as the notifications spec gives it: ``BaseMessage`` (catenaclearing/catena-sdk-go
``gen/notifications/docs/BaseMessage.md``) or ``BaseGroupMessage`` (``BaseGroupMessage.md``).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from catena_nb.sandbox.sim.delivery import message_view
from catena_nb.sandbox.sim.webhooks import WebhookSender

_HEAD = (
    "id",
    "fleet_id",
    "fleet_ref",
    "tsp_id",
    "tsp_slug",
    "source_name",
    "connection_id",
    "source_id",
    "created_at",
    "updated_at",
    "deleted_at",
    "occurred_at",
    "execution_id",
    "schedule_id",
    "extras",
    "source_sender_id",
)
MESSAGE_KEYS = (
    *_HEAD,
    "source_recipient_id",
    "sender_id",
    "recipient_id",
    "message_text",
    "message_hash",
    "status",
    "delivered_at",
    "read_at",
    "sent_by_driver",
    "sender_name",
    "recipient_name",
    "source_thread_id",
    "source_reply_to_message_id",
)
GROUP_MESSAGE_KEYS = (
    *_HEAD,
    "source_recipient_ids",
    "sender_id",
    "recipient_ids",
    "message_text",
    "message_hash",
    "status",
    "delivered_at",
    "sent_by_driver",
    "sender_name",
    "thread_id",
    "source_thread_id",
    "group_id",
    "source_group_id",
)


def message_event(view: dict[str, Any]) -> dict[str, Any]:
    """A message as its events' data holds it (``BaseMessage`` or ``BaseGroupMessage``)."""
    keys = GROUP_MESSAGE_KEYS if "recipient_ids" in view else MESSAGE_KEYS
    return {k: view.get(k) for k in keys}


def _changes(msg: dict[str, Any]) -> list[str]:
    """The planned instants of the message's status changes (sent, delivered, then read)."""
    out = [t for t in (msg.get("_sent_at"), msg.get("delivered_at")) if t is not None]
    if msg.get("delivered_at") is not None and msg.get("read_at") is not None:
        out.append(msg["read_at"])
    return sorted(out)


class MessageEvents:
    """Sends a message's events through the webhook sender, each change when it happens.

    Args:
        sender: the webhook sender (its schedule runs the changes).
    """

    def __init__(self, sender: WebhookSender) -> None:
        self._sender = sender

    def added(self, msg: dict[str, Any]) -> None:
        """A message the TSP just accepted (its stored record, with its plan): ``*.added`` now, and a
        ``*.modified`` at each later change of its delivery status."""
        # assumed: the messages of sync sends get their events too (the docs tie message events to the
        # record, not to how it was sent); `added` shows it as accepted, `pending`
        kind = "group_message" if "recipient_ids" in msg else "message"
        now = dt.datetime.now(dt.UTC)
        self._send(f"{kind}.added", msg, msg["created_at"])  # as it was when accepted, whatever came since
        for when in _changes(msg):
            delay = (dt.datetime.fromisoformat(when.replace("Z", "+00:00")) - now).total_seconds()
            self._sender.schedule.after(delay, functools.partial(self._send, f"{kind}.modified", msg, when))

    def _send(self, event_name: str, msg: dict[str, Any], at: str) -> None:
        view = message_view(msg, at)
        key = (
            event_name,
            msg.get("message_hash"),
            msg.get("sender_id"),
            msg.get("source_id"),
            view["status"],
        )
        self._sender.emit(
            event_name,
            message_event(view),
            fleet_id=msg.get("fleet_id"),
            fleet_ref=msg.get("fleet_ref"),
            key=key,
        )
