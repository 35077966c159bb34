"""Bearer authentication: a static token, or OAuth2 client credentials with a cached, shared refresh.

The token is fetched from `{auth_url}/protocol/openid-connect/token` (form body, `scope=organization`),
cached until `expires_in` minus a margin (30 s, or half the lifetime when that is shorter), fetched by one
thread (or task) at a time, and fetched again once when the API answers 401, the request then being sent
once more: a 401 means the API did not act on it, so even a create is safe to resend. The token request itself
is retried on connection errors, 429 and 5xx.

Neither the token nor the client secret ever reaches a repr, a log line or an exception text.
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
from catena_nb._retry import RetryPolicy, retry_after_s
from catena_nb.errors import APIConnectionError, APITimeoutError, ResponseValidationError, status_error

__all__ = ["CatenaAuth", "Secret"]

logger = logging.getLogger("catena_nb.auth")


class Secret:
    """A string that never shows itself in a repr or str."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """The secret value (only for building a request)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def redact(text: str, *secrets: Secret | None) -> str:
    """The text with every given secret value replaced by asterisks."""
    for secret in secrets:
        if secret is not None and secret.get():
            text = text.replace(secret.get(), "**********")
    return text


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
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if token is None and not (client_id and client_secret):
            raise ValueError("either a token or a client id and a client secret are needed")
        self._static = Secret(token) if token is not None else None
        self.client_id = client_id
        self._secret = Secret(client_secret) if client_secret else None
        self.token_url = auth_url.rstrip("/") + _config.TOKEN_PATH
        self._transport = transport
        self._timeout = timeout or httpx.Timeout(
            _config.DEFAULT_TIMEOUT_S, connect=_config.DEFAULT_CONNECT_TIMEOUT_S
        )
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
        token = self._sync_token()
        request.headers["Authorization"] = f"Bearer {token.get()}"
        response = yield request
        if response.status_code == 401 and self._static is None:
            logger.debug(
                "401 from %s %s: fetching a new token and retrying once", request.method, request.url.path
            )
            token = self._sync_token(stale=token)
            request.headers["Authorization"] = f"Bearer {token.get()}"
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The async twin of `sync_auth_flow`."""
        token = await self._async_token()
        request.headers["Authorization"] = f"Bearer {token.get()}"
        response = yield request
        if response.status_code == 401 and self._static is None:
            logger.debug(
                "401 from %s %s: fetching a new token and retrying once", request.method, request.url.path
            )
            token = await self._async_token(stale=token)
            request.headers["Authorization"] = f"Bearer {token.get()}"
            yield request

    def redact(self, text: str) -> str:
        """The text with the secret and any token this auth holds replaced by asterisks."""
        current = self._token.value if self._token is not None else None
        return redact(text, self._secret, self._static, current)

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

    def _sync_token(self, stale: Secret | None = None) -> Secret:
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
            attempt = 0
            while True:
                try:
                    response = self._sync_http.post(self.token_url, data=self._form())
                except httpx.TransportError as exc:
                    error = self._connection_error(exc)
                    if attempt >= self._policy.max_retries:
                        raise error from None
                    delay = self._policy.delay(attempt)
                    self._policy.log_decision("the token request", attempt, delay, type(exc).__name__)
                else:
                    if not self._policy.should_retry_status(response.status_code, attempt):
                        return self._store(response)
                    delay = self._policy.delay(attempt, retry_after_s(response.headers, response.content))
                    self._policy.log_decision(
                        "the token request", attempt, delay, f"HTTP {response.status_code}"
                    )
                self._sleep(delay)
                attempt += 1

    async def _async_token(self, stale: Secret | None = None) -> Secret:
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
            attempt = 0
            while True:
                try:
                    response = await self._async_http.post(self.token_url, data=self._form())
                except httpx.TransportError as exc:
                    error = self._connection_error(exc)
                    if attempt >= self._policy.max_retries:
                        raise error from None
                    delay = self._policy.delay(attempt)
                    self._policy.log_decision("the token request", attempt, delay, type(exc).__name__)
                else:
                    if not self._policy.should_retry_status(response.status_code, attempt):
                        return self._store(response)
                    delay = self._policy.delay(attempt, retry_after_s(response.headers, response.content))
                    self._policy.log_decision(
                        "the token request", attempt, delay, f"HTTP {response.status_code}"
                    )
                await self._async_sleep(delay)
                attempt += 1

    def _form(self) -> dict[str, str]:
        assert self._secret is not None
        assert self.client_id is not None
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret.get(),
            "scope": _config.TOKEN_SCOPE,
        }

    def _connection_error(self, exc: httpx.TransportError) -> APIConnectionError:
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        # the API request itself was not sent yet, so it is safe to send it again later
        return cls(
            f"the token request failed: {type(exc).__name__}",
            method="POST",
            url=self.token_url,
            maybe_sent=False,
        )

    def _store(self, response: httpx.Response) -> Secret:
        body = redact(response.text, self._secret)
        rid = response.headers.get("x-request-id")
        if response.status_code != 200:
            raise status_error(
                response.status_code,
                body,
                request_id=rid,
                method="POST",
                url=self.token_url,
                retry_after=retry_after_s(response.headers, response.content),
            )
        try:
            data = response.json()
            value = data["access_token"]
            expires_in = float(data.get("expires_in") or 300)
            if not isinstance(value, str) or not value:
                raise TypeError("access_token is not a string")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ResponseValidationError(
                f"the token endpoint answered a body without a usable access_token ({type(exc).__name__})",
                body="(not shown: it may hold a token)",
                status_code=response.status_code,
                request_id=rid,
            ) from None
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
