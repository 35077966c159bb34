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

import dataclasses
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, Self, TypeVar

import pydantic

from catena_nb import _jsonio
from catena_nb._lazy import LazyModel, ListedItems, Touched, lazy_page
from catena_nb._progress import progress_bar
from catena_nb._time import Window, format_dt
from catena_nb.client import _subwindows
from catena_nb.client._guard import LoopGuard
from catena_nb.client._transport import SharedPause
from catena_nb.client._wire import WireBody, proven_valid, wire_items
from catena_nb.errors import ResponseValidationError

__all__ = ["AsyncPaginator", "ListSpec", "Page", "Paginator"]

M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass
class ListSpec(Generic[M]):
    """What a listing asks for: path, query parameters, windows, item model and a client-side filter."""

    path: str
    params: dict[str, Any]
    model: type[M]
    windows: list[Window] | None = None
    keep: Callable[[Mapping[str, Any]], bool] | None = None  # on each wire record
    label: str = "items"
    concurrency: int = 1  # sub-windows listed side by side (with a `time_field` and windows)
    time_field: str | None = None  # what the API lists by and filters windows on
    structs: bool = False  # pages decoded into their wire structs first (`Page.wire_structs`)

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
    """One cursor page: `.items` (parsed on first use, filtered), `.raw_items`, `.content`.

    With `structs`, the page is decoded first into the wire structs of its model (`_wire.wire_items`), which
    the frames read without a dict per record; `raw_items` then decodes it again only if asked for.
    """

    content: bytes
    model: type[M]
    keep: Callable[[Mapping[str, Any]], bool] | None = None  # on each wire record
    params: Mapping[str, Any] = field(default_factory=dict)
    status_code: int = 200
    request_id: str | None = None
    structs: bool = field(default=False, compare=False)
    # once `items` are lazy models: the records they hold, and the mark they share
    _listed: tuple[list[Any], Touched] | None = field(default=None, init=False, repr=False, compare=False)
    # with wire structs: the body they were decoded from, as sent (a cut page's is its page's)
    _body: WireBody | None = field(default=None, init=False, repr=False, compare=False)

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

    @cached_property
    def _wire(self) -> tuple[list[Any], Any, Any] | None:
        """The items as wire structs, `next_page` and `total` as sent; None unless asked for and of that
        exact shape (and then the page is read as decoded JSON)."""
        if not self.structs or "data" in self.__dict__:
            return None
        return wire_items(self.model, self.content)

    @property
    def wire_structs(self) -> list[Any] | None:
        """The items as wire structs, unfiltered (None: read `raw_items`)."""
        wire = self._wire
        return None if wire is None else wire[0]

    def item_texts(self, name: str) -> list[Any]:
        """Each item's field `name` (None where it has none, or is not a record)."""
        wire = self._wire
        if wire is not None:
            return [getattr(item, name, None) for item in wire[0]]
        return [item.get(name) if isinstance(item, Mapping) else None for item in self.raw_items]

    @property
    def item_count(self) -> int:
        """How many items the page holds (before the client-side filter)."""
        wire = self._wire
        return len(self.raw_items if wire is None else wire[0])

    @property
    def raw_items(self) -> list[dict[str, Any]]:
        """The items as plain dicts, unfiltered."""
        items: list[dict[str, Any]] = self.data["items"]
        return items

    @property
    def next_page(self) -> str | None:
        """The cursor of the next page, or None on the last page."""
        wire = self._wire
        cursor = self.data.get("next_page") if wire is None else wire[1]
        return cursor if isinstance(cursor, str) and cursor else None

    @property
    def total(self) -> int | None:
        """The total the telematics listings report (integrations listings do not)."""
        wire = self._wire
        total = self.data.get("total") if wire is None else wire[2]
        return total if isinstance(total, int) else None

    def with_items(self, records: list[Any]) -> Page[M]:
        """This page holding only `records` (a listing's first page, cut where its sub-windows start)."""
        data = {**self.data, "items": records}
        content = _jsonio.dumps(data)
        page = Page(content, self.model, self.keep, self.params, self.status_code, self.request_id)
        page.__dict__["data"] = data  # cached_property's slot: decoded already
        return page

    def kept(self, keep: list[bool]) -> Page[M]:
        """This page holding only the items where `keep` is true, as wire structs if it holds them (its
        body then written from them: a field that was missing is null there)."""
        wire = self._wire
        if wire is None:
            return self.with_items([item for item, k in zip(self.raw_items, keep, strict=True) if k])
        structs = [item for item, k in zip(wire[0], keep, strict=True) if k]
        content = _jsonio.dumps({"items": structs, "next_page": wire[1], "total": wire[2]})
        page = Page(content, self.model, self.keep, self.params, self.status_code, self.request_id, True)
        page.__dict__["_wire"] = (structs, *wire[1:])
        page._body = self._wire_body(wire[0])
        return page

    def _wire_body(self, structs: list[Any]) -> WireBody:
        if self._body is None:
            self._body = WireBody(self.content, structs, _jsonio.loads)
        return self._body

    @cached_property
    def items(self) -> list[M]:
        """The items as models, after the client-side filter.

        Models of a page proven valid as a whole (`_wire`) are lazy: each is parsed when first touched, and
        until then the frames read its wire record.
        """
        keep = self.keep
        wire = self._wire if keep is None else None
        if wire is not None and issubclass(self.model, LazyModel):
            structs, body = wire[0], self._wire_body(wire[0])
            if body.proven_valid(self.model):
                # each model keeps the wire struct the frames read, and is validated from the item as sent
                with _jsonio.collector_paused():
                    models, mark = lazy_page(self.model, structs, body)
                self._listed = (structs, mark)
                return models
            raw = [body.mapping(item) for item in structs]  # the items as sent
        else:
            raw = self.raw_items
        if issubclass(self.model, LazyModel) and proven_valid(self.model, raw):
            kept = raw if keep is None else [item for item in raw if keep(item)]
            with _jsonio.collector_paused():  # tens of thousands of new objects, none in a cycle
                models, mark = lazy_page(self.model, kept)
            self._listed = (kept, mark)
            return models
        try:
            items: list[M] = _list_adapter(self.model).validate_python(raw)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
        else:
            if keep is None:
                return items
            return [item for item, record in zip(items, raw, strict=True) if keep(record)]
        # raised outside the handler: pydantic's error, which quotes the input, is not attached as context
        raise ResponseValidationError(
            f"a list page whose items are not {self.model.__name__} records ({len(errors)} problems)",
            body=self.content.decode("utf-8", "replace"),
            status_code=self.status_code,
            request_id=self.request_id,
            errors=errors,
        )

    def listed(self) -> tuple[list[M], list[Any] | None, Touched | None]:
        """The items, and while they are lazy models, the records they hold and the mark they share."""
        items = self.items
        if self._listed is None:
            return items, None, None
        return items, *self._listed

    def __repr__(self) -> str:
        try:
            items, more = len(self.raw_items), self.next_page is not None
        except ResponseValidationError:  # a repr never raises, nor quotes the body
            return f"Page(not a list page: {len(self.content)} bytes of {self.model.__name__} listing)"
        return f"Page({items} {self.model.__name__} items, next_page={more})"


