"""What the API costs in time: a latency per request and per item listed, and a rate limit on listings.

``Sandbox(api_latency=0.1)`` makes every answer take 0.1 s more, and a list page 0.1 ms more per item on it
(a page of 1,000 takes 0.2 s, a page of 10 just over 0.1 s), so that a listing's round trips cost what they
cost against the real API. With a latency set, listings are also rate limited per token: past the limit a
list request is answered 429 with the documented body and its ``detail.retry_after_seconds``.

This is a layer of its own (ASGI middleware, outside the fault injector): the routes do not know of it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catena_nb.sandbox.api.pagination import PageBody

__all__ = ["ApiCosts", "CostMiddleware", "RateLimiter"]

# assumed: Catena's docs give no latency; a page costs its round trip plus a share per item, so that a full
# page of 1,000 takes twice as long as an empty one
ITEM_SHARE = 1 / 1000
# assumed: the docs document 429 but no rate-limit numbers; 50 list requests a second per token, with bursts
# of 50, leaves room for a few listings side by side at 100 ms a page and refuses a client that hammers
LIST_RATE_PER_S = 50.0
LIST_BURST = 50.0
LIST_PATHS = frozenset(
    {
        "/v2/integrations/connections",
        "/v2/integrations/connections/resource-operations",
        "/v2/telematics/messages",
        "/v2/telematics/group-messages",
        "/v2/telematics/users",
        "/v2/notifications/webhooks",
    }
)


class _Items(msgspec.Struct):
    items: list[msgspec.Raw] = []


_count_items = msgspec.json.Decoder(_Items).decode


@dataclass(frozen=True)
class ApiCosts:
    """The latency of each answer: `latency` seconds, plus `latency * ITEM_SHARE` per item of a list page."""

    latency: float
    rate: float = LIST_RATE_PER_S
    burst: float = LIST_BURST

    def delay(self, items: int) -> float:
        """Seconds an answer holding `items` list items waits before it is sent."""
        return self.latency * (1.0 + ITEM_SHARE * items)


class RateLimiter:
    """A token bucket per key (the bearer token): `take` is the wait before a request may go, 0 when now."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._lock = threading.Lock()
        self._buckets: dict[bytes, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: bytes) -> float:
        """Take a token for `key` if one is there (0.0), else the seconds until one will be (none taken)."""
        with self._lock:
            now = self._clock()
            tokens, when = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - when) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate


def _authorization(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return bytes(value)
    return b""


def _too_many(wait: float) -> tuple[Message, Message]:
    seconds = max(1, math.ceil(wait))  # the documented hint is a whole number of seconds
    body = msgspec.json.encode(
        {
            "code": 429,
            "message": "Too Many Requests",
            "detail": {
                "retry_after_seconds": seconds,
                "message": f"List rate limit exceeded; retry in {seconds} s",
            },
        }
    )
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return (
        {"type": "http.response.start", "status": 429, "headers": head},
        {"type": "http.response.body", "body": body, "more_body": False},
    )


class CostMiddleware:
    """ASGI middleware that holds each answer for what it costs, and rate-limits listings (see the module).

    Args:
        app: the ASGI app to wrap.
        costs: the latency model.
        exempt: paths that cost nothing (the OpenAPI document).
    """

    def __init__(self, app: ASGIApp, costs: ApiCosts, exempt: Callable[[str], bool]) -> None:
        self.app, self.costs, self.exempt = app, costs, exempt
        self.limiter = RateLimiter(costs.rate, costs.burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        listing = scope["method"] == "GET" and scope["path"] in LIST_PATHS
        if listing:
            wait = self.limiter.take(_authorization(scope))
            if wait > 0:
                await anyio.sleep(self.costs.latency)  # a refusal is a round trip too
                for message in _too_many(wait):
                    await send(message)
                return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        items = 0
        if listing:
            bodies = [m.get("body", b"") for m in held if m["type"] == "http.response.body"]
            if len(bodies) == 1 and isinstance(bodies[0], PageBody):
                items = bodies[0].item_count  # the page as the route built it: no need to read it again
            else:
                try:
                    items = len(_count_items(b"".join(bodies)).items)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    items = 0
        await anyio.sleep(self.costs.delay(items))
        for message in held:
            await send(message)
