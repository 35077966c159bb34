"""The two wire shapes of a resource operation, rendered from the sandbox's one internal record.

The internal record is the union of both shapes (the write shape and the lookup shape): ``id, created_at,
updated_at, deleted_at, partner_id, connection_id, source_name, fleet_ref, resource, operation_type, payload,
resource_id, source_id, status, logs``, each log ``id, created_at, updated_at, resource_operation_id, status,
error_type, error_details, response_status_code, response_headers``. Timestamps are ISO strings
(``...T09:15:00.000000Z``).
"""

from __future__ import annotations

from typing import Any

# (a) what the telematics write endpoints return: no source_name/fleet_ref
WRITE_KEYS = (
    "id",
    "created_at",
    "updated_at",
    "deleted_at",
    "partner_id",
    "connection_id",
    "resource",
    "resource_id",
    "source_id",
    "operation_type",
    "payload",
    "status",
    "logs",
)
# (b) what the integrations lookups (and the webhooks) return: no deleted_at
LOOKUP_KEYS = (
    "id",
    "created_at",
    "updated_at",
    "partner_id",
    "connection_id",
    "source_name",
    "fleet_ref",
    "resource",
    "resource_id",
    "source_id",
    "operation_type",
    "payload",
    "status",
    "logs",
)
WRITE_LOG_KEYS = (
    "id",
    "created_at",
    "updated_at",
    "resource_operation_id",
    "status",
    "error_type",
    "error_details",
    "response_status_code",
    "response_headers",
)
# assumed: the lookup logs carry response_status_code too (the newest notifications schema has it; the
# published integrations schema does not), so an audit can see the TSP's HTTP status.
LOOKUP_LOG_KEYS = (
    "id",
    "created_at",
    "updated_at",
    "resource_operation_id",
    "status",
    "error_type",
    "error_details",
    "response_status_code",
)


def write_shape(op: dict[str, Any]) -> dict[str, Any]:
    """The operation as `POST /v2/telematics/messages` answers it (shape a)."""
    out = {k: op.get(k) for k in WRITE_KEYS}
    out["logs"] = [{k: log.get(k) for k in WRITE_LOG_KEYS} for log in op.get("logs") or []]
    return out


def lookup_shape(op: dict[str, Any]) -> dict[str, Any]:
    """The operation as the resource-operation lookups and webhooks give it (shape b)."""
    out = {k: op.get(k) for k in LOOKUP_KEYS}
    out["logs"] = [{k: log.get(k) for k in LOOKUP_LOG_KEYS} for log in op.get("logs") or []]
    return out
