"""Shared by the simulation tests: operation records as the routes build them, rows of sends, a store."""

from __future__ import annotations

from typing import Any

from catena_nb.sandbox.api.state import SandboxState
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.records import group_message_payload, message_payload, new_operation
from catena_nb.sandbox.sim.types import World

STAMP = "2026-11-02T10:00:00.000000Z"


def new_op(
    world: World,
    conn_index: int,
    *,
    text: str | None,
    priority: str | None = "low",
    sender: str | None = None,
    recipient: str | None = None,
) -> dict[str, Any]:
    """A pending message operation record, as the create route stores it."""
    conn = world.connections[conn_index]
    sender = sender or conn.dispatchers[0]
    recipient = recipient or conn.drivers[0]
    payload = message_payload(conn, sender, recipient, message_text=text, priority=priority)
    return new_operation(new_uuid7(), STAMP, world.partner_id, conn, "message", payload)


def new_group_op(world: World, conn_index: int, *, text: str) -> dict[str, Any]:
    """A pending group-message operation record to every driver of the connection."""
    conn = world.connections[conn_index]
    payload = group_message_payload(conn, conn.dispatchers[0], conn.drivers, message_text=text, priority=None)
    return new_operation(new_uuid7(), STAMP, world.partner_id, conn, "group_message", payload)


def rows(world: World, n: int) -> list[tuple[int, str, str, str]]:
    """``n`` distinct (connection index, sender, recipient, text) rows spread over every connection whose TSP
    takes message writes (they come first in the world's connections)."""
    out = []
    for i in range(n):
        ci = i % len(world.message_connections)
        users = world.connections[ci].users
        s = i % len(users)
        r = (s + 1 + (i // 7) % (len(users) - 1)) % len(users)  # never the sender
        out.append((ci, users[s], users[r], f"Load {i} ready at dock {i % 9}"))
    return out


def fresh_state(world: World) -> SandboxState:
    """An empty store over ``world``."""
    return SandboxState(world)
