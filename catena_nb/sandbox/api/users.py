"""``/v2/telematics/users``: the drivers and dispatchers of the partner's connections, read-only."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import Response

from catena_nb.sandbox.api.auth import bearer_router, needs
from catena_nb.sandbox.api.context import Ctx
from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.pagination import dumps, envelope, page_records
from catena_nb.sandbox.api.query import UserQuery, all_of, parse_cursor
from catena_nb.sandbox.api.schemas import CursorPageWithTotal
from catena_nb.sandbox.sim.timestamps import iso
from catena_nb.sandbox.sim.types import Connection, User, World

router = bearer_router("Drivers & Users")
# `security: [{"Bearer": ["telematics:read"]}]` on both paths (specs/telematics/openapi.json)
_READ = [needs("telematics:read")]


def _hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


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
def _records(world: World) -> list[dict[str, Any]]:
    return sorted(
        (user_record(c, u) for c in world.connections for u in c.user_records),
        key=lambda r: (r["created_at"], r["id"]),
    )


@router.get("/v2/telematics/users", response_model=CursorPageWithTotal, dependencies=_READ)
async def list_users(ctx: Ctx, query: Annotated[UserQuery, Depends()]) -> Response:
    """The users (drivers and dispatchers) of the partner's connections."""
    descending = query.descending("created_at")
    tests = query.tests()
    if query.is_driver is not None:
        tests.append(lambda r: r["is_driver"] is query.is_driver)
    if query.connection_id is not None:
        tests.append(lambda r: r["connection_id"] == str(query.connection_id))
    items, cut, total = page_records(
        _records(ctx.state.world),
        parse_cursor(query.cursor),
        query.size,
        all_of(tests),
        descending=descending,
    )
    if not query.include_source_data:
        items = [{**r, "source_data": None} for r in items]
    return Response(envelope([dumps(r) for r in items], cut, total), media_type="application/json")


@router.get("/v2/telematics/users/{user_id}", response_model=dict[str, Any], dependencies=_READ)
async def get_user(ctx: Ctx, user_id: uuid.UUID, include_source_data: bool = False) -> Response:
    """One user."""
    for conn in ctx.state.world.connections:
        for user in conn.user_records:
            if user.id == str(user_id):
                record = user_record(conn, user)
                if not include_source_data:
                    record["source_data"] = None
                return Response(dumps(record), media_type="application/json")
    raise APIError(404, f"User {user_id} not found")
