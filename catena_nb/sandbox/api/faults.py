"""API-level chaos for client tests: 500s, 429s with Retry-After, slow answers and dropped connections.

``faults=0.1`` disturbs 10% of the requests, spread evenly over the four kinds; ``faults={"500": 0.05,
"drop": 0.02}`` sets each kind's share. The draws come from an RNG of their own, seeded from the sandbox's
seed. A 500 or a 429 is answered before the route runs (nothing is created); a dropped connection is cut after
the route ran (a create happened, its answer is lost): that is what makes "at most once" mean something to
the client.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KINDS = ("500", "429", "slow", "drop")

logger = logging.getLogger("catena_nb.sandbox")


@dataclass(frozen=True)
class FaultRates:
    """The share of requests disturbed by each kind of fault."""

    error_500: float = 0.0
    error_429: float = 0.0
    slow: float = 0.0
    drop: float = 0.0

    @property
    def total(self) -> float:
        """The share of requests disturbed at all."""
        return self.error_500 + self.error_429 + self.slow + self.drop

    @classmethod
    def parse(cls, faults: float | Mapping[str, float] | None) -> FaultRates:
        """Read the ``faults=`` argument of the sandbox.

        Raises:
            ValueError: a rate outside [0, 1], rates summing to more than 1, or an unknown kind.
        """
        if faults is None:
            return cls()
        if isinstance(faults, int | float) and not isinstance(faults, bool):
            share = float(faults) / len(KINDS)
            rates = cls(share, share, share, share)
        elif isinstance(faults, Mapping):
            unknown = set(faults) - set(KINDS)
            if unknown:
                raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {list(KINDS)}")
            rates = cls(
                float(faults.get("500", 0.0)),
                float(faults.get("429", 0.0)),
                float(faults.get("slow", 0.0)),
                float(faults.get("drop", 0.0)),
            )
        else:
            raise ValueError(
                f"faults must be a share (float) or a dict per kind, not {type(faults).__name__}"
            )
        for value in (rates.error_500, rates.error_429, rates.slow, rates.drop):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault rates must lie in [0, 1], got {value}")
        if rates.total > 1.0 + 1e-9:
            raise ValueError(f"fault rates sum to {rates.total:.3f}, more than 1")
        return rates


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject, and counts them.

    Args:
        rates: the share of each kind.
        seed: the sandbox's seed (the fault RNG is derived from it).
        time_scale: shrinks the delay of slow answers and the announced Retry-After.
    """

    def __init__(self, rates: FaultRates, *, seed: int, time_scale: float = 1.0) -> None:
        self.rates = rates
        self.time_scale = time_scale
        self._rng = random.Random(f"catena-sandbox-faults:{seed}")
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    @property
    def active(self) -> bool:
        """Whether any fault can be injected."""
        return self.rates.total > 0

    @property
    def counts(self) -> dict[str, int]:
        """How many faults of each kind were injected so far."""
        with self._lock:
            return {kind: self._counts[kind] for kind in KINDS}

    def draw(self) -> str | None:
        """The fault for the next request, or None; counts what it returns."""
        r = self.rates
        with self._lock:
            u = self._rng.random()
            edge = 0.0
            for kind, rate in zip(KINDS, (r.error_500, r.error_429, r.slow, r.drop), strict=True):
                edge += rate
                if u < edge:
                    self._counts[kind] += 1
                    return kind
            return None

    def slow_delay(self) -> float:
        """Seconds a slow answer waits: 1-3 s scaled by time_scale, at least 0.2 s."""
        with self._lock:
            return max(0.2, self._rng.uniform(1.0, 3.0) * self.time_scale)

    def retry_after(self) -> int:
        """The whole seconds a 429 asks the client to wait."""
        with self._lock:
            # assumed: 1-3 s scaled by time_scale; 0 is allowed so fast tests need not wait whole seconds.
            return max(0, round(self._rng.uniform(1.0, 3.0) * self.time_scale))


class DroppedConnection(Exception):
    """Raised after a response's head was sent, so that the server cuts the connection mid-answer."""


class _HideDroppedConnections(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


_filter_installed = threading.Lock()
_FILTER = _HideDroppedConnections()


def _install_log_filter() -> None:
    # uvicorn logs every exception of the app as an error; a drop we injected on purpose is not one.
    with _filter_installed:
        log = logging.getLogger("uvicorn.error")
        if _FILTER not in log.filters:
            log.addFilter(_FILTER)


def _json_message(status: int, body: dict[str, Any], headers: dict[str, str]) -> tuple[Message, Message]:
    raw = json.dumps(body).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    head += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return (
        {"type": "http.response.start", "status": status, "headers": head},
        {"type": "http.response.body", "body": raw, "more_body": False},
    )


class FaultMiddleware:
    """ASGI middleware that injects the faults an injector draws.

    Args:
        app: the ASGI app to wrap.
        injector: decides the faults.
        exempt: paths that are never disturbed (the OpenAPI document).
    """

    def __init__(self, app: ASGIApp, injector: FaultInjector, exempt: Callable[[str], bool]) -> None:
        self.app = app
        self.injector = injector
        self.exempt = exempt
        if injector.rates.drop > 0:
            _install_log_filter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.injector.active or self.exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        kind = self.injector.draw()
        if kind is None:
            await self.app(scope, receive, send)
            return
        logger.debug("injecting fault %s into %s %s", kind, scope["method"], scope["path"])
        if kind == "500":
            for message in _json_message(500, {"message": "Internal Server Error"}, {}):
                await send(message)
            return
        if kind == "429":
            wait = self.injector.retry_after()
            body = {
                "code": 429,
                "message": "Too Many Requests",
                "detail": {"retry_after_seconds": wait, "message": f"Rate limit exceeded; retry in {wait} s"},
            }
            # assumed: the Retry-After header (the docs document only the body's retry_after_seconds)
            for message in _json_message(429, body, {"Retry-After": str(wait)}):
                await send(message)
            return
        if kind == "slow":
            await anyio.sleep(self.injector.slow_delay())
            await self.app(scope, receive, send)
            return
        # drop: let the route run to the end, then send only the head of its answer and cut the connection
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        for message in held:
            if message["type"] == "http.response.start":
                await send(message)
                break
        raise DroppedConnection(f"{scope['method']} {scope['path']}")
