"""Time in one place: every timestamp as an aware UTC datetime, the API's query form, and 45-day windows.

The list endpoints take `from_datetime`/`to_datetime` in ISO 8601 UTC and refuse a span longer than 45 days,
so a longer span is cut into consecutive half-open windows.
"""

from __future__ import annotations

import datetime as dt

from catena_nb import _config

__all__ = ["Window", "as_utc", "format_dt", "split_windows"]

Window = tuple[dt.datetime, dt.datetime]


def as_utc(value: dt.datetime | dt.date | str) -> dt.datetime:
    """A datetime, date or ISO string as an aware UTC datetime (naive values are taken as UTC)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    # assumed: a naive datetime is UTC, as every timestamp of the API is
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def format_dt(value: dt.datetime) -> str:
    """The query form of a UTC datetime: ISO 8601 with a `Z`."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def split_windows(
    since: dt.datetime, until: dt.datetime, max_days: int = _config.MAX_WINDOW_DAYS
) -> list[Window]:
    """Consecutive half-open windows `[from, to)` of at most `max_days` covering `[since, until)`."""
    step = dt.timedelta(days=max_days)
    out: list[Window] = []
    start = since
    while start < until:
        end = min(start + step, until)
        out.append((start, end))
        start = end
    return out
