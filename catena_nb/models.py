"""Pydantic models of the Catena wire format, and its open enums.

Response models accept unknown fields (the endpoints are provisional) and unknown enum values: a known value
becomes a `StrEnum` member, an unknown one stays a plain `str`, and neither fails validation. Request models
forbid unknown fields, and `build()` gathers every bad field into one `InvalidRequestError` before any I/O.
Datetimes are aware UTC datetimes whatever the wire gave.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from catena_nb._http_status import attempt_status
from catena_nb._lazy import LazyModel
from catena_nb._redact import redact
from catena_nb._time import as_utc
from catena_nb.errors import InvalidRequestError

__all__ = [
    "Connection",
    "ErrorType",
    "GroupMessage",
    "GroupMessageCreate",
    "IntegrationStatus",
    "Message",
    "MessageCreate",
    "MessageStatus",
    "OperationLog",
    "OperationStatus",
    "OperationType",
    "Priority",
    "Resource",
    "ResourceOperation",
    "Tsp",
    "User",
]


class OperationStatus(StrEnum):
    """Status of a resource operation, and of each attempt log (which is only ever success or failed)."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"


class ErrorType(StrEnum):
    """Category of a failed attempt."""

    AUTH = "auth"
    VALIDATION = "validation"
    NETWORK = "network"
    TSP = "tsp"


class Priority(StrEnum):
    """Priority of a driver message."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class OperationType(StrEnum):
    """What a resource operation does."""

    CREATE = "create"
    UPDATE = "update"


class MessageStatus(StrEnum):
    """Delivery status of a message as the TSP reports it."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"


class IntegrationStatus(StrEnum):
    """How far a TSP's integration of one resource goes (`GET /v2/integrations/tsps`)."""

    IMPLEMENTED = "implemented"  # the TSP supports it and Catena implemented it
    NOT_IMPLEMENTED = "not_implemented"  # the TSP supports it, Catena does not yet
    NOT_SUPPORTED = "not_supported"  # the TSP has no such API


class Resource(StrEnum):
    """The resource a resource operation acts on (ResourceEnum of the API docs)."""

    ASSET = "asset"
    DRIVER_ASSOCIATION = "driver_association"
    DRIVER_VEHICLE_ASSOCIATION = "driver_vehicle_association"
    DRIVER_EVENT_LOG = "driver_event_log"
    DRIVER_SAFETY_EVENT = "driver_safety_event"
    DVIR_LOG = "dvir_log"
    DVIR_LOG_DEFECT = "dvir_log_defect"
    ENGINE_LOG = "engine_log"
    ENGINE_STATUS = "engine_status"
    FUEL_TRANSACTION = "fuel_transaction"
    FLEET_INFO = "fleet_info"
    HOS_AVAILABILITY = "hos_availability"
    HOS_DAILY_SNAPSHOT = "hos_daily_snapshot"
    HOS_EVENT = "hos_event"
    HOS_EVENT_ANNOTATION = "hos_event_annotation"
    HOS_EVENT_ATTACHMENT = "hos_event_attachment"
    HOS_VIOLATION = "hos_violation"
    IFTA_SUMMARY = "ifta_summary"
    LOCATION_SEGMENT = "location_segment"
    MESSAGE = "message"
    GROUP_MESSAGE = "group_message"
    USER = "user"
    VEHICLE = "vehicle"
    VEHICLE_LOCATION = "vehicle_location"
    VEHICLE_SENSOR = "vehicle_sensor"
    VEHICLE_REGION_SEGMENT = "vehicle_region_segment"
    TRAILER = "trailer"
    TRAILER_ASSOCIATION = "trailer_association"
    TRAILER_VEHICLE_ASSOCIATION = "trailer_vehicle_association"
    TRAILER_LOCATION = "trailer_location"
    TRAILER_STATUS = "trailer_status"
    WORKFLOW = "workflow"


UTCDateTime = Annotated[dt.datetime, pydantic.AfterValidator(as_utc)]
# An open enum: the member when the value is known, else the plain string. Trying the enum first and the
# string second runs inside pydantic-core, with no Python call per field (listings parse ~100,000 records).
_OPEN = Field(union_mode="left_to_right")
OpenStatus = Annotated[OperationStatus | str, _OPEN]
OpenErrorType = Annotated[ErrorType | str, _OPEN]
OpenResource = Annotated[Resource | str, _OPEN]
OpenOperationType = Annotated[OperationType | str, _OPEN]
OpenMessageStatus = Annotated[MessageStatus | str, _OPEN]
OpenIntegrationStatus = Annotated[IntegrationStatus | str, _OPEN]


class _Response(LazyModel):
    # a listing's models may be lazy: parsed when first touched (see catena_nb._lazy)
    model_config = ConfigDict(extra="allow", frozen=False, populate_by_name=True)


