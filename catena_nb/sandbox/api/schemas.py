"""Request bodies the sandbox validates, and the response schemas its OpenAPI document declares.

Request models ignore fields they do not know, as the real API's would: its published request schemas
(``MessageCreate``, ``GroupMessageCreate``, ``WebhookCreate``) do not forbid additional properties. The
client forbids unknown fields before sending instead. Response models exist for ``/openapi.json`` only: the
routes build their bodies from the stored records (``sim/records.py``), and the operation and log schemas are
made from the same key lists as those bodies.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from catena_nb.sandbox.sim.integrations import Resource as Resource
from catena_nb.sandbox.sim.records import LOOKUP_KEYS, LOOKUP_LOG_KEYS, WRITE_KEYS, WRITE_LOG_KEYS

Priority = Literal["low", "medium", "high"]
OperationType = Literal["create", "update"]
SortOrder = Literal["asc", "desc"]
# assumed: source_name stays an open set of lowercase slugs (the real TspEnum has ~130 values and grows).
SOURCE_NAME_PATTERN = r"^[a-z0-9_]+$"


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MessageCreate(_Request):
    """Body of ``POST /v2/telematics/messages``."""

    connection_id: uuid.UUID
    sender_id: uuid.UUID
    recipient_id: uuid.UUID
    message_text: str | None = None
    priority: Priority | None = None
    reply_to_message_id: uuid.UUID | None = None


class GroupMessageCreate(_Request):
    """Body of ``POST /v2/telematics/group-messages``."""

    connection_id: uuid.UUID
    sender_id: uuid.UUID
    # The spec sets no bounds on the list; an empty one fails the operation (``sim/engine.py``).
    recipient_ids: list[uuid.UUID]
    message_text: str | None = None
    priority: Priority | None = None


class WebhookFilters(_Request):
    """Which fleets' events a subscription receives."""

    fleet_ids: list[uuid.UUID] | None = None
    fleet_refs: list[str] | None = None


class WebhookCreate(_Request):
    """Body of ``POST /v2/notifications/webhooks``."""

    url: str = Field(pattern=r"^https?://[^\s/$.?#][^\s]*$", max_length=2048)
    # an event name, or a wildcard over a family such as `resource_operation.*`
    event_name: str = Field(pattern=r"^(\*|[a-z_]+\.(\*|[a-z_]+))$")
    filters: WebhookFilters | None = None
    secret: str | None = Field(default=None, min_length=12, max_length=256)


class WebhookUpdate(_Request):
    """Body of ``PATCH /v2/notifications/webhooks/{webhook_id}``: a status "can only be updated to 'active'
    or 'inactive'" (specs/notifications/openapi.json, ``WebhookUpdate``)."""

    url: str | None = Field(default=None, pattern=r"^https?://[^\s/$.?#][^\s]*$", max_length=2083)
    filters: WebhookFilters | None = None
    secret: str | None = Field(default=None, min_length=12, max_length=256)
    status: Literal["active", "inactive"] | None = None


# -- response schemas (documentation) ----------------------------------------------------------------------


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


_LOG_FIELDS: dict[str, Any] = {
    "id": (uuid.UUID, ...),
    "created_at": (str, ...),
    "updated_at": (str, ...),
    "resource_operation_id": (uuid.UUID, ...),
    "status": (Literal["success", "failed"], ...),
    "error_type": (Literal["auth", "validation", "network", "tsp"] | None, None),
    "error_details": (str | None, None),
    "response_status_code": (int | None, None),
    "response_headers": (dict[str, str] | None, None),
}


def _schema(name: str, doc: str, fields: dict[str, Any], keys: tuple[str, ...]) -> type[BaseModel]:
    picked = {key: fields[key] for key in keys}
    return create_model(name, __base__=_Response, __doc__=doc, __module__=__name__, **picked)


ResourceOperationLog = _schema(
    "ResourceOperationLog", "One attempt, as the write endpoints show it.", _LOG_FIELDS, WRITE_LOG_KEYS
)
ResourceOperationLogRead = _schema(
    "ResourceOperationLogRead", "One attempt, as the lookups show it.", _LOG_FIELDS, LOOKUP_LOG_KEYS
)

_Status = Literal["pending", "success", "failed"]
# Every field of the operation record, for each shape (sim/records.py) to pick its own from.
_OPERATION_FIELDS: dict[str, Any] = {
    "id": (uuid.UUID, ...),
    "created_at": (str, ...),
    "updated_at": (str, ...),
    "deleted_at": (str | None, None),
    "partner_id": (uuid.UUID, ...),
    "connection_id": (uuid.UUID, ...),
    "source_name": (str, ...),
    "fleet_ref": (str | None, None),
    "resource": (Resource, ...),
    "resource_id": (uuid.UUID | None, None),
    "source_id": (str | None, None),
    "operation_type": (OperationType, ...),
    "payload": (dict[str, Any], ...),
    "status": (_Status, ...),
}

ResourceOperation = _schema(
    "ResourceOperation",
    "A resource operation as the telematics write endpoints answer it.",
    {**_OPERATION_FIELDS, "logs": (list[ResourceOperationLog], [])},  # type: ignore[valid-type]
    WRITE_KEYS,
)
ResourceOperationRead = _schema(
    "ResourceOperationRead",
    "A resource operation as the integrations lookups answer it.",
    {**_OPERATION_FIELDS, "logs": (list[ResourceOperationLogRead], [])},  # type: ignore[valid-type]
    LOOKUP_KEYS,
)


class TspIntegrationsRead(_Response):
    """A TSP and the status of each resource's integration (``implemented``, ``not_implemented``,
    ``not_supported``)."""

    tsp_id: uuid.UUID
    slug: str | None = None
    source_name: str | None = None
    integrations: dict[str, Literal["implemented", "not_implemented", "not_supported"]]
    implemented_count: int
    not_implemented_count: int
    not_supported_count: int


class CursorPage(_Response):
    """A cursor page (integrations: no ``total``)."""

    items: list[dict[str, Any]]
    current_page: str | None = None
    current_page_backwards: str | None = None
    previous_page: str | None = None
    next_page: str | None = None


class CursorPageWithTotal(CursorPage):
    """A cursor page of the telematics and notifications services, with ``total``."""

    total: int


class ErrorBody(_Response):
    """``{code, message, detail}``: every error but a 500."""

    code: int
    message: str
    detail: Any = None


class ValidationErrorDetail(_Response):
    """One bad field of a 422."""

    path: str
    input: str
    message: str
    error_type: str


class UnprocessableEntity(_Response):
    """A 422's body: every bad field listed."""

    code: int
    message: str
    detail: list[ValidationErrorDetail]


class InternalServerError(_Response):
    """A 500's body."""

    message: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries of a route for these error statuses."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model: type[BaseModel] = ErrorBody
        if status == 422:
            model = UnprocessableEntity
        elif status == 500:
            model = InternalServerError
        out[status] = {"model": model}
    return out


COMMON_ERRORS = error_responses(401, 404, 422, 429, 500)
