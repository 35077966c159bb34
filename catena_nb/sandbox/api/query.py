"""The query strings of the list endpoints: the page, the date window, and each telematics list's filters.

A list route takes its query as one dependency (``Annotated[UserQuery, Depends()]``); FastAPI reads the
dataclass's fields as the query parameters, with their constraints, and lists them in the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Annotated, Any

from fastapi import Depends, Query

from catena_nb.sandbox.api.errors import APIError, field_error, validation_error
from catena_nb.sandbox.api.pagination import DEFAULT_SIZE, MAX_SIZE, Cursor, CursorError, Key
from catena_nb.sandbox.api.schemas import SortOrder
from catena_nb.sandbox.sim.timestamps import iso

MAX_WINDOW = dt.timedelta(days=45)
DEFAULT_WINDOW = dt.timedelta(days=1)
MAX_LIST_VALUES = 100

Size = Annotated[int, Query(ge=1, le=MAX_SIZE, description="Items per page (1..1000).")]
CursorParam = Annotated[str | None, Query(description="The `next_page` or `previous_page` of a page.")]
FromParam = Annotated[
    dt.datetime | None, Query(description="Start of the window (inclusive); default now - 1 day.")
]
ToParam = Annotated[dt.datetime | None, Query(description="End of the window (exclusive); default now.")]
UUIDs = Annotated[list[uuid.UUID] | None, Query(max_length=MAX_LIST_VALUES)]
Strings = Annotated[list[str] | None, Query(max_length=MAX_LIST_VALUES)]
Test = Callable[[dict[str, Any]], bool]


def _utc(moment: dt.datetime) -> dt.datetime:
    # assumed: a datetime without an offset is UTC, as the docs write every example in UTC
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def window(from_datetime: dt.datetime | None, to_datetime: dt.datetime | None) -> tuple[Key, Key]:
    """The index bounds of a ``from_datetime``/``to_datetime`` window (defaults: the last day).

    Raises:
        APIError: 422 when ``from >= to`` or the window spans more than 45 days.
    """
    try:
        end = dt.datetime.now(dt.UTC) if to_datetime is None else _utc(to_datetime)
        start = end - DEFAULT_WINDOW if from_datetime is None else _utc(from_datetime)
    except OverflowError:
        # a bound at the edge of the calendar (year 1, or an offset past it): a bad value, not a server fault
        field = "query.to_datetime" if from_datetime is None else "query.from_datetime"
        raise validation_error(
            [field_error(field, None, "the datetime is out of the supported range", "value_error")]
        ) from None
    if start >= end:
        raise validation_error(
            [
                field_error(
                    "query.from_datetime",
                    iso(start),
                    "from_datetime must be earlier than to_datetime",
                    "value_error",
                )
            ]
        )
    if end - start > MAX_WINDOW:
        # assumed: 422 (the docs say only that the window may not exceed 45 days)
        raise validation_error(
            [
                field_error(
                    "query.to_datetime",
                    iso(end),
                    "The window between from_datetime and to_datetime may not exceed 45 days",
                    "value_error",
                )
            ]
        )
    return (iso(start), ""), (iso(end), "")


def parse_cursor(cursor: str | None) -> Cursor | None:
    """The decoded cursor, or None for the first page.

    Raises:
        APIError: 400 for a cursor this sandbox did not issue.
    """
    if cursor is None or cursor == "":
        return None
    try:
        return Cursor.decode(cursor)
    except CursorError as exc:
        # assumed: 400 Bad Request (the docs do not say how an invalid cursor is answered)
        raise APIError(400, str(exc)) from exc


@dataclass
class Page:
    """Where a page of a list starts, and how many items it holds."""

    cursor: CursorParam = None
    size: Size = DEFAULT_SIZE


# A route's parameter ``page: PageQuery`` reads ``cursor`` and ``size``.
PageQuery = Annotated[Page, Depends()]


@dataclass
class TelematicsQuery:
    """What every telematics list reads: fleet and connection, source data, order and page.

    A field with ``tests`` in its metadata is an "any of these values" filter on that field of the records.
    """

    fleet_ids: UUIDs = field(default=None, metadata={"tests": "fleet_id"})
    fleet_refs: Strings = field(default=None, metadata={"tests": "fleet_ref"})
    connection_id: uuid.UUID | None = None
    include_source_data: bool = False
    sort_by: str | None = None
    sort_order: SortOrder = "asc"
    cursor: CursorParam = None
    size: Size = DEFAULT_SIZE

    def descending(self, order_field: str) -> bool:
        """Whether the page runs newest first; only ``order_field`` may be asked for as ``sort_by``.

        Raises:
            APIError: 422 for another ``sort_by``.
        """
        if self.sort_by not in (None, order_field):
            # assumed: only the default order is offered; other fields are refused, not ignored
            raise validation_error(
                [
                    field_error(
                        "query.sort_by", self.sort_by, f"Only {order_field} is supported", "literal_error"
                    )
                ]
            )
        return self.sort_order == "desc"

    def tests(self) -> list[Test]:
        """One record test per "any of" parameter given: the field it tests holds one of the values."""
        given = ((f.metadata["tests"], getattr(self, f.name)) for f in fields(self) if "tests" in f.metadata)
        return [_one_of(record_field, wanted) for record_field, wanted in given if wanted]


def _one_of(record_field: str, wanted: list[Any]) -> Test:
    values = {str(v) for v in wanted}
    return lambda r: r.get(record_field) is not None and str(r.get(record_field)) in values


def all_of(tests: list[Test]) -> Test | None:
    """One test passing the records that pass all of ``tests`` (None when there are none)."""
    if not tests:
        return None
    return lambda r: all(t(r) for t in tests)


@dataclass
class UserQuery(TelematicsQuery):
    """The query of ``GET /v2/telematics/users``."""

    is_driver: bool | None = None
    user_ids: UUIDs = field(default=None, metadata={"tests": "id"})
    source_ids: Strings = field(default=None, metadata={"tests": "source_id"})


@dataclass
class MessageQuery(TelematicsQuery):
    """What both message lists read besides their recipients: the date window and the sender."""

    from_datetime: FromParam = None
    to_datetime: ToParam = None
    sender_ids: UUIDs = field(default=None, metadata={"tests": "sender_id"})
    source_sender_ids: Strings = field(default=None, metadata={"tests": "source_sender_id"})


@dataclass
class DirectMessageQuery(MessageQuery):
    """The query of ``GET /v2/telematics/messages``."""

    recipient_ids: UUIDs = field(default=None, metadata={"tests": "recipient_id"})
    source_recipient_ids: Strings = field(default=None, metadata={"tests": "source_recipient_id"})


@dataclass
class GroupMessageQuery(MessageQuery):
    """The query of ``GET /v2/telematics/group-messages``."""

    group_ids: UUIDs = field(default=None, metadata={"tests": "group_id"})
    source_group_ids: Strings = field(default=None, metadata={"tests": "source_group_id"})
