"""The operation record the sandbox keeps: how it is built, and the three wire shapes it is shown in.

The record is the union of the shapes: ``id, created_at, updated_at, deleted_at, partner_id, connection_id,
source_name, fleet_ref, resource, operation_type, payload, resource_id, source_id, status, logs``, each log
``id, created_at, updated_at, resource_operation_id, status, error_type, error_details, response_status_code,
response_headers``. Timestamps are the sandbox's strings (``timestamps.py``).

Each shape carries exactly the fields of Catena's schema for it (catenaclearing/catena-sdk-go):

- ``write_shape``, the telematics write endpoints' ``ResourceOperation`` with ``ResourceOperationLog`` logs
  (``gen/telematics/docs/ResourceOperation.md``, ``ResourceOperationLog.md``): ``deleted_at``, no
  ``source_name``/``fleet_ref``; logs with ``response_status_code`` and ``response_headers``;
- ``lookup_shape``, the integrations lookups' ``ResourceOperationRead`` with ``ResourceOperationLogRead`` logs
  (``specs/integrations/openapi.json``; ``gen/integrations/docs/ResourceOperationLogRead.md``):
  ``source_name`` and ``fleet_ref``, no ``deleted_at``; logs with neither ``response_status_code`` nor
  ``response_headers``;
- ``webhook_shape``, the ``resource_operation.*`` events' data, ``BaseResourceOperationEvent``
  (``gen/notifications/docs/BaseResourceOperationEvent.md``): the lookup fields, but the notifications
  service's ``ResourceOperationLogRead`` logs (``gen/notifications/docs/ResourceOperationLogRead.md``), which
  do carry ``response_status_code`` and ``response_headers``.

The routes create records (``new_operation``), the engine and the history add attempt logs
(``attempt_log``); the shapes live here, with the record, so that the simulation never needs the HTTP side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catena_nb.sandbox.sim.types import AttemptOutcome, Connection

_HEAD = ("id", "created_at", "updated_at")
_TAIL = ("resource", "resource_id", "source_id", "operation_type", "payload", "status", "logs")
# ResourceOperation: what the telematics write endpoints return
WRITE_KEYS = (*_HEAD, "deleted_at", "partner_id", "connection_id", *_TAIL)
# ResourceOperationRead (and BaseResourceOperationEvent): what the lookups and the webhooks return
LOOKUP_KEYS = (*_HEAD, "partner_id", "connection_id", "source_name", "fleet_ref", *_TAIL)
# ResourceOperationLogRead of the integrations spec: the TSP's HTTP status is only in `error_details` there
LOOKUP_LOG_KEYS = (*_HEAD, "resource_operation_id", "status", "error_type", "error_details")
# ResourceOperationLog (writes) and the notifications service's ResourceOperationLogRead (webhooks)
WRITE_LOG_KEYS = (*LOOKUP_LOG_KEYS, "response_status_code", "response_headers")


def write_shape(op: dict[str, Any]) -> dict[str, Any]:
    """The operation as `POST /v2/telematics/messages` answers it (``ResourceOperation``)."""
    return _shape(op, WRITE_KEYS, WRITE_LOG_KEYS)


def lookup_shape(op: dict[str, Any]) -> dict[str, Any]:
    """The operation as the resource-operation lookups give it (``ResourceOperationRead``)."""
    return _shape(op, LOOKUP_KEYS, LOOKUP_LOG_KEYS)


def webhook_shape(op: dict[str, Any]) -> dict[str, Any]:
    """The operation as a ``resource_operation.*`` event's data holds it (``BaseResourceOperationEvent``)."""
    return _shape(op, LOOKUP_KEYS, WRITE_LOG_KEYS)


def _shape(op: dict[str, Any], keys: Sequence[str], log_keys: Sequence[str]) -> dict[str, Any]:
    out = {k: op.get(k) for k in keys}
    out["logs"] = [{k: log.get(k) for k in log_keys} for log in op.get("logs") or []]
    return out


# The real API stores payloads as PostgreSQL jsonb, which orders keys by length, then bytes; the seed
# examples show that order, and so do the two payloads below.


def message_payload(
    conn: Connection,
    sender_id: str,
    recipient_id: str,
    *,
    message_text: str | None,
    priority: str | None,
    reply_to_message_id: str | None = None,
    source_reply_to_message_id: str | None = None,
) -> dict[str, Any]:
    """The operation ``payload`` Catena shows for a message: the request plus the TSP-side ids it mapped.

    A user id that is not one of the connection's users maps to a null source id.
    """
    return {
        "priority": priority,
        "sender_id": sender_id,
        "message_text": message_text,
        "recipient_id": recipient_id,
        "connection_id": conn.id,
        "source_sender_id": conn.source_id_of(sender_id),
        "reply_to_message_id": reply_to_message_id,
        "source_recipient_id": conn.source_id_of(recipient_id),
        "source_reply_to_message_id": source_reply_to_message_id,
    }


def group_message_payload(
    conn: Connection,
    sender_id: str,
    recipient_ids: Sequence[str],
    *,
    message_text: str | None,
    priority: str | None,
) -> dict[str, Any]:
    """The operation ``payload`` for a group message, with the TSP-side ids it mapped."""
    return {
        "priority": priority,
        "sender_id": sender_id,
        "message_text": message_text,
        "connection_id": conn.id,
        "recipient_ids": list(recipient_ids),
        "source_sender_id": conn.source_id_of(sender_id),
        "source_recipient_ids": [conn.source_id_of(r) for r in recipient_ids],
    }


def new_operation(
    op_id: str, created_at: str, partner_id: str, conn: Connection, resource: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """A pending operation that creates a ``resource`` (``message`` or ``group_message``) on a connection."""
    return {
        "id": op_id,
        "created_at": created_at,
        "updated_at": created_at,
        "deleted_at": None,
        "partner_id": partner_id,
        "connection_id": conn.id,
        "source_name": conn.source_name,
        "fleet_ref": conn.fleet_ref,
        "resource": resource,
        "operation_type": "create",
        "payload": payload,
        "resource_id": None,
        "source_id": None,
        "status": "pending",
        "logs": [],
    }


def attempt_log(log_id: str, op_id: str, stamp: str, outcome: AttemptOutcome) -> dict[str, Any]:
    """The log of one attempt (``created_at`` and ``updated_at`` are when it ended)."""
    return {
        "id": log_id,
        "created_at": stamp,
        "updated_at": stamp,
        "resource_operation_id": op_id,
        "status": "success" if outcome.ok else "failed",
        "error_type": outcome.error_type,
        "error_details": outcome.error_details,
        "response_status_code": outcome.response_status_code,
        "response_headers": dict(outcome.response_headers),
    }
