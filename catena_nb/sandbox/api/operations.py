"""``/v2/integrations/connections/.../resource-operations``: look one operation up, or list them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from catena_nb.sandbox.api.auth import require_token
from catena_nb.sandbox.api.context import SandboxContext, get_ctx
from catena_nb.sandbox.api.errors import APIError, field_error, validation_error
from catena_nb.sandbox.api.pagination import envelope
from catena_nb.sandbox.api.query import (
    MAX_LIST_VALUES,
    CursorParam,
    FromParam,
    Size,
    ToParam,
    parse_cursor,
    window,
)
from catena_nb.sandbox.api.schemas import (
    COMMON_ERRORS,
    SOURCE_NAME_PATTERN,
    CursorPage,
    OperationType,
    Resource,
    ResourceOperationRead,
)

router = APIRouter(tags=["Resource Operations"], dependencies=[Depends(require_token)])

Ctx = Annotated[SandboxContext, Depends(get_ctx)]


@router.get(
    "/v2/integrations/connections/resource-operations",
    response_model=CursorPage,
    responses=COMMON_ERRORS,
    summary="List Resource Operations",
)
async def list_resource_operations(
    ctx: Ctx,
    resource: Resource | None = None,
    connection_id: uuid.UUID | None = None,
    source_name: Annotated[str | None, Query(pattern=SOURCE_NAME_PATTERN)] = None,
    fleet_refs: Annotated[list[str] | None, Query(max_length=MAX_LIST_VALUES)] = None,
    operation: OperationType | None = None,
    source_id: str | None = None,
    from_datetime: FromParam = None,
    to_datetime: ToParam = None,
    cursor: CursorParam = None,
    size: Size = 300,
) -> Response:
    """Operations in ``created_at`` order (then id), filtered; there is no status filter in the real API."""
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
        cursor=parse_cursor(cursor),
        size=size,
        accept=accept if tests or refs else None,
    )
    # assumed: integrations pages carry no `total` (catena-api.md §3)
    return Response(envelope(items, cut), media_type="application/json")


@router.get(
    "/v2/integrations/connections/{connection_id}/resource-operations/{resource_operation_id}",
    response_model=ResourceOperationRead,
    responses=COMMON_ERRORS,
    summary="Get Resource Operation",
)
async def get_resource_operation(
    ctx: Ctx, connection_id: uuid.UUID, resource_operation_id: uuid.UUID
) -> Response:
    """One operation and its attempt logs; 404 if unknown or on another connection."""
    op = ctx.state.get_operation(str(resource_operation_id))
    if op is None or op["connection_id"] != str(connection_id):
        raise APIError(404, f"Resource operation {resource_operation_id} not found")
    return Response(ctx.state.operation_json(op["id"]), media_type="application/json")
