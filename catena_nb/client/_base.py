"""What both clients share, without I/O: their settings and credentials, the calls their resources build,
and how an answer becomes a model or a typed error.

A resource method checks its arguments and builds a `Call` (the request, whether it may be retried, and the
function that casts the answer); the client runs it through the retry loop (`_transport`) with its own I/O
and returns what the cast gives.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypedDict, TypeVar

import httpx
import pydantic

from catena_nb import _config, _redact
from catena_nb.client._auth import CatenaAuth
from catena_nb.client._batching import Pacer
from catena_nb.client._deadline import Deadline, check_deadline
from catena_nb.client._transport import RetryLoop, RetryPolicy, Target, retry_after_s
from catena_nb.client.pagination import Page
from catena_nb.errors import APIStatusError, ConfigurationError, ResponseValidationError, status_error
from catena_nb.models import ResourceOperation

__all__ = ["SETTINGS_DEFAULTS", "BaseClient", "Call", "ClientSettings", "create_call", "lookup", "page_call"]

logger = logging.getLogger("catena_nb.client")

T = TypeVar("T")
M = TypeVar("M", bound=pydantic.BaseModel)


class ClientSettings(TypedDict, total=False):
    """The settings both clients take (see `CatenaClient` for each)."""

    base_url: str | None
    token: str | None
    client_id: str | None
    client_secret: str | None
    auth_url: str | None
    timeout: float | httpx.Timeout
    max_retries: int
    deadline: float
    progress: bool


SETTINGS_DEFAULTS: dict[str, Any] = {
    "timeout": _config.DEFAULT_TIMEOUT_S,
    "max_retries": _config.DEFAULT_MAX_RETRIES,
    "deadline": _config.DEFAULT_DEADLINE_S,
    "progress": True,
}


def resolve_credentials(
    token: str | None, client_id: str | None, client_secret: str | None
) -> tuple[str | None, str | None, str | None]:
    """The token, or the client id and secret, from the arguments, else from the environment."""
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


# ------------------------------------------------------------------------------------------------ calls


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call, checked and built before any I/O, and the function that casts its answer to a T."""

    method: str
    path: str
    answer: Callable[[httpx.Response], T]
    params: dict[str, Any] | None = None
    json: Any = None
    retry: bool = True  # lookups are retried; a create never is


def create_call(path: str, body: dict[str, Any], *, sync: bool) -> Call[ResourceOperation]:
    """A create: sent once; 200, 201, 202 and a 502 with an operation body all return the operation."""
    params = {"is_sync": "true" if sync else "false"}
    return Call("POST", path, write_result, params=params, json=body, retry=False)


def lookup(path: str, model: type[M], params: dict[str, Any] | None = None) -> Call[M]:
    """A GET of one record."""
    return Call("GET", path, lambda response: model_of(response, model), params=params)


def page_call(path: str, params: dict[str, Any], model: type[M]) -> Call[Page[M]]:
    """A GET of one list page."""
    return Call("GET", path, lambda response: page_of(response, model), params=params)


# ---------------------------------------------------------------------------------- answers into models


def _request_id(response: httpx.Response) -> str | None:
    rid: str | None = response.headers.get("x-request-id")
    return rid


def error_of(response: httpx.Response) -> APIStatusError:
    """The typed error of an error answer (it redacts the body, its JSON and the headers itself)."""
    return status_error(
        response.status_code,
        response.text,
        request_id=_request_id(response),
        method=response.request.method,
        url=response.request.url.path,
        retry_after=retry_after_s(response.headers, response.content),
        headers=response.headers,
    )


def model_of(response: httpx.Response, model: type[M]) -> M:
    """The answer as a `model`, or its typed error."""
    if not response.is_success:
        raise error_of(response)
    try:
        return model.model_validate_json(response.content)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
    # raised outside the handler: pydantic's error quotes the input, which may hold a secret
    raise ResponseValidationError(
        f"the answer to {response.request.method} {response.request.url.path} is not a {model.__name__}",
        body=response.text,
        status_code=response.status_code,
        request_id=_request_id(response),
        errors=errors,
    )


def write_result(response: httpx.Response) -> ResourceOperation:
    """A create's answer: 200, 201, 202 and a 502 with an operation body all return the operation."""
    if response.status_code == 502:
        # a sync send the TSP refused: the body is the failed operation, a result rather than an error
        try:
            op = ResourceOperation.model_validate_json(response.content)
        except pydantic.ValidationError:
            op = None
        if op is None:
            raise error_of(response)
        logger.debug("sync send failed at the TSP (502): operation %s", op.id)
        return op
    return model_of(response, ResourceOperation)


