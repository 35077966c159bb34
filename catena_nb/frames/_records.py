"""The first stage of the frames: whatever was given, as plain wire records; their fields as object arrays.

:func:`records` gathers models (dumped to their wire form, or read from the record that an untouched model
of a listing holds), dicts, page bodies (``bytes``/``str``), pages, client listings and iterables of these
into one list of mappings. :func:`fields` then reads the values of
chosen keys across many records into one object array per key, which the next stage types
(:mod:`~._columns`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from operator import itemgetter, methodcaller
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pandas as pd
from msgspec.structs import astuple

from catena_nb import _jsonio
from catena_nb._lazy import wire_record
from catena_nb._redact import clip
from catena_nb.errors import ResponseValidationError
from catena_nb.frames import _pandas

Row = Mapping[str, Any]
ObjectArray = npt.NDArray[np.object_]
Values = Sequence[Any] | npt.NDArray[Any]  # one field's values
_BLOCK = 512  # rows read together: their dicts and values stay in the CPU cache across fields

# ---------------------------------------------------------------------------------------------- records


def records(
    data: Any, what: str = "records", function: str = "the frames", *, structs: bool = False
) -> list[Row]:
    """Every record in ``data``: models, wire dicts, page bodies (bytes/str), a client listing or page, or
    iterables of these.

    A mapping with ``items`` and no ``id`` is a cursor page; a JSON list holds records or pages.

    Args:
        data: what was given.
        what: what the records should be (``"resource operations"``), for the messages of the errors.
        function: the public function reading them, for the same messages.
        structs: whether a client listing's pages may be read as wire structs (``Page.wire_structs``, a
            record each, which :func:`fields` reads like the dict it stands for). Records of one list are all
            structs of one kind or all mappings: when a listing gives both, its structs become dicts.

    Raises:
        TypeError: for a value that is neither a record, a page nor an iterable.
        ResponseValidationError: for a page body that is not JSON, or JSON that is neither a record, a page
            nor a list of them.
    """
    out: list[Row] = []
    _collect(data, out, f"{function} expected {what}", structs)
    return one_kind(out) if structs else out


def listing_chunks(data: Any, what: str, function: str, size: int) -> Iterator[list[Row]] | None:
    """The records of a client listing in chunks of ``size`` (the last one shorter), each read as soon as
    its pages are in; None when ``data`` is not a listing.

    Each chunk is converted and let go before the next pages are decoded, so the records of a large pull
    are never all held at once. Each holds wire structs of one kind, or mappings (:func:`records`). The
    pages are not fetched ahead in a thread: on two cores, with the API's or the sandbox's process busy on
    one of them, the thread fought the conversion for the interpreter and came out slower
    (``benchmarks/listing.py``), and with the sandbox in this process much slower.
    """
    wire_pages = getattr(data, "wire_pages", None)
    if not callable(wire_pages) or isinstance(data, Mapping):
        return None
    return _chunks(wire_pages(), f"{function} expected {what}", size)


def _chunks(pages: Iterator[Any], what: str, size: int) -> Iterator[list[Row]]:
    held: list[Row] = []
    for page in pages:
        _collect(page, held, what, structs=True)
        while len(held) >= size:
            yield one_kind(held[:size])
            del held[:size]
    if held:
        yield one_kind(held)


def one_kind(rows: list[Row]) -> list[Row]:
    """``rows`` as wire structs of one kind or as mappings (:func:`records`)."""
    kinds = set(map(type, rows))
    if len(kinds) > 1 and any(issubclass(kind, msgspec.Struct) for kind in kinds):
        # a listing some of whose pages had another shape (rare): every record read as JSON
        return [msgspec.to_builtins(r) if isinstance(r, msgspec.Struct) else r for r in rows]
    return rows


def _decoded(data: bytes | bytearray | memoryview | str, what: str) -> Any:
    text = bytes(data) if isinstance(data, memoryview) else data
    try:
        value = _jsonio.loads(text)
    except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for bytes
        raise ResponseValidationError(
            f"{what} as JSON (a cursor page, a list or one record); this body is not JSON ({exc})",
            body=text.decode("utf-8", "replace") if isinstance(text, bytes | bytearray) else text,
        ) from None
    if not isinstance(value, list | dict):
        raise ResponseValidationError(
            f"{what} as JSON (a cursor page, a list or one record); this body holds "
            f"{'an' if type(value).__name__[0] in 'aeiou' else 'a'} {type(value).__name__}",
            body=text.decode("utf-8", "replace") if isinstance(text, bytes | bytearray) else text,
        )
    return value


def _collect(data: Any, out: list[Row], what: str, structs: bool = False) -> None:
    if data is None:
        return
    if isinstance(data, bytes | bytearray | memoryview | str):
        _collect(_decoded(data, what), out, what)
        return
    if isinstance(data, Mapping):
        if is_page(data):
            _collect(data.get("items"), out, what)
        else:
            out.append(data)
        return
    raw = wire_record(data, structs=structs)
    if raw is not None:  # a model of a listing that nothing has touched: the record it came from
        out.append(raw)
        return
    pages = getattr(data, "pages", None)
    if callable(pages):
        # A client listing: read its pages' JSON records rather than the models its items would build, or
        # where it can, its pages decoded straight into wire structs (no dict per record).
        wire_pages = getattr(data, "wire_pages", None) if structs else None
        for page in (wire_pages if callable(wire_pages) else pages)():
            _collect(page, out, what, structs)
        return
    if structs and hasattr(data, "content") and getattr(data, "keep", None) is None:
        wire = getattr(data, "wire_structs", None)  # read first: `raw_items` would decode the page again
        if wire is not None:
            out.extend(wire)
            return
    if hasattr(data, "raw_items") and hasattr(data, "content"):
        # A client page: the raw records, unless a client-side filter (status=...) must choose among them.
        _collect(data.items if getattr(data, "keep", None) is not None else data.raw_items, out, what)
        return
    dump = getattr(data, "model_dump", None)
    if callable(dump):
        # mode="json" gives the wire form: ISO strings and plain enum values, exactly like raw dicts.
        out.append(dump(mode="json"))
        return
    if isinstance(data, list) and data and set(map(type, data)) == {dict} and not is_page(data[0]):
        # The common case, a list of wire records, is taken whole: a list of dicts whose first item is a
        # record is read as records, not pages.
        out.extend(data)
        return
    if isinstance(data, Iterable):
        for item in data:
            raw = wire_record(item, structs=structs)  # the common case, a list of a listing's models, first
            if raw is None:
                _collect(item, out, what, structs)
            else:
                out.append(raw)
        return
    raise TypeError(f"{what}; cannot read records from a {type(data).__name__} ({clip(repr(data), 80)})")


def is_page(obj: Row) -> bool:
    """Whether a mapping is a cursor page rather than a record."""
    return "items" in obj and "id" not in obj


def connection_names(connections: Any) -> dict[str, str]:
    """connection_id -> source_name from a mapping, or from connections (models, dicts, a page of them)."""
    if connections is None:
        return {}
    if isinstance(connections, Mapping):
        if is_page(connections):
            connections = connections.get("items") or []
        else:
            return {str(k): str(v) for k, v in connections.items() if v is not None}
    names: dict[str, str] = {}
    for conn in connections:
        if isinstance(conn, Mapping):
            cid, name = conn.get("id"), conn.get("source_name")
        else:
            cid, name = getattr(conn, "id", None), getattr(conn, "source_name", None)
        if cid is not None and name is not None:
            names[str(cid)] = str(name)
    return names


def mappings(values: Values) -> list[Row]:
    """``values`` with anything that is not a mapping (None, a stray string) replaced by an empty dict."""
    if set(map(type, values)) <= {dict}:
        return list(values)
    return [v if isinstance(v, Mapping) else {} for v in values]


def key_union(rows: Sequence[Row]) -> set[str]:
    """Every key that occurs in ``rows`` (the rows themselves are the arguments: nothing is allocated per row,
    which matters because a million new objects would set off the cyclic garbage collector)."""
    return set().union(*rows) if rows else set()


def objects(values: Values) -> ObjectArray:
    """A 1-d object array (nested lists stay elements, unlike ``np.array``)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    return np.fromiter(values, dtype=object, count=len(values))


