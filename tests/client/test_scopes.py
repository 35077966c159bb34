"""A credential without a route's scope: `PermissionDeniedError` names the scope and says it must be granted,
for the lookups, a send and the directory, with either client against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from catena_nb.errors import PermissionDeniedError
from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.api.tokens import ROUTE_SCOPES
from tests.client.conftest import MakeDriver
from tests.support.client_mock import MockAPI
from tests.support.drivers import Driver
from tests.support.sandbox import message_body


def _without(*scopes: str) -> list[str]:
    return [s for s in ROUTE_SCOPES if s not in scopes]


@pytest.fixture(scope="module")
def no_lookups() -> Iterator[Sandbox]:
    """A sandbox whose credentials lack resource_operation:read, telematics:write and connection:read."""
    scopes = _without("resource_operation:read", "telematics:write", "connection:read")
    with Sandbox(seed=7, tsp_latency=0.0, time_scale=0.001, scopes=scopes) as sandbox:
        yield sandbox


@pytest.fixture
def d(no_lookups: Sandbox, kind: str) -> Iterator[Driver]:
    """A client of that sandbox on its client credentials (the token request asks for scope=organization)."""
    sb = no_lookups
    with Driver(
        kind,
        base_url=sb.url,
        auth_url=sb.auth_url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        progress=False,
    ) as driver:
        yield driver


def _says_grant(exc: PermissionDeniedError, scope: str) -> None:
    assert exc.status_code == 403
    assert exc.missing_scope == scope
    assert f"lack the OAuth scope {scope}: they must be granted it" in str(exc)


def test_operations_list_and_get_name_the_missing_scope(d: Driver, no_lookups: Sandbox) -> None:
    """operations.list(...) and operations.get(...) raise PermissionDeniedError naming
    resource_operation:read."""
    conn = no_lookups.connections[0].id
    with pytest.raises(PermissionDeniedError) as listed:
        d(lambda c: c.operations.list(connection_id=conn).to_list())
    _says_grant(listed.value, "resource_operation:read")
    with pytest.raises(PermissionDeniedError) as got:
        d(lambda c: c.operations.get("01a175a7-8c18-7589-8dd7-43af056d9095", connection_id=conn))
    _says_grant(got.value, "resource_operation:read")


def test_a_send_without_telematics_write(d: Driver, no_lookups: Sandbox) -> None:
    """messages.create raises PermissionDeniedError naming telematics:write; nothing is created."""
    before = no_lookups.state.operation_count()
    with pytest.raises(PermissionDeniedError) as sent:
        d(lambda c: c.messages.create(**message_body(no_lookups), sync=True))
    _says_grant(sent.value, "telematics:write")
    assert no_lookups.state.operation_count() == before


def test_the_directory_without_connection_read(d: Driver) -> None:
    """connections.list() raises PermissionDeniedError naming connection:read; the TSPs (no scope) list."""
    with pytest.raises(PermissionDeniedError) as listed:
        d(lambda c: c.connections.list().to_list())
    _says_grant(listed.value, "connection:read")
    assert d(lambda c: c.tsps.list().to_list())


def test_a_403_that_names_no_scope_keeps_the_generic_hint(drive: MakeDriver) -> None:
    """A 403 whose detail names no scope says the credentials lack access, and names no scope."""
    api = MockAPI()
    api.handler = lambda request: httpx.Response(
        403, json={"code": 403, "message": "Forbidden", "detail": None}
    )
    d = drive(api)
    with pytest.raises(PermissionDeniedError) as denied:
        d(lambda c: c.operations.list().to_list())
    assert denied.value.missing_scope is None
    assert "The credentials lack access to this resource or connection" in str(denied.value)
    assert "scope" not in str(denied.value)
