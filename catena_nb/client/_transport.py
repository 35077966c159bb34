"""The one retry loop of the package: every API call and every token request runs through it.

A `RetryLoop` makes the decisions of one call and does no I/O. It yields `Attempt`s; a driver waits the
attempt's `wait`, signs and sends it, and notes the answer or the failure on it; the loop then decides to
return the answer, to try again, or to raise. `SyncSender` (on `httpx.Client`) and `AsyncSender` (on
`httpx.AsyncClient`) are the two drivers, and decide nothing.

The rules:
- Only lookups (GETs) and the token request are retried, on connection errors and on 429, 500, 502, 503 and
  504. A create is sent once: the API has no idempotency key, so a resend could create a second message.
- The wait is the server's hint when it gave one (the `Retry-After` header, in seconds or as an HTTP date,
  then a 429 body's `detail.retry_after_seconds`), capped, else exponential backoff with full jitter.
- The call's deadline bounds it all: each attempt's timeouts are capped at the time left, and no wait that
  would pass the deadline is started (`_deadline`).
- With client credentials, a 401 fetches a new token once and sends the request again, even a create: a 401
  means the API did not act on it.
- Each decision is logged at debug level, never with headers or bodies, which may hold secrets.

The errors are raised by the loop, outside any `except` block, so that httpx's exception, which holds the
request and its Authorization header (or the token form with the client secret), is never attached to them
as their context.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from catena_nb import _config
from catena_nb._redact import Secret
from catena_nb.client._deadline import API_GRACE_S, Deadline, deadline_passed, send_async, send_sync
from catena_nb.errors import APIConnectionError, APITimeoutError

__all__ = [
    "RETRY_STATUSES",
    "AsyncSender",
    "Attempt",
    "RetryLoop",
    "RetryPolicy",
    "SharedPause",
    "SyncSender",
    "Target",
    "retry_after_s",
]

logger = logging.getLogger("catena_nb.retry")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# Raised before the request left the machine: resending it cannot create anything twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def retry_after_s(headers: Mapping[str, str], body: bytes | str | None = None) -> float | None:
    """The server's wait hint in seconds: `Retry-After` (seconds or HTTP date), then `retry_after_seconds`."""
    raw = headers.get("retry-after") or headers.get("Retry-After")
    if raw:
        raw = raw.strip()
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.UTC)
                return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            return None
        detail = data.get("detail") if isinstance(data, dict) else None
        if isinstance(detail, dict):
            value = detail.get("retry_after_seconds")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return max(0.0, float(value))
    return None


@dataclass
class RetryPolicy:
    """How many times to retry and how long to wait between tries."""

    max_retries: int = _config.DEFAULT_MAX_RETRIES
    initial_delay: float = _config.INITIAL_RETRY_DELAY_S
    max_delay: float = _config.MAX_RETRY_DELAY_S
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter for the given 0-based retry number."""
        ceiling = min(self.max_delay, self.initial_delay * (2**attempt))
        return self.rng.uniform(0, ceiling)

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """The wait before retry number `attempt`: the server's hint (capped) if any, else backoff."""
        if hint is not None:
            return min(hint, self.max_delay)
        return self.backoff(attempt)

    def should_retry_status(self, status_code: int, attempt: int) -> bool:
        """Whether a response with this status may be retried once more."""
        return status_code in RETRY_STATUSES and attempt < self.max_retries


def may_have_sent(failure: httpx.TransportError | None) -> bool:
    """Whether an attempt that ended so (None: with an answer) may have reached the API."""
    return failure is None or not isinstance(failure, _NOT_SENT)


