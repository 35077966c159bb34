"""Which list pages may hand out lazy models: a check of the whole page in one pass of C, before any model.

A page's items are handed out as lazy models (`catena_nb._lazy`) only when this check proves that each of
them will validate: the decoded items are converted by msgspec to a schema that accepts a subset of what
the pydantic models accept (strings where they take strings, RFC 3339 datetimes, integers that are not
booleans, dicts where they take dicts; unknown fields anything, as the models allow). That costs about half
of decoding the page, where validating every model costs three times that. A page the check does not prove
valid (odd datetimes, floats for integers, a malformed record) is validated by pydantic at once, as before,
and raises `ResponseValidationError` there if it must.

The one record the check lets through that the models refuse: a time on the first day of year 1 or the
last of year 9999 whose offset takes it out of range in UTC. It raises `OverflowError` when the model is
first touched, instead of when the page arrives (where it raised the same).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import msgspec
import pydantic
from msgspec import UNSET

from catena_nb._jsonio import collector_paused
from catena_nb.models import ErrorType, OperationStatus, OperationType, Resource, ResourceOperation

__all__ = [
    "WireBody",
    "WireLog",
    "WireOperation",
    "WirePayload",
    "proven_valid",
    "proven_valid_body",
    "wire_items",
]

_Time = dt.datetime | None


class _Log(msgspec.Struct, gc=False):
    id: str | None = None
    created_at: _Time = None
    updated_at: _Time = None
    resource_operation_id: str | None = None
    status: str | None = None
    error_type: str | None = None
    error_details: str | None = None
    response_status_code: int | None = None
    response_headers: dict[str, Any] | None = None


class _Operation(msgspec.Struct, gc=False):
    connection_id: str
    resource: str
    operation_type: str
    id: str | None = None
    created_at: _Time = None
    updated_at: _Time = None
    deleted_at: _Time = None
    partner_id: str | None = None
    source_name: str | None = None
    fleet_ref: str | None = None
    payload: dict[str, Any] | None = None
    resource_id: str | None = None
    source_id: str | None = None
    status: str = "pending"
    logs: list[_Log] | None = None


_CHECKS: dict[type[pydantic.BaseModel], Any] = {ResourceOperation: list[_Operation]}


# The same check of a body already read into the wire structs below, which proved the type of every other
# field (the same as the check's, or narrower): only what the check asks more of is read, the rest of each
# record skipped unread. No dict per record, then or ever.
class _LogTimes(msgspec.Struct, gc=False):
    created_at: _Time = None
    updated_at: _Time = None


class _OperationRest(msgspec.Struct, gc=False):
    connection_id: str
    resource: str
    operation_type: str
    created_at: _Time = None
    updated_at: _Time = None
    deleted_at: _Time = None
    status: str = "pending"
    logs: list[_LogTimes] | None = None


class _OperationPage(msgspec.Struct, gc=False):
    items: list[_OperationRest]


_BODY_CHECKS: dict[type[pydantic.BaseModel], Any] = {
    ResourceOperation: msgspec.json.Decoder(_OperationPage).decode
}


# The values of the listing's enums, as Literal types: msgspec hands out the one text object of each value
# (no new string per record, which the frames then hash once per value rather than once per row). A value
# outside them (a status Catena adds later) fails the decoding, and that page is read as decoded JSON.
if TYPE_CHECKING:  # text to the type checker, which cannot read a Literal built from an enum
    _Status: TypeAlias = str
    _ErrorType: TypeAlias = str
    _Resource: TypeAlias = str
    _OperationType: TypeAlias = str
else:
    _Status = Literal[tuple(e.value for e in OperationStatus)]
    _ErrorType = Literal[tuple(e.value for e in ErrorType)]
    _Resource = Literal[tuple(e.value for e in Resource)]
    _OperationType = Literal[tuple(e.value for e in OperationType)]


# The frames' reading of a listing: a page decoded straight into these, in one pass of C with no dict per
# record, when it has exactly the shape of the listing's answers. Unlike the check above they prove nothing
# about the models (times stay text, parsed by the frames a column at a time); they only take the page's
# values as they are on the wire. Any other key, or a value of another JSON type (a number for a text
# field, a float status code, a payload that is not an object), fails the decoding, and the page is then
# read as decoded JSON, as before: the frames of the two ways are the same (tests/frames/test_wire_pages.py).
class WireLog(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """An attempt log as the operations listing sends it (a missing field reads as null)."""

    id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    resource_operation_id: str | None = None
    status: _Status | None = None
    error_type: _ErrorType | None = None
    error_details: str | None = None
    response_status_code: int | None = None
    response_headers: dict[str, Any] | None = None


class WirePayload(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """The payload of a message or group-message operation, each field of it `UNSET` where it was left out
    (which the frames tell from null: a key no payload holds makes no column). Any other key fails the
    decoding (the page is then read as decoded JSON): the payload of another resource, say."""

    priority: Any = UNSET
    sender_id: Any = UNSET
    message_text: Any = UNSET
    recipient_id: Any = UNSET
    connection_id: Any = UNSET
    recipient_ids: Any = UNSET
    source_sender_id: Any = UNSET
    reply_to_message_id: Any = UNSET
    source_recipient_id: Any = UNSET
    source_recipient_ids: Any = UNSET
    source_reply_to_message_id: Any = UNSET


class WireOperation(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """A resource operation as the operations listing sends it; an `id` it must have (the frames and the
    loop guard read it)."""

    id: str
    created_at: str | None = None
    updated_at: str | None = None
    deleted_at: str | None = None
    partner_id: str | None = None
    connection_id: str | None = None
    source_name: str | None = None
    fleet_ref: str | None = None
    resource: _Resource | None = None
    operation_type: _OperationType | None = None
    payload: WirePayload | None = None
    resource_id: str | None = None
    source_id: str | None = None
    status: _Status | None = None
    logs: list[WireLog] | None = None


class _WirePage(msgspec.Struct, gc=False):
    items: list[WireOperation]
    next_page: Any = None
    total: Any = None


_WIRE_PAGES: dict[type[pydantic.BaseModel], Any] = {ResourceOperation: msgspec.json.Decoder(_WirePage).decode}


def wire_items(model: type[pydantic.BaseModel], content: bytes) -> tuple[list[Any], Any, Any] | None:
    """A page's items decoded into the wire structs of `model`, its `next_page` and `total` as sent; None
    when the page is not exactly of that shape (or `model` has none)."""
    decode = _WIRE_PAGES.get(model)
    if decode is None:
        return None
    try:
        with collector_paused():
            page = decode(content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return page.items, page.next_page, page.total


def proven_valid(model: type[pydantic.BaseModel], items: list[Any]) -> bool:
    """Whether every one of `items` (a page's decoded items) is sure to validate as a `model`."""
    schema = _CHECKS.get(model)
    if schema is None:
        return False
    try:
        with collector_paused():  # the check's own objects are thrown away at once
            msgspec.convert(items, schema)
    except msgspec.ValidationError:
        return False
    return True


def proven_valid_body(model: type[pydantic.BaseModel], content: bytes) -> bool:
    """Whether every item of a page body that was read into the wire structs of `model` (`wire_items`) is
    sure to validate as a `model`: `proven_valid` of its items, read from the body itself."""
    check = _BODY_CHECKS.get(model)
    if check is None:
        return False
    try:
        with collector_paused():
            check(content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    return True


class WireBody:
    """The body of a page read into wire structs, as sent: what each of its lazy models is validated from
    when first touched. Its items are decoded from it the first time one is asked for (the listing's frames
    never ask); a page cut from it (`Page.kept`, whose body is written from its structs, a field left out
    there null) shares it, so that its models still see each record as sent."""

    __slots__ = ("_content", "_loads", "_records", "_structs", "_valid")

    def __init__(self, content: bytes, structs: list[Any], loads: Any) -> None:
        self._content, self._structs, self._loads = content, structs, loads
        self._records: dict[int, Any] | None = None
        self._valid: bool | None = None

    def proven_valid(self, model: type[pydantic.BaseModel]) -> bool:
        """Whether every item of the body is sure to validate as a `model` (`proven_valid_body`)."""
        if self._valid is None:
            self._valid = proven_valid_body(model, self._content)
        return self._valid

    def mapping(self, record: Any) -> Any:
        """The item as sent that `record`, one of the body's structs, was decoded from."""
        if self._records is None:
            items = self._loads(self._content)["items"]
            # by identity: the structs are the body's own, alive while any of its models is
            self._records = {id(s): item for s, item in zip(self._structs, items, strict=True)}
        return self._records[id(record)]
