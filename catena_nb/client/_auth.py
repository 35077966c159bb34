"""The bearer token of every API request: a static one, or one fetched with OAuth2 client credentials.

The token is fetched from `{auth_url}/protocol/openid-connect/token` (form body, `scope=organization`),
cached until `expires_in` minus a margin (30 s, or half the lifetime when that is shorter), and fetched by
one thread (or task) at a time: the others then find it in the cache. A call asks for a token before each
attempt; after a 401 it asks for one other than the token the API refused (`_transport`). The token request
goes through the same retry loop as the API calls, within its own deadline or, when it is made for an API
call, within that call's.

Neither the token nor the client secret ever reaches a repr, a log line or an exception text: both are
`Secret`s, which every redaction of the package masks while they live (`catena_nb._redact`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from catena_nb import _config
from catena_nb._redact import Secret
from catena_nb.client._deadline import Deadline, guard_sockets
from catena_nb.client._transport import (
    AsyncSender,
    RetryLoop,
    RetryPolicy,
    SyncSender,
    Target,
    retry_after_s,
)
from catena_nb.errors import ResponseValidationError, status_error

__all__ = ["CatenaAuth", "Secret", "refresh_delay"]

logger = logging.getLogger("catena_nb.auth")


@dataclass
class _Token:
    value: Secret
    refresh_at: float  # monotonic clock


def refresh_delay(expires_in: float, margin: float = _config.TOKEN_REFRESH_MARGIN_S) -> float:
    """How long a token is used: its lifetime minus the margin, or half its lifetime when that is longer."""
    return max(expires_in - margin, expires_in / 2)


class CatenaAuth:
    """The credentials of a client and its cached token; built by the clients from their settings."""

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
        self._sync: SyncSender | None = None
        self._async: AsyncSender | None = None
        self.fetches = 0  # how many tokens were fetched (for tests and diagnostics)

    @property
    def kind(self) -> str:
        """`"static token"` or `"client credentials"`."""
        return "static token" if self._static is not None else "client credentials"

    @property
    def refreshable(self) -> bool:
        """Whether a refused token can be replaced (client credentials; a static token cannot)."""
        return self._static is None

    def __repr__(self) -> str:
        who = f", client_id={self.client_id!r}" if self._static is None else ""
        return f"CatenaAuth({self.kind}{who})"

    # ---------------------------------------------------------------------------------------- tokens

    def sync_token(self, stale: Secret | None = None, within: Deadline | None = None) -> Secret:
        """A valid token other than `stale`, fetched when the cache has none (within the call's deadline)."""
        cached = self._cached(stale)
        if cached is not None:
            return cached
        with self._lock:  # one fetch at a time; the others then find the new token in the cache
            again = self._cached(stale)
            return again if again is not None else self._fetch(within)

    async def async_token(self, stale: Secret | None = None, within: Deadline | None = None) -> Secret:
        """`sync_token` for the async client: the fetch is awaited, one task at a time."""
        cached = self._cached(stale)
        if cached is not None:
            return cached
        if self._alock is None:
            self._alock = asyncio.Lock()
        async with self._alock:
            again = self._cached(stale)
            return again if again is not None else await self._afetch(within)

    def _fetch(self, within: Deadline | None) -> Secret:
        if self._sync is None:
            transport = self._transport if isinstance(self._transport, httpx.BaseTransport) else None
            self._sync = SyncSender(httpx.Client(transport=transport, timeout=self._timeout), self._sleep)
            guard_sockets(self._sync.http)
        return self._store(self._sync.send(self._loop(self._sync.http, within)))

    async def _afetch(self, within: Deadline | None) -> Secret:
        if self._async is None:
            transport = self._transport if isinstance(self._transport, httpx.AsyncBaseTransport) else None
            http = httpx.AsyncClient(transport=transport, timeout=self._timeout)
            self._async = AsyncSender(http, self._async_sleep, grace=0.0)
        return self._store(await self._async.send(self._loop(self._async.http, within)))

    def _cached(self, stale: Secret | None) -> Secret | None:
        if self._static is not None:
            return self._static
        tok = self._token
        if tok is None or self._clock() >= tok.refresh_at:
            return None
        if stale is not None and tok.value == stale:
            return None  # the API refused this very token: fetch another one
        return tok.value

    def _loop(self, http: httpx.Client | httpx.AsyncClient, within: Deadline | None) -> RetryLoop:
        """The token request's retry loop, within its own deadline or the API call's when that ends first."""
        return RetryLoop(
            Target("POST", self.token_url, token_request=True),
            lambda timeout: http.build_request("POST", self.token_url, data=self._form(), timeout=timeout),
            Deadline.start(self._deadline, within=within),
            policy=self._policy,
            timeout=self._timeout,
        )

    def _form(self) -> dict[str, str]:
        # built for each attempt: the secret is kept only in its `Secret`
        if self._secret is None or self.client_id is None:
            raise RuntimeError("a static token is never fetched")
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret.get(),
            "scope": _config.TOKEN_SCOPE,
        }

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
        if self._sync is not None:
            self._sync.http.close()
            self._sync = None

    async def aclose(self) -> None:
        """Close the async token client."""
        if self._async is not None:
            await self._async.http.aclose()
            self._async = None


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