@functools.cache
def _list_adapter(model: type[M]) -> pydantic.TypeAdapter[list[M]]:
    return pydantic.TypeAdapter(list[model])  # type: ignore[valid-type]


FetchFn = Callable[[str, dict[str, Any], SharedPause | None], Page[M]]
AsyncFetchFn = Callable[[str, dict[str, Any], SharedPause | None], Awaitable[Page[M]]]
PacerFn = Callable[[], SharedPause]


class _Walk:
    """One walk over a listing's windows and cursors, without I/O: iterate it for the query of each page, and
    hand each page fetched to `arrived` before yielding it. A context manager: it owns the progress bar."""

    def __init__(self, spec: ListSpec[Any], progress: bool) -> None:
        self._spec = spec
        # a bar appears only once a listing has run for a second: short listings stay quiet
        self._bar = progress_bar(
            progress, desc=f"listing {spec.label}", unit=" items", leave=False, delay=1.0
        )
        self._guard: LoopGuard | None = None
        self._cursor: str | None = None
        self._page: Page[Any] | None = None
        self._later: list[dict[str, Any]] = []  # the windows after the one walked
        self._split_all = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        windows = self._spec.window_params()
        for index, params in enumerate(windows):
            if self._split_all:
                return  # the later windows were listed with the sub-windows of a split
            self._guard, self._cursor = LoopGuard(self._spec, params), None
            self._params, self._later = params, windows[index + 1 :]
            while True:
                yield {**params, "cursor": self._cursor} if self._cursor else params
                page = self._page
                if page is None or page.next_page is None:
                    break
                self._guard.follow(page.next_page, page)
                self._cursor = page.next_page

    def arrived(self, page: Page[M]) -> Page[M]:
        """Check a page fetched with the last query (raises `PaginationError` on a loop); the page."""
        if self._guard is None:
            raise RuntimeError("a page arrived before any query was made")
        page.keep, page.structs = self._spec.keep, self._spec.structs
        self._guard.arrived(page, self._cursor)
        self._bar.update(page.item_count)
        self._page = page
        return page

    def split(self, page: Page[Any]) -> _subwindows.Split | None:
        """After the first page of a window: the sub-windows of the rest of it and of every later window, to
        list side by side (the walk then ends), or None to follow its cursor (the walk then goes on)."""
        if self._cursor is not None or self._spec.concurrency < 2:
            return None
        split = _subwindows.plan(self._spec, self._params, page, self._spec.concurrency, self._later)
        if split is not None:
            self._page, self._split_all = None, True
        return split

    def counted(self, page: Page[M]) -> Page[M]:
        """A page listed in a sub-window (checked there), counted by the bar."""
        self._bar.update(page.item_count)
        return page


