"""``/v2/integrations/connections/.../resource-operations``: look one operation up, or list them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response

from catena_nb.sandbox.api.auth import bearer_router, needs
from catena_nb.sandbox.api.context import Ctx
from catena_nb.sandbox.api.errors import APIError, field_error, validation_error
from catena_nb.sandbox.api.pagination import envelope
from catena_nb.sandbox.api.query import FromParam, PageQuery, Strings, ToParam, parse_cursor, window
from catena_nb.sandbox.api.schemas import (
    SOURCE_NAME_PATTERN,
    CursorPage,
    OperationType,
    Resource,
    ResourceOperationRead,
)

router = bearer_router("Resource Operations")
# both lookups: `security: [{"Bearer": ["resource_operation:read"]}]` (specs/integrations/openapi.json)
_READ = [needs("resource_operation:read")]


@router.get("/v2/integrations/connections/resource-operations", response_model=CursorPage, dependencies=_READ)
async def list_resource_operations(
    ctx: Ctx,
    page: PageQuery,
    resource: Resource | None = None,
    connection_id: uuid.UUID | None = None,
    source_name: Annotated[str | None, Query(pattern=SOURCE_NAME_PATTERN)] = None,
    fleet_refs: Strings = None,
    operation: OperationType | None = None,
    source_id: str | None = None,
    from_datetime: FromParam = None,
    to_datetime: ToParam = None,
) -> Response:
    """Operations in ``created_at`` order (then id), filtered; there is no status filter in the real API."""
    # assumed: the list runs oldest first by created_at, ties by id, and the window bounds created_at (the
    # docs give no order, and say the window filters `occurred_at`, which an operation does not carry;
    # gen/integrations/docs/ResourceOperationsAPI.md)
    if source_id is not None and resource is None:
        raise validation_error(
            [
                field_error(
                    "query.source_id", source_id, "source_id can only be used with resource", "value_error"
                )
            ]
        )
    lo, hi = window(from_datetime, to_datetime)
    tests: list[tuple[str, Any]] = []
    if resource is not None:
        tests.append(("resource", resource))
    if source_name is not None:
        tests.append(("source_name", source_name))
    if operation is not None:
        tests.append(("operation_type", operation))
    if source_id is not None:
        tests.append(("source_id", source_id))
    refs = set(fleet_refs or ())

    def accept(op: dict[str, Any]) -> bool:
        return all(op.get(k) == v for k, v in tests) and (not refs or op.get("fleet_ref") in refs)

    items, cut = ctx.state.page_operations(
        connection_id=None if connection_id is None else str(connection_id),
        lo=lo,
        hi=hi,
        cursor=parse_cursor(page.cursor),
        size=page.size,
        accept=accept if tests or refs else None,
    )
    # no `total`: the integrations spec's cursor pages have none (catena-api.md §3)
    return Response(envelope(items, cut), media_type="application/json")


@router.get(
    "/v2/integrations/connections/{connection_id}/resource-operations/{resource_operation_id}",
    response_model=ResourceOperationRead,
    dependencies=_READ,
)
async def get_resource_operation(
    ctx: Ctx, connection_id: uuid.UUID, resource_operation_id: uuid.UUID
) -> Response:
    """One operation and its attempt logs; 404 if unknown or on another connection."""
    op = ctx.state.get_operation(str(resource_operation_id))
    # assumed: an operation looked up under another connection's path is not found (404), as an unknown id
    if op is None or op["connection_id"] != str(connection_id):
        raise APIError(404, f"Resource operation {resource_operation_id} not found")
    return Response(ctx.state.operation_json(op["id"]), media_type="application/json")