@dataclass(frozen=True)
class Target:
    """What a loop sends and how it may be sent again; its log lines and errors name it so."""

    method: str
    url: str  # the API path, or the token URL
    retry: bool = True  # sent again after a failed connection or a retryable status (never a create)
    refresh: bool = False  # a 401 is answered with a new token and one more send (client credentials)
    token_request: bool = False

    @property
    def what(self) -> str:
        return "the token request" if self.token_request else f"{self.method} {self.url}"

    def connection_error(self, exc: httpx.TransportError, sent: bool, more: str = "") -> APIConnectionError:
        """The error of an attempt whose connection failed or timed out."""
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        if self.token_request:
            text = f"the token request failed: {type(exc).__name__}{more}"
        else:
            how = "timed out" if cls is APITimeoutError else "failed"
            note = "; the API may have received it" if sent else "; it was not sent"
            text = f"the request {how} ({type(exc).__name__}){note}{more}"
        return cls(text, method=self.method, url=self.url, maybe_sent=sent)

    def deadline_error(
        self, deadline: Deadline, attempts: int, sent: bool, exc: httpx.TransportError
    ) -> APITimeoutError:
        """The error of a call whose deadline passed."""
        if self.token_request:
            # the API request itself was not sent yet, so it is safe to send it again later
            text = (
                f"the token request did not complete within the deadline of {deadline.seconds:g} s "
                f"(the last attempt ended by {type(exc).__name__}); the API request was not sent"
            )
        else:
            note = "; the API may have received it" if sent else "; it was not sent"
            text = (
                f"the request did not complete within the client's deadline of {deadline.seconds:g} s "
                f"({attempts} attempt{'s' * (attempts != 1)}, the last ended by {type(exc).__name__}){note}. "
                "Give the client a longer deadline= if the API is known to be this slow"
            )
        return APITimeoutError(
            text, method=self.method, url=self.url, maybe_sent=sent, deadline=deadline.seconds
        )


@dataclass(eq=False)
class Attempt:
    """One try of a call. The driver waits `wait` seconds (None: no wait at all), sends `start(token)` and
    sets `response` or `failure`. `stale` is a token the API refused on the attempt before: sign with another.
    """

    wait: float | None
    stale: Secret | None
    _build: Callable[[], httpx.Request] = field(repr=False)
    token: Secret | None = field(default=None, repr=False)
    response: httpx.Response | None = None
    failure: httpx.TransportError | None = None

    def start(self, token: Secret | None) -> httpx.Request:
        """The request, built now (after the wait) so that its timeouts are capped at the time left."""
        request = self._build()
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token.get()}"
        self.token = token
        return request


class RetryLoop:
    """The decisions of one call: iterate it for the attempts to make, then read `response`.

    Args:
        target: what is sent, and whether it may be sent again.
        build: builds the request with the given timeouts (capped by the loop at the time left).
        deadline: the call's deadline.
        policy: the retry rules.
        timeout: the client's timeouts, before capping.

    Raises (while iterating):
        APITimeoutError: the deadline passed; `.maybe_sent` says whether any attempt may have reached the API.
        APIConnectionError: the connection failed and the call is not sent again (a create, the last retry,
            or a wait that would pass the deadline).
    """

    def __init__(
        self,
        target: Target,
        build: Callable[[httpx.Timeout], httpx.Request],
        deadline: Deadline,
        *,
        policy: RetryPolicy,
        timeout: httpx.Timeout,
    ) -> None:
        self.target, self.deadline = target, deadline
        self._build = lambda: build(deadline.timeout(timeout))
        self._policy = policy
        self._response: httpx.Response | None = None

    @property
    def response(self) -> httpx.Response:
        """The answer the loop ended with (a 4xx or 5xx included: the caller turns it into an error)."""
        if self._response is None:
            raise RuntimeError(f"the retry loop of {self.target.what} did not end with an answer")
        return self._response

    def __iter__(self) -> Iterator[Attempt]:
        retries, sent, refreshed = 0, False, False
        attempt = Attempt(None, None, self._build)
        while True:
            yield attempt
            failure, response = attempt.failure, attempt.response
            if failure is not None:
                sent = sent or (not self.target.token_request and may_have_sent(failure))
                wait = self._after_failure(failure, retries, sent)
            elif response is None:
                raise RuntimeError("an attempt ended with neither an answer nor a failure")
            elif self.target.refresh and not refreshed and response.status_code == 401:
                logger.debug("401 from %s: fetching a new token and retrying once", self.target.what)
                attempt, refreshed = Attempt(None, attempt.token, self._build), True
                continue
            else:
                sent = sent or not self.target.token_request
                answered = self._after_answer(response, retries)
                if answered is None:
                    self._response = response
                    return
                wait = answered
            attempt = Attempt(wait, None, self._build)
            retries += 1

    def _after_failure(self, failure: httpx.TransportError, retries: int, sent: bool) -> float:
        """The wait before the next attempt after a failed connection, or the error to raise."""
        target, deadline = self.target, self.deadline
        if deadline.passed() or deadline_passed(failure):
            # whether any attempt of the call may have reached the API
            raise target.deadline_error(deadline, retries + 1, sent, failure)
        # whether this attempt may have: the error tells of the connection that failed
        this = not target.token_request and may_have_sent(failure)
        if not target.retry or retries >= self._policy.max_retries:
            raise target.connection_error(failure, this)
        delay = self._policy.delay(retries)
        if not deadline.allows(delay):
            more = f"; not retried, as the wait would pass the call's deadline of {deadline.seconds:g} s"
            raise target.connection_error(failure, this, more)
        self._log(retries, delay, type(failure).__name__)
        return delay

    def _after_answer(self, response: httpx.Response, retries: int) -> float | None:
        """The wait before the next attempt after an answer, or None to return it."""
        status = response.status_code
        if not (self.target.retry and self._policy.should_retry_status(status, retries)):
            return None
        delay = self._policy.delay(retries, retry_after_s(response.headers, response.content))
        if not self.deadline.allows(delay):
            # the answer itself (a 429 or a 5xx) is then raised by the caller, with its hint
            logger.debug(
                "not retrying %s after HTTP %d: a wait of %.2f s would pass its deadline",
                self.target.what,
                status,
                delay,
            )
            return None
        self._log(retries, delay, f"HTTP {status}")
        return delay

    def _log(self, retries: int, delay: float, reason: str) -> None:
        logger.debug(
            "retrying %s (retry %d of %d) in %.2f s after %s",
            self.target.what,
            retries + 1,
            self._policy.max_retries,
            delay,
            reason,
        )


