"""Bringing back what Catena's dead-letter queue holds for a subscription (the notifications API's replay).

Catena retries a failed delivery up to 3 times within about 5 s, then keeps the event in the subscription's
dead-letter queue for up to 14 days; ``POST /v2/notifications/webhooks/{webhook_id}/replay`` (answered 202,
``client.webhooks.replay``) delivers it again. ``catena-nb listen`` asks for it on start for each of its
subscriptions: those whose URL is the listener's (found with ``client.webhooks.list``), those that
delivered to its store before, and those named on its command line, so that what was refused while the
listener was down (or had the wrong secret) comes back.

A subscription of the listener that Catena's circuit breaker marked ``stale`` gets nothing, not even what a
replay brings back, until it is activated again ("you must patch the webhook changing the status to
active"); the listener starting is that fix, so it activates such a subscription before its replay.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from catena_nb.errors import CatenaError

if TYPE_CHECKING:
    from catena_nb.client import CatenaClient
    from catena_nb.client.resources.webhook_models import Webhook

__all__ = ["listener_subscriptions", "replay", "replay_dead_letters"]

logger = logging.getLogger("catena_nb.store.listen")

_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def replay(client: CatenaClient, webhook_id: str) -> Any:
    """Ask Catena to deliver again what the subscription's dead-letter queue holds (202), once.

    Raises:
        ValueError: a webhook id that is not an id (checked before anything is sent).
        CatenaError: the API refused or could not be reached.
    """
    if not _ID.match(webhook_id):
        raise ValueError(f"not a webhook subscription id: {webhook_id[:80]!r}")
    return client.webhooks.replay(webhook_id)


def _delivers_to(url: str, port: int | None, urls: Iterable[str]) -> bool:
    if any(url.startswith(prefix) for prefix in urls):
        return True
    if port is None:
        return False
    try:
        parts = urlsplit(url)
        return parts.hostname in _LOOPBACK and parts.port == port
    except ValueError:
        return False


def listener_subscriptions(
    client: CatenaClient, *, port: int | None, urls: Iterable[str] = ()
) -> list[Webhook]:
    """The subscriptions that deliver to the listener: to a loopback URL on ``port``, or to a URL starting
    with one of ``urls`` (the public URL that a proxy forwards to it).

    Raises:
        CatenaError: the subscriptions could not be listed (e.g. the credentials lack ``webhook:read``).
    """
    prefixes = [u for u in urls if u]
    return [s for s in client.webhooks.list() if _delivers_to(s.url, port, prefixes)]


def replay_dead_letters(
    client: CatenaClient, webhook_ids: Iterable[str], *, port: int | None = None, urls: Iterable[str] = ()
) -> dict[str, str]:
    """Replay the dead-letter queue of each subscription named, and of each that delivers to the listener
    (``port``, ``urls``: see :func:`listener_subscriptions`), activating a stale one first.

    Returns:
        What became of each subscription, by id (it never raises).
    """
    wanted = set(webhook_ids)
    stale: set[str] = set()
    if port is not None or urls:
        try:
            found = listener_subscriptions(client, port=port, urls=urls)
        except CatenaError as exc:
            logger.warning("could not list the webhook subscriptions: %s", exc)
        else:
            wanted.update(s.id for s in found)
            stale = {s.id for s in found if s.status == "stale"}
    out: dict[str, str] = {}
    for webhook_id in sorted(wanted):
        done = []
        try:
            if webhook_id in stale:
                client.webhooks.activate(webhook_id)
                logger.warning("webhook %s was stale (Catena's circuit breaker): activated it", webhook_id)
                done.append("activated (it was stale)")
            replay(client, webhook_id)
        except (CatenaError, ValueError) as exc:
            logger.warning("could not replay the dead-letter queue of webhook %s: %s", webhook_id, exc)
            out[webhook_id] = "; ".join([*done, f"not replayed: {exc}"])
            continue
        out[webhook_id] = "; ".join([*done, "replay requested"])
    return out
