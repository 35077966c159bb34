"""``/v2/integrations/connections``: the partner's connections (Fleet/TSP pairings) of the seeded world."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from fastapi.responses import Response

from catena_nb.sandbox.api.auth import bearer_router, needs
from catena_nb.sandbox.api.context import Ctx
from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.pagination import dumps, envelope, page_records
from catena_nb.sandbox.api.query import PageQuery, Strings, UUIDs, parse_cursor
from catena_nb.sandbox.api.schemas import CursorPage
from catena_nb.sandbox.sim.timestamps import iso
from catena_nb.sandbox.sim.types import Connection, World

router = bearer_router("Connections")
# `security: [{"Bearer": ["connection:read"]}]` on both paths (specs/integrations/openapi.json)
_READ = [needs("connection:read")]


def connection_record(conn: Connection) -> dict[str, Any]:
    """A connection as ``ConnectionRead``."""
    created = iso(conn.created_at)
    return {
        "id": conn.id,
        "created_at": created,
        "updated_at": created,
        "fleet_id": conn.fleet_id,
        "fleet_ref": conn.fleet_ref,
        "tsp_id": conn.tsp_id,
        "source_name": conn.source_name,
        "credentials": {"api_key": "*****"},
        "status": "active",
        "description": conn.description,
    }


@functools.lru_cache(maxsize=8)
def _records(world: World) -> list[dict[str, Any]]:
    return sorted((connection_record(c) for c in world.connections), key=lambda r: (r["created_at"], r["id"]))


@router.get("/v2/integrations/connections", response_model=CursorPage, dependencies=_READ)
async def list_connections(
    ctx: Ctx,
    page: PageQuery,
    tsp_id: uuid.UUID | None = None,
    fleet_ids: UUIDs = None,
    fleet_refs: Strings = None,
) -> Response:
    """The partner's connections (Fleet/TSP pairings)."""
    fleets = {str(f) for f in fleet_ids or ()}
    refs = set(fleet_refs or ())

    def accept(r: dict[str, Any]) -> bool:
        return (
            (tsp_id is None or r["tsp_id"] == str(tsp_id))
            and (not fleets or r["fleet_id"] in fleets)
            and (not refs or r["fleet_ref"] in refs)
        )

    items, cut, _ = page_records(_records(ctx.state.world), parse_cursor(page.cursor), page.size, accept)
    return Response(envelope([dumps(r) for r in items], cut), media_type="application/json")


@router.get("/v2/integrations/connections/{connection_id}", response_model=dict[str, Any], dependencies=_READ)
async def get_connection(ctx: Ctx, connection_id: uuid.UUID) -> Response:
    """One connection."""
    conn = ctx.state.world.connection(str(connection_id))
    if conn is None:
        raise APIError(404, f"Connection {connection_id} not found")
    return Response(dumps(connection_record(conn)), media_type="application/json")
