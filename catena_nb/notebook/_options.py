"""What the widgets' pickers offer: connections, users, TSPs and operations as ``(label, value)`` options.

A picker shows its labels as text, not HTML: they are not escaped, but their bidi controls are shown
(``neutralize_bidi``), so that a spoofed name cannot reorder what is around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import ipywidgets as widgets

from catena_nb._html import neutralize_bidi
from catena_nb.models import ResourceOperation

WIDE = widgets.Layout(width="36em")
# Labels wide enough for "Operation id" or "Until (incl.)" in full, the same on every input.
LABEL = {"description_width": "7.5em"}


def field(obj: Any, name: str, default: Any = None) -> Any:
    """``obj.name`` for a model, ``obj[name]`` for a wire dict (a client's listing gives either)."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def text(value: Any) -> str:
    """A value as plain text: an enum by its value, None as an empty string."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def labelled(values: Iterable[str]) -> list[tuple[str, str]]:
    """``(label, value)`` options, each labelled with its own text."""
    return [(neutralize_bidi(v), v) for v in values]


def connection_options(connections: Iterable[Any]) -> list[tuple[str, str]]:
    """``("samsara · Fleet name", connection_id)`` for each connection, sorted by label."""
    options = []
    for conn in connections:
        cid = text(field(conn, "id"))
        name = field(conn, "description") or field(conn, "fleet_ref") or cid[:8]
        options.append((neutralize_bidi(f"{text(field(conn, 'source_name')) or '?'} · {name}"), cid))
    return sorted(options)


def tsp_names(connections: Iterable[Any]) -> list[str]:
    """The distinct ``source_name``s of the connections, sorted."""
    return sorted({text(field(c, "source_name")) for c in connections} - {""})


def user_options(users: Iterable[Any], *, drivers_first: bool) -> list[tuple[str, str]]:
    """Dropdown options for users, drivers first (recipients) or dispatchers first (senders)."""

    def key(user: Any) -> tuple[bool, str]:
        return (bool(field(user, "is_driver")) != drivers_first, _user_label(user))

    return [(_user_label(u), text(field(u, "id"))) for u in sorted(users, key=key)]


def _user_label(user: Any) -> str:
    """``"Ana Ruiz (driver)"``: the user's name, else the username, then the role."""
    name = " ".join(p for p in (field(user, "first_name"), field(user, "last_name")) if p)
    name = name or field(user, "username") or text(field(user, "id"))[:8]
    is_driver = field(user, "is_driver")
    role = "driver" if is_driver else "dispatcher" if is_driver is not None else "user"
    return neutralize_bidi(f"{name} ({role})")


def operation_label(op: ResourceOperation, row: int) -> str:
    """A row picker's label: row number, status, error type, creation time and the start of the id."""
    when = op.created_at.strftime("%Y-%m-%d %H:%M") if op.created_at is not None else ""
    status = text(op.status)
    error = op.last_error
    if error is not None and error.error_type:
        status += f" ({text(error.error_type)})"
    return neutralize_bidi(f"{row}. {status} · {when} · {text(op.id)[:8]}")
