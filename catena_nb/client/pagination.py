"""Cursor pages, 45-day windows, and the lazy listings that walk them.

A listing is lazy: building it sends nothing, and its repr never fetches. Iterating it walks each date
window in turn (a span longer than 45 days is split, since the API refuses longer ones) and, within a
window, follows `next_page` until it is null. `.pages()` yields the pages themselves, with their raw bytes
for code that parses them in bulk.

A listing always ends: a server that hands out a cursor it already gave in the window, or a page that repeats
the one before it under a fresh cursor, would make it yield the same records forever, so the walk stops with
a `PaginationError` instead (after yielding every page before the repeat).
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

import pydantic

from catena_nb import _jsonio
from catena_nb._redact import clip
from catena_nb._time import Window, format_dt
from catena_nb.errors import PaginationError, ResponseValidationError

__all__ = ["AsyncPaginator", "ListSpec", "Page", "Paginator"]

M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass
class ListSpec(Generic[M]):
    """What a listing asks for: path, query parameters, windows, item model and a client-side filter."""

    path: str
    params: dict[str, Any]
    model: type[M]
    windows: list[Window] | None = None
    keep: Callable[[M], bool] | None = None
    label: str = "items"

    def window_params(self) -> list[dict[str, Any]]:
        """The query parameters of each window (one set when no window was asked for)."""
        if not self.windows:
            return [dict(self.params)]
        return [
            {**self.params, "from_datetime": format_dt(start), "to_datetime": format_dt(end)}
            for start, end in self.windows
        ]


@dataclass
class Page(Generic[M]):
    """One cursor page: `.items` (parsed on first use, filtered), `.raw_items`, `.content`."""

    content: bytes
    model: type[M]
    keep: Callable[[M], bool] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    status_code: int = 200
    request_id: str | None = None

    @cached_property
    def data(self) -> dict[str, Any]:
        """The page as decoded JSON."""
        try:
            data = _jsonio.loads(self.content)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise ResponseValidationError(
                "a list page without an `items` list",
                body=self.content.decode("utf-8", "replace"),
                status_code=self.status_code,
                request_id=self.request_id,
            )
        return data

    @property
    def raw_items(self) -> list[dict[str, Any]]:
        """The items as plain dicts, unfiltered."""
        items: list[dict[str, Any]] = self.data["items"]
        return items

    @property
    def next_page(self) -> str | None:
        """The cursor of the next page, or None on the last page."""
        cursor = self.data.get("next_page")
        return cursor if isinstance(cursor, str) and cursor else None

    @property
    def total(self) -> int | None:
        """The total the telematics listings report (integrations listings do not)."""
        total = self.data.get("total")
        return total if isinstance(total, int) else None

    @cached_property
    def items(self) -> list[M]:
        """The items as models, after the client-side filter."""
        try:
            items: list[M] = _list_adapter(self.model).validate_python(self.raw_items)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
        else:
            return [item for item in items if self.keep(item)] if self.keep is not None else items
        # raised outside the handler: pydantic's error, which quotes the input, is not attached as context
        raise ResponseValidationError(
            f"a list page whose items are not {self.model.__name__} records ({len(errors)} problems)",
            body=self.content.decode("utf-8", "replace"),
            status_code=self.status_code,
            request_id=self.request_id,
            errors=errors,
        )

    def __repr__(self) -> str:
        try:
            items, more = len(self.raw_items), self.next_page is not None
        except ResponseValidationError:  # a repr never raises, nor quotes the body
            return f"Page(not a list page: {len(self.content)} bytes of {self.model.__name__} listing)"
        return f"Page({items} {self.model.__name__} items, next_page={more})"


@functools.cache
def _list_adapter(model: type[M]) -> pydantic.TypeAdapter[list[M]]:
    return pydantic.TypeAdapter(list[model])  # type: ignore[valid-type]


class _LoopGuard:
    """Watches one window's walk: a cursor handed out again, or a page equal to the one before, raises."""

    def __init__(self, spec: ListSpec[Any], params: Mapping[str, Any]) -> None:
        self._spec = spec
        lo, hi = params.get("from_datetime"), params.get("to_datetime")
        self._where = f"GET {spec.path}" + (f", window {lo} to {hi}" if lo and hi else "")
        self._followed: dict[str, int] = {}  # cursor -> the page that handed it out
        self._previous: tuple[Any, ...] | None = None
        self.pages = 0

    def _error(self, text: str, page: Page[Any], cursor: str | None) -> PaginationError:
        return PaginationError(
            f"the {self._spec.label} listing ({self._where}) {text}: the server's pagination is broken "
            f"(following it would yield the same records forever), so the listing stops here; the "
            f"{self.pages - 1} pages before were yielded",
            listing=self._spec.label,
            path=self._spec.path,
            cursor=cursor,
            page=self.pages,
            status_code=page.status_code,
            request_id=page.request_id,
        )

    def arrived(self, page: Page[Any], cursor: str | None) -> None:
        """Check a page fetched with `cursor` before it is yielded."""
        self.pages += 1
        key = _page_key(page.raw_items)
        # assumed: two empty pages in a row under fresh cursors are a loop too (only a null next_page ends
        # a listing, so a server that keeps answering empty pages would never let it end)
        if key == self._previous:
            raise self._error(
                f"answered page {self.pages} (cursor {_shown(cursor)}) with the same {len(key)} items, "
                f"in the same order, as page {self.pages - 1}",
                page,
                cursor,
            )
        self._previous = key

    def follow(self, cursor: str, page: Page[Any]) -> None:
        """Check the cursor page number `self.pages` hands out before it is followed."""
        first = self._followed.get(cursor)
        if first is not None:
            self.pages += 1  # the page that would come next, which is not fetched
            raise self._error(
                f"handed out cursor {_shown(cursor)} again on page {self.pages - 1}, which page {first} "
                "had already handed out",
                page,
                cursor,
            )
        self._followed[cursor] = self.pages


