"""``/v2/telematics/messages`` and ``/group-messages``: create (sync or async) and list."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import anyio
from fastapi import Depends, Query
from fastapi.responses import Response

from catena_nb.sandbox.api.auth import bearer_router, needs
from catena_nb.sandbox.api.context import Ctx, SandboxContext
from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.pagination import dumps, envelope
from catena_nb.sandbox.api.query import (
    DirectMessageQuery,
    GroupMessageQuery,
    MessageQuery,
    all_of,
    parse_cursor,
    window,
)
from catena_nb.sandbox.api.schemas import (
    CursorPageWithTotal,
    GroupMessageCreate,
    MessageCreate,
    ResourceOperation,
    error_responses,
)
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.records import group_message_payload, message_payload, new_operation, write_shape
from catena_nb.sandbox.sim.timestamps import utcnow_iso
from catena_nb.sandbox.sim.types import Connection

router = bearer_router("Drivers & Users")

IsSync = Annotated[bool, Query(description="Answer with the TSP's result (200/502) instead of 202 pending.")]

_CREATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ResourceOperation, "description": "Sync: the TSP accepted the message."},
    202: {"model": ResourceOperation, "description": "Async: the operation is queued (pending)."},
    502: {
        "model": ResourceOperation,
        "description": "Sync: the TSP refused or did not answer in time; the failed operation and its log.",
    },
    **error_responses(403),
}


def _connection(ctx: SandboxContext, connection_id: uuid.UUID) -> Connection:
    conn = ctx.state.world.connection(str(connection_id))
    if conn is None:
        # assumed: a write naming a connection the partner does not have answers 404 (the write endpoints list
        # 404; the docs do not say which error an unknown connection gets)
        raise APIError(404, f"Connection {connection_id} not found")
    return conn


async def _submit(
    ctx: SandboxContext, conn: Connection, resource: str, payload: dict[str, Any], is_sync: bool
) -> Response:
    op = new_operation(new_uuid7(), utcnow_iso(), ctx.state.world.partner_id, conn, resource, payload)
    # A user id that is well-formed but not a user of the connection is not refused here: the operation is
    # created and the engine fails it with a validation error, without a TSP call (catena-api.md §11).
    ctx.state.add_operation(op)
    if not is_sync:
        ctx.engine.enqueue(op)
        return _json(write_shape(op), 202)
    # The TSP call sleeps for its latency: run it in a worker thread so the event loop keeps serving.
    done = await anyio.to_thread.run_sync(
        ctx.engine.execute_sync, op, ctx.sync_timeout, limiter=ctx.limiter, abandon_on_cancel=True
    )
    return _json(write_shape(done), 200 if done["status"] == "success" else 502)


def _json(body: Any, status: int) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


# Scopes as each path's `security` lists them (specs/telematics/openapi.json): writes need telematics:write,
# the lists telematics:read.
_WRITE = [needs("telematics:write")]
_READ = [needs("telematics:read")]


@router.post("/v2/telematics/messages", status_code=202, responses=_CREATE_RESPONSES, dependencies=_WRITE)
async def create_message(body: MessageCreate, ctx: Ctx, is_sync: IsSync = False) -> Response:
    """Send a message to one user through the connection's TSP."""
    conn = _connection(ctx, body.connection_id)
    reply_to = None if body.reply_to_message_id is None else str(body.reply_to_message_id)
    replied = None if reply_to is None else ctx.state.get_message(reply_to)
    payload = message_payload(
        conn,
        str(body.sender_id),
        str(body.recipient_id),
        message_text=body.message_text,
        priority=body.priority,
        reply_to_message_id=reply_to,
        source_reply_to_message_id=None if replied is None else replied.get("source_id"),
    )
    return await _submit(ctx, conn, "message", payload, is_sync)


@router.post(
    "/v2/telematics/group-messages", status_code=202, responses=_CREATE_RESPONSES, dependencies=_WRITE
)
async def create_group_message(body: GroupMessageCreate, ctx: Ctx, is_sync: IsSync = False) -> Response:
    """Send one message to several users through the connection's TSP."""
    conn = _connection(ctx, body.connection_id)
    recipients = [str(r) for r in body.recipient_ids]
    payload = group_message_payload(
        conn, str(body.sender_id), recipients, message_text=body.message_text, priority=body.priority
    )
    return await _submit(ctx, conn, "group_message", payload, is_sync)


def _list(ctx: SandboxContext, kind: str, query: MessageQuery) -> Response:
    descending = query.descending("occurred_at")
    lo, hi = window(query.from_datetime, query.to_datetime)
    msgs, cut, total = ctx.state.page_messages(
        kind,
        connection_id=None if query.connection_id is None else str(query.connection_id),
        lo=lo,
        hi=hi,
        cursor=parse_cursor(query.cursor),
        size=query.size,
        descending=descending,
        accept=all_of(query.tests()),
        copies=False,
    )
    items = ctx.state.message_json(msgs, now=utcnow_iso(), source_data=query.include_source_data)
    return Response(envelope(items, cut, total), status_code=200, media_type="application/json")


@router.get("/v2/telematics/messages", response_model=CursorPageWithTotal, dependencies=_READ)
async def list_messages(ctx: Ctx, query: Annotated[DirectMessageQuery, Depends()]) -> Response:
    """Messages that reached a TSP, with their delivery status as of now."""
    return _list(ctx, "message", query)


@router.get("/v2/telematics/group-messages", response_model=CursorPageWithTotal, dependencies=_READ)
async def list_group_messages(ctx: Ctx, query: Annotated[GroupMessageQuery, Depends()]) -> Response:
    """Group messages that reached a TSP, with their delivery status as of now."""
    return _list(ctx, "group_message", query)
