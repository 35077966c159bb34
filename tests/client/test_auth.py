"""Authentication of either client: static token, client credentials with a cached shared refresh, and no
leaked secrets."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import traceback
import urllib.parse

import httpx
import pytest

from catena_nb.client import AsyncCatenaClient, CatenaClient
from catena_nb.client._auth import CatenaAuth, Secret, refresh_delay
from catena_nb.errors import APIConnectionError, AuthenticationError, ConfigurationError
from tests.client.conftest import MakeDriver
from tests.support.client_mock import (
    AUTH_URL,
    BASE_URL,
    CONN,
    SECRET,
    TOKEN_PREFIX,
    TOKEN_URL,
    MockAPI,
    op,
    page,
    row,
)

CREDENTIALS = {"client_id": "my-client", "client_secret": SECRET, "auth_url": AUTH_URL}


def _ok(request: httpx.Request) -> httpx.Response:
    return page([op()])


def test_client_credentials_token_request_and_cache(drive: MakeDriver) -> None:
    """The token is fetched once with the documented form body, then reused as a bearer token."""
    api = MockAPI()
    api.handler = _ok
    d = drive(api, **CREDENTIALS)
    for _ in range(3):
        d(lambda c: c.operations.list().to_list())
    token_requests = [r for r in api.requests if str(r.url) == TOKEN_URL]
    assert len(token_requests) == 1
    form = dict(urllib.parse.parse_qsl(token_requests[0].content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "my-client",
        "client_secret": SECRET,
        "scope": "organization",
    }
    assert token_requests[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert all(r.headers["authorization"] == f"Bearer {TOKEN_PREFIX}1" for r in api.api_requests())


def test_refresh_delay_margin() -> None:
    """A token is used for its lifetime minus 30 s, or half of it when the lifetime is short."""
    assert refresh_delay(3600) == 3570
    assert refresh_delay(40) == 20
    assert refresh_delay(60) == 30


def test_token_refreshed_after_its_cached_lifetime() -> None:
    """Once the cached lifetime is over, the next request for a token fetches a new one."""
    api = MockAPI(token_ttl=100)
    now = [0.0]
    auth = CatenaAuth(
        client_id="c",
        client_secret=SECRET,
        auth_url=AUTH_URL,
        transport=api.transport(),
        clock=lambda: now[0],
    )
    first = auth.sync_token()
    now[0] = 69.0
    assert auth.sync_token() == first
    assert api.tokens_issued == 1
    now[0] = 70.5
    second = auth.sync_token()
    assert api.tokens_issued == 2
    assert second != first
    assert second.get() == f"{TOKEN_PREFIX}2"
    assert auth.sync_token(stale=second) != second  # a token the API refused is never handed out again
    assert api.tokens_issued == 3
    auth.close()


def test_401_refreshes_once_and_resends_once(drive: MakeDriver) -> None:
    """A 401 fetches a new token and sends the request once more, even a create."""
    api = MockAPI()
    api.script = [
        httpx.Response(401, json={"code": 401, "message": "Unauthorized"}),
        httpx.Response(202, json=op("pending")),
    ]
    got = drive(api, **CREDENTIALS)(lambda c: c.messages.create(**row()))
    assert got.pending
    sent = api.api_requests()
    assert len(sent) == 2
    assert api.bearers == [f"Bearer {TOKEN_PREFIX}1", f"Bearer {TOKEN_PREFIX}2"]


def test_second_401_raises_authentication_error(drive: MakeDriver) -> None:
    """When the fresh token is refused too, AuthenticationError is raised (no loop)."""
    api = MockAPI()
    api.handler = lambda r: httpx.Response(
        401, json={"code": 401, "message": "Unauthorized", "detail": "bad"}
    )
    with pytest.raises(AuthenticationError):
        drive(api, **CREDENTIALS)(lambda c: c.operations.get(op()["id"], connection_id=CONN))
    assert api.tokens_issued == 2
    assert len(api.api_requests()) == 2


def test_static_token_401_is_not_retried(drive: MakeDriver) -> None:
    """With a static token a 401 raises at once."""
    api = MockAPI()
    api.handler = lambda r: httpx.Response(401, json={"code": 401, "message": "Unauthorized"})
    with pytest.raises(AuthenticationError):
        drive(api, token="static-tok")(lambda c: c.connections.list().to_list())
    assert len(api.requests) == 1
    assert api.tokens_issued == 0


def test_one_token_fetch_for_many_threads() -> None:
    """Threads asking at once share one token fetch."""
    api = MockAPI()
    api.handler = _ok
    gate = threading.Event()
    original = api.__call__

    def slow_tokens(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            gate.wait(5)
            time.sleep(0.02)
        return original(request)

    with CatenaClient(
        base_url=BASE_URL,
        client_id="c",
        client_secret=SECRET,
        auth_url=AUTH_URL,
        transport=httpx.MockTransport(slow_tokens),
    ) as client:
        threads = [threading.Thread(target=lambda: client.operations.list().to_list()) for _ in range(12)]
        for t in threads:
            t.start()
        gate.set()
        for t in threads:
            t.join(30)
    assert api.tokens_issued == 1
    assert len(api.api_requests()) == 12


def test_token_request_retried_on_5xx_429_and_connection_errors(drive: MakeDriver) -> None:
    """The token request is retried on connection errors, 429 and 5xx, with the client's sleep."""
    api = MockAPI()
    api.token_script = [
        httpx.ConnectError("refused"),
        httpx.Response(503, json={"message": "down"}),
        httpx.Response(429, headers={"Retry-After": "1"}, json={}),
    ]
    api.handler = _ok
    d = drive(api, **CREDENTIALS)
    assert len(d(lambda c: c.operations.list().to_list())) == 1
    assert api.tokens_issued == 1
    assert len(d.slept) == 3
    assert d.slept[-1] == 1.0


