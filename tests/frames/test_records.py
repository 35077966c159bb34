"""The first stage: inputs become plain records, and their fields object arrays, whatever the rows hold."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pandas as pd
import pytest

from catena_nb.frames import _records


def test_fields_reads_missing_keys_as_missing_and_falls_back_for_other_mappings() -> None:
    """A key a row lacks is NaN or None; other mappings are read by name; a row that is no mapping fails."""
    rows: list[Any] = [{"a": 1, "b": "x"}, {"a": 2}, {"a": 3, "b": None, "c": True}]
    arrays, present = _records.fields(rows, ["a", "b"])
    assert present == {"a", "b", "c"}
    assert list(arrays["a"]) == [1, 2, 3]
    assert arrays["b"][0] == "x"
    assert pd.isna(arrays["b"][1])
    assert arrays["b"][2] is None
    proxied, _ = _records.fields([MappingProxyType({"a": 1})], ["a"])
    assert list(proxied["a"]) == [1]
    with pytest.raises(TypeError):
        _records.fields([{"a": 1}, "not a row"], ["a"])  # type: ignore[list-item]


def test_records_opens_pages_dumps_models_and_decodes_bodies() -> None:
    """Page bodies, pages, nested lists and models all come out as the same plain records, in order."""

    class Model:
        def model_dump(self, *, mode: str) -> dict[str, Any]:
            assert mode == "json"
            return {"id": "m"}

    body = b'{"items": [{"id": "a"}, {"id": "b"}], "next_page": null}'
    out = _records.records([body, {"items": [{"id": "c"}]}, [[{"id": "d"}]], Model(), None])
    assert [r["id"] for r in out] == ["a", "b", "c", "d", "m"]
    with pytest.raises(TypeError, match="cannot read records from a int"):
        _records.records([1])


def test_connection_names_from_a_mapping_records_or_a_page() -> None:
    """``connection_id -> source_name`` comes from a mapping, connection records, or a page of them."""
    assert _records.connection_names({"c1": "samsara", "c2": None}) == {"c1": "samsara"}
    page = {"items": [{"id": "c1", "source_name": "motive"}, {"id": "c2"}]}
    assert _records.connection_names(page) == {"c1": "motive"}
    assert _records.connection_names(None) == {}
