"""``/v2/notifications/webhooks``: subscriptions that the simulation delivers events to."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from catena_nb.sandbox.api.auth import require_token
from catena_nb.sandbox.api.context import SandboxContext, get_ctx
from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.pagination import envelope, page
from catena_nb.sandbox.api.query import CursorParam, Size, parse_cursor
from catena_nb.sandbox.api.schemas import COMMON_ERRORS, CursorPageWithTotal, WebhookCreate, error_responses
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.timestamps import utcnow_iso

router = APIRouter(tags=["Webhooks"], dependencies=[Depends(require_token)])

Ctx = Annotated[SandboxContext, Depends(get_ctx)]
MASK = "*****"


def _public(sub: dict[str, Any], *, reveal: bool = False) -> dict[str, Any]:
    """A subscription as ``WebhookRead``: the secret is masked except in the create answer."""
    out = {
        k: sub[k]
        for k in ("id", "url", "event_name", "filters", "secret", "status", "created_at", "updated_at")
    }
    if not reveal:
        out["secret"] = MASK
    return out


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@router.post(
    "/v2/notifications/webhooks",
    status_code=201,
    responses={**COMMON_ERRORS, **error_responses(409)},
    summary="Create Webhook",
)
async def create_webhook(body: WebhookCreate, ctx: Ctx) -> Response:
    """Subscribe a URL to an event; the secret is shown once, in this answer."""
    now = utcnow_iso()
    filters = None if body.filters is None else body.filters.model_dump(mode="json", exclude_none=True)
    sub = {
        "id": new_uuid7(),
        "url": body.url,
        "event_name": body.event_name,
        "filters": filters or {},
        # assumed: a generated secret is 32 url-safe characters (the docs say only "generated if omitted")
        "secret": body.secret if body.secret is not None else secrets.token_urlsafe(24),
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    existing = ctx.state.add_webhook(sub)
    if existing is not None:
        raise APIError(
            409, f"A webhook for {body.event_name} at this URL with these filters exists: {existing['id']}"
        )
    return Response(_dumps(_public(sub, reveal=True)), status_code=201, media_type="application/json")


@router.get(
    "/v2/notifications/webhooks",
    response_model=CursorPageWithTotal,
    responses=COMMON_ERRORS,
    summary="List Webhooks",
)
async def list_webhooks(
    ctx: Ctx,
    status: Literal["active", "inactive", "stale"] | None = None,
    event_name: str | None = None,
    cursor: CursorParam = None,
    size: Size = 300,
) -> Response:
    """The subscriptions, oldest first, secrets masked."""
    subs = {(s["created_at"], s["id"]): s for s in ctx.state.webhook_subscriptions()}

    def accept(key: tuple[str, str]) -> bool:
        s = subs[key]
        return (status is None or s["status"] == status) and (
            event_name is None or s["event_name"] == event_name
        )

    cut = page(list(subs), lo=None, hi=None, cursor=parse_cursor(cursor), size=size, accept=accept)
    total = sum(1 for k in subs if accept(k))
    # assumed: notification pages carry `total`, like the telematics ones
    return Response(
        envelope([_dumps(_public(subs[k])) for k in cut.keys], cut, total), media_type="application/json"
    )


@router.get("/v2/notifications/webhooks/{webhook_id}", responses=COMMON_ERRORS, summary="Get Webhook")
async def get_webhook(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """One subscription, secret masked."""
    sub = ctx.state.get_webhook(str(webhook_id))
    if sub is None:
        raise APIError(404, f"Webhook {webhook_id} not found")
    return Response(_dumps(_public(sub)), media_type="application/json")


@router.delete(
    "/v2/notifications/webhooks/{webhook_id}",
    status_code=204,
    responses=COMMON_ERRORS,
    summary="Delete Webhook",
)
async def delete_webhook(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """Remove a subscription."""
    if not ctx.state.delete_webhook(str(webhook_id)):
        raise APIError(404, f"Webhook {webhook_id} not found")
    return Response(status_code=204)
