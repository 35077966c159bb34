"""``/v2/notifications/webhooks``: subscriptions, their delivery logs and metrics, and the DLQ's replay.

Held to catenaclearing/catena-sdk-go ``specs/notifications/openapi.json`` (paths, query parameters, the
scope each path's ``security`` names, status codes) and ``gen/notifications/docs/WebhookSubscriptionsAPI.md``:
create answers 200 with a ``Webhook`` (the secret shown, this once), or a list of them for a wildcard
``event_name`` ending in ``.*`` ("one webhook subscription for each action of that resource"); list, get and
update answer ``WebhookRead`` (secret ``*****``); delete 204; logs a cursor page of ``WebhookLogRead``
(kept 14 days); metrics ``WebhookMetrics``; replay 202. Create, update and delete send ``webhook.created``,
``.updated`` or ``.deleted`` (data: ``BaseWebhookEvent``, no secret) to the subscriptions of that event.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import Response

from catena_nb.sandbox.api.auth import bearer_router, needs
from catena_nb.sandbox.api.context import Ctx
from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.pagination import dumps, envelope, page_records
from catena_nb.sandbox.api.query import parse_cursor
from catena_nb.sandbox.api.schemas import CursorPage, WebhookCreate, WebhookUpdate, error_responses
from catena_nb.sandbox.sim.ids import new_uuid7
from catena_nb.sandbox.sim.timestamps import iso, utcnow_iso

router = bearer_router("Webhooks")
# scopes as specs/notifications/openapi.json lists them per path and method (replay needs webhook:create)
_READ = [needs("webhook:read")]
_UPDATE = [needs("webhook:update")]
PATH = "/v2/notifications/webhooks"
MASK = "*****"

# The events a subscription may name: the spec's WebhookEventName, and the resource-operation and message
# events the webhook-events pages document (catena-api.md §9).
EVENTS = (
    "invitation.created",
    "invitation.rejected",
    "invitation.declined",
    "invitation.viewed",
    "invitation.sent",
    "invitation.accepted",
    "invitation.expired",
    "invitation.deleted",
    "connection.created",
    "connection.staled",
    "fleet_connection.created",
    "share_agreement.created",
    "share_agreement.updated",
    "share_agreement.deleted",
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
    "webhook.staled",
    "tsp.created",
    "execution.created",
    "execution.staled",
    "execution.failed",
    "schedule.deactivated",
    "user.added",
    "user.modified",
    "user.removed",
    "resource_operation.created",
    "resource_operation.succeeded",
    "resource_operation.failed",
    "message.added",
    "message.modified",
    "group_message.added",
    "group_message.modified",
)

# Page sizes of the notifications listings: 1..1000, 300 by default (the spec's `size`).
Size = Annotated[int, Query(ge=1, le=1000, description="Page size")]
Cursor = Annotated[str | None, Query(description="Cursor for the next page")]


def expand(event_name: str) -> list[str]:
    """The events a subscription's ``event_name`` stands for: itself, or each event of a ``.*`` family.

    Raises:
        APIError: 422 for an event (or family) the notifications service does not have.
    """
    if event_name.endswith(".*"):
        family = [e for e in EVENTS if e.startswith(event_name[:-1])]
        if family:
            return family
    elif event_name in EVENTS:
        return [event_name]
    raise APIError(422, f"Unknown webhook event: {event_name}")


def _read(sub: dict[str, Any]) -> dict[str, Any]:
    """A subscription as ``WebhookRead``: the secret masked."""
    out = {k: sub[k] for k in ("id", "url", "event_name", "filters", "status", "created_at", "updated_at")}
    # assumed: the URL is shown whole (the spec says "partially redacted", not how), so that a receiver can
    # find its own subscriptions by their URL
    out["secret"] = MASK
    return out


def _created(sub: dict[str, Any], partner_id: str) -> dict[str, Any]:
    """A new subscription as the create answer's ``Webhook``: the secret shown, this once."""
    keys = ("url", "filters", "secret", "created_at", "updated_at", "id", "status", "event_name")
    return {**{k: sub[k] for k in keys}, "deleted_at": None, "partner_id": partner_id}


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(dumps(body), status_code=status_code, media_type="application/json")


def _found(ctx: Ctx, webhook_id: uuid.UUID) -> dict[str, Any]:
    sub = ctx.state.get_webhook(str(webhook_id))
    if sub is None:
        raise APIError(404, f"Webhook {webhook_id} not found")
    return sub


@router.post(
    PATH, status_code=200, responses=error_responses(409, 422), dependencies=[needs("webhook:create")]
)
async def create_webhook(body: WebhookCreate, ctx: Ctx) -> Response:
    """Subscribe a URL to an event, or to each event of a ``family.*``; the secret is shown once, here."""
    names = expand(body.event_name)
    now = utcnow_iso()
    filters = None if body.filters is None else body.filters.model_dump(mode="json", exclude_none=True)
    # assumed: a generated secret is 32 url-safe characters (the docs say only "generated if omitted"); the
    # subscriptions of one wildcard share it, as they share the URL
    secret = body.secret if body.secret is not None else secrets.token_urlsafe(24)
    subs = [
        {
            "id": new_uuid7(),
            "url": body.url,
            "event_name": name,
            "filters": filters or {},
            "secret": secret,
            "status": "active",
            "created_at": now,
            "updated_at": now,
        }
        for name in names
    ]
    existing = {(s["event_name"], s["url"], repr(s["filters"])): s for s in ctx.state.webhook_subscriptions()}
    for sub in subs:
        clash = existing.get((sub["event_name"], sub["url"], repr(sub["filters"])))
        if clash is not None:
            # assumed: a wildcard that overlaps an existing subscription creates none of its subscriptions
            raise APIError(
                409, f"A webhook for {sub['event_name']} at this URL with these filters exists: {clash['id']}"
            )
    for sub in subs:
        if ctx.state.add_webhook(sub) is not None:
            raise APIError(409, f"A webhook for {sub['event_name']} at this URL with these filters exists")
    for sub in subs:
        ctx.engine.notify_webhook("webhook.created", sub)
    partner = ctx.state.world.partner_id
    made = [_created(s, partner) for s in subs]
    return _json(made if body.event_name.endswith(".*") else made[0])


