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

The listing checks every page before it hands out lazy models (`catena_nb.client._wire`): a record that
might not validate is parsed there and then, so a malformed page raises where it always did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, PrivateAttr

__all__ = ["LazyModel", "lazy", "wire_record", "wire_records"]

# pydantic's own storage, under the properties below
_DICT = BaseModel.__dict__["__dict__"]
_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"]
_EXTRA = BaseModel.__dict__["__pydantic_extra__"]
_PRIVATE = BaseModel.__dict__["__pydantic_private__"]


def _materialized(model: LazyModel) -> dict[str, Any]:
    """The model's field values, validating its wire record first if it still holds one."""
    values: dict[str, Any] = _DICT.__get__(model)
    if values:
        return values
    private = _PRIVATE.__get__(model)
    raw = private.get("_wire") if private else None
    if raw is None:
        return values
    private["_wire"] = None  # touched: from now on it is an ordinary model, dumped by the frames
    parsed = type(model).model_validate(raw)
    values.update(_DICT.__get__(parsed))
    _FIELDS_SET.__set__(model, _FIELDS_SET.__get__(parsed))
    _EXTRA.__set__(model, _EXTRA.__get__(parsed))
    return values


class LazyModel(BaseModel):
    """A model that `lazy()` may build from a record it has not validated yet (see the module)."""

    _wire: Mapping[str, Any] | None = PrivateAttr(default=None)

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
    def _lazy(cls, raw: Mapping[str, Any]) -> Self:
        model = cls.__new__(cls)
        _DICT.__set__(model, {})
        _FIELDS_SET.__set__(model, set())
        _EXTRA.__set__(model, None)
        _PRIVATE.__set__(model, {"_wire": raw})
        return model


def lazy(model: type[LazyModel], raw: Mapping[str, Any]) -> Any:
    """A `model` holding `raw`, validated when first touched; `raw` must be known to validate."""
    return model._lazy(raw)


def wire_record(obj: Any) -> Mapping[str, Any] | None:
    """The wire record of a lazy model nothing has touched yet, else None."""
    if not isinstance(obj, LazyModel) or _DICT.__get__(obj):
        return None
    private = _PRIVATE.__get__(obj)
    raw: Mapping[str, Any] | None = private.get("_wire") if private else None
    return raw


def wire_records(objs: list[Any]) -> list[Mapping[str, Any]] | None:
    """The wire records of a list of untouched lazy models, or None if any item is something else."""
    out: list[Mapping[str, Any]] = []
    append, get_dict, get_private = out.append, _DICT.__get__, _PRIVATE.__get__
    for obj in objs:
        if not isinstance(obj, LazyModel) or get_dict(obj):
            return None
        raw = get_private(obj).get("_wire")
        if raw is None:
            return None
        append(raw)
    return out
