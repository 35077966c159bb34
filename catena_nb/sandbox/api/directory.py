"""``/v2/integrations/connections`` and ``/v2/telematics/users``: the seeded world, read-only."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from catena_nb.sandbox.api.auth import require_token
from catena_nb.sandbox.api.context import SandboxContext, get_ctx
from catena_nb.sandbox.api.errors import APIError, field_error, validation_error
from catena_nb.sandbox.api.pagination import Key, envelope, page
from catena_nb.sandbox.api.query import MAX_LIST_VALUES, CursorParam, Size, parse_cursor
from catena_nb.sandbox.api.schemas import COMMON_ERRORS, CursorPage, CursorPageWithTotal, SortOrder
from catena_nb.sandbox.sim.timestamps import iso
from catena_nb.sandbox.sim.types import Connection, User, World

router = APIRouter(dependencies=[Depends(require_token)])

Ctx = Annotated[SandboxContext, Depends(get_ctx)]
UUIDs = Annotated[list[uuid.UUID] | None, Query(max_length=MAX_LIST_VALUES)]
Strings = Annotated[list[str] | None, Query(max_length=MAX_LIST_VALUES)]


def _hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


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


def user_record(conn: Connection, user: User) -> dict[str, Any]:
    """A user as ``UserRead``."""
    created = iso(conn.created_at)
    source_data = {
        "id": user.source_id,
        "username": user.username,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "role": "driver" if user.is_driver else "dispatcher",
    }
    return {
        "fleet_id": conn.fleet_id,
        "fleet_ref": conn.fleet_ref,
        "id": user.id,
        "created_at": created,
        "updated_at": created,
        "deleted_at": None,
        "connection_id": conn.id,
        "tsp_id": conn.tsp_id,
        "tsp_slug": conn.source_name,
        "source_name": conn.source_name,
        "source_data": source_data,
        "source_id": user.source_id,
        "source_data_hash": _hash(source_data),
        "occurred_at": created,
        "execution_id": None,
        "schedule_id": None,
        "extras": None,
        "username": user.username,
        "is_active": True,
        "status": "active",
        "is_driver": user.is_driver,
        "user_email": f"{user.username}@fleet.example",
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone_number": None,
        "employee_number": None,
    }


@functools.lru_cache(maxsize=8)
def _directory(world: World) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    conns = sorted(
        (connection_record(c) for c in world.connections), key=lambda r: (r["created_at"], r["id"])
    )
    users = sorted(
        (user_record(c, u) for c in world.connections for u in c.user_records),
        key=lambda r: (r["created_at"], r["id"]),
    )
    return conns, users


def _cut(
    records: list[dict[str, Any]],
    cursor: str | None,
    size: int,
    accept: Callable[[dict[str, Any]], bool],
    descending: bool = False,
) -> tuple[list[dict[str, Any]], Any, int]:
    by_key: dict[Key, dict[str, Any]] = {(r["created_at"], r["id"]): r for r in records}
    keys = list(by_key)
    cut = page(keys, lo=None, hi=None, cursor=parse_cursor(cursor), size=size, descending=descending,
               accept=lambda k: accept(by_key[k]))  # fmt: skip
    total = sum(1 for r in records if accept(r))
    return [by_key[k] for k in cut.keys], cut, total


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@router.get(
    "/v2/integrations/connections",
    response_model=CursorPage,
    responses=COMMON_ERRORS,
    tags=["Connections"],
    summary="List Connections",
)
async def list_connections(
    ctx: Ctx,
    tsp_id: uuid.UUID | None = None,
    fleet_ids: UUIDs = None,
    fleet_refs: Strings = None,
    cursor: CursorParam = None,
    size: Size = 300,
) -> Response:
    """The partner's connections (Fleet/TSP pairings)."""
    conns, _ = _directory(ctx.state.world)
    fleets = {str(f) for f in fleet_ids or ()}
    refs = set(fleet_refs or ())

    def accept(r: dict[str, Any]) -> bool:
        return (
            (tsp_id is None or r["tsp_id"] == str(tsp_id))
            and (not fleets or r["fleet_id"] in fleets)
            and (not refs or r["fleet_ref"] in refs)
        )

    items, cut, _ = _cut(conns, cursor, size, accept)
    return Response(envelope([_dumps(r) for r in items], cut), media_type="application/json")


@router.get(
    "/v2/integrations/connections/{connection_id}",
    response_model=dict[str, Any],
    responses=COMMON_ERRORS,
    tags=["Connections"],
    summary="Get Connection",
)
async def get_connection(ctx: Ctx, connection_id: uuid.UUID) -> Response:
    """One connection."""
    conn = ctx.state.world.connection(str(connection_id))
    if conn is None:
        raise APIError(404, f"Connection {connection_id} not found")
    return Response(_dumps(connection_record(conn)), media_type="application/json")


@router.get(
    "/v2/telematics/users",
    response_model=CursorPageWithTotal,
    responses=COMMON_ERRORS,
    tags=["Drivers & Users"],
    summary="List Users",
)
async def list_users(
    ctx: Ctx,
    is_driver: bool | None = None,
    fleet_ids: UUIDs = None,
    fleet_refs: Strings = None,
    connection_id: uuid.UUID | None = None,
    include_source_data: bool = False,
    user_ids: UUIDs = None,
    source_ids: Strings = None,
    sort_by: str | None = None,
    sort_order: SortOrder = "asc",
    cursor: CursorParam = None,
    size: Size = 300,
) -> Response:
    """The users (drivers and dispatchers) of the partner's connections."""
    if sort_by not in (None, "created_at"):
        # assumed: only the default order is offered; other fields are refused, not ignored
        raise validation_error(
            [field_error("query.sort_by", sort_by, "Only created_at is supported", "literal_error")]
        )
    _, users = _directory(ctx.state.world)
    fleets = {str(f) for f in fleet_ids or ()}
    refs = set(fleet_refs or ())
    ids = {str(u) for u in user_ids or ()}
    sources = set(source_ids or ())

    def accept(r: dict[str, Any]) -> bool:
        return (
            (is_driver is None or r["is_driver"] is is_driver)
            and (connection_id is None or r["connection_id"] == str(connection_id))
            and (not fleets or r["fleet_id"] in fleets)
            and (not refs or r["fleet_ref"] in refs)
            and (not ids or r["id"] in ids)
            and (not sources or r["source_id"] in sources)
        )

    items, cut, total = _cut(users, cursor, size, accept, descending=sort_order == "desc")
    if not include_source_data:
        items = [{**r, "source_data": None} for r in items]
    return Response(envelope([_dumps(r) for r in items], cut, total), media_type="application/json")


@router.get(
    "/v2/telematics/users/{user_id}",
    response_model=dict[str, Any],
    responses=COMMON_ERRORS,
    tags=["Drivers & Users"],
    summary="Get User",
)
async def get_user(ctx: Ctx, user_id: uuid.UUID, include_source_data: bool = False) -> Response:
    """One user."""
    for conn in ctx.state.world.connections:
        for user in conn.user_records:
            if user.id == str(user_id):
                record = user_record(conn, user)
                if not include_source_data:
                    record["source_data"] = None
                return Response(_dumps(record), media_type="application/json")
    raise APIError(404, f"User {user_id} not found")
