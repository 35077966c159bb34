"""The second stage of the frames: object arrays of wire values into typed columns, a chunk at a time.

A large pull does not fit in the CPU cache: 200,000 operations are several hundred MB of dicts and strings.
Converting a whole column at once (checking its strings, parsing its timestamps, hashing its enum values)
fetches each value from memory again, once per conversion, and on such a pull that fetch costs more than
the conversion itself. So each builder here takes its values a chunk of records at a time, converts them
right away, while the chunk's records are still in the cache, and keeps only the result; ``finish`` joins
the chunks, which touches no value again (strings are joined as references).

The whole-array converters (:func:`strings`, :func:`category`, :func:`integers`, :func:`infer`,
:func:`datetimes`) are the general path every builder falls back on for values of an unexpected type, so
nothing is ever refused: a value that does not fit its column becomes NA, NaT, a new category or text.
Timestamps in Catena's own form are read as digits (:func:`catena_nb._time.canonical_utc`), any other by
pandas' ISO 8601 reader (``benchmarks/timestamps.py`` measures the readers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pandas as pd
from msgspec import UNSET
from msgspec.structs import astuple

from catena_nb._time import canonical_utc
from catena_nb.frames import _pandas
from catena_nb.frames._records import ObjectArray, Row, Values, fields, mappings, objects

NAT = np.iinfo(np.int64).min  # how numpy stores NaT

# ------------------------------------------------------------------------------------ whole arrays


def strings(values: Values) -> pd.api.extensions.ExtensionArray:
    """A nullable ``string`` column; a number where text was expected (some TSP ids) keeps its text."""
    arr = objects(values)
    try:
        return pd.arrays.StringArray(arr)  # validates in C without copying: several times quicker
    except ValueError:
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
    if _pandas.is_text(arr):  # the usual case, checked in one pass over the values
        return _pandas.checked_text(arr)
    plain = _missing_as_none(arr)
    kinds = set(map(type, plain))
    kinds.discard(type(None))
    if kinds <= {bool}:
        return pd.array(plain, dtype="boolean")
    if kinds <= {int}:
        return pd.array(plain, dtype="Int64")
    if kinds <= {int, float}:
        return pd.array(plain, dtype="Float64")
    return plain


def datetimes(values: Values) -> pd.DatetimeIndex:
    """UTC datetimes (microseconds) from ISO strings with any offset, or datetimes; bad values become NaT."""
    return _utc(microseconds(objects(values)))


def microseconds(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """:func:`datetimes` as microseconds since the epoch, NaT as :data:`NAT`."""
    if len(values) and _missing(values[0]) and bool(pd.isna(values).all()):
        return np.full(len(values), NAT, dtype=np.int64)  # an unset field (deleted_at): nothing to parse
    fast = canonical_utc(values, NAT)  # Catena's own form, read as digits
    if fast is not None:
        return fast
    parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    return np.asarray(pd.DatetimeIndex(parsed).as_unit("us").asi8)


def _utc(i8: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(i8.view("M8[us]")).tz_localize("UTC")


def _missing_as_none(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A copy of ``values`` with every kind of missing value (None, NaN, NA) as None."""
    out = values.copy()
    out[np.asarray(pd.isna(out), dtype=bool)] = None
    return out


# ------------------------------------------------------------------------------------- chunk by chunk