@router.get(PATH, response_model=CursorPage, dependencies=_READ)
async def list_webhooks(
    ctx: Ctx,
    event_name: str | None = None,
    status: Literal["active", "inactive", "stale"] | None = None,
    cursor: Cursor = None,
    size: Size = 300,
) -> Response:
    """The subscriptions, oldest first, secrets masked."""

    def accept(s: dict[str, Any]) -> bool:
        return (status is None or s["status"] == status) and (
            event_name is None or s["event_name"] == event_name
        )

    subs = ctx.state.webhook_subscriptions()
    items, cut, _ = page_records(subs, parse_cursor(cursor), size, accept)
    return Response(envelope([dumps(_read(s)) for s in items], cut), media_type="application/json")


@router.get(PATH + "/{webhook_id}", dependencies=_READ)
async def get_webhook(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """One subscription, secret masked."""
    return _json(_read(_found(ctx, webhook_id)))


@router.patch(PATH + "/{webhook_id}", dependencies=_UPDATE)
async def update_webhook(ctx: Ctx, webhook_id: uuid.UUID, body: WebhookUpdate) -> Response:
    """Change the URL, filters, secret or status (``active`` or ``inactive``); the grace period restarts."""
    _found(ctx, webhook_id)
    changes = body.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    updated = ctx.state.update_webhook(str(webhook_id), changes)
    if updated is None:
        raise APIError(404, f"Webhook {webhook_id} not found")
    ctx.engine.notify_webhook("webhook.updated", updated)
    return _json(_read(updated))


def _set_status(ctx: Ctx, webhook_id: uuid.UUID, status: str) -> Response:
    _found(ctx, webhook_id)
    updated = ctx.state.update_webhook(str(webhook_id), {"status": status})
    if updated is None:
        raise APIError(404, f"Webhook {webhook_id} not found")
    ctx.engine.notify_webhook("webhook.updated", updated)
    return _json(_read(updated))


# assumed: `POST …/pause` and `POST …/activate` (named by the webhook FAQ, absent from the spec) set the
# status as a PATCH of `status` does, answer WebhookRead, and need webhook:update
@router.post(PATH + "/{webhook_id}/pause", dependencies=_UPDATE)
async def pause_webhook(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """Stop deliveries to a subscription (status ``inactive``)."""
    return _set_status(ctx, webhook_id, "inactive")


@router.post(PATH + "/{webhook_id}/activate", dependencies=_UPDATE)
async def activate_webhook(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """Deliver to a paused or stale subscription again (status ``active``); the grace period restarts."""
    return _set_status(ctx, webhook_id, "active")


@router.delete(PATH + "/{webhook_id}", status_code=204, dependencies=[needs("webhook:delete")])
async def delete_webhook(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """Remove a subscription (204, as the spec answers it)."""
    sub = _found(ctx, webhook_id)
    if not ctx.state.delete_webhook(str(webhook_id)):
        raise APIError(404, f"Webhook {webhook_id} not found")
    ctx.engine.notify_webhook("webhook.deleted", sub)
    return Response(status_code=204)


def _stamp(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return iso(value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC))


@router.get(PATH + "/{webhook_id}/logs", response_model=CursorPage, dependencies=_READ)
async def webhook_logs(
    ctx: Ctx,
    webhook_id: uuid.UUID,
    start_date: dt.datetime | None = None,
    end_date: dt.datetime | None = None,
    status: Literal["success", "failed"] | None = None,
    cursor: Cursor = None,
    size: Size = 300,
) -> Response:
    """One log per HTTP attempt of the last 14 days, oldest first; ``start_date`` <= created_at <
    ``end_date``."""
    _found(ctx, webhook_id)
    lo, hi = _stamp(start_date), _stamp(end_date)
    if lo is not None and hi is not None and hi < lo:
        # assumed: a window ending before it starts is a 422, as the other listings answer it
        raise APIError(422, "end_date must not be before start_date")

    def accept(log: dict[str, Any]) -> bool:
        at = log["created_at"]
        return (
            (status is None or log["status"] == status)
            and (lo is None or at >= lo)
            and (hi is None or at < hi)
        )

    logs = ctx.state.deliveries.logs(str(webhook_id))
    items, cut, _ = page_records(logs, parse_cursor(cursor), size, accept)
    shown = [dumps({k: v for k, v in log.items() if k != "id"}) for log in items]
    return Response(envelope(shown, cut), media_type="application/json")


@router.get(PATH + "/{webhook_id}/metrics", dependencies=_READ)
async def webhook_metrics(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """Delivery metrics over 6h, 24h, 7d and 14d (``WebhookMetrics``)."""
    _found(ctx, webhook_id)
    return _json(ctx.state.deliveries.metrics(str(webhook_id)))


@router.post(PATH + "/{webhook_id}/replay", status_code=202, dependencies=[needs("webhook:create")])
async def replay_webhook(ctx: Ctx, webhook_id: uuid.UUID) -> Response:
    """Deliver again what the subscription's dead-letter queue holds (202; the deliveries follow)."""
    _found(ctx, webhook_id)
    n = ctx.engine.replay_webhook(str(webhook_id))
    # assumed: the answer says how many events were queued again (the spec's 202 body has no schema)
    return _json({"webhook_id": str(webhook_id), "replayed": n}, 202)
