"""Bearer authentication: a static token, or OAuth2 client credentials with a cached, shared refresh.

The token is fetched from `{auth_url}/protocol/openid-connect/token` (form body, `scope=organization`),
cached until `expires_in` minus a margin (30 s, or half the lifetime when that is shorter), fetched by one
thread (or task) at a time, and fetched again once when the API answers 401, the request then being sent
once more: a 401 means the API did not act on it, so even a create is safe to resend. The token request itself
is retried on connection errors, 429 and 5xx, within its own deadline or, when it is made for an API
call, within that call's.

Neither the token nor the client secret ever reaches a repr, a log line or an exception text: both are
`Secret`s, which every redaction of the package masks while they live (`catena_nb._redact`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass

import httpx

from catena_nb import _config
from catena_nb._redact import Secret
from catena_nb.client._deadline import (
    DEADLINE_EXTENSION,
    Deadline,
    deadline_passed,
    guard_sockets,
    send_async,
    send_sync,
)
from catena_nb.client._retry import RetryPolicy, retry_after_s
from catena_nb.errors import APIConnectionError, APITimeoutError, ResponseValidationError, status_error

__all__ = ["CatenaAuth", "Secret"]

logger = logging.getLogger("catena_nb.auth")


def _outer_deadline(request: httpx.Request) -> Deadline | None:
    """The deadline of the API call a request belongs to (the clients put it in the request's extensions)."""
    deadline = request.extensions.get(DEADLINE_EXTENSION)
    return deadline if isinstance(deadline, Deadline) else None


@dataclass
class _Token:
    value: Secret
    refresh_at: float  # monotonic clock


def refresh_delay(expires_in: float, margin: float = _config.TOKEN_REFRESH_MARGIN_S) -> float:
    """How long a token is used: its lifetime minus the margin, or half its lifetime when that is longer."""
    return max(expires_in - margin, expires_in / 2)


class CatenaAuth(httpx.Auth):
    """An `httpx.Auth` with sync and async flows; built by the clients from their settings."""

    requires_response_body = True  # a 401's body is read so the error can quote it

    def __init__(
        self,
        *,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        auth_url: str = _config.DEFAULT_AUTH_URL,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        deadline: float = _config.DEFAULT_DEADLINE_S,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if token is None and not (client_id and client_secret):
            raise ValueError("either a token or a client id and a client secret are needed")
        self._static = Secret(token) if token is not None else None
        self.client_id = client_id
        # the client id makes the secret's HTTP Basic form known to the redaction as well
        self._secret = Secret(client_secret, user=client_id) if client_secret else None
        self.token_url = auth_url.rstrip("/") + _config.TOKEN_PATH
        self._transport = transport
        self._timeout = timeout or httpx.Timeout(
            _config.DEFAULT_TIMEOUT_S, connect=_config.DEFAULT_CONNECT_TIMEOUT_S
        )
        self._deadline = deadline
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._clock = clock
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self._alock: asyncio.Lock | None = None
        self._sync_http: httpx.Client | None = None
        self._async_http: httpx.AsyncClient | None = None
        self.fetches = 0  # how many tokens were fetched (for tests and diagnostics)

    @property
    def kind(self) -> str:
        """`"static token"` or `"client credentials"`."""
        return "static token" if self._static is not None else "client credentials"

    def __repr__(self) -> str:
        who = f", client_id={self.client_id!r}" if self._static is None else ""
        return f"CatenaAuth({self.kind}{who})"

    # ------------------------------------------------------------------------------------------ flows

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign the request; on a 401 fetch a new token once and send the request again."""
        within = _outer_deadline(request)
        token = self._sync_token(within=within)
        request.headers["Authorization"] = f"Bearer {token.get()}"
        response = yield request
        if response.status_code == 401 and self._static is None:
            logger.debug(
                "401 from %s %s: fetching a new token and retrying once", request.method, request.url.path
            )
            token = self._sync_token(stale=token, within=within)
            request.headers["Authorization"] = f"Bearer {token.get()}"
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The async twin of `sync_auth_flow`."""
        within = _outer_deadline(request)
        token = await self._async_token(within=within)
        request.headers["Authorization"] = f"Bearer {token.get()}"
        response = yield request
        if response.status_code == 401 and self._static is None:
            logger.debug(
                "401 from %s %s: fetching a new token and retrying once", request.method, request.url.path
            )
            token = await self._async_token(stale=token, within=within)
            request.headers["Authorization"] = f"Bearer {token.get()}"
            yield request

    # ---------------------------------------------------------------------------------------- tokens

    def _cached(self, stale: Secret | None) -> Secret | None:
        if self._static is not None:
            return self._static
        tok = self._token
        if tok is None or self._clock() >= tok.refresh_at:
            return None
        if stale is not None and tok.value == stale:
            return None  # the API refused this very token: fetch another one
        return tok.value

    def _sync_token(self, stale: Secret | None = None, within: Deadline | None = None) -> Secret:
        cached = self._cached(stale)
        if cached is not None:
            return cached
        with self._lock:  # one fetch at a time; the others then find the new token in the cache
            cached = self._cached(stale)
            if cached is not None:
                return cached
            if self._sync_http is None:
                transport = self._transport if isinstance(self._transport, httpx.BaseTransport) else None
                self._sync_http = httpx.Client(transport=transport, timeout=self._timeout)
                guard_sockets(self._sync_http)
            deadline = Deadline.start(self._deadline, within=within)
            attempt = 0
            while True:
                response: httpx.Response | None = None
                failure: httpx.TransportError | None = None
                request = self._token_request(self._sync_http, deadline)
                try:
                    response = send_sync(self._sync_http, request, deadline)
                except httpx.TransportError as exc:
                    failure = exc
                wait = self._next_wait(attempt, deadline, response, failure)
                if wait is None:
                    assert response is not None
                    return self._store(response)
                self._sleep(wait)
                attempt += 1

    async def _async_token(self, stale: Secret | None = None, within: Deadline | None = None) -> Secret:
        cached = self._cached(stale)
        if cached is not None:
            return cached
        if self._alock is None:
            self._alock = asyncio.Lock()
        async with self._alock:
            cached = self._cached(stale)
            if cached is not None:
                return cached
            if self._async_http is None:
                transport = self._transport if isinstance(self._transport, httpx.AsyncBaseTransport) else None
                self._async_http = httpx.AsyncClient(transport=transport, timeout=self._timeout)
            deadline = Deadline.start(self._deadline, within=within)
            attempt = 0
            while True:
                response: httpx.Response | None = None
                failure: httpx.TransportError | None = None
                request = self._token_request(self._async_http, deadline)
                try:
                    response = await send_async(self._async_http, request, deadline)
                except httpx.TransportError as exc:
                    failure = exc
                wait = self._next_wait(attempt, deadline, response, failure)
                if wait is None:
                    assert response is not None
                    return self._store(response)
                await self._async_sleep(wait)
                attempt += 1

    def _token_request(self, http: httpx.Client | httpx.AsyncClient, deadline: Deadline) -> httpx.Request:
        timeout = deadline.timeout(self._timeout)
        return http.build_request("POST", self.token_url, data=self._form(), timeout=timeout)

    def _next_wait(
        self,
        attempt: int,
        deadline: Deadline,
        response: httpx.Response | None,
        failure: httpx.TransportError | None,
    ) -> float | None:
        """After one token request: None to use `response`, else the wait before the next; raises the error.

        Called outside any `except` block, so that httpx's exception (it holds the form, secret and all) is
        not attached to the error as its context.
        """
        what = "the token request"
        if failure is not None:
            error = self._connection_error(failure, deadline)
            passed = isinstance(error, APITimeoutError) and error.deadline is not None
            if passed or attempt >= self._policy.max_retries:
                raise error
            delay = self._policy.delay(attempt)
            if not deadline.allows(delay):
                logger.debug("not retrying %s: a wait of %.2f s would pass its deadline", what, delay)
                raise error
            self._policy.log_decision(what, attempt, delay, type(failure).__name__)
            return delay
        assert response is not None
        if not self._policy.should_retry_status(response.status_code, attempt):
            return None
        delay = self._policy.delay(attempt, retry_after_s(response.headers, response.content))
        if not deadline.allows(delay):
            status = response.status_code
            logger.debug("not retrying %s after HTTP %d: a wait would pass its deadline", what, status)
            return None
        self._policy.log_decision(what, attempt, delay, f"HTTP {response.status_code}")
        return delay

    def _form(self) -> dict[str, str]:
        assert self._secret is not None
        assert self.client_id is not None
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret.get(),
            "scope": _config.TOKEN_SCOPE,
        }

    def _connection_error(self, exc: httpx.TransportError, deadline: Deadline) -> APIConnectionError:
        # the API request itself was not sent yet, so it is safe to send it again later
        if deadline.passed() or deadline_passed(exc):
            return APITimeoutError(
                f"the token request did not complete within the deadline of {deadline.seconds:g} s "
                f"(the last attempt ended by {type(exc).__name__}); the API request was not sent",
                method="POST",
                url=self.token_url,
                maybe_sent=False,
                deadline=deadline.seconds,
            )
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        return cls(
            f"the token request failed: {type(exc).__name__}",
            method="POST",
            url=self.token_url,
            maybe_sent=False,
        )

    def _store(self, response: httpx.Response) -> Secret:
        rid = response.headers.get("x-request-id")
        if response.status_code != 200:
            # the error redacts the body itself: an endpoint that echoes its form quotes the secret
            raise status_error(
                response.status_code,
                response.text,
                request_id=rid,
                method="POST",
                url=self.token_url,
                retry_after=retry_after_s(response.headers, response.content),
            )
        value, expires_in, problem = _token_of(response)
        if value is None:
            raise ResponseValidationError(
                f"the token endpoint answered a body without a usable access_token ({problem})",
                body="(not shown: it may hold a token)",
                status_code=response.status_code,
                request_id=rid,
            )
        token = _Token(Secret(value), self._clock() + refresh_delay(expires_in))
        self._token = token
        self.fetches += 1
        logger.debug("fetched a token valid for %.0f s", expires_in)
        return token.value

    # -------------------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the sync token client (the transport is the API client's, closed with it)."""
        if self._sync_http is not None:
            self._sync_http.close()
            self._sync_http = None

    async def aclose(self) -> None:
        """Close the async token client."""
        if self._async_http is not None:
            await self._async_http.aclose()
            self._async_http = None


def _token_of(response: httpx.Response) -> tuple[str | None, float, str]:
    """The access token and its lifetime from a token answer, or None and the kind of problem.

    The problem is named by its exception type only: an exception's text could quote the token.
    """
    try:
        data = response.json()
        value = data["access_token"]
        expires_in = float(data.get("expires_in") or 300)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, 0.0, type(exc).__name__
    if not isinstance(value, str) or not value:
        return None, 0.0, "TypeError"
    return value, expires_in, ""
