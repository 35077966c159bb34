"""The overall deadline of one call: every attempt, every retry wait and every byte of the answer.

httpx's timeouts bound each network operation (a connect, a read, a write), not a call: a server that
trickles a byte every few seconds keeps a call alive without limit, and retries multiply the timeout of a
server that never answers. A `Deadline` bounds the whole call:
- each attempt's httpx timeouts are capped at the time left (`Deadline.timeout`);
- sync: the answer is streamed and read chunk by chunk, the deadline checked between chunks (`send_sync`),
  and the sockets of httpx's default transport never wait past it (`guard_sockets`), so that a server that
  trickles its headers, or falls silent halfway, is cut off too;
- async: the attempt runs under `asyncio.timeout` (`send_async`);
- the retry loop starts no wait that would pass the deadline (`Deadline.allows`, in `_transport`).

A passed deadline surfaces as an `httpx.TimeoutException` whose text says so; the clients turn it into an
`APITimeoutError` that names the deadline (`_transport.Target.deadline_error`).
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

__all__ = [
    "API_GRACE_S",
    "Deadline",
    "check_deadline",
    "deadline_passed",
    "guard_sockets",
    "send_async",
    "send_sync",
]

# asyncio's timeout of an API call fires this long after the deadline, so that httpx's own (capped)
# timeouts, which say whether the request was sent, normally come first (a token request's grace is 0).
API_GRACE_S = 0.25
_PASSED = "the call's deadline passed"

# The deadline of the call the current thread (or task) is making, for the guarded sockets.
_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("catena_nb_deadline", default=None)


def check_deadline(seconds: Any) -> float:
    """`seconds` as a deadline, or ValueError: a positive, finite number of seconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError(f"deadline must be a number of seconds, got {type(seconds).__name__}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"deadline must be a positive, finite number of seconds, got {seconds!r}")
    return float(seconds)


@dataclass(frozen=True)
class Deadline:
    """The moment (on `clock`) by which a call must end; `seconds` is the span it was given."""

    seconds: float
    end: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    @classmethod
    def start(
        cls, seconds: float, *, within: Deadline | None = None, clock: Callable[[], float] = time.monotonic
    ) -> Deadline:
        """A deadline `seconds` from now, or the outer call's when that comes first."""
        end = clock() + seconds
        if within is not None and within.end < end:
            return within
        return cls(seconds, end, clock)

    def left(self) -> float:
        """Seconds left (negative once passed)."""
        return self.end - self.clock()

    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return self.left() <= 0

    def allows(self, wait: float) -> bool:
        """Whether a wait of `wait` seconds still leaves time for another attempt."""
        return wait < self.left()

    def timeout(self, base: httpx.Timeout) -> httpx.Timeout:
        """`base` with each timeout capped at the time left (one that sets no limit becomes the time left)."""
        left = max(self.left(), 0.001)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(base.connect), read=cap(base.read), write=cap(base.write), pool=cap(base.pool)
        )


class _Bounded(httpx.SyncByteStream):
    """An answer's byte stream that raises once the deadline has passed, checked after each chunk."""

    def __init__(self, inner: httpx.SyncByteStream, deadline: Deadline, request: httpx.Request) -> None:
        self._inner, self._deadline, self._request = inner, deadline, request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            yield chunk
            if self._deadline.passed():
                raise httpx.ReadTimeout(_PASSED, request=self._request)

    def close(self) -> None:
        self._inner.close()


def send_sync(http: httpx.Client, request: httpx.Request, deadline: Deadline) -> httpx.Response:
    """Send `request` and read its answer in chunks, giving up once `deadline` passes.

    Raises:
        httpx.TimeoutException: the deadline passed (the text says so), or a capped timeout fired.
        httpx.TransportError: any other failure of the connection.
    """
    previous = _current.set(deadline)
    try:
        response = http.send(request, stream=True)
        if response.is_stream_consumed:
            # a transport that answers a response already read (httpx.MockTransport with `content=`)
            response.close()
            return response
        # read in place (decoded as httpx does), the deadline checked between chunks
        response.stream = _Bounded(response.stream, deadline, request)  # type: ignore[arg-type]
        try:
            response.read()
        finally:
            response.close()
    finally:
        _current.reset(previous)
    return response


async def send_async(
    http: httpx.AsyncClient, request: httpx.Request, deadline: Deadline, *, grace: float = 0.0
) -> httpx.Response:
    """Send `request` and read its answer, giving up `grace` s after `deadline` (the twin of `send_sync`).

    Raises:
        httpx.TimeoutException: the deadline passed (the text says so), or a capped timeout fired.
        httpx.TransportError: any other failure of the connection.
    """
    try:
        async with asyncio.timeout(max(deadline.left(), 0) + grace):
            return await http.send(request)
    except TimeoutError:
        pass
    # raised here, outside the handler, so that the cancellation is not attached as its context
    raise httpx.ReadTimeout(_PASSED, request=request)


def deadline_passed(exc: BaseException) -> bool:
    """Whether `exc` is the timeout `send_sync`/`send_async` or a guarded socket raise at the deadline."""
    return isinstance(exc, httpx.TimeoutException) and _PASSED in str(exc)


# ------------------------------------------------------------------------------- guarded sockets (sync)


def _cap(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _current.get()
    if deadline is None:
        return timeout
    left = deadline.left()
    if left <= 0:
        raise error(_PASSED)
    return left if timeout is None else min(timeout, left)


class _GuardedStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits at most until the current call's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _cap(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _cap(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _cap(timeout, httpcore.ConnectTimeout))
        return _GuardedStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend, with connects and streams that stop at the current call's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, *args: Any, **kwargs: Any
    ) -> httpcore.NetworkStream:
        # the other arguments (local_address, socket_options) pass through as they came
        stream = self._inner.connect_tcp(host, port, _cap(timeout, httpcore.ConnectTimeout), *args, **kwargs)
        return _GuardedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(path, _cap(timeout, httpcore.ConnectTimeout), socket_options)
        return _GuardedStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guard_sockets(http: httpx.Client) -> int:
    """Make the sockets of `http`'s default transports (httpx's own) stop at each call's deadline.

    httpx has no public way to give its default transport a network backend, so the backend of each
    `httpx.HTTPTransport`'s connection pool is wrapped in place; a transport of another kind is left as it
    is (the chunked reads of `send_sync` still bound its body). Returns how many pools were guarded.
    """
    transports = [getattr(http, "_transport", None), *getattr(http, "_mounts", {}).values()]
    guarded = 0
    for transport in transports:
        if not isinstance(transport, httpx.HTTPTransport):
            continue
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _GuardedBackend):
            pool._network_backend = _GuardedBackend(backend)  # type: ignore[union-attr]
            guarded += 1
    return guarded
