"""Cursor pages over sorted indexes, as the real API's list endpoints answer them (catena-api.md §3).

A cursor encodes the key ``(timestamp, id)`` of the last record a page showed and the direction to walk, so
a page never repeats or skips a record even while new ones arrive (they sort after every key already shown).
Cursors are opaque to clients: base64url of a small JSON array.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str]

DEFAULT_SIZE = 300
MAX_SIZE = 1000


class CursorError(ValueError):
    """A cursor that this sandbox did not issue."""


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (``forward``) or before (backward) ``key``, or at it if ``inclusive``."""

    key: Key
    forward: bool = True
    inclusive: bool = False

    def encode(self) -> str:
        """The opaque string a page hands out."""
        raw = json.dumps(["n" if self.forward else "p", self.key[0], self.key[1], int(self.inclusive)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse a cursor string.

        Raises:
            CursorError: the string is not a cursor this sandbox issued.
        """
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            direction, ts, rid, inclusive = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise CursorError(f"invalid cursor {text[:40]!r}") from exc
        if direction not in ("n", "p") or not isinstance(ts, str) or not isinstance(rid, str):
            raise CursorError(f"invalid cursor {text[:40]!r}")
        return cls((ts, rid), forward=direction == "n", inclusive=bool(inclusive))


@dataclass(frozen=True)
class PageSlice:
    """The keys of one page in page order, and the cursors around it."""

    keys: list[Key]
    next_page: str | None
    previous_page: str | None
    current_page: str | None
    current_page_backwards: str | None


def _walk(
    keys: Sequence[Key],
    lo: Key | None,
    hi: Key | None,
    start: Key | None,
    inclusive: bool,
    ascending: bool,
    limit: int,
    accept: Callable[[Key], bool] | None,
) -> tuple[list[Key], bool]:
    """Collect up to ``limit`` accepted keys in ``[lo, hi)`` from ``start`` in one direction.

    Returns the keys and whether at least one accepted key lies on the other side of ``start``.
    """
    lo_i = 0 if lo is None else bisect.bisect_left(keys, lo)
    hi_i = len(keys) if hi is None else bisect.bisect_left(keys, hi)
    out: list[Key] = []
    if ascending:
        if start is None:
            i = lo_i
        else:
            i = max(lo_i, bisect.bisect_left(keys, start) if inclusive else bisect.bisect_right(keys, start))
        first = i
        while i < hi_i and len(out) < limit:
            k = keys[i]
            if accept is None or accept(k):
                out.append(k)
            i += 1
        behind = range(min(first, hi_i) - 1, lo_i - 1, -1)
    else:
        if start is None:
            i = hi_i - 1
        else:
            at = bisect.bisect_right(keys, start) if inclusive else bisect.bisect_left(keys, start)
            i = min(hi_i, at) - 1
        first = i
        while i >= lo_i and len(out) < limit:
            k = keys[i]
            if accept is None or accept(k):
                out.append(k)
            i -= 1
        behind = range(max(first + 1, lo_i), hi_i)
    # Stop at the first accepted key behind the start: usually the very next one.
    has_behind = start is not None and any(accept is None or accept(keys[j]) for j in behind)
    return out, has_behind


def page(
    keys: Sequence[Key],
    *,
    lo: Key | None,
    hi: Key | None,
    cursor: Cursor | None,
    size: int,
    descending: bool = False,
    accept: Callable[[Key], bool] | None = None,
) -> PageSlice:
    """Cut one page out of a sorted key list.

    Args:
        keys: every key of the index, sorted ascending.
        lo: the smallest key in the window (inclusive), or None.
        hi: the first key past the window (exclusive), or None.
        cursor: where the page starts (None: the first page).
        size: the page size.
        descending: the page order (the cursor's direction is relative to it).
        accept: the other filters, on a key.

    Returns:
        The page's keys in page order and the four cursors of the page envelope.
    """
    forward = cursor is None or cursor.forward
    walk_ascending = forward != descending
    start = None if cursor is None else cursor.key
    inclusive = cursor is not None and cursor.inclusive
    got, has_behind = _walk(keys, lo, hi, start, inclusive, walk_ascending, size + 1, accept)
    more = len(got) > size
    items = got[:size]
    if forward:
        has_next, has_prev = more, has_behind
    else:
        items.reverse()
        has_next, has_prev = has_behind, more
    if not items:
        return PageSlice([], None, None, cursor.encode() if cursor else None, None)
    return PageSlice(
        keys=items,
        next_page=Cursor(items[-1]).encode() if has_next else None,
        previous_page=Cursor(items[0], forward=False).encode() if has_prev else None,
        current_page=Cursor(items[0], inclusive=True).encode(),
        current_page_backwards=Cursor(items[-1], forward=False, inclusive=True).encode(),
    )


class PageBody(bytes):
    """A page's body, which knows how many items it holds: the cost of answering it (``costs``) is read from
    here rather than by decoding the body again."""

    item_count: int


def envelope(items_json: list[bytes], cut: PageSlice, total: int | None = None) -> PageBody:
    """The page body as bytes, built by joining each record's cached JSON (no re-serialisation)."""
    tail: dict[str, object] = {}
    if total is not None:
        tail["total"] = total
    tail.update(
        current_page=cut.current_page,
        current_page_backwards=cut.current_page_backwards,
        previous_page=cut.previous_page,
        next_page=cut.next_page,
    )
    rest = json.dumps(tail, separators=(",", ":")).encode()[1:]  # drop the "{": the items open the object
    body = PageBody(b'{"items":[' + b",".join(items_json) + b"]," + rest)
    body.item_count = len(items_json)
    return body


def page_records(
    records: Sequence[dict[str, Any]],
    cursor: Cursor | None,
    size: int,
    accept: Callable[[dict[str, Any]], bool] | None = None,
    *,
    descending: bool = False,
) -> tuple[list[dict[str, Any]], PageSlice, int]:
    """One page of a short list of records sorted by ``(created_at, id)``, and how many pass ``accept``."""
    by_key: dict[Key, dict[str, Any]] = {(r["created_at"], r["id"]): r for r in records}
    test = None if accept is None else (lambda k: accept(by_key[k]))
    cut = page(list(by_key), lo=None, hi=None, cursor=cursor, size=size, descending=descending, accept=test)
    total = len(records) if accept is None else sum(1 for r in records if accept(r))
    return [by_key[k] for k in cut.keys], cut, total


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes, as every answer is written."""
    return json.dumps(obj, separators=(",", ":")).encode()
