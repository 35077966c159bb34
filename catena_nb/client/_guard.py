"""The loop guard of a listing's walk: a cursor handed out again, or a page equal to the one before, raises
`PaginationError` instead of yielding the same records forever."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from catena_nb._redact import clip
from catena_nb.errors import PaginationError

if TYPE_CHECKING:
    from catena_nb.client.pagination import ListSpec, Page

__all__ = ["LoopGuard"]


class LoopGuard:
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
        key = _page_key(page)
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


def _page_key(page: Page[Any]) -> tuple[Any, ...]:
    """What makes a page the same page: its items' ids in order (the items themselves, without ids)."""
    structs = page.wire_structs
    if structs is not None:  # the fast path of a long listing read into frames: every one has an id
        return tuple([item.id for item in structs])
    items = page.raw_items
    try:
        ids = [item["id"] for item in items]  # the fast path of a long listing
    except (KeyError, TypeError, IndexError):
        ids = [None]
    if None in ids:  # an item without an id: two such pages differ by their content
        return tuple(json.dumps(item, sort_keys=True, default=str) for item in items)
    return tuple(ids)


def _shown(cursor: str | None) -> str:
    return "(none: the first page)" if cursor is None else repr(clip(cursor, 60))