class OperationLog(_Response):
    """One attempt of a resource operation at the TSP."""

    id: str | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    resource_operation_id: str | None = None
    status: OpenStatus | None = None
    error_type: OpenErrorType | None = None
    error_details: str | None = None
    response_status_code: int | None = None
    response_headers: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        """Whether this attempt failed."""
        return self.status == OperationStatus.FAILED

    @property
    def http_status(self) -> int | None:
        """The TSP's HTTP status: ``response_status_code`` (write answers only), else the status named in
        ``error_details`` (lookups and listings carry only the text), else None."""
        return attempt_status(self.response_status_code, self.error_details)

    def __repr__(self) -> str:
        err = f" {self.error_type}" if self.error_type else ""
        return redact(f"OperationLog({self.status}{err}, id={self.id!r})")

    __str__ = __repr__


class ResourceOperation(_Response):
    """A resource operation: the write endpoints' shape and the lookups' shape in one model.

    The write endpoints add `deleted_at`; the lookups add `source_name` and `fleet_ref`. Both are optional.
    """

    id: str | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    deleted_at: UTCDateTime | None = None
    partner_id: str | None = None
    connection_id: str
    source_name: str | None = None
    fleet_ref: str | None = None
    resource: OpenResource
    operation_type: OpenOperationType
    payload: dict[str, Any] = Field(default_factory=dict)
    resource_id: str | None = None
    source_id: str | None = None
    status: OpenStatus = OperationStatus.PENDING
    logs: list[OperationLog] = Field(default_factory=list)

    @field_validator("logs", "payload", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any, info: pydantic.ValidationInfo) -> Any:
        if value is None:
            return [] if info.field_name == "logs" else {}
        return value

    @property
    def succeeded(self) -> bool:
        """Whether the operation ended in success."""
        return self.status == OperationStatus.SUCCESS

    @property
    def failed(self) -> bool:
        """Whether the operation ended in failure."""
        return self.status == OperationStatus.FAILED

    @property
    def pending(self) -> bool:
        """Whether the operation is still pending (async sends, until the worker settles it)."""
        return self.status == OperationStatus.PENDING

    @property
    def attempts(self) -> int:
        """How many attempts were made at the TSP (one log each)."""
        return len(self.logs)

    @property
    def sorted_logs(self) -> list[OperationLog]:
        """The logs in attempt order (by `created_at`; the wire order is not documented)."""
        floor = dt.datetime.min.replace(tzinfo=dt.UTC)
        return sorted(self.logs, key=lambda log: log.created_at or floor)

    @property
    def last_error(self) -> OperationLog | None:
        """The last failed attempt, or None when no attempt failed."""
        failed = [log for log in self.sorted_logs if log.failed]
        return failed[-1] if failed else None

    @property
    def error_type(self) -> ErrorType | str | None:
        """The `error_type` of the last failed attempt."""
        last = self.last_error
        return last.error_type if last else None

    def __repr__(self) -> str:
        err = f", error_type={str(self.error_type)!r}" if self.failed and self.error_type else ""
        return redact(
            f"ResourceOperation(id={self.id!r}, status={str(self.status)!r}, "
            f"resource={str(self.resource)!r}, attempts={self.attempts}{err})"
        )

    __str__ = __repr__

    def _repr_html_(self) -> str:
        from catena_nb._html import operation_html

        return operation_html(self)


class Connection(_Response):
    """A Fleet/TSP pairing (`GET /v2/integrations/connections`)."""

    id: str
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    fleet_id: str | None = None
    fleet_ref: str | None = None
    tsp_id: str | None = None
    source_name: str | None = None
    credentials: dict[str, Any] | None = None
    status: str | None = None
    description: str | None = None

    def __repr__(self) -> str:
        return redact(
            f"Connection(id={self.id!r}, source_name={self.source_name!r}, fleet_ref={self.fleet_ref!r})"
        )


