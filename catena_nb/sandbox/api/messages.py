"""``/v2/telematics/messages`` and ``/group-messages``: create (sync or async) and list."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from catena_nb.sandbox.api.auth import require_token
from catena_nb.sandbox.api.context import SandboxContext, get_ctx
from catena_nb.sandbox.api.errors import APIError, field_error, validation_error
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
    CursorPageWithTotal,
    GroupMessageCreate,
    MessageCreate,
    ResourceOperation,
    SortOrder,
    error_responses,
)
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.records import write_shape
from catena_nb.sandbox.sim.timestamps import utcnow_iso
from catena_nb.sandbox.sim.types import Connection

router = APIRouter(tags=["Drivers & Users"], dependencies=[Depends(require_token)])

Ctx = Annotated[SandboxContext, Depends(get_ctx)]
IsSync = Annotated[bool, Query(description="Answer with the TSP's result (200/502) instead of 202 pending.")]
UUIDs = Annotated[list[uuid.UUID] | None, Query(max_length=MAX_LIST_VALUES)]
Strings = Annotated[list[str] | None, Query(max_length=MAX_LIST_VALUES)]

_CREATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ResourceOperation, "description": "Sync: the TSP accepted the message."},
    202: {"model": ResourceOperation, "description": "Async: the operation is queued (pending)."},
    502: {
        "model": ResourceOperation,
        "description": "Sync: the TSP refused; the failed operation and its log.",
    },
    **COMMON_ERRORS,
    **error_responses(504),
}


def _jsonb_order(payload: dict[str, Any]) -> dict[str, Any]:
    # The real API stores payloads as PostgreSQL jsonb, which orders keys by length, then bytes; the seed
    # examples show that order.
    return {k: payload[k] for k in sorted(payload, key=lambda k: (len(k), k))}


def _connection(ctx: SandboxContext, connection_id: uuid.UUID) -> Connection:
    conn = ctx.state.world.connection(str(connection_id))
    if conn is None:
        raise APIError(404, f"Connection {connection_id} not found")
    return conn


def _source_id(conn: Connection, user_id: str) -> str | None:
    for user in conn.user_records:
        if user.id == user_id:
            return user.source_id
    return None


def _new_operation(
    ctx: SandboxContext, conn: Connection, resource: str, payload: dict[str, Any]
) -> dict[str, Any]:
    now = utcnow_iso()
    return {
        "id": new_uuid7(),
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
        "partner_id": ctx.state.world.partner_id,
        "connection_id": conn.id,
        "source_name": conn.source_name,
        "fleet_ref": conn.fleet_ref,
        "resource": resource,
        "operation_type": "create",
        "payload": _jsonb_order(payload),
        "resource_id": None,
        "source_id": None,
        "status": "pending",
        "logs": [],
    }


async def _submit(ctx: SandboxContext, op: dict[str, Any], is_sync: bool) -> Response:
    # A user id that is well-formed but not a user of the connection is not refused here: the operation is
    # created and the engine fails it with a validation error, without a TSP call (catena-api.md §11).
    ctx.state.add_operation(op)
    if not is_sync:
        ctx.engine.enqueue(op)
        return _json(write_shape(op), 202)
    # The TSP call sleeps for its latency: run it in a worker thread so the event loop keeps serving.
    done: dict[str, Any] | None = None
    with anyio.move_on_after(ctx.sync_timeout):
        done = await anyio.to_thread.run_sync(
            ctx.engine.execute_sync, op, limiter=ctx.limiter, abandon_on_cancel=True
        )
    if done is None:
        raise APIError(504, f"The TSP did not answer within {ctx.sync_timeout:g} s; operation {op['id']}")
    return _json(write_shape(done), 200 if done["status"] == "success" else 502)


def _json(body: Any, status: int) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


@router.post(
    "/v2/telematics/messages", status_code=202, responses=_CREATE_RESPONSES, summary="Create Message"
)
async def create_message(body: MessageCreate, ctx: Ctx, is_sync: IsSync = False) -> Response:
    """Send a message to one user through the connection's TSP."""
    conn = _connection(ctx, body.connection_id)
    sender, recipient = str(body.sender_id), str(body.recipient_id)
    reply_to = None if body.reply_to_message_id is None else str(body.reply_to_message_id)
    source_sender, source_recipient = _source_id(conn, sender), _source_id(conn, recipient)
    source_reply = None
    if reply_to is not None:
        replied = ctx.state.get_message(reply_to)
        source_reply = None if replied is None else replied.get("source_id")
    payload = {
        "connection_id": conn.id,
        "sender_id": sender,
        "recipient_id": recipient,
        "message_text": body.message_text,
        "priority": body.priority,
        "reply_to_message_id": reply_to,
        "source_sender_id": source_sender,
        "source_recipient_id": source_recipient,
        "source_reply_to_message_id": source_reply,
    }
    return await _submit(ctx, _new_operation(ctx, conn, "message", payload), is_sync)