class _Listing(Generic[M]):
    """What both listings share: the spec, the progress setting, the repr. Building one sends nothing."""

    def __init__(self, spec: ListSpec[M], *, progress: bool = False, pacer: PacerFn | None = None) -> None:
        self.spec = spec
        self.progress = progress
        self._pacer = pacer

    def _walk(self) -> _Walk:
        return _Walk(self.spec, self.progress)

    def __repr__(self) -> str:
        windows = len(self.spec.windows) if self.spec.windows else 1
        plural = "s" * (windows != 1)
        return f"<{type(self).__name__} {self.spec.label} GET {self.spec.path} ({windows} window{plural})>"


class Paginator(_Listing[M]):
    """A lazy listing: iterate it for items, `.pages()` for pages, `.to_list()` for everything at once."""

    def __init__(
        self, fetch: FetchFn[M], spec: ListSpec[M], *, progress: bool = False, pacer: PacerFn | None = None
    ) -> None:
        super().__init__(spec, progress=progress, pacer=pacer)
        self._fetch = fetch

    def pages(self) -> Iterator[Page[M]]:
        """Yield each page of each window, following `next_page` (sub-windows side by side, in order)."""
        return self._pages(self.spec)

    def wire_pages(self) -> Iterator[Page[M]]:
        """`pages()`, each decoded into its wire structs where it has their shape (`Page.wire_structs`)."""
        return self._pages(dataclasses.replace(self.spec, structs=True))

    def _pages(self, spec: ListSpec[M]) -> Iterator[Page[M]]:
        pause = self._pacer() if self._pacer is not None else None
        with _Walk(spec, self.progress) as walk:
            for query in walk:
                page = walk.arrived(self._fetch(spec.path, query, pause))
                split = walk.split(page) if pause is not None else None
                if split is None or pause is None:
                    yield page
                    continue
                workers = spec.concurrency
                for listed in _subwindows.side_by_side(self._fetch, spec, split, workers, pause):
                    yield walk.counted(listed)

    # The items come from pages read into wire structs where they can be: their lazy models then hold the
    # struct that the frames read, with no dict per record unless a model is touched.
    def __iter__(self) -> Iterator[M]:
        for page in self.wire_pages():
            yield from page.items

    def to_list(self) -> list[M]:
        """Every item of the listing (a list that remembers its pages' records, for the frames)."""
        out = ListedItems()
        with _jsonio.collector_paused():  # see _jsonio: many new objects, none in a cycle
            for page in self.wire_pages():
                out.add_page(*page.listed())
        return out


class AsyncPaginator(_Listing[M]):
    """The async `Paginator`: `async for item in ...`, `async for page in .pages()`, `await .to_list()`."""

    def __init__(
        self,
        fetch: AsyncFetchFn[M],
        spec: ListSpec[M],
        *,
        progress: bool = False,
        pacer: PacerFn | None = None,
    ) -> None:
        super().__init__(spec, progress=progress, pacer=pacer)
        self._fetch = fetch

    def pages(self) -> AsyncIterator[Page[M]]:
        """Yield each page of each window, following `next_page` (sub-windows side by side, in order)."""
        return self._pages(self.spec)

    async def _pages(self, spec: ListSpec[M]) -> AsyncIterator[Page[M]]:
        pause = self._pacer() if self._pacer is not None else None
        with _Walk(spec, self.progress) as walk:
            for query in walk:
                page = walk.arrived(await self._fetch(spec.path, query, pause))
                split = walk.split(page) if pause is not None else None
                if split is None or pause is None:
                    yield page
                    continue
                workers = spec.concurrency
                async for listed in _subwindows.side_by_side_async(self._fetch, spec, split, workers, pause):
                    yield walk.counted(listed)

    async def __aiter__(self) -> AsyncIterator[M]:
        # from pages read into wire structs where they can be, as the sync listing's items
        async for page in self._pages(dataclasses.replace(self.spec, structs=True)):
            for item in page.items:
                yield item

    async def to_list(self) -> list[M]:
        """Every item of the listing."""
        # A plain list: asyncio's runner shows the result of the task it ran with reprlib, which abbreviates
        # a list but shows any other type whole (and so would parse every model).
        return [item async for item in self]  # the collector is paused for each page's items
