"""``/v2/notifications/webhooks``: subscriptions that the simulation delivers events to."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Literal

from fastapi.responses import Response

from catena_nb.sandbox.api.auth import bearer_router, needs
from catena_nb.sandbox.api.context import Ctx
from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.pagination import dumps, envelope, page_records
from catena_nb.sandbox.api.query import PageQuery, parse_cursor
from catena_nb.sandbox.api.schemas import CursorPageWithTotal, WebhookCreate, error_responses
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.timestamps import utcnow_iso

router = bearer_router("Webhooks")
# scopes as specs/notifications/openapi.json lists them per path and method
_READ = [needs("webhook:read")]

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


@router.post(
    "/v2/notifications/webhooks",
    status_code=200,
    responses=error_responses(409),
    dependencies=[needs("webhook:create")],
)
async def create_webhook(body: WebhookCreate, ctx: Ctx) -> Response:
    """Subscribe a URL to an event (200, as the spec answers it); the secret is shown once, in this answer."""
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
    return Response(dumps(_public(sub, reveal=True)), status_code=200, media_type="application/json")


@router.get("/v2/notifications/webhooks", response_model=CursorPageWithTotal, dependencies=_READ)
async def list_webhooks(
    ctx: Ctx,
    page: PageQuery,
    status: Literal["active", "inactive", "stale"] | None = None,
    event_name: str | None = None,
) -> Response:
    """The subscriptions, oldest first, secrets masked."""

    def accept(s: dict[str, Any]) -> bool:
        return (status is None or s["status"] == status) and (
            event_name is None or s["event_name"] == event_name
        )

    subs = ctx.state.webhook_subscriptions()
    items, cut, total = page_records(subs, parse_cursor(page.cursor), page.size, accept)
    # assumed: notification pages carry `total`, like the telematics ones
    return Response(envelope([dumps(_public(s)) for s in items], cut, total), media_type="application/json")


@router.get("/v2/notifications/webhooks/{webhook_id}", dependencies=_READ)
async def get_webhook(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """One subscription, secret masked."""
    sub = ctx.state.get_webhook(str(webhook_id))
    if sub is None:
        raise APIError(404, f"Webhook {webhook_id} not found")
    return Response(dumps(_public(sub)), media_type="application/json")


@router.delete(
    "/v2/notifications/webhooks/{webhook_id}", status_code=204, dependencies=[needs("webhook:delete")]
)
async def delete_webhook(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """Remove a subscription."""
    # assumed: 204 No Content on success, 404 for an unknown id (the docs show no delete answer)
    if not ctx.state.delete_webhook(str(webhook_id)):
        raise APIError(404, f"Webhook {webhook_id} not found")
    return Response(status_code=204)
