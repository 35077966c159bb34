"""The checks of the resources' arguments, and the query parameters they become, before any I/O.

Each request's arguments are checked together, and every bad one is named in one `InvalidRequestError`, so
that nothing is sent on bad input.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypedDict

from catena_nb import _config
from catena_nb._time import Window, as_utc, split_windows
from catena_nb.errors import InvalidRequestError

__all__ = [
    "LIST_DEFAULTS",
    "WINDOW_LIST_DEFAULTS",
    "Checker",
    "FleetFilters",
    "Ids",
    "Paged",
    "When",
    "WindowFilters",
    "clean_params",
    "listed",
    "status_filter",
]

Ids = str | uuid.UUID | Iterable[str | uuid.UUID]
When = dt.datetime | dt.date | str


# The filters that several listings share, declared once. A listing's own filters come first, in a base of
# their own: a TypedDict lists its keys base by base, and so do the signatures shown (`_keywords`).


class Paged(TypedDict, total=False):
    size: int  # the page size, 1 to 1000 (default 1000, the most the API gives)


class FleetFilters(TypedDict, total=False):
    fleet_ids: Ids | None
    fleet_refs: str | Iterable[str] | None


class WindowFilters(TypedDict, total=False):
    since: When | None
    until: When | None
    status: str | Iterable[str] | None  # applied on the client side: the API has no status filter
    concurrency: int  # sub-windows listed side by side (1: one cursor at a time)
    progress: bool | None  # a progress bar (default: the client's setting)


LIST_DEFAULTS: dict[str, Any] = {"size": _config.DEFAULT_PAGE_SIZE}
# the listings with a window, which may be cut into sub-windows listed side by side
WINDOW_LIST_DEFAULTS: dict[str, Any] = {**LIST_DEFAULTS, "concurrency": _config.DEFAULT_LIST_CONCURRENCY}


class Checker:
    """Collects every problem with a request's arguments, then raises them together."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, field: str, message: str, value: Any) -> None:
        self.errors.append({"field": field, "message": message, "input": value})

    def uuid(self, field: str, value: Any) -> str | None:
        if value is None:
            return None
        try:
            return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value).strip()))
        except ValueError:
            self.add(field, "must be a UUID", value)
            return None

    def many(self, field: str, values: Any, *, uuids: bool = False) -> list[str] | None:
        if values is None:
            return None
        if isinstance(values, str | uuid.UUID):
            items = [values]
        elif isinstance(values, Iterable) and not isinstance(values, bytes | Mapping):
            items = list(values)
        else:
            self.add(field, "must be a value or a list of values", values)
            return None
        if len(items) > _config.MAX_LIST_PARAM_VALUES:
            self.add(
                field, f"takes at most {_config.MAX_LIST_PARAM_VALUES} values, got {len(items)}", len(items)
            )
            return None
        if uuids:
            checked = [self.uuid(f"{field}[{i}]", v) for i, v in enumerate(items)]
            return [c for c in checked if c is not None]
        return [str(v) for v in items]

    def choice(self, field: str, value: Any, choices: Sequence[str]) -> str | None:
        if value is None:
            return None
        if str(value) not in choices:
            self.add(field, f"must be one of {', '.join(choices)}", value)
            return None
        return str(value)

    def size(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _config.MAX_PAGE_SIZE:
            self.add("size", f"must be an integer from 1 to {_config.MAX_PAGE_SIZE}", value)
            return _config.DEFAULT_PAGE_SIZE
        return value

    def concurrency(self, value: Any) -> int:
        top = _config.MAX_LIST_CONCURRENCY
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            self.add("concurrency", f"must be an integer from 1 to {top}", value)
            return 1
        return value

    def when(self, field: str, value: Any) -> dt.datetime | None:
        if value is None:
            return None
        try:
            return as_utc(value)
        except (TypeError, ValueError, AttributeError):
            self.add(field, "must be a datetime, a date or an ISO 8601 string", value)
            return None

    def windows(self, since: Any, until: Any) -> list[Window] | None:
        start, end = self.when("since", since), self.when("until", until)
        if since is None and until is None:
            return None  # the API's own default: the last day
        if start is None and end is None:
            return None
        # assumed: with one bound given the other is the API's default span of one day (or now)
        end = end or dt.datetime.now(dt.UTC)
        start = start or end - dt.timedelta(days=1)
        if start >= end:
            self.add("until", "must be later than since", until)
            return None
        return split_windows(start, end)

    def done(self, what: str) -> None:
        if self.errors:
            raise InvalidRequestError(self.errors, what=what)


def status_filter(
    status: str | Iterable[str] | None, default: str | None = None
) -> Callable[[Mapping[str, Any]], bool] | None:
    """The client-side filter of `status=` (the API has none) on wire records, or None to keep every item.

    A record without a status has the model's `default` (an open enum's value is its string either way).
    """
    if status is None:
        return None
    wanted = {status} if isinstance(status, str) else {str(s) for s in status}
    return lambda record: str(record.get("status", default)) in wanted


def listed(value: Any) -> Any:
    """An iterable of ids as a list; anything else is passed on as it is, so that the request model names
    the bad field instead of ``list()`` raising a TypeError."""
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        return list(value)
    return value


def clean_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the unset ones; lists stay lists (httpx repeats the key for each value)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, Sequence) and not isinstance(value, str):
            if value:
                out[key] = [str(v) for v in value]
        else:
            out[key] = str(value)
    return out