# ----------------------------------------------------------------------------------------------- fields


def fields(
    rows: Sequence[Row], keys: Sequence[str], *, find_keys: bool = True
) -> tuple[dict[str, ObjectArray], set[str]]:
    """The values of each of ``keys`` across ``rows``, one object array per key, and the keys of the rows.

    A key that a row lacks gives None or NaN there: the next stage counts both as missing. Rows that all
    hold every key are read a row at a time by one ``itemgetter`` of all the keys; other plain dicts by
    pandas' own C loop (:func:`~._pandas.dict_matrix`); any other mapping by name, a block of rows at a time.

    Args:
        rows: the records.
        keys: distinct keys; ask for all of them in one call, so that each record is read while it is still
            in the CPU cache.
        find_keys: whether to gather every key of the rows (else ``set(keys)`` is returned, unchecked).

    Raises:
        TypeError: if a row is not a mapping.
    """
    n, k = len(rows), len(keys)
    known = None if find_keys else set(keys)
    if type(rows) is not list or not n or not k:
        return _by_name(rows, keys, known)
    if isinstance(rows[0], msgspec.Struct):
        return _struct_fields(rows, keys, find_keys)
    try:
        if k == 1:  # an itemgetter of one key gives the value itself, not a 1-tuple
            matrix = np.fromiter(map(itemgetter(keys[0]), rows), dtype=object, count=n).reshape(n, 1)
        else:
            values = chain.from_iterable(map(itemgetter(*keys), rows))
            matrix = np.fromiter(values, dtype=object, count=n * k).reshape(n, k)
    except (KeyError, TypeError):  # a row lacks a key, or is not a mapping
        matrix = None
    if matrix is not None:
        present = set(keys)
        # Every row holds every key asked for, so a row of that many keys holds no other.
        if find_keys and max(map(len, rows)) > k:
            present = key_union(rows)
        return {key: matrix[:, j] for j, key in enumerate(keys)}, present
    matrix = _pandas.dict_matrix(rows, keys)
    if matrix is None:  # a mapping of another kind, or no pandas loop: read by name
        return _by_name(rows, keys, known)
    return {key: matrix[:, j] for j, key in enumerate(keys)}, key_union(rows) if find_keys else set(keys)