class Strings:
    """A nullable ``string`` column, or with ``free_form`` the typed column :func:`infer` would give.

    Each chunk is copied into one buffer and checked there (:func:`~._pandas.is_text` turns its missing
    values into NA in place) while its values are still in the cache, so the column is wrapped at the end
    without a second check, and without a second pass over values that have long left the cache.
    """

    def __init__(self, capacity: int = 0, free_form: bool = False) -> None:
        self.free_form = free_form
        self.buffer: ObjectArray = np.empty(capacity, dtype=object)
        self.size = 0
        self.all_text = True  # every chunk so far held only text and missing values

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` values in all (a guess: more are still taken, less leaves room)."""
        if capacity > len(self.buffer):
            grown: ObjectArray = np.empty(capacity, dtype=object)
            grown[: self.size] = self.buffer[: self.size]
            self.buffer = grown

    def add(self, values: npt.NDArray[Any], checked: bool = False) -> ObjectArray:
        """Add a chunk of values (``checked``: taken from a column of this kind, which checked them).

        Returns:
            The chunk as stored: text and NA while :attr:`all_text` holds.
        """
        start, end = self.size, self.size + len(values)
        if end > len(self.buffer):
            self.reserve(max(end, 2 * len(self.buffer)))
        target = self.buffer[start:end]
        target[:] = values
        if self.all_text and not checked and not _pandas.is_text(target):
            self.all_text = False  # a number or a flag where text was expected: decided in finish
        self.size = end
        return target

    def pad(self, count: int) -> None:
        """Add ``count`` missing values (rows read before the field was first seen)."""
        self.add(np.full(count, None, dtype=object))

    def finish(self) -> Any:
        # The buffer itself when the guess was right; else a view of its start (not a copy, which would fetch
        # every value from memory again).
        values = self.buffer if self.size == len(self.buffer) else self.buffer[: self.size]
        if self.all_text:
            return _pandas.checked_text(values)
        # A chunk checked before the odd one already holds NA for its None, and a key a record lacked is NaN
        # (see _records.fields): all three mean missing here.
        values = _missing_as_none(values)
        return infer(values) if self.free_form else strings(values)


class Datetimes:
    """A ``datetime64[us, UTC]`` column from ISO 8601 text with any offset (bad values become NaT)."""

    def __init__(self) -> None:
        self.pieces: list[npt.NDArray[np.int64]] = []

    def add(self, values: ObjectArray) -> npt.NDArray[np.int64]:
        """Add a chunk; returns its microseconds since the epoch (NaT as :data:`NAT`)."""
        return self.add_parsed(microseconds(values))

    def add_parsed(self, i8: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Add a chunk already parsed to microseconds."""
        self.pieces.append(i8)
        return i8

    def add_like(
        self, values: ObjectArray, like_values: ObjectArray, like: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """Add a chunk whose values are mostly the same text as ``like_values`` (already parsed as ``like``):
        an attempt log's ``updated_at`` is usually its ``created_at``, and comparing text is several times
        quicker than parsing it again."""
        try:
            same = np.asarray(values == like_values, dtype=bool)
        except (TypeError, ValueError):  # values that do not compare one to one: parse them all
            return self.add(values)
        i8 = like.copy()  # a copy: the two columns must not share one buffer
        other = ~same
        if other.any():
            i8[other] = microseconds(values[other])
        self.pieces.append(i8)
        return i8

    def finish(self) -> pd.DatetimeIndex:
        return _utc(_join(self.pieces, np.int64))


Factorized = tuple[npt.NDArray[np.intp], ObjectArray]  # codes (-1: missing), and the distinct values


def factorize(values: ObjectArray) -> Factorized | None:
    """The codes and distinct values of ``values`` (None and NaN missing), or None if one is unhashable."""
    try:
        codes, uniques = pd.factorize(values)
    except (TypeError, ValueError):
        return None
    return codes, np.asarray(uniques, dtype=object)


def where_equal(values: ObjectArray, factorized: Factorized | None, text: str) -> npt.NDArray[np.bool_]:
    """Which ``values`` are ``text``, read from their codes when they were factorised (no text compared)."""
    if factorized is None:
        return np.asarray(values == text, dtype=bool)
    codes, uniques = factorized
    for code, value in enumerate(uniques):
        if isinstance(value, str) and value == text:
            return np.asarray(codes == code, dtype=bool)
    return np.zeros(len(codes), dtype=bool)


class Categories:
    """A ``category`` column, categories sorted by name; unknown values simply become new categories.

    Each chunk is factorised when it is added (hashing its values while they are in the cache); ``finish``
    merges the chunks' few distinct values and renumbers the codes.
    """

    def __init__(self) -> None:
        self.pieces: list[Factorized] = []
        self.raw: list[ObjectArray] | None = None  # the values themselves, once one chunk could not be hashed

    def add(self, values: ObjectArray) -> Factorized | None:
        """Add a chunk; returns its codes and distinct values (None once a value could not be hashed)."""
        if self.raw is None:
            factorized = factorize(values)
            if factorized is not None:
                self.pieces.append(factorized)
                return factorized
            # an unhashable value: from now on, keep the values themselves for finish
            self.raw = [_values_of(codes, uniques) for codes, uniques in self.pieces]
        self.raw.append(values)
        return None

    def finish(self) -> pd.Categorical:
        if self.raw is None:
            uniques: ObjectArray = _join([u for _, u in self.pieces], object)
            try:
                merged, names = pd.factorize(uniques, sort=True)
            except TypeError:  # values of several types, which do not sort together
                self.raw = [_values_of(codes, u) for codes, u in self.pieces]
            else:
                return pd.Categorical.from_codes(self._renumber(merged), categories=pd.Index(names))
        return category(_join(self.raw, object))

    def _renumber(self, merged: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        out, start = [], 0
        for codes, uniques in self.pieces:
            table = np.append(merged[start : start + len(uniques)], -1)  # code -1 (missing) stays -1
            out.append(table[codes])
            start += len(uniques)
        renumbered: npt.NDArray[np.intp] = _join(out, np.intp)
        return renumbered


class Integers:
    """A nullable ``Int64`` column; text that is not a whole number becomes NA."""

    def __init__(self) -> None:
        self.pieces: list[Any] = []

    def add(self, values: ObjectArray) -> None:
        self.pieces.append(integers(values))

    def add_typed(self, values: Any) -> None:
        """Add a chunk already typed as a nullable ``Int64`` array."""
        self.pieces.append(values)

    def finish(self) -> Any:
        data = _join([p.to_numpy(dtype=np.int64, na_value=0) for p in self.pieces], np.int64)
        mask = _join([np.asarray(p.isna(), dtype=bool) for p in self.pieces], np.bool_)
        return pd.arrays.IntegerArray(data, mask)


class Flags:
    """A nullable ``boolean`` column from chunks of values and missing masks."""

    def __init__(self) -> None:
        self.values: list[npt.NDArray[np.bool_]] = []
        self.missing: list[npt.NDArray[np.bool_]] = []

    def add(self, values: npt.NDArray[np.bool_], missing: npt.NDArray[np.bool_]) -> None:
        self.values.append(values)
        self.missing.append(missing)

    def finish(self) -> pd.arrays.BooleanArray:
        return pd.arrays.BooleanArray(_join(self.values, np.bool_), _join(self.missing, np.bool_))


class FreeForm:
    """Columns for fields not declared (payload fields, unknown keys), each made when first seen."""

    def __init__(self, capacity: int = 0) -> None:
        self.columns: dict[str, Strings] = {}
        self.rows = 0
        self.capacity = capacity

    def reserve(self, capacity: int) -> None:
        self.capacity = capacity
        for column in self.columns.values():
            column.reserve(capacity)

    def add(self, wire: Mapping[str, npt.NDArray[Any]], rows: int) -> None:
        """Add a chunk of ``rows`` rows: the values of every field seen so far, and of new ones."""
        for key in self.columns.keys() - wire.keys():
            self.columns[key].pad(rows)  # a chunk without any value of a field seen before
        for key, values in wire.items():
            column = self.columns.get(key)
            if column is None:
                column = self.columns[key] = Strings(self.capacity, free_form=True)
                if self.rows:
                    column.pad(self.rows)  # the field was absent from every earlier chunk
            column.add(values)
        self.rows += rows

    def finish(self, first: Sequence[str] = ()) -> dict[str, Any]:
        """The typed columns: the fields of ``first`` in their order, then the others by name."""
        order = [k for k in first if k in self.columns]
        order += sorted(self.columns.keys() - set(order))
        return {key: self.columns[key].finish() for key in order}


class Payloads(FreeForm):
    """One column per payload field, in the order the API itself keeps them (:func:`payload_order`), so that
    the columns are the same whichever record comes first. A payload that is not a mapping (None, a stray
    string) counts as empty; so does a field left `UNSET` in a payload read as a wire struct."""

    def add_payloads(self, values: Values) -> None:
        """Add a chunk of payloads: mappings, or wire structs of one kind (the listing's)."""
        structs = _payload_structs(values)
        if structs is not None:
            self._add_structs(structs)
            return
        payloads = mappings(values)
        known = list(self.columns)
        wire, present = fields(payloads, known)
        later = sorted(present - set(known))
        if later:
            wire.update(fields(payloads, later, find_keys=False)[0])
        self.add(wire, len(payloads))

    def _add_structs(self, structs: list[Any]) -> None:
        names = type(structs[0]).__struct_fields__
        n, k = len(structs), len(names)
        matrix = np.fromiter(chain.from_iterable(map(astuple, structs)), dtype=object, count=n * k)
        matrix = matrix.reshape(n, k)
        wire = {}
        for j, name in enumerate(names):
            values = matrix[:, j]
            unset = np.asarray(values == UNSET, dtype=bool)  # a field this payload left out
            if unset.all():
                continue  # in no payload of the chunk: a column only if another chunk has it
            values[unset] = None
            wire[name] = values
        self.add(wire, n)

    def finish(self, first: Sequence[str] = ()) -> dict[str, Any]:
        return super().finish(payload_order(self.columns))


def payload_order(keys: Iterable[str]) -> list[str]:
    """``keys`` in the order Catena keeps a payload's keys: it stores payloads as PostgreSQL ``jsonb``, which
    orders them by length in bytes, then bytewise."""
    return sorted(keys, key=lambda key: (len(key.encode()), key.encode()))


def _payload_structs(values: Values) -> list[Any] | None:
    """The payloads as wire structs of one kind, an empty one for each null; None unless every payload is
    a wire struct or null (and one at least is a struct)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if len(kinds) != 1:
        return None
    kind = next(iter(kinds))
    if not issubclass(kind, msgspec.Struct):
        return None
    empty = kind()
    return [empty if v is None else v for v in values]


# ----------------------------------------------------------------------------------- naming the columns


def named(columns: Mapping[str, Any], prefix: str, taken: set[str]) -> dict[str, Any]:
    """``columns`` named ``prefix + key``, or ``extra_`` and that on a clash with a name in ``taken``
    (which the new names join)."""
    out: dict[str, Any] = {}
    for key, values in columns.items():
        name = f"{prefix}{key}"
        if name in taken:
            name = f"extra_{name}"
        taken.add(name)
        out[name] = values
    return out


def payload_columns(payloads: Values, taken: set[str]) -> dict[str, Any]:
    """One ``payload_<name>`` column per payload field, in the order of :class:`Payloads`."""
    builder = Payloads(len(payloads))
    builder.add_payloads(payloads)
    return named(builder.finish(), "payload_", taken)


def free_form_columns(rows: Sequence[Row], keys: Sequence[str], taken: set[str]) -> dict[str, Any]:
    """Typed columns (:func:`infer`) for fields the frame does not declare, each under its own name."""
    wire = fields(rows, keys, find_keys=False)[0]
    return named({key: infer(values) for key, values in wire.items()}, "", taken)


# ---------------------------------------------------------------------------------------------- helpers


def _join(pieces: Sequence[npt.NDArray[Any]], dtype: Any) -> Any:
    if not pieces:
        return np.zeros(0, dtype=dtype)
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _values_of(codes: npt.NDArray[np.intp], uniques: ObjectArray) -> ObjectArray:
    """The values a factorised chunk was made of (missing ones as None)."""
    with_none: ObjectArray = np.append(uniques, np.array([None], dtype=object))
    return with_none[codes]  # code -1 picks the None appended last