class Tsp(_Response):
    """A TSP and what its integration supports, resource by resource (`TspIntegrationsRead`).

    `integrations` maps each resource (`message`, `group_message`, `vehicle`, ...) to `implemented`,
    `not_implemented` or `not_supported`; a connection names its TSP by `tsp_id`.
    """

    tsp_id: str
    slug: str | None = None
    source_name: str | None = None
    integrations: dict[str, OpenIntegrationStatus] = Field(default_factory=dict)
    implemented_count: int | None = None
    not_implemented_count: int | None = None
    not_supported_count: int | None = None

    @field_validator("integrations", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    def support(self, resource: str) -> IntegrationStatus | str | None:
        """The integration status of `resource` (e.g. `"message"`), or None when the TSP does not list it."""
        return self.integrations.get(str(resource))

    def writes(self, resource: str) -> bool:
        """Whether Catena can write `resource` records through this TSP (its status is `implemented`)."""
        return self.support(resource) == IntegrationStatus.IMPLEMENTED

    @property
    def name(self) -> str:
        """The slug, else the source name, else the id: what to call the TSP in a message."""
        return self.slug or self.source_name or self.tsp_id

    def __repr__(self) -> str:
        return redact(
            f"Tsp(tsp_id={self.tsp_id!r}, slug={self.slug!r}, message={str(self.support('message'))!r})"
        )


class _Record(_Response):
    """Fields every telematics record carries."""

    id: str
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    deleted_at: UTCDateTime | None = None
    fleet_id: str | None = None
    fleet_ref: str | None = None
    connection_id: str | None = None
    tsp_id: str | None = None
    tsp_slug: str | None = None
    source_name: str | None = None
    source_id: str | None = None
    source_data: Any = None
    source_data_hash: str | None = None


class User(_Record):
    """A fleet user (driver or dispatcher); its `id` is what a message's `sender_id`/`recipient_id` name."""

    username: str | None = None
    is_active: bool | None = None
    status: str | None = None
    is_driver: bool | None = None
    user_email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None
    employee_number: str | None = None

    def __repr__(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return redact(f"User(id={self.id!r}, name={name!r}, is_driver={self.is_driver})")


class _MessageBase(_Record):
    occurred_at: UTCDateTime | None = None
    execution_id: str | None = None
    schedule_id: str | None = None
    extras: Any = None
    source_sender_id: str | None = None
    sender_id: str | None = None
    message_text: str | None = None
    message_hash: str | None = None
    status: OpenMessageStatus | None = None
    delivered_at: UTCDateTime | None = None
    sent_by_driver: bool | None = None
    sender_name: str | None = None
    thread_id: str | None = None
    source_thread_id: str | None = None


class Message(_MessageBase):
    """A driver message as the messages listing shows it, with its delivery `status`."""

    source_recipient_id: str | None = None
    recipient_id: str | None = None
    read_at: UTCDateTime | None = None
    recipient_name: str | None = None
    reply_to_message_id: str | None = None
    source_reply_to_message_id: str | None = None

    def __repr__(self) -> str:
        return redact(
            f"Message(id={self.id!r}, status={str(self.status)!r}, connection_id={self.connection_id!r})"
        )


class GroupMessage(_MessageBase):
    """A group message as the group-messages listing shows it."""

    source_recipient_ids: list[str] | None = None
    recipient_ids: list[str] | None = None
    group_id: str | None = None
    source_group_id: str | None = None

    def __repr__(self) -> str:
        return redact(f"GroupMessage(id={self.id!r}, status={str(self.status)!r})")


# ----------------------------------------------------------------------------------------------- requests


def _uuid_text(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if value is None:
        raise ValueError("is required (got None)")
    if not isinstance(value, str):
        raise ValueError(f"must be a UUID string, got {type(value).__name__}")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise ValueError("must be a UUID such as 3c90c3cc-0d44-4b50-8888-8dd25736052a") from None


def _priority(value: Any) -> Priority:
    if isinstance(value, Priority):
        return value
    if isinstance(value, str) and value in Priority._value2member_map_:
        return Priority(value)
    raise ValueError("must be one of low, medium, high")


UUIDText = Annotated[str, pydantic.PlainValidator(_uuid_text)]
PriorityValue = Annotated[Priority, pydantic.PlainValidator(_priority), pydantic.PlainSerializer(str)]
Text = Annotated[str, pydantic.Strict()]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    _what: ClassVar[str] = "request"

    @classmethod
    def build(cls, data: Mapping[str, Any] | None = None, /, **fields: Any) -> Self:
        """Validate the fields, raising one `InvalidRequestError` that names every bad field.

        Raises:
            InvalidRequestError: a field is missing, unknown, or of the wrong type or value.
        """
        values = {**(data or {}), **fields}
        try:
            return cls.model_validate(values)
        except pydantic.ValidationError as exc:
            raise InvalidRequestError(_field_errors(exc), what=cls._what) from None

    def to_json(self) -> dict[str, Any]:
        """The JSON body, without the optional fields left unset."""
        return self.model_dump(mode="json", exclude_none=True)


def _field_errors(exc: pydantic.ValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or None
        kind = err["type"]
        if kind == "missing":
            message = "is required"
        elif kind == "extra_forbidden":
            message = "is not a field of this request"
        elif kind == "value_error":
            message = str(err["msg"]).removeprefix("Value error, ")
        else:
            message = str(err["msg"])
        out.append({"field": field, "message": message, "input": err.get("input")})
    return out


class MessageCreate(_Request):
    """The body of `POST /v2/telematics/messages`."""

    _what: ClassVar[str] = "message"

    connection_id: UUIDText
    sender_id: UUIDText
    recipient_id: UUIDText
    message_text: Text | None = None
    priority: PriorityValue | None = None
    reply_to_message_id: UUIDText | None = None


class GroupMessageCreate(_Request):
    """The body of `POST /v2/telematics/group-messages`."""

    _what: ClassVar[str] = "group message"

    connection_id: UUIDText
    sender_id: UUIDText
    # at least one recipient; the spec sets no upper bound, so neither does the client
    recipient_ids: Annotated[list[UUIDText], Field(min_length=1)]
    message_text: Text | None = None
    priority: PriorityValue | None = None