def _struct_fields(
    rows: Sequence[Any], keys: Sequence[str], find_keys: bool
) -> tuple[dict[str, ObjectArray], set[str]]:
    """:func:`fields` of wire structs of one kind (:func:`records`), each field of the kind as the key it
    stands for: a key the kind has no field for is missing in every row, and a field left out on the wire is
    None, which the next stage counts as missing, as it does a key a row lacks."""
    kind = type(rows[0])
    if len(set(map(type, rows))) > 1:
        raise TypeError("every row must be a mapping, or a wire struct of one kind")
    names = kind.__struct_fields__
    n, k = len(rows), len(names)
    # every field of every row, in one C call per row (a third quicker than getting the fields by name)
    matrix = np.fromiter(chain.from_iterable(map(astuple, rows)), dtype=object, count=n * k).reshape(n, k)
    column = {name: j for j, name in enumerate(names)}
    out = {key: matrix[:, column[key]] if key in column else np.full(n, None, dtype=object) for key in keys}
    return out, set(names) if find_keys else set(keys)


def _by_name(
    rows: Sequence[Row], keys: Sequence[str], present: set[str] | None
) -> tuple[dict[str, ObjectArray], set[str]]:
    """:func:`fields` for any mappings, None where a row lacks a key (``present``: keys known to be there)."""
    n = len(rows)
    arrays = {k: np.full(n, None, dtype=object) for k in keys}
    getters = [(k, itemgetter(k), methodcaller("get", k), arrays[k]) for k in keys]
    seen: set[str] = set() if present is None else present
    sparse: set[str] = set()  # keys some row lacked: read with .get from then on, not by catching KeyError
    # Cache blocking: every field of a block of rows is read (and the block's keys gathered) before moving
    # on, instead of one pass over all the rows per field, each of which would fetch every record again.
    for start in range(0, n, _BLOCK):
        block = rows[start : start + _BLOCK]
        stop = start + len(block)
        block_keys = present  # None until a row is found to lack a key
        for key, get, get_or_none, array in getters:
            if block_keys is not None and key not in block_keys:
                continue
            if key not in sparse:
                try:
                    array[start:stop] = np.fromiter(map(get, block), dtype=object, count=len(block))
                    continue
                except KeyError:  # some row lacks a key others have (a group message's payload, say)
                    sparse.add(key)
            if block_keys is None:
                block_keys = _block_keys(block)  # which also checks that every row is a mapping
            if key in block_keys:
                array[start:stop] = np.fromiter(map(get_or_none, block), dtype=object, count=len(block))
        if present is None:
            if block_keys is None:
                # Every row holds every key asked for, so a row of that many keys holds no other: counting
                # keys spares hashing each one into a set (the union is only taken when there are more).
                block_keys = set(keys) if max(map(len, block)) <= len(keys) else _block_keys(block)
            seen |= block_keys
    return arrays, seen


