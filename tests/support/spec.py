"""Catena's published schemas (the copy in tests/sandbox/specs/catena_schemas.json) and a field-by-field check
of a JSON answer against one of them.

The check is deliberately small: each object must carry exactly the schema's properties (the sandbox writes
every field, nulls included), every required one, and each value must have the type, format or enum value the
schema gives. ``$ref``s resolve to the copy's other schemas or its enums; ``TspEnum`` and ``ResourceEnum``
are open sets of lowercase slugs (catena-api.md §1, §4).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from functools import cache
from pathlib import Path
from typing import Any

SPEC_FILE = Path(__file__).resolve().parents[1] / "sandbox" / "specs" / "catena_schemas.json"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_OPEN_ENUMS = {"TspEnum", "ResourceEnum"}


@cache
def spec() -> dict[str, Any]:
    """The committed copy of Catena's schemas, enums and per-path security."""
    loaded: dict[str, Any] = json.loads(SPEC_FILE.read_text())
    return loaded


def security() -> dict[str, list[str]]:
    """Each path's Bearer scopes as the specs list them (``"GET /v2/..."`` -> scopes)."""
    found: dict[str, list[str]] = spec()["security"]
    return found


def problems(value: Any, schema_name: str) -> list[str]:
    """Every way ``value`` departs from the named schema (empty when it matches exactly)."""
    return _check(value, {"$ref": f"#/components/schemas/{schema_name}"}, "$")


def _check(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if "$ref" in schema:
        return _ref(value, schema["$ref"].rsplit("/", 1)[-1], path)
    if "anyOf" in schema:
        tries = [_check(value, option, path) for option in schema["anyOf"]]
        return [] if any(not t for t in tries) else min(tries, key=len)
    kind = schema.get("type")
    if kind == "null":
        return [] if value is None else [f"{path}: {value!r} is not null"]
    if kind == "object":
        return _object(value, schema, path)
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} where the schema has an array"]
        return [p for i, item in enumerate(value) for p in _check(item, schema["items"], f"{path}[{i}]")]
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an integer"]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: {value!r} is not a string"]
        return _format(value, schema.get("format"), path)
    return []


def _ref(value: Any, name: str, path: str) -> list[str]:
    enums = spec()["enums"]
    if name in enums:
        return [] if value in enums[name] else [f"{path}: {value!r} not in {name} {enums[name]}"]
    if name in _OPEN_ENUMS:
        ok = isinstance(value, str) and _SLUG.match(value)
        return [] if ok else [f"{path}: {value!r} is not a {name} slug"]
    return _check(value, spec()["schemas"][name], path)


def _object(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: {type(value).__name__} where the schema has an object"]
    props: dict[str, Any] = schema.get("properties", {})
    if not props:  # a free-form object (payload, headers, integrations)
        extra = schema.get("additionalProperties")
        names = schema.get("propertyNames")
        out: list[str] = []
        for key, item in value.items():
            if isinstance(names, dict):
                out += _check(key, names, f"{path} key {key!r}")
            if isinstance(extra, dict):
                out += _check(item, extra, f"{path}.{key}")
        return out
    out = [f"{path}: field {k!r} is not in the schema" for k in sorted(set(value) - set(props))]
    out += [f"{path}: field {k!r} is missing" for k in sorted(set(props) - set(value))]
    out += [f"{path}: required field {k!r} is missing" for k in schema.get("required", []) if k not in value]
    for key in set(value) & set(props):
        out += _check(value[key], props[key], f"{path}.{key}")
    return out


def _format(value: str, fmt: str | None, path: str) -> list[str]:
    try:
        if fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "date-time":
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                return [f"{path}: {value!r} has no UTC offset"]
    except ValueError:
        return [f"{path}: {value!r} is not a {fmt}"]
    return []
