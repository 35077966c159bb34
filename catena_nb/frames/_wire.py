"""From wire records to typed columns: the bulk machinery behind :mod:`catena_nb.frames`.

Inputs are gathered into one list of mappings (models are dumped to their wire form, page bodies decoded),
then read into one object array per field: :func:`table` for a chunk of plain dicts (one ``itemgetter`` of
all the fields per row, or pandas' C loop), :func:`read_columns` for anything else. The converters turn such
arrays into typed columns in bulk: timestamps through :mod:`~._iso8601` (pandas' parser for other
forms), enums through integer codes, text through ``StringArray``'s C validation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb import _jsonio
from catena_nb.frames import _iso8601

try:  # the C loop behind DataFrame(list_of_dicts), in every pandas this package supports
    from pandas._libs.lib import dicts_to_array as _dicts_to_array  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a pandas without it: itemgetter from Python
    _dicts_to_array = None

Row = Mapping[str, Any]
_BLOCK = 512  # rows read together: their dicts and values stay in the CPU cache across fields
Values = Sequence[Any] | npt.NDArray[Any]  # one column's values

# ---------------------------------------------------------------------------------------------- input


def records(data: Any) -> list[Row]:
    """Every record in ``data``: models, wire dicts, page bodies (bytes/str), a client listing or page, or
    iterables of these.

    A mapping with ``items`` and no ``id`` is a cursor page; a JSON list holds records or pages.

    Raises:
        TypeError: for a value that is neither a record, a page nor an iterable.
        json.JSONDecodeError: for a page body that is not JSON.
    """
    out: list[Row] = []
    _collect(data, out)
    return out


def _collect(data: Any, out: list[Row]) -> None:
    if data is None:
        return
    if isinstance(data, bytes | bytearray | memoryview | str):
        _collect(_jsonio.loads(bytes(data) if isinstance(data, memoryview) else data), out)
        return
    if isinstance(data, Mapping):
        if is_page(data):
            _collect(data.get("items"), out)
        else:
            out.append(data)
        return
    pages = getattr(data, "pages", None)
    if callable(pages):
        # A client listing: read its pages' JSON records rather than the models its items would build.
        for page in pages():
            _collect(page, out)
        return
    if hasattr(data, "raw_items") and hasattr(data, "content"):
        # A client page: the raw records, unless a client-side filter (status=...) must choose among them.
        _collect(data.items if getattr(data, "keep", None) is not None else data.raw_items, out)
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
            _collect(item, out)
        return
    raise TypeError(f"cannot read records from a {type(data).__name__}")


def is_page(obj: Row) -> bool:
    """Whether a mapping is a cursor page rather than a record."""
    return "items" in obj and "id" not in obj


def mappings(values: Values) -> list[Row]:
    """``values`` with anything that is not a mapping (None, a stray string) replaced by an empty dict."""
    if set(map(type, values)) <= {dict}:
        return list(values)
    return [v if isinstance(v, Mapping) else {} for v in values]


# -------------------------------------------------------------------------------------------- columns


def key_union(rows: Sequence[Row]) -> set[str]:
    """Every key that occurs in ``rows`` (the rows themselves are the arguments: nothing is allocated per row,
    which matters because a million new objects would set off the cyclic garbage collector)."""
    return set().union(*rows) if rows else set()


def columns(rows: Sequence[Row], keys: Sequence[str], present: set[str]) -> dict[str, npt.NDArray[Any]]:
    """The values of each key across ``rows`` (None where a row lacks it), one object array per key.

    Args:
        rows: the records.
        keys: the keys wanted (all in one call: see :func:`read_columns`).
        present: the keys that occur in at least one row (see :func:`key_union`); the others are all-None.
    """
    return read_columns(rows, keys, present)[0]


def read_columns(
    rows: Sequence[Row], keys: Sequence[str], present: set[str] | None = None
) -> tuple[dict[str, npt.NDArray[Any]], set[str]]:
    """The values of each key across ``rows`` (None where a row lacks it), and every key of the rows.

    Args:
        rows: the records, all mappings.
        keys: distinct keys; ask for all of them in one call, so that each block of rows is read while it
            is still in the CPU cache.
        present: the keys known to occur in the rows, if already known.

    Returns:
        The arrays by key, and every key that occurs in the rows (``present`` when it was given).

    Raises:
        TypeError: if a row is not a mapping.
    """
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


def table(
    rows: Sequence[Row], keys: Sequence[str], *, find_keys: bool = True
) -> tuple[dict[str, npt.NDArray[Any]], set[str]]:
    """:func:`read_columns`, quicker on a list of dicts, but with a key a row lacks as NaN instead of None.

    Rows that all hold every key are read a row at a time by one ``itemgetter`` of all the keys, and only
    counted to find other keys; others are read by pandas' own C loop (the one behind
    ``DataFrame(list_of_dicts)``) and their keys gathered. Either way each array is a column of one matrix.
    The consumers of this function count NaN as missing, like None.

    Args:
        rows: the records.
        keys: the keys wanted.
        find_keys: whether to gather every key of the rows (or return ``set(keys)``, unchecked).

    Raises:
        TypeError: if a row is not a mapping.
    """
    n, k = len(rows), len(keys)
    known = None if find_keys else set(keys)
    if type(rows) is not list or not n or not k:
        return read_columns(rows, keys, known)
    try:
        if k == 1:  # an itemgetter of one key gives the value itself, not a 1-tuple
            matrix = np.fromiter(map(itemgetter(keys[0]), rows), dtype=object, count=n).reshape(n, 1)
        else:
            values = chain.from_iterable(map(itemgetter(*keys), rows))
            matrix = np.fromiter(values, dtype=object, count=n * k).reshape(n, k)
    except (KeyError, TypeError):  # a row lacks a key, or is not a mapping
        matrix = None
    if matrix is not None:
        # Every row holds every key asked for, so a row of that many keys holds no other.
        present = set(keys)
        if find_keys and max(map(len, rows)) > k:
            present = set().union(*rows)
        return {key: matrix[:, j] for j, key in enumerate(keys)}, present
    if _dicts_to_array is None:  # pragma: no cover - see the import
        return read_columns(rows, keys, known)
    try:
        matrix = _dicts_to_array(rows, list(keys))
    except TypeError:  # a row that is not a plain dict: a mapping of another kind is read the slow way
        return read_columns(rows, keys, known)
    present = set().union(*rows) if find_keys else set(keys)
    return {key: matrix[:, j] for j, key in enumerate(keys)}, present


def _block_keys(block: Sequence[Row]) -> set[str]:
    if not _all_mappings(block):
        raise TypeError("every row must be a mapping")
    return set().union(*block)


def _all_mappings(rows: Sequence[Any]) -> bool:
    """Whether every row is a mapping (checked by type, quickly, when all are plain dicts)."""
    kinds = set(map(type, rows))
    return kinds <= {dict} or all(isinstance(row, Mapping) for row in rows)


def objects(values: Values) -> npt.NDArray[Any]:
    """A 1-d object array (nested lists stay elements, unlike ``np.array``)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    return np.fromiter(values, dtype=object, count=len(values))


