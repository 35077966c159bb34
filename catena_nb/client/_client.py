"""`CatenaClient` (sync) and `AsyncCatenaClient`: the Catena Telematics API from a notebook.

The non-I/O logic (settings, credentials, the calls, answers into models or typed errors) lives in `_base`,
the retry decisions in `_transport`; each client adds only its I/O, on `httpx.Client` or `httpx.AsyncClient`.
The sync client is plain blocking httpx and never starts an event loop, so it works inside Jupyter's
running one.

Every call has an overall deadline (`deadline=`, 60 s by default) that covers all its attempts, retry waits
and the reading of the answer (see `_deadline`); httpx's `timeout=` still bounds each connect and read.

Example:
    >>> import catena_nb as cn
    >>> with cn.Sandbox(seed=7) as sb, cn.CatenaClient(base_url=sb.url, token=sb.token) as client:
    ...     conn = sb.connections[0]
    ...     op = client.messages.create(connection_id=conn.id, sender_id=conn.users[0],
    ...                                 recipient_id=conn.users[1], message_text="Hi", sync=True)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Self, TypeVar, Unpack

import httpx
import pydantic

from catena_nb.client._base import SETTINGS_DEFAULTS, BaseClient, Call, ClientSettings, page_call
from catena_nb.client._deadline import guard_sockets
from catena_nb.client._keywords import keywords
from catena_nb.client._transport import AsyncSender, SharedPause, SyncSender
from catena_nb.client.pagination import Page
from catena_nb.client.resources.directory import AsyncConnections, AsyncUsers, Connections, Users
from catena_nb.client.resources.messages import AsyncGroupMessages, AsyncMessages, GroupMessages, Messages
from catena_nb.client.resources.operations import AsyncOperations, Operations
from catena_nb.client.resources.tsps import AsyncTsps, Tsps
from catena_nb.client.resources.webhooks import AsyncWebhooks, Webhooks

__all__ = ["AsyncCatenaClient", "CatenaClient"]

T = TypeVar("T")
M = TypeVar("M", bound=pydantic.BaseModel)


class CatenaClient(BaseClient):
    """The sync client: `messages`, `group_messages`, `operations`, `connections`, `tsps`, `users`,
    `webhooks`.

    Args:
        base_url: the API root; default `CATENA_BASE_URL`, else the production API.
        token: a bearer token (static); default `CATENA_TOKEN`.
        client_id: OAuth2 client id for client credentials; default `CATENA_CLIENT_ID`.
        client_secret: its secret; default `CATENA_CLIENT_SECRET`.
        auth_url: the Keycloak realm URL; default `CATENA_AUTH_URL`, else Catena's.
        timeout: seconds per network operation: each connect, each read of the answer (or an `httpx.Timeout`).
        max_retries: retries of a lookup or token request (creates are never retried).
        deadline: seconds a whole call may take: all its attempts, retry waits and the reading of the
            answer, a token request included (default 60). When it passes the call raises `APITimeoutError`
            with `.deadline` set, saying whether the request may have reached the API. Each attempt's
            timeouts are capped at the time left, the answer is read in chunks with the deadline checked
            between them (and, with httpx's default transport, no socket waits past it), and no retry wait
            that would pass it is started.
        transport: an httpx transport, e.g. `httpx.MockTransport` in tests.
        sleep: the function that waits between retries (tests inject one that does not wait).
        progress: show `tqdm` progress bars for batches, waits and long listings.

    Raises:
        ConfigurationError: no token and no client credentials, given or in the environment; a deadline
            that is not a positive number of seconds.
    """

    @keywords(ClientSettings, **SETTINGS_DEFAULTS)
    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        **settings: Unpack[ClientSettings],
    ) -> None:
        super().__init__(settings)
        self.sleep: Callable[[float], None] = sleep or time.sleep
        self._auth = self._credentials(settings, transport, sleep=self.sleep)
        self._http = httpx.Client(**self._http_options(transport))
        guard_sockets(self._http)
        self.messages = Messages(self)
        self.group_messages = GroupMessages(self)
        self.operations = Operations(self)
        self.connections = Connections(self)
        self.tsps = Tsps(self)
        self.users = Users(self)
        self.webhooks = Webhooks(self)
        self._sender = SyncSender(self._http, self.sleep, self._auth.sync_token)

    def _run(self, call: Call[T], pause: SharedPause | None = None) -> T:
        """Send the call within its deadline, retried as its kind allows; its answer, cast. Calls made side
        by side share a `pause` after a 429."""
        return call.answer(self._sender.send(self._loop(call, self._http), pause))

    def _get_page(
        self, path: str, params: dict[str, Any], model: type[M], pause: SharedPause | None = None
    ) -> Page[M]:
        return self._run(page_call(path, params, model), pause)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()
        self._auth.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncCatenaClient(BaseClient):
    """The async client: the namespaces and settings of `CatenaClient`, with `await`.

    Its `transport` is an async httpx transport and its `sleep` a coroutine function. Each attempt runs
    under `asyncio.timeout` with the time the deadline leaves, and no retry wait that would pass it is
    started.
    """

    @keywords(ClientSettings, **SETTINGS_DEFAULTS)
    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        **settings: Unpack[ClientSettings],
    ) -> None:
        super().__init__(settings)
        self.sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        self._auth = self._credentials(settings, transport, async_sleep=self.sleep)
        self._http = httpx.AsyncClient(**self._http_options(transport))
        self._sender = AsyncSender(self._http, self.sleep, self._auth.async_token)
        self.messages = AsyncMessages(self)
        self.group_messages = AsyncGroupMessages(self)
        self.operations = AsyncOperations(self)
        self.connections = AsyncConnections(self)
        self.tsps = AsyncTsps(self)
        self.users = AsyncUsers(self)
        self.webhooks = AsyncWebhooks(self)

    async def _run(self, call: Call[T], pause: SharedPause | None = None) -> T:
        """`CatenaClient._run`, awaited."""
        return call.answer(await self._sender.send(self._loop(call, self._http), pause))

    async def _get_page(
        self, path: str, params: dict[str, Any], model: type[M], pause: SharedPause | None = None
    ) -> Page[M]:
        return await self._run(page_call(path, params, model), pause)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()
        await self._auth.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
