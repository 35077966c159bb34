"""Typed columns built a chunk at a time, for :mod:`catena_nb.frames`.

A large pull does not fit in the CPU cache: 200,000 operations are several hundred MB of dicts and strings.
Converting a whole column at once (checking its strings, parsing its timestamps, hashing its enum values)
fetches each value from memory again, once per conversion, and on such a pull that fetch costs more than
the conversion itself. So each column here takes its values a chunk of records at a time, converts them
right away, while the chunk's records are still in the cache, and keeps only the result; ``finish`` joins
the chunks, which touches no value again (strings are joined as references). Every column keeps the slow,
general path of :mod:`catena_nb.frames._wire` for values of an unexpected type, so nothing is ever refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb.frames import _wire as w

__all__ = [
    "NAT", "Categories", "Datetimes", "Factorized", "Flags", "Integers", "Strings", "factorize",
    "parse_datetimes", "where_equal",
]  # fmt: skip

ObjectArray = npt.NDArray[np.object_]
NAT = np.iinfo(np.int64).min  # how numpy stores NaT


def parse_datetimes(values: ObjectArray) -> npt.NDArray[np.int64]:
    """Microseconds since the epoch (UTC) of ISO 8601 text or datetimes; NaT (:data:`NAT`) where missing or
    bad."""
    if len(values) and _missing(values[0]) and bool(pd.isna(values).all()):
        return np.full(len(values), NAT, dtype=np.int64)  # an unset field (deleted_at): nothing to parse
    return w.microseconds(values)


class Strings:
    """A nullable ``string`` column, or with ``free_form`` the typed column :func:`_wire.infer` would give.

    Each chunk is copied into one buffer and checked there (``StringArray`` checks in place, turning None
    into NA) while its values are still in the cache, so the column is wrapped at the end without a second
    check, and without a second pass over values that have long left the cache.
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

    def add(self, values: npt.NDArray[Any], checked: bool = False) -> None:
        """Add a chunk of values (``checked``: taken from a column of this kind, which checked them)."""
        start, end = self.size, self.size + len(values)
        if end > len(self.buffer):
            self.reserve(max(end, 2 * len(self.buffer)))
        target = self.buffer[start:end]
        target[:] = values
        if self.all_text and not checked:
            try:
                pd.arrays.StringArray(target)  # the check, in C, on the buffer itself (no copy)
            except ValueError:  # a number or a flag where text was expected: decided in finish
                self.all_text = False
        self.size = end

    def pad(self, count: int) -> None:
        """Add ``count`` missing values (rows read before the field was first seen)."""
        self.add(np.full(count, None, dtype=object))

    def finish(self) -> Any:
        # The buffer itself when the guess was right; else a view of its start (not a copy, which would fetch
        # every value from memory again).
        values = self.buffer if self.size == len(self.buffer) else self.buffer[: self.size]
        if self.all_text:
            return _string_array(values)
        # A chunk checked before the odd one already holds NA for its None, and a key a record lacked is NaN
        # (see _wire.table): all three mean missing here.
        values = values.copy()
        values[pd.isna(values)] = None
        return w.infer(values) if self.free_form else w.strings(values)


class Datetimes:
    """A ``datetime64[us, UTC]`` column from ISO 8601 text with any offset (bad values become NaT)."""

    def __init__(self) -> None:
        self.pieces: list[npt.NDArray[np.int64]] = []

    def add(self, values: ObjectArray) -> npt.NDArray[np.int64]:
        """Add a chunk; returns its microseconds since the epoch (see :func:`parse_datetimes`)."""
        return self.add_parsed(parse_datetimes(values))

    def add_parsed(self, i8: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Add a chunk already parsed by :func:`parse_datetimes`."""
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
            i8[other] = w.microseconds(values[other])
        self.pieces.append(i8)
        return i8

    def finish(self) -> pd.DatetimeIndex:
        i8 = np.concatenate(self.pieces) if self.pieces else np.zeros(0, dtype=np.int64)
        return pd.DatetimeIndex(i8.view("M8[us]")).tz_localize("UTC")


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
            uniques = _join([u for _, u in self.pieces])
            try:
                merged, names = pd.factorize(uniques, sort=True)
            except TypeError:  # values of several types, which do not sort together
                self.raw = [_values_of(codes, u) for codes, u in self.pieces]
            else:
                return pd.Categorical.from_codes(self._renumber(merged), categories=pd.Index(names))
        return w.category(_join(self.raw))

    def _renumber(self, merged: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        out, start = [], 0
        for codes, uniques in self.pieces:
            table = np.append(merged[start : start + len(uniques)], -1)  # code -1 (missing) stays -1
            out.append(table[codes])
            start += len(uniques)
        return np.concatenate(out) if out else np.zeros(0, dtype=np.intp)


class Integers:
    """A nullable ``Int64`` column; text that is not a whole number becomes NA."""

    def __init__(self) -> None:
        self.pieces: list[Any] = []

    def add(self, values: ObjectArray) -> None:
        self.pieces.append(w.integers(values))

    def finish(self) -> Any:
        if not self.pieces:
            return pd.array([], dtype="Int64")
        data = np.concatenate([p.to_numpy(dtype=np.int64, na_value=0) for p in self.pieces])
        mask = np.concatenate([np.asarray(p.isna(), dtype=bool) for p in self.pieces])
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
        if not self.values:
            return pd.arrays.BooleanArray(np.zeros(0, dtype=bool), np.zeros(0, dtype=bool))
        return pd.arrays.BooleanArray(np.concatenate(self.values), np.concatenate(self.missing))


# ------------------------------------------------------------------------------------------ helpers


def _join(pieces: list[ObjectArray]) -> ObjectArray:
    if not pieces:
        return np.zeros(0, dtype=object)
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def _values_of(codes: npt.NDArray[np.intp], uniques: ObjectArray) -> ObjectArray:
    """The values a factorised chunk was made of (missing ones as None)."""
    with_none: ObjectArray = np.append(uniques, np.array([None], dtype=object))
    return with_none[codes]  # code -1 picks the None appended last


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


_EMPTY_STRINGS: list[Any] = []


def _string_array(values: ObjectArray) -> Any:
    """A ``StringArray`` over ``values``, which every chunk's check already validated and converted."""
    if not _EMPTY_STRINGS:
        _EMPTY_STRINGS.append(pd.arrays.StringArray(np.zeros(0, dtype=object)))
    template = _EMPTY_STRINGS[0]
    try:
        # Not public, but in every pandas this package supports (NDArrayBacked, pandas >= 1.4): it wraps
        # the buffer without the check that every chunk already passed.
        return template._from_backing_data(values)
    except AttributeError:  # pragma: no cover - a pandas without it: check once more
        return pd.arrays.StringArray(values)
