"""Response models that are parsed when first touched, and that hand their wire record to the frames.

A listing of 55,000 operations holds 115,000 models (each operation and each of its logs). Building them all
costs more than fetching and decoding the pages, and the frames would then dump each one back to a dict.
A `LazyModel` made by `lazy(raw)` holds only its wire record until anything reads or sets a field (or its
``__dict__``, its fields set, its extras: everything pydantic reads goes through those), then validates the
record once, exactly as ``model_validate`` would, and from then on is an ordinary model.

While it is untouched, :func:`wire_record` gives the record it came from, so that the frames read that
instead of dumping the model. Once touched, it gives None, forever: a model that was read may since have been
changed in place (``op.logs.append(...)``, ``op.payload["x"] = 1``), which nothing would notice, so the
frames dump it as it is now and a frame is never stale.

A page of exactly the listing's shape is read into wire structs (`catena_nb.client._wire`), and its models
hold those, which the frames read as they read `operation_frames(listing)`'s; such a model is validated from
its record as sent (its page's body, decoded once when the first of them is touched), never from the struct,
which reads a field left out as null.

The listing checks every page before it hands out lazy models (`catena_nb.client._wire`): a record that
might not validate is parsed there and then, so a malformed page raises where it always did.

A listing's ``.to_list()`` gives a `ListedItems`: a plain list to its reader, that also remembers the records
of its pages, so that the frames read those without asking each model for its record. Each page's models
share one `Touched` mark, set when any of them is first parsed; and the list counts its own changes
(``append``, ``sort``, ``ops[0] = ...``). While neither happened, the list's records are exactly its models'
records, in order: the frames check that in a few steps instead of one per model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, Self

from pydantic import BaseModel, PrivateAttr

__all__ = [
    "LazyModel",
    "ListedItems",
    "Touched",
    "WireSource",
    "lazy",
    "lazy_page",
    "wire_record",
    "wire_records",
]

# pydantic's own storage, under the properties below
_DICT = BaseModel.__dict__["__dict__"]
_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"]
_EXTRA = BaseModel.__dict__["__pydantic_extra__"]
_PRIVATE = BaseModel.__dict__["__pydantic_private__"]


class WireSource(Protocol):
    """Where the untouched models of one page whose records are wire structs find each struct's record as
    it was sent (a struct reads a field left out as null; the model must see it left out)."""

    def mapping(self, record: Any) -> Mapping[str, Any]:
        """The wire record that `record` (a struct of this page) was decoded from."""
        ...


class _Pending(dict[str, Any]):
    """The private attributes that the untouched models of one page share (none set), their mark, and where
    their records' mappings are when the records are wire structs (None: the records are the mappings).

    While a model is untouched, pydantic's slots hold only what tells it apart: its record (in the extras'
    slot, which nothing reads but through the property below), this shared dict, an empty field set shared
    by all. A model is then one object for the collector to walk, not four.
    """

    __slots__ = ("mark", "source")

    def __init__(self, mark: Touched, source: WireSource | None = None) -> None:
        super().__init__(_wire=None, _listed=None)
        self.mark = mark
        self.source = source


_NO_FIELDS: frozenset[str] = frozenset()


def _materialized(model: LazyModel) -> dict[str, Any]:
    """The model's field values, validating its wire record first if it still holds one."""
    values: dict[str, Any] = _DICT.__get__(model)
    if values:
        return values
    private = _PRIVATE.__get__(model)
    if type(private) is not _Pending:
        return values
    raw = _EXTRA.__get__(model)
    if private.source is not None:  # a wire struct: validated from the record it was decoded from
        raw = private.source.mapping(raw)
    # touched: from now on it is an ordinary model, dumped by the frames
    _PRIVATE.__set__(model, {"_wire": None, "_listed": None})
    _EXTRA.__set__(model, None)
    private.mark.touched = True  # its page's records no longer stand for its models
    parsed = type(model).model_validate(raw)
    values.update(_DICT.__get__(parsed))
    _FIELDS_SET.__set__(model, _FIELDS_SET.__get__(parsed))
    _EXTRA.__set__(model, _EXTRA.__get__(parsed))
    return values


class LazyModel(BaseModel):
    """A model that `lazy()` may build from a record it has not validated yet (see the module)."""

    _wire: Mapping[str, Any] | None = PrivateAttr(default=None)
    _listed: Touched | None = PrivateAttr(default=None)

    # Everything pydantic reads (its validator and serializer included) goes through these three.
    @property
    def __dict__(self) -> dict[str, Any]:
        return _materialized(self)

    @__dict__.setter
    def __dict__(self, value: dict[str, Any]) -> None:
        _DICT.__set__(self, value)

    @property
    def __pydantic_fields_set__(self) -> set[str]:
        _materialized(self)
        fields: set[str] = _FIELDS_SET.__get__(self)
        return fields

    @__pydantic_fields_set__.setter
    def __pydantic_fields_set__(self, value: set[str]) -> None:
        _FIELDS_SET.__set__(self, value)

    @property
    def __pydantic_extra__(self) -> dict[str, Any] | None:
        _materialized(self)
        extra: dict[str, Any] | None = _EXTRA.__get__(self)
        return extra

    @__pydantic_extra__.setter
    def __pydantic_extra__(self, value: dict[str, Any] | None) -> None:
        _EXTRA.__set__(self, value)

    def __getattr__(self, name: str) -> Any:
        # a field of an untouched model is not in its __dict__ yet, so plain attribute lookup lands here
        if not name.startswith("_") and not _DICT.__get__(self) and _materialized(self):
            return getattr(self, name)
        return super().__getattr__(name)  # type: ignore[misc]

    def __eq__(self, other: object) -> bool:
        # pydantic compares the private attributes first, where an untouched model still holds its record
        _materialized(self)
        if isinstance(other, LazyModel):
            _materialized(other)
        return super().__eq__(other)

    # pydantic reads the private attributes before the fields here: the record must be parsed first
    def __getstate__(self) -> dict[Any, Any]:
        _materialized(self)
        return super().__getstate__()

    def __copy__(self) -> Self:
        _materialized(self)
        return super().__copy__()

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        _materialized(self)
        return super().__deepcopy__(memo)

    @classmethod
    def _lazy(cls, raw: Any, private: _Pending) -> Self:
        model = cls.__new__(cls)
        _DICT.__set__(model, {})
        _FIELDS_SET.__set__(model, _NO_FIELDS)
        _EXTRA.__set__(model, raw)
        _PRIVATE.__set__(model, private)
        return model


