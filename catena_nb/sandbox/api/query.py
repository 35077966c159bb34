"""Query parameters shared by the list endpoints: page size, cursor, and the date window."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query

from catena_nb.sandbox.api.errors import APIError, field_error, validation_error
from catena_nb.sandbox.api.pagination import DEFAULT_SIZE, MAX_SIZE, Cursor, CursorError, Key
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

__all__ = ["DEFAULT_SIZE", "CursorParam", "FromParam", "Size", "ToParam", "parse_cursor", "window"]


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