def _block_keys(block: Sequence[Row]) -> set[str]:
    kinds = set(map(type, block))
    if not (kinds <= {dict} or all(isinstance(row, Mapping) for row in block)):
        raise TypeError("every row must be a mapping")
    return key_union(block)


# ------------------------------------------------------------------------------------------ record kinds

# Fields only a resource operation has and only a message has; and for each kind the fields of which a
# record of that kind holds at least one: a record holding none of them (``{"foo": 1}``) is of neither.
OPERATION_ONLY = frozenset({"resource", "operation_type", "payload", "logs", "partner_id", "resource_id"})
MESSAGE_ONLY = frozenset({"message_text", "sender_id", "recipient_id", "source_sender_id", "delivered_at"})
OPERATIONS, MESSAGES = "resource operations", "messages"
_KINDS = {
    OPERATIONS: (
        ("id", "status", "resource", "operation_type", "connection_id", "partner_id"),
        OPERATION_ONLY,
        MESSAGE_ONLY,
        "messages: read them with cn.messages_frame(messages)",
    ),
    MESSAGES: (
        ("id", "status", "message_text", "sender_id", "recipient_id", "occurred_at"),
        MESSAGE_ONLY,
        OPERATION_ONLY,
        "resource operations: read them with cn.operations_frame(ops)",
    ),
}


def check_kind(
    rows: Sequence[Row],
    wire: Mapping[str, ObjectArray],
    keys: set[str],
    kind: str,
    function: str,
    offset: int = 0,
) -> None:
    """Raise unless ``rows`` (their fields ``wire``, their keys ``keys``) are records of ``kind``.

    Records of the other kind (its own fields there, none of this kind's) are named as such; a record that
    holds none of the kind's identifying fields is refused by its position and keys.

    Raises:
        ResponseValidationError: naming what ``function`` expected and what it found.
    """
    identifying, mine, theirs, other = _KINDS[kind]
    if keys & theirs and not keys & mine:
        raise ResponseValidationError(
            f"{function} expected {kind}; these records are {other} (they hold "
            f"{', '.join(sorted(keys & theirs))})",
            body=None,
        )
    known = np.zeros(len(rows), dtype=bool)
    for key in identifying:  # the first (``id``) is almost always enough: the others only where it is missing
        if key in wire:
            known |= ~np.asarray(pd.isna(wire[key]), dtype=bool)
            if known.all():
                return
    if len(rows) and not known.all():
        first = int(np.flatnonzero(~known)[0])
        found = ", ".join(sorted(map(str, rows[first])))
        raise ResponseValidationError(
            f"{function} expected {kind}; record {offset + first} holds none of their fields "
            f"({', '.join(identifying)}), only: {clip(found or 'no field at all', 200)}",
            body=None,
        )
