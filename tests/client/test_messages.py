"""`client.messages` and `client.group_messages`, sync and async, against a scripted API: sends and checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from catena_nb.errors import InvalidRequestError, ResponseValidationError, ServerError
from catena_nb.models import OperationStatus
from tests.client.conftest import MakeDriver
from tests.support.client_mock import (
    BASE_URL,
    CONN,
    FAILED_OP,
    RECIPIENT,
    SENDER,
    SUCCESS_OP,
    MockAPI,
    body_of,
    row,
)
from tests.support.drivers import KINDS, Driver
from tests.support.malformed import FIELDS, malformed_requests


def test_sync_create_200_returns_the_successful_operation(drive: MakeDriver) -> None:
    """A sync send answered 200 returns the operation; the body is the validated request."""
    api = MockAPI()
    api.script = [httpx.Response(200, json=SUCCESS_OP)]
    got = drive(api)(lambda c: c.messages.create(**row(priority="low"), sync=True))
    assert got.succeeded
    assert got.resource_id == SUCCESS_OP["resource_id"]
    request = api.requests[0]
    assert request.method == "POST"
    assert request.url.path == "/v2/telematics/messages"
    assert request.url.params["is_sync"] == "true"
    assert body_of(request) == {
        "connection_id": CONN,
        "sender_id": SENDER,
        "recipient_id": RECIPIENT,
        "message_text": "hi",
        "priority": "low",
    }


def test_async_create_202_returns_pending(drive: MakeDriver) -> None:
    """An async send answered 202 returns the pending operation."""
    api = MockAPI()
    api.script = [httpx.Response(202, json={**SUCCESS_OP, "status": "pending", "resource_id": None})]
    got = drive(api)(lambda c: c.messages.create(**row()))
    assert got.pending
    assert got.status is OperationStatus.PENDING
    assert api.requests[0].url.params["is_sync"] == "false"


def test_sync_create_502_returns_the_failed_operation(drive: MakeDriver) -> None:
    """A 502 whose body is an operation is a result: the failed operation is returned, not raised."""
    api = MockAPI()
    api.script = [httpx.Response(502, json=FAILED_OP)]
    got = drive(api)(lambda c: c.messages.create(**row(), sync=True))
    assert got.failed
    assert got.last_error is not None
    assert got.last_error.error_type == "auth"


def test_502_without_an_operation_is_a_server_error(drive: MakeDriver) -> None:
    """A 502 whose body is not an operation raises ServerError with the raw body."""
    api = MockAPI()
    api.script = [httpx.Response(502, text="<html>Bad Gateway</html>", headers={"X-Request-ID": "r-502"})]
    with pytest.raises(ServerError) as info:
        drive(api)(lambda c: c.messages.create(**row(), sync=True))
    assert info.value.status_code == 502
    assert info.value.request_id == "r-502"
    assert info.value.body == "<html>Bad Gateway</html>"


def test_2xx_body_that_does_not_parse(drive: MakeDriver) -> None:
    """A 200 whose body is not an operation raises ResponseValidationError with the body attached."""
    api = MockAPI()
    api.script = [httpx.Response(200, json={"id": 1, "weird": True})]
    with pytest.raises(ResponseValidationError) as info:
        drive(api)(lambda c: c.messages.create(**row(), sync=True))
    assert '"weird"' in info.value.body


def test_one_client_answers_200_202_and_502_in_turn(drive: MakeDriver) -> None:
    """On one client, a 200, a 202 and a 502 with an operation return operations; a bare 502 raises."""
    api = MockAPI()
    api.script = [
        httpx.Response(200, json=SUCCESS_OP),
        httpx.Response(202, json={**SUCCESS_OP, "status": "pending"}),
        httpx.Response(502, json=FAILED_OP),
        httpx.Response(502, text="bad gateway"),
    ]
    d = drive(api)
    ok = d(lambda c: c.messages.create(**row(), sync=True))
    pending = d(lambda c: c.messages.create(**row()))
    failed = d(lambda c: c.messages.create(**row(), sync=True))
    with pytest.raises(ServerError):
        d(lambda c: c.messages.create(**row(), sync=True))
    with pytest.raises(InvalidRequestError):
        d(lambda c: c.messages.create(**{**row(), "sender_id": "x"}))
    assert (ok.succeeded, pending.pending, failed.failed) == (True, True, True)
    assert len(api.requests) == 4


def test_group_message_create(drive: MakeDriver) -> None:
    """A group message goes to its own path with its recipients list (any iterable of ids)."""
    api = MockAPI()
    api.script = [httpx.Response(202, json={**SUCCESS_OP, "resource": "group_message", "status": "pending"})]
    got = drive(api)(
        lambda c: c.group_messages.create(connection_id=CONN, sender_id=SENDER, recipient_ids=(RECIPIENT,))
    )
    assert got.resource == "group_message"
    assert api.requests[0].url.path == "/v2/telematics/group-messages"
    assert body_of(api.requests[0])["recipient_ids"] == [RECIPIENT]


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=malformed_requests())
def test_malformed_requests_never_reach_the_server(kind: str, fields: dict[str, Any]) -> None:
    """200 malformed requests raise InvalidRequestError (or become invalid rows); none reaches the server."""
    api = MockAPI()
    with Driver(kind, base_url=BASE_URL, token="tok", transport=api.transport(), progress=False) as d:
        if set(fields) <= set(FIELDS):
            with pytest.raises(InvalidRequestError):
                d(lambda c: c.messages.create(**fields, sync=True))
        batch = d(lambda c: c.messages.create_many([fields]))
        assert batch.counts["invalid"] == 1
        assert batch.sent == 0
    assert api.requests == []