def _page_key(items: list[Any]) -> tuple[Any, ...]:
    """What makes a page the same page: its items' ids in order (the items themselves, without ids)."""
    try:
        ids = [item["id"] for item in items]  # the fast path of a long listing
    except (KeyError, TypeError, IndexError):
        ids = [None]
    if None in ids:  # an item without an id: two such pages differ by their content
        return tuple(json.dumps(item, sort_keys=True, default=str) for item in items)
    return tuple(ids)


def _shown(cursor: str | None) -> str:
    return "(none: the first page)" if cursor is None else repr(clip(cursor, 60))


FetchFn = Callable[[str, dict[str, Any]], Page[M]]
AsyncFetchFn = Callable[[str, dict[str, Any]], Awaitable[Page[M]]]


def _progress_bar(enabled: bool, label: str) -> Any:
    from tqdm.auto import tqdm

    # a bar appears only once a listing has run for a second: short listings stay quiet
    kwargs: dict[str, Any] = {"delay": 1.0} if enabled else {"disable": True}
    return tqdm(desc=f"listing {label}", unit=" items", leave=False, **kwargs)


class Paginator(Generic[M]):
    """A lazy listing: iterate it for items, `.pages()` for pages, `.to_list()` for everything at once."""

    def __init__(self, fetch: FetchFn[M], spec: ListSpec[M], *, progress: bool = False) -> None:
        self._fetch = fetch
        self.spec = spec
        self.progress = progress

    def pages(self) -> Iterator[Page[M]]:
        """Yield each page of each window, following `next_page`."""
        bar = _progress_bar(self.progress, self.spec.label)
        try:
            for params in self.spec.window_params():
                guard = _LoopGuard(self.spec, params)
                cursor: str | None = None
                while True:
                    query = {**params, "cursor": cursor} if cursor else params
                    page = self._fetch(self.spec.path, query)
                    page.keep = self.spec.keep
                    guard.arrived(page, cursor)
                    bar.update(len(page.raw_items))
                    yield page
                    cursor = page.next_page
                    if cursor is None:
                        break
                    guard.follow(cursor, page)
        finally:
            bar.close()

    def __iter__(self) -> Iterator[M]:
        for page in self.pages():
            yield from page.items

    def to_list(self) -> list[M]:
        """Every item of the listing."""
        return list(self)

    def __repr__(self) -> str:
        windows = len(self.spec.windows) if self.spec.windows else 1
        plural = "s" * (windows != 1)
        return f"<Paginator {self.spec.label} GET {self.spec.path} ({windows} window{plural})>"


class AsyncPaginator(Generic[M]):
    """The async twin of `Paginator`: `async for item in ...`, `.pages()`, `await .to_list()`."""

    def __init__(self, fetch: AsyncFetchFn[M], spec: ListSpec[M], *, progress: bool = False) -> None:
        self._fetch = fetch
        self.spec = spec
        self.progress = progress

    async def pages(self) -> AsyncIterator[Page[M]]:
        """Yield each page of each window, following `next_page`."""
        bar = _progress_bar(self.progress, self.spec.label)
        try:
            for params in self.spec.window_params():
                guard = _LoopGuard(self.spec, params)
                cursor: str | None = None
                while True:
                    query = {**params, "cursor": cursor} if cursor else params
                    page = await self._fetch(self.spec.path, query)
                    page.keep = self.spec.keep
                    guard.arrived(page, cursor)
                    bar.update(len(page.raw_items))
                    yield page
                    cursor = page.next_page
                    if cursor is None:
                        break
                    guard.follow(cursor, page)
        finally:
            bar.close()

    async def __aiter__(self) -> AsyncIterator[M]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def to_list(self) -> list[M]:
        """Every item of the listing."""
        return [item async for item in self]

    def __repr__(self) -> str:
        windows = len(self.spec.windows) if self.spec.windows else 1
        plural = "s" * (windows != 1)
        return f"<AsyncPaginator {self.spec.label} GET {self.spec.path} ({windows} window{plural})>"


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
