"""Bringing back what Catena's dead-letter queue holds for a subscription (the notifications API's replay).

Catena retries a failed delivery up to 3 times within about 5 s, then keeps the event in the subscription's
dead-letter queue for up to 14 days; ``POST /v2/notifications/webhooks/{webhook_id}/replay`` (answered 202)
delivers it again. ``catena-nb listen`` asks for it on start for each subscription that delivers to its
store, so that what was refused while the listener was down (or had the wrong secret) comes back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpx

from catena_nb.client._base import Call, error_of
from catena_nb.errors import CatenaError

if TYPE_CHECKING:
    from catena_nb.client import CatenaClient

__all__ = ["replay", "replay_dead_letters"]

logger = logging.getLogger("catena_nb.store.listen")

_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")


def _accepted(response: httpx.Response) -> Any:
    if not response.is_success:
        raise error_of(response)
    try:
        return response.json()
    except ValueError:
        return None


def replay(client: CatenaClient, webhook_id: str) -> Any:
    """Ask Catena to deliver again what the subscription's dead-letter queue holds (202).

    Uses ``client.webhooks.replay`` when the client has the notifications API, else the documented route.

    Raises:
        ValueError: a webhook id that is not an id (checked before anything is sent).
        CatenaError: the API refused or could not be reached.
    """
    if not _ID.match(webhook_id):
        raise ValueError(f"not a webhook subscription id: {webhook_id[:80]!r}")
    webhooks = getattr(client, "webhooks", None)
    if webhooks is not None and callable(getattr(webhooks, "replay", None)):
        return webhooks.replay(webhook_id)
    # assumed: a replay is sent once (like a create): a repeated one could deliver the queue twice
    call: Call[Any] = Call("POST", f"/v2/notifications/webhooks/{webhook_id}/replay", _accepted, retry=False)
    return client._run(call)


def replay_dead_letters(client: CatenaClient, webhook_ids: Iterable[str]) -> dict[str, str]:
    """Replay the dead-letter queue of each subscription; what became of each, by id (never raises)."""
    out: dict[str, str] = {}
    for webhook_id in sorted(set(webhook_ids)):
        try:
            replay(client, webhook_id)
        except (CatenaError, ValueError) as exc:
            logger.warning("could not replay the dead-letter queue of webhook %s: %s", webhook_id, exc)
            out[webhook_id] = f"not replayed: {exc}"
            continue
        out[webhook_id] = "replay requested"
    return out