def test_token_request_failing_for_good_is_not_sent_error(drive: MakeDriver) -> None:
    """When the token cannot be had, the API request was not sent, and the error says so."""
    api = MockAPI()
    api.token_script = [httpx.ConnectError("refused")] * 10
    with pytest.raises(APIConnectionError) as info:
        drive(api, max_retries=2, **CREDENTIALS)(lambda c: c.messages.create(**row()))
    assert "token request" in str(info.value)
    assert not info.value.maybe_sent
    assert api.api_requests() == []


def test_secrets_never_leak(drive: MakeDriver, caplog: pytest.LogCaptureFixture) -> None:
    """Neither the secret nor the token appears in reprs, error texts, tracebacks or debug logs."""
    caplog.set_level(logging.DEBUG)
    api = MockAPI()
    api.script = [httpx.Response(401, json={"message": "Unauthorized"})]
    api.handler = lambda r: httpx.Response(
        401, json={"error": "invalid_client", "error_description": f"bad secret {SECRET}"}
    )
    texts: list[str] = []
    d = drive(api, **CREDENTIALS)
    client = d.client
    with pytest.raises(AuthenticationError) as info:
        d(lambda c: c.operations.get(op()["id"], connection_id=CONN))
    texts += [repr(client), str(client), repr(client._auth), repr(vars(client)), repr(vars(client._auth))]
    texts += [str(info.value), repr(info.value)]
    texts += traceback.format_exception(info.value)
    # the token endpoint refusing the credentials, echoing the secret in its body
    api2 = MockAPI()
    api2.token_script = [httpx.Response(401, json={"error": "invalid_client", "error_description": SECRET})]
    with pytest.raises(AuthenticationError) as info2:
        drive(api2, **CREDENTIALS)(lambda c: c.operations.list().to_list())
    texts += [str(info2.value), info2.value.body, repr(info2.value.detail)]
    texts += traceback.format_exception(info2.value)
    texts += [r.getMessage() for r in caplog.records]
    joined = "\n".join(texts)
    assert SECRET not in joined
    assert TOKEN_PREFIX not in joined
    assert repr(Secret("x")) == "Secret('**********')"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Missing arguments come from the CATENA_* variables; none at all is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        CatenaClient()
    monkeypatch.setenv("CATENA_BASE_URL", BASE_URL)
    monkeypatch.setenv("CATENA_AUTH_URL", AUTH_URL)
    monkeypatch.setenv("CATENA_CLIENT_ID", "env-client")
    monkeypatch.setenv("CATENA_CLIENT_SECRET", SECRET)
    api = MockAPI()
    api.handler = _ok
    with CatenaClient(transport=api.transport()) as client:
        assert client.base_url == BASE_URL
        client.operations.list().to_list()
    assert api.tokens_issued == 1
    monkeypatch.delenv("CATENA_CLIENT_ID")
    monkeypatch.setenv("CATENA_TOKEN", "env-token")
    api2 = MockAPI()
    api2.handler = _ok
    with CatenaClient(transport=api2.transport()) as client:
        client.operations.list().to_list()
    assert api2.bearers == ["Bearer env-token"]


def test_async_client_credentials_and_401_refresh() -> None:
    """The async flow fetches, caches and refreshes the token on a 401 as the sync one does."""
    api = MockAPI()
    api.script = [page([op()]), httpx.Response(401, json={"message": "Unauthorized"}), page([op()])]

    async def main() -> None:
        async with AsyncCatenaClient(
            base_url=BASE_URL,
            client_id="c",
            client_secret=SECRET,
            auth_url=AUTH_URL,
            transport=api.transport(),
        ) as client:
            await asyncio.gather(client.operations.list().to_list(), client.operations.list().to_list())

    asyncio.run(main())
    assert api.tokens_issued == 2
    assert len(api.api_requests()) == 3
