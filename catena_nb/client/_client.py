"""`CatenaClient` (sync) and `AsyncCatenaClient`: the Catena Telematics API from a notebook.

The non-I/O logic (settings, URLs, retry and deadline decisions, turning answers into models or typed errors)
lives in `_BaseClient`; each client adds only its I/O, on `httpx.Client` or `httpx.AsyncClient`. The sync
client is plain blocking httpx and never starts an event loop, so it works inside Jupyter's running one.

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
import logging
import os
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
import pydantic

from catena_nb import _config, _redact
from catena_nb.client._attempts import may_have_sent, next_wait
from catena_nb.client._auth import CatenaAuth
from catena_nb.client._deadline import (
    API_GRACE_S,
    Deadline,
    check_deadline,
    guard_sockets,
    send_async,
    send_sync,
)
from catena_nb.client._retry import RetryPolicy, retry_after_s
from catena_nb.client.batch import BatchResult, RowOutcome
from catena_nb.client.pagination import Page
from catena_nb.client.resources._async import (
    AsyncConnections,
    AsyncGroupMessages,
    AsyncMessages,
    AsyncOperations,
    AsyncUsers,
)
from catena_nb.client.resources._sync import Connections, GroupMessages, Messages, Operations, Users
from catena_nb.errors import (
    APIStatusError,
    ConfigurationError,
    ResponseValidationError,
    status_error,
)
from catena_nb.models import ResourceOperation

__all__ = ["AsyncCatenaClient", "BatchResult", "CatenaClient", "RowOutcome"]

logger = logging.getLogger("catena_nb.client")

M = TypeVar("M", bound=pydantic.BaseModel)


def _resolve_credentials(
    token: str | None, client_id: str | None, client_secret: str | None
) -> tuple[str | None, str | None, str | None]:
    if token is not None:
        return token, None, None
    cid = client_id or os.environ.get(_config.ENV_CLIENT_ID) or None
    secret = client_secret or os.environ.get(_config.ENV_CLIENT_SECRET) or None
    if cid and secret:
        return None, cid, secret
    env_token = os.environ.get(_config.ENV_TOKEN) or None
    if env_token and not (client_id or client_secret):
        return env_token, None, None
    raise ConfigurationError(
        "no credentials: pass token=..., or client_id=... and client_secret=..., or set "
        f"{_config.ENV_TOKEN}, or {_config.ENV_CLIENT_ID} and {_config.ENV_CLIENT_SECRET} "
        "(with no credentials at hand, use catena_nb.Sandbox)"
    )


class _BaseClient:
    """Settings and the answer handling shared by both clients (no I/O here)."""

    _auth: CatenaAuth  # set by each client: it holds the credentials, which nothing else keeps

    def __init__(
        self,
        *,
        base_url: str | None,
        auth_url: str | None,
        timeout: float | httpx.Timeout,
        max_retries: int,
        deadline: float,
        progress: bool,
    ) -> None:
        try:
            self.deadline = check_deadline(deadline)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        _redact.protect_loggers()  # the loggers of modules imported since, too
        base_url = base_url or os.environ.get(_config.ENV_BASE_URL) or _config.DEFAULT_BASE_URL
        auth_url = auth_url or os.environ.get(_config.ENV_AUTH_URL) or _config.DEFAULT_AUTH_URL
        self.base_url = base_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.timeout = (
            timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout, connect=min(timeout, _config.DEFAULT_CONNECT_TIMEOUT_S))
        )
        self.max_retries = max_retries
        self.policy = RetryPolicy(max_retries=max_retries)
        self.progress = progress

    def _show_progress(self, progress: bool | None) -> bool:
        return self.progress if progress is None else progress

    def _http_options(self, transport: Any) -> dict[str, Any]:
        """The settings both clients give their httpx client (the pool fits `create_many`'s concurrency)."""
        return {
            "base_url": self.base_url,
            "auth": self._auth,
            "timeout": self.timeout,
            "transport": transport,
            "headers": {"Accept": "application/json"},
            "limits": httpx.Limits(max_connections=100, max_keepalive_connections=64),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self._auth.kind!r})"

    # ---------------------------------------------------------------------------- answers into models

    @staticmethod
    def _request_id(response: httpx.Response) -> str | None:
        rid: str | None = response.headers.get("x-request-id")
        return rid

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        # the error redacts the body, its JSON and the headers itself
        return status_error(
            response.status_code,
            response.text,
            request_id=self._request_id(response),
            method=response.request.method,
            url=response.request.url.path,
            retry_after=retry_after_s(response.headers, response.content),
            headers=response.headers,
        )

    def _build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json: Any,
        deadline: Deadline,
    ) -> httpx.Request:
        """One attempt's request, its timeouts capped at the time the deadline leaves."""
        timeout = deadline.timeout(self.timeout)
        return http.build_request(method, path, params=params, json=json, timeout=timeout)

    def _model(self, response: httpx.Response, model: type[M]) -> M:
        if not response.is_success:
            raise self._status_error(response)
        try:
            return model.model_validate_json(response.content)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
        # raised outside the handler: pydantic's error quotes the input, which may hold a secret
        raise ResponseValidationError(
            f"the answer to {response.request.method} {response.request.url.path} is not a {model.__name__}",
            body=response.text,
            status_code=response.status_code,
            request_id=self._request_id(response),
            errors=errors,
        )

    def _write_result(self, response: httpx.Response) -> ResourceOperation:
        """A create's answer: 200, 201, 202 and a 502 with an operation body all return the operation."""
        if response.status_code == 502:
            # a sync send the TSP refused: the body is the failed operation, a result rather than an error
            try:
                op = ResourceOperation.model_validate_json(response.content)
            except pydantic.ValidationError:
                op = None
            if op is None:
                raise self._status_error(response)
            logger.debug("sync send failed at the TSP (502): operation %s", op.id)
            return op
        return self._model(response, ResourceOperation)

    def _page(self, response: httpx.Response, model: type[M]) -> Page[M]:
        if not response.is_success:
            raise self._status_error(response)
        return Page(
            response.content,
            model,
            params=dict(response.request.url.params),
            status_code=response.status_code,
            request_id=self._request_id(response),
        )