@router.post(
    "/v2/telematics/group-messages",
    status_code=202,
    responses=_CREATE_RESPONSES,
    summary="Create Group Message",
)
async def create_group_message(body: GroupMessageCreate, ctx: Ctx, is_sync: IsSync = False) -> Response:
    """Send one message to several users through the connection's TSP."""
    conn = _connection(ctx, body.connection_id)
    sender = str(body.sender_id)
    recipients = [str(r) for r in body.recipient_ids]
    source_sender = _source_id(conn, sender)
    source_recipients = [_source_id(conn, r) for r in recipients]
    payload = {
        "connection_id": conn.id,
        "sender_id": sender,
        "recipient_ids": recipients,
        "message_text": body.message_text,
        "priority": body.priority,
        "source_sender_id": source_sender,
        "source_recipient_ids": source_recipients,
    }
    return await _submit(ctx, _new_operation(ctx, conn, "group_message", payload), is_sync)


def _any_of(field: str, wanted: list[Any] | None) -> Callable[[dict[str, Any]], bool] | None:
    if not wanted:
        return None
    values = {str(v) for v in wanted}
    return lambda m: m.get(field) is not None and str(m.get(field)) in values


def _all(tests: list[Callable[[dict[str, Any]], bool] | None]) -> Callable[[dict[str, Any]], bool] | None:
    active = [t for t in tests if t is not None]
    if not active:
        return None
    return lambda m: all(t(m) for t in active)


def _list(
    ctx: SandboxContext,
    kind: str,
    *,
    connection_id: uuid.UUID | None,
    from_datetime: dt.datetime | None,
    to_datetime: dt.datetime | None,
    include_source_data: bool,
    sort_by: str | None,
    sort_order: str,
    cursor: str | None,
    size: int,
    tests: list[Callable[[dict[str, Any]], bool] | None],
) -> Response:
    if sort_by not in (None, "occurred_at"):
        # assumed: only the default order (occurred_at) is offered; other fields are refused, not ignored
        raise validation_error(
            [field_error("query.sort_by", sort_by, "Only occurred_at is supported", "literal_error")]
        )
    lo, hi = window(from_datetime, to_datetime)
    msgs, cut, total = ctx.state.page_messages(
        kind,
        connection_id=None if connection_id is None else str(connection_id),
        lo=lo,
        hi=hi,
        cursor=parse_cursor(cursor),
        size=size,
        descending=sort_order == "desc",
        accept=_all(tests),
    )
    now = dt.datetime.now(dt.UTC)
    items = []
    for msg in msgs:
        view = ctx.message_view(msg, now)
        if not include_source_data:
            view["source_data"] = None
        items.append(view)
    body = {
        "items": items,
        "total": total,
        "current_page": cut.current_page,
        "current_page_backwards": cut.current_page_backwards,
        "previous_page": cut.previous_page,
        "next_page": cut.next_page,
    }
    return _json(body, 200)


@router.get(
    "/v2/telematics/messages",
    response_model=CursorPageWithTotal,
    responses=COMMON_ERRORS,
    summary="List Messages",
)
async def list_messages(
    ctx: Ctx,
    fleet_ids: UUIDs = None,
    fleet_refs: Strings = None,
    connection_id: uuid.UUID | None = None,
    from_datetime: FromParam = None,
    to_datetime: ToParam = None,
    include_source_data: bool = False,
    sender_ids: UUIDs = None,
    recipient_ids: UUIDs = None,
    source_sender_ids: Strings = None,
    source_recipient_ids: Strings = None,
    sort_by: str | None = None,
    sort_order: SortOrder = "asc",
    cursor: CursorParam = None,
    size: Size = 300,
) -> Response:
    """Messages that reached a TSP, with their delivery status as of now."""
    tests = [
        _any_of("fleet_id", fleet_ids),
        _any_of("fleet_ref", fleet_refs),
        _any_of("sender_id", sender_ids),
        _any_of("recipient_id", recipient_ids),
        _any_of("source_sender_id", source_sender_ids),
        _any_of("source_recipient_id", source_recipient_ids),
    ]
    return _list(
        ctx,
        "message",
        connection_id=connection_id,
        from_datetime=from_datetime,
        to_datetime=to_datetime,
        include_source_data=include_source_data,
        sort_by=sort_by,
        sort_order=sort_order,
        cursor=cursor,
        size=size,
        tests=tests,
    )


@router.get(
    "/v2/telematics/group-messages",
    response_model=CursorPageWithTotal,
    responses=COMMON_ERRORS,
    summary="List Group Messages",
)
async def list_group_messages(
    ctx: Ctx,
    fleet_ids: UUIDs = None,
    fleet_refs: Strings = None,
    connection_id: uuid.UUID | None = None,
    from_datetime: FromParam = None,
    to_datetime: ToParam = None,
    include_source_data: bool = False,
    sender_ids: UUIDs = None,
    group_ids: UUIDs = None,
    source_sender_ids: Strings = None,
    source_group_ids: Strings = None,
    sort_by: str | None = None,
    sort_order: SortOrder = "asc",
    cursor: CursorParam = None,
    size: Size = 300,
) -> Response:
    """Group messages that reached a TSP, with their delivery status as of now."""
    tests = [
        _any_of("fleet_id", fleet_ids),
        _any_of("fleet_ref", fleet_refs),
        _any_of("sender_id", sender_ids),
        _any_of("group_id", group_ids),
        _any_of("source_sender_id", source_sender_ids),
        _any_of("source_group_id", source_group_ids),
    ]
    return _list(
        ctx,
        "group_message",
        connection_id=connection_id,
        from_datetime=from_datetime,
        to_datetime=to_datetime,
        include_source_data=include_source_data,
        sort_by=sort_by,
        sort_order=sort_order,
        cursor=cursor,
        size=size,
        tests=tests,
    )