def page_of(response: httpx.Response, model: type[M]) -> Page[M]:
    """The answer as a list page (its items are parsed on first use), or its typed error."""
    if not response.is_success:
        raise error_of(response)
    return Page(
        response.content,
        model,
        params=dict(response.request.url.params),
        status_code=response.status_code,
        request_id=_request_id(response),
    )


# ----------------------------------------------------------------------------------------------- client


class BaseClient:
    """The settings of both clients, and the retry loop of a call (no I/O here)."""

    _auth: CatenaAuth  # set by each client: it holds the credentials, which nothing else keeps

    def __init__(self, settings: ClientSettings) -> None:
        try:
            self.deadline = check_deadline(settings.get("deadline", _config.DEFAULT_DEADLINE_S))
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        _redact.protect_loggers()  # the loggers of modules imported since, too
        base_url = (
            settings.get("base_url") or os.environ.get(_config.ENV_BASE_URL) or _config.DEFAULT_BASE_URL
        )
        auth_url = (
            settings.get("auth_url") or os.environ.get(_config.ENV_AUTH_URL) or _config.DEFAULT_AUTH_URL
        )
        self.base_url = base_url.rstrip("/")
        self._urls: dict[tuple[Any, ...], httpx.URL] = {}  # see _url
        self.auth_url = auth_url.rstrip("/")
        timeout = settings.get("timeout", _config.DEFAULT_TIMEOUT_S)
        self.timeout = (
            timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout, connect=min(timeout, _config.DEFAULT_CONNECT_TIMEOUT_S))
        )
        self.max_retries = settings.get("max_retries", _config.DEFAULT_MAX_RETRIES)
        self.policy = RetryPolicy(max_retries=self.max_retries)
        self.progress = settings.get("progress", True)

    def _credentials(
        self,
        settings: ClientSettings,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None,
        **sleep: Any,
    ) -> CatenaAuth:
        # kept only inside the auth object, whose repr hides them
        token, cid, secret = resolve_credentials(
            settings.get("token"), settings.get("client_id"), settings.get("client_secret")
        )
        return CatenaAuth(
            token=token,
            client_id=cid,
            client_secret=secret,
            auth_url=self.auth_url,
            transport=transport,
            timeout=self.timeout,
            deadline=self.deadline,
            policy=self.policy,
            **sleep,
        )

    def _pacer(self) -> Pacer:
        """A pause that the requests of one listing, run side by side, share after a 429."""
        return Pacer(self.policy)

    def _show_progress(self, progress: bool | None) -> bool:
        return self.progress if progress is None else progress

    def _http_options(self, transport: Any) -> dict[str, Any]:
        """The settings both clients give their httpx client (the pool fits `create_many`'s concurrency)."""
        return {
            "base_url": self.base_url,
            "timeout": self.timeout,
            "transport": transport,
            "headers": {"Accept": "application/json"},
            "limits": httpx.Limits(max_connections=100, max_keepalive_connections=64),
        }

    def _url(self, call: Call[Any], http: httpx.Client | httpx.AsyncClient) -> tuple[Any, Any]:
        """The URL and query of the call's request: for a create, its URL with the query, parsed once per
        client (httpx parses a path and its query three times a request); else the path and the query."""
        if call.method != "POST" or call.params is None or len(call.params) > 1:
            return call.path, call.params
        key = (call.path, *call.params.items())
        url = self._urls.get(key)
        if url is None:
            url = http.build_request(call.method, call.path, params=call.params).url
            if len(self._urls) < 64:  # a handful of create paths, each sync or not
                self._urls[key] = url
        return url, None

    def _loop(self, call: Call[Any], http: httpx.Client | httpx.AsyncClient) -> RetryLoop:
        """The retry loop of one call, its deadline starting now."""
        url, params = self._url(call, http)
        return RetryLoop(
            Target(call.method, call.path, retry=call.retry, refresh=self._auth.refreshable),
            lambda timeout: http.build_request(
                call.method, url, params=params, json=call.json, timeout=timeout
            ),
            Deadline.start(self.deadline),
            policy=self.policy,
            timeout=self.timeout,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self._auth.kind!r})"