class CatenaClient(_BaseClient):
    """The sync client: `messages`, `group_messages`, `operations`, `connections`, `users`.

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

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        auth_url: str | None = None,
        timeout: float | httpx.Timeout = _config.DEFAULT_TIMEOUT_S,
        max_retries: int = _config.DEFAULT_MAX_RETRIES,
        deadline: float = _config.DEFAULT_DEADLINE_S,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        progress: bool = True,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth_url=auth_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            progress=progress,
        )
        self.sleep: Callable[[float], None] = sleep or time.sleep
        # kept only inside the auth object, whose repr hides them
        tok, cid, secret = _resolve_credentials(token, client_id, client_secret)
        self._auth = CatenaAuth(
            token=tok,
            client_id=cid,
            client_secret=secret,
            auth_url=self.auth_url,
            transport=transport,
            timeout=self.timeout,
            deadline=self.deadline,
            policy=self.policy,
            sleep=self.sleep,
        )
        self._http = httpx.Client(**self._http_options(transport))
        guard_sockets(self._http)
        self.messages = Messages(self)
        self.group_messages = GroupMessages(self)
        self.operations = Operations(self)
        self.connections = Connections(self)
        self.users = Users(self)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retry: bool,
    ) -> httpx.Response:
        """Send one request within the deadline; a lookup (`retry=True`) is retried on connection errors, 429
        and 5xx while the deadline leaves time for it. A create (`retry=False`) is sent once."""
        deadline = Deadline.start(self.deadline)
        attempt, sent = 0, False
        while True:
            response: httpx.Response | None = None
            failure: httpx.TransportError | None = None
            request = self._build(self._http, method, path, params, json, deadline)
            try:
                response = send_sync(self._http, request, deadline)
            except httpx.TransportError as exc:
                failure = exc
            sent = sent or may_have_sent(failure)
            wait = next_wait(
                self.policy,
                deadline,
                method=method,
                path=path,
                retry=retry,
                attempt=attempt,
                sent=sent,
                response=response,
                failure=failure,
            )
            if wait is None:
                assert response is not None
                return response
            self.sleep(wait)
            attempt += 1

    def _create(self, path: str, body: dict[str, Any], *, sync: bool) -> ResourceOperation:
        response = self._send(
            "POST", path, params={"is_sync": "true" if sync else "false"}, json=body, retry=False
        )
        return self._write_result(response)

    def _get_model(self, path: str, model: type[M], params: dict[str, Any] | None = None) -> M:
        return self._model(self._send("GET", path, params=params, retry=True), model)

    def _get_page(self, path: str, params: dict[str, Any], model: type[M]) -> Page[M]:
        return self._page(self._send("GET", path, params=params, retry=True), model)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()
        self._auth.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncCatenaClient(_BaseClient):
    """The async client: the same namespaces as `CatenaClient`, with `await`.

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
            with `.deadline` set, saying whether the request may have reached the API. Each attempt runs
            under `asyncio.timeout` with the time left, and no retry wait that would pass it is started.
        transport: an async httpx transport, e.g. `httpx.MockTransport` in tests.
        sleep: the coroutine function that waits between retries.
        progress: show `tqdm` progress bars for batches, waits and long listings.

    Raises:
        ConfigurationError: no token and no client credentials, given or in the environment; a deadline
            that is not a positive number of seconds.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        auth_url: str | None = None,
        timeout: float | httpx.Timeout = _config.DEFAULT_TIMEOUT_S,
        max_retries: int = _config.DEFAULT_MAX_RETRIES,
        deadline: float = _config.DEFAULT_DEADLINE_S,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        progress: bool = True,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth_url=auth_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            progress=progress,
        )
        self.sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        # kept only inside the auth object, whose repr hides them
        tok, cid, secret = _resolve_credentials(token, client_id, client_secret)
        self._auth = CatenaAuth(
            token=tok,
            client_id=cid,
            client_secret=secret,
            auth_url=self.auth_url,
            transport=transport,
            timeout=self.timeout,
            deadline=self.deadline,
            policy=self.policy,
            async_sleep=self.sleep,
        )
        self._http = httpx.AsyncClient(**self._http_options(transport))
        self.messages = AsyncMessages(self)
        self.group_messages = AsyncGroupMessages(self)
        self.operations = AsyncOperations(self)
        self.connections = AsyncConnections(self)
        self.users = AsyncUsers(self)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retry: bool,
    ) -> httpx.Response:
        """Send one request within the deadline; a lookup (`retry=True`) is retried on connection errors, 429
        and 5xx while the deadline leaves time for it. A create (`retry=False`) is sent once."""
        deadline = Deadline.start(self.deadline)
        attempt, sent = 0, False
        while True:
            response: httpx.Response | None = None
            failure: httpx.TransportError | None = None
            request = self._build(self._http, method, path, params, json, deadline)
            try:
                response = await send_async(self._http, request, deadline, grace=API_GRACE_S)
            except httpx.TransportError as exc:
                failure = exc
            sent = sent or may_have_sent(failure)
            wait = next_wait(
                self.policy,
                deadline,
                method=method,
                path=path,
                retry=retry,
                attempt=attempt,
                sent=sent,
                response=response,
                failure=failure,
            )
            if wait is None:
                assert response is not None
                return response
            await self.sleep(wait)
            attempt += 1

    async def _create(self, path: str, body: dict[str, Any], *, sync: bool) -> ResourceOperation:
        response = await self._send(
            "POST", path, params={"is_sync": "true" if sync else "false"}, json=body, retry=False
        )
        return self._write_result(response)

    async def _get_model(self, path: str, model: type[M], params: dict[str, Any] | None = None) -> M:
        return self._model(await self._send("GET", path, params=params, retry=True), model)

    async def _get_page(self, path: str, params: dict[str, Any], model: type[M]) -> Page[M]:
        return self._page(await self._send("GET", path, params=params, retry=True), model)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()
        await self._auth.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
