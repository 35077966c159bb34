"""The columns of the last list of listing models read, kept for the other frame of the pair.

The README's path asks for the two frames of the same list one after the other (``operations_frame(ops)``,
then ``logs_frame(ops)``), and each would read every record again. When the list holds only untouched models
of a listing (`catena_nb._lazy`), the first call reads the columns of both frames and keeps them here; the
second finds them if it gets the very same models, still untouched, in the same order (each checked by
identity, through weak references: the cache keeps no model alive). Each frame's part is handed out once,
so two frames never share their arrays, and the entry goes when both parts are taken, when another list is
read, or when the models are freed.

A listing's ``.to_list()`` (`catena_nb._lazy.ListedItems`) hands over its pages' records without a look at
each model, and the entry is then the list itself, found again while it has not changed since.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from catena_nb._lazy import ListedItems, wire_records
from catena_nb.frames._records import one_kind

__all__ = ["keep", "records_of", "take"]

Columns = tuple[dict[str, Any], dict[str, Any]]


@dataclass
class _Entry:
    refs: list[weakref.ref[Any]]
    records: list[int]  # id() of each model's wire record, which the models keep alive
    columns: Columns
    changes: int | None = None  # for a listing's list (the one ref): its count of changes when read
    left: set[str] = field(default_factory=lambda: {"operations", "logs"})


_lock = threading.Lock()
_last: _Entry | None = None


def records_of(ops: Any, connections: Any) -> list[Any] | None:
    """The wire records of `ops` when it is a list of untouched listing models worth caching, else None."""
    if connections is not None or not isinstance(ops, list) or len(ops) < 1000:
        return None
    listed = ops.wire_records() if isinstance(ops, ListedItems) else None
    if listed is None and type(ops) in (list, ListedItems):
        listed = wire_records(ops)
    # wire structs of one kind, or mappings: a listing some of whose pages had another shape gives both
    return None if listed is None else one_kind(listed)


def _matches(entry: _Entry, ops: list[Any], records: list[Any]) -> bool:
    if entry.changes is not None:
        # a listing's list unchanged since (its records were checked whole by `records_of`)
        return entry.refs[0]() is ops and isinstance(ops, ListedItems) and ops.changes() == entry.changes
    if len(entry.refs) != len(ops):
        return False
    if entry.records != [id(record) for record in records]:
        return False
    return all(ref() is op for ref, op in zip(entry.refs, ops, strict=True))


def take(ops: list[Any], records: list[Any], part: str) -> Columns | None:
    """The columns kept for this very list (`records`: its models' records), if `part` ("operations" or
    "logs") was not handed out yet."""
    global _last
    with _lock:
        entry = _last
        if entry is None or part not in entry.left or not _matches(entry, ops, records):
            return None
        entry.left.discard(part)
        if not entry.left:
            _last = None
        return entry.columns


def keep(ops: list[Any], records: list[Any], columns: Columns, taken: str) -> None:
    """Keep the columns read from `ops` for the other part than `taken`."""
    global _last

    def forget(_: object) -> None:
        global _last
        with _lock:
            if _last is entry:
                _last = None

    left = {"operations", "logs"} - {taken}
    if isinstance(ops, ListedItems) and ops.wire_records() is not None:
        entry = _Entry([weakref.ref(ops, forget)], [], columns, ops.changes(), left)
    else:
        entry = _Entry(
            [weakref.ref(op, forget) for op in ops[:1]] + [weakref.ref(op) for op in ops[1:]],
            [id(record) for record in records],
            columns,
            left=left,
        )
    with _lock:
        _last = entry