class Touched:
    """Set once any model of one page has been parsed (read, changed, copied, compared)."""

    __slots__ = ("touched",)

    def __init__(self) -> None:
        self.touched = False


def lazy(model: type[LazyModel], raw: Mapping[str, Any]) -> Any:
    """A `model` holding `raw`, validated when first touched; `raw` must be known to validate."""
    return model._lazy(raw, _Pending(Touched()))


def lazy_page(
    model: type[LazyModel], raws: Sequence[Any], source: WireSource | None = None
) -> tuple[list[Any], Touched]:
    """Lazy models of `raws` (mappings, or with `source` the wire structs whose mappings it holds), and the
    mark they share (set when any of them is first touched)."""
    mark = Touched()
    private = _Pending(mark, source)
    make = model._lazy
    return [make(raw, private) for raw in raws], mark


class ListedItems(list[Any]):
    """A listing's items (see the module): a list, remembering its pages' records while they stand for it."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__(items)
        self._pages: list[tuple[list[Any], Touched]] | None = []
        self._changes = 0

    def add_page(self, items: list[Any], records: list[Any] | None, mark: Touched | None) -> None:
        """Add a page's items, and their records (None, or no mark: ordinary models, which nothing stands
        for); not a change of the list."""
        list.extend(self, items)
        if self._pages is not None:
            if records is None or mark is None:
                self._pages = None
            else:
                self._pages.append((records, mark))

    def wire_records(self) -> list[Any] | None:
        """The records of the models as they hold them (mappings or wire structs), in order, while no model
        was touched and the list is as it was made."""
        pages = self._pages
        if pages is None or self._changes:
            return None
        out: list[Any] = []
        for records, mark in pages:
            if mark.touched:
                return None
            out += records
        return out if len(out) == len(self) else None

    def changes(self) -> int:
        """How many times the list was changed in place."""
        return self._changes

    def _changed(self) -> None:
        self._changes += 1

    # a copy or a pickle is a plain list of the same models
    def __reduce__(self) -> Any:
        return (list, (list(self),))

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.__reduce__()

    def __setitem__(self, index: Any, value: Any) -> None:
        self._changed()
        super().__setitem__(index, value)

    def __delitem__(self, index: Any) -> None:
        self._changed()
        super().__delitem__(index)

    # in-place operators that return the list itself, as list's do (mypy wants them to match + and *)
    def __iadd__(self, other: Any) -> Self:  # type: ignore[misc]
        self._changed()
        return super().__iadd__(other)

    def __imul__(self, count: Any) -> Self:  # type: ignore[misc]
        self._changed()
        return super().__imul__(count)

    def append(self, value: Any) -> None:
        self._changed()
        super().append(value)

    def extend(self, values: Any) -> None:
        self._changed()
        super().extend(values)

    def insert(self, index: Any, value: Any) -> None:
        self._changed()
        super().insert(index, value)

    def pop(self, index: Any = -1) -> Any:
        self._changed()
        return super().pop(index)

    def remove(self, value: Any) -> None:
        self._changed()
        super().remove(value)

    def clear(self) -> None:
        self._changed()
        super().clear()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._changed()
        super().sort(*args, **kwargs)

    def reverse(self) -> None:
        self._changed()
        super().reverse()


def wire_record(obj: Any, *, structs: bool = False) -> Any:
    """The wire record of a lazy model nothing has touched yet, else None: with `structs`, the wire struct
    it holds if it holds one, else always the mapping as sent."""
    if not isinstance(obj, LazyModel) or _DICT.__get__(obj):
        return None
    private = _PRIVATE.__get__(obj)
    if type(private) is not _Pending:
        return None
    raw = _EXTRA.__get__(obj)
    if private.source is None or structs:
        return raw
    return private.source.mapping(raw)


def wire_records(objs: list[Any]) -> list[Any] | None:
    """The wire records of a list of untouched lazy models as they hold them (mappings or wire structs), or
    None if any item is something else."""
    out: list[Any] = []
    append, get_dict, get_private, get_raw = out.append, _DICT.__get__, _PRIVATE.__get__, _EXTRA.__get__
    for obj in objs:
        if not isinstance(obj, LazyModel) or get_dict(obj) or type(get_private(obj)) is not _Pending:
            return None
        append(get_raw(obj))
    return out