class SharedPause(Protocol):
    """A pause that calls made side by side share (the batch `Pacer`): after a 429 they all wait."""

    def pause(self) -> tuple[float, float]: ...

    def slow_down(self, hint: float | None) -> float: ...


def _shared_wait(pause: SharedPause, attempt: Attempt, previous: Attempt | None) -> float | None:
    """The wait before `attempt`: its own, or the shared pause, whichever is longer. A 429 just answered
    starts (or extends) the shared pause by the wait the loop chose, so that every call slows down at once."""
    answered = previous.response if previous is not None else None
    if answered is not None and answered.status_code == 429 and attempt.wait is not None:
        pause.slow_down(attempt.wait)
    left, _ = pause.pause()
    if attempt.wait is None and left <= 0:
        return None
    return max(attempt.wait or 0.0, left)


# The token of an attempt: given the token the API refused before (or None) and the call's deadline.
SyncTokens = Callable[[Secret | None, Deadline], Secret]
AsyncTokens = Callable[[Secret | None, Deadline], Awaitable[Secret]]


class SyncSender:
    """Runs retry loops on an `httpx.Client`: blocking waits, answers read in chunks under the deadline."""

    def __init__(
        self, http: httpx.Client, sleep: Callable[[float], None], tokens: SyncTokens | None = None
    ) -> None:
        self.http, self._sleep, self._tokens = http, sleep, tokens

    def send(self, loop: RetryLoop, pause: SharedPause | None = None) -> httpx.Response:
        """Make the loop's attempts; its answer. With a `pause`, a 429 pauses every call that shares it."""
        previous: Attempt | None = None
        for attempt in loop:
            wait = attempt.wait if pause is None else _shared_wait(pause, attempt, previous)
            previous = attempt
            if wait is not None:
                self._sleep(wait)
            token = None if self._tokens is None else self._tokens(attempt.stale, loop.deadline)
            try:
                attempt.response = send_sync(self.http, attempt.start(token), loop.deadline)
            except httpx.TransportError as exc:
                attempt.failure = exc
        return loop.response


class AsyncSender:
    """Runs retry loops on an `httpx.AsyncClient`: awaited waits, each attempt under `asyncio.timeout`.

    `grace`: how long after the deadline an attempt is cancelled (see `_deadline.API_GRACE_S`).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        sleep: Callable[[float], Awaitable[None]],
        tokens: AsyncTokens | None = None,
        *,
        grace: float = API_GRACE_S,
    ) -> None:
        self.http, self._sleep = http, sleep
        self._tokens, self._grace = tokens, grace

    async def send(self, loop: RetryLoop, pause: SharedPause | None = None) -> httpx.Response:
        """Make the loop's attempts; its answer (see `SyncSender.send`)."""
        previous: Attempt | None = None
        for attempt in loop:
            wait = attempt.wait if pause is None else _shared_wait(pause, attempt, previous)
            previous = attempt
            if wait is not None:
                await self._sleep(wait)
            token = None if self._tokens is None else await self._tokens(attempt.stale, loop.deadline)
            try:
                request = attempt.start(token)
                attempt.response = await send_async(self.http, request, loop.deadline, grace=self._grace)
            except httpx.TransportError as exc:
                attempt.failure = exc
        return loop.response