def strings(values: Values) -> pd.api.extensions.ExtensionArray:
    """A nullable ``string`` column."""
    arr = objects(values)
    try:
        return pd.arrays.StringArray(arr)  # validates in C without copying: several times quicker
    except ValueError:  # a number where text was expected (some TSP ids): keep its text
        return pd.array(arr, dtype="string")


def category(values: Values) -> pd.Categorical:
    """A ``category`` column, categories sorted by name; unknown values simply become new categories."""
    arr = objects(values)
    try:
        codes, names = pd.factorize(arr, sort=True)  # one hashing pass; None and NaN become missing
        return pd.Categorical.from_codes(codes, categories=pd.Index(names))
    except (TypeError, ValueError):  # unhashable or mixed-type values: keep their text
        return pd.Categorical([None if v is None or v is pd.NA else str(v) for v in arr])


def integers(values: Values) -> pd.api.extensions.ExtensionArray:
    """A nullable ``Int64`` column; text that is not a whole number becomes NA."""
    arr = objects(values)
    if pd.api.types.infer_dtype(arr, skipna=True) in ("integer", "empty"):  # the usual case: ints and None
        missing = pd.isna(arr)
        filled = arr.copy()
        filled[missing] = 0
        try:
            return pd.arrays.IntegerArray(filled.astype(np.int64), missing)
        except OverflowError:  # beyond 64 bits: read below, where it becomes NA
            pass
    numbers = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce")
    whole = numbers.where((numbers % 1 == 0) & (numbers.abs() < 2**63))  # NA for fractions and beyond int64
    return pd.array(whole.to_numpy(dtype=np.float64), dtype="Int64")


def infer(values: Values) -> Any:
    """A typed column for free-form values (payload fields, unknown keys): text, flags, numbers or objects."""
    arr = objects(values)
    try:
        return pd.arrays.StringArray(arr)  # the usual case, checked in one pass over the values
    except ValueError:
        pass
    kinds = set(map(type, arr))
    kinds.discard(type(None))
    if kinds <= {bool}:
        return pd.array(arr, dtype="boolean")
    if kinds <= {int}:
        return pd.array(arr, dtype="Int64")
    if kinds <= {int, float}:
        return pd.array(arr, dtype="Float64")
    return arr


# ------------------------------------------------------------------------------------------ datetimes


def datetimes(values: Values) -> pd.DatetimeIndex:
    """UTC datetimes (microseconds) from ISO strings with any offset, or datetimes; bad values become NaT."""
    return pd.DatetimeIndex(microseconds(values).view("M8[us]")).tz_localize("UTC")


def microseconds(values: Values) -> npt.NDArray[np.int64]:
    """:func:`datetimes` as microseconds since the epoch (NaT as the smallest int64)."""
    arr = objects(values)
    fast = _iso8601.parse(arr)  # the API's own fixed form, read as a whole
    if fast is None:
        return _pandas_microseconds(arr)
    us, unread = fast
    if unread.any():
        us[unread] = _pandas_microseconds(arr[unread])
    return us


def _pandas_microseconds(arr: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    idx = pd.to_datetime(arr, utc=True, format="ISO8601", errors="coerce")
    return np.asarray(pd.DatetimeIndex(idx).as_unit("us").asi8)
