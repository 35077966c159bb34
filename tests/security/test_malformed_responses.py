"""Malformed answers from the API: a typed error with the raw body attached, never a crash or wrong frame."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from catena_nb.client import CatenaClient
from catena_nb.errors import APIStatusError, ResponseValidationError, ServerError
from catena_nb.frames import logs_frame, operations_frame
from catena_nb.models import ResourceOperation
from tests.support.client_mock import BASE_URL, CONN, FAILED_OP, RECIPIENT, SENDER, SUCCESS_OP

GOOD_OP = json.dumps(SUCCESS_OP)
HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>"
)

JSON = "application/json"
# (label, status, body, content type): every body here is wrong for every endpoint below
MALFORMED: list[tuple[str, int, str, str]] = [
    ("empty 200", 200, "", "application/json"),
    ("truncated JSON", 200, GOOD_OP[: len(GOOD_OP) // 2], "application/json"),
    ("JSON null", 200, "null", "application/json"),
    ("JSON array", 200, "[1, 2, 3]", "application/json"),
    ("wrong types", 200, json.dumps({**SUCCESS_OP, "id": 5, "logs": "none", "created_at": [1]}), JSON),
    ("wrong page types", 200, json.dumps({"items": {"id": 1}, "next_page": 7}), "application/json"),
    ("items of the wrong kind", 200, json.dumps({"items": [1, "x", None], "next_page": None}), JSON),
    ("HTML with a 200", 200, HTML_PAGE, "text/html"),
    ("HTML 502", 502, HTML_PAGE, "text/html"),
    ("HTML 503", 503, HTML_PAGE, "text/html"),
    ("empty 500", 500, "", "text/plain"),
    ("truncated error", 422, '{"code": 422, "message": "Valid', "application/json"),
    ("error with wrong types", 404, json.dumps({"code": "x", "message": 5, "detail": {"a": [1]}}), JSON),
    ("binary garbage", 200, "\x00\x01\xff\ufffdgarbage", "application/octet-stream"),
]  # fmt: skip


def _calls() -> dict[str, Callable[[CatenaClient], Any]]:
    msg: dict[str, Any] = {
        "connection_id": CONN,
        "sender_id": SENDER,
        "recipient_id": RECIPIENT,
        "message_text": "hi",
    }
    op_id = SUCCESS_OP["id"]
    return {
        "messages.create sync": lambda c: c.messages.create(**msg, sync=True),
        "messages.create async": lambda c: c.messages.create(**msg),
        "group_messages.create": lambda c: c.group_messages.create(
            connection_id=CONN, sender_id=SENDER, recipient_ids=[RECIPIENT], sync=True
        ),
        "operations.get": lambda c: c.operations.get(op_id, connection_id=CONN),
        "operations.list": lambda c: c.operations.list(connection_id=CONN).to_list(),
        "operations.list pages": lambda c: [p.items for p in c.operations.list(connection_id=CONN).pages()],
        "operations.wait": lambda c: c.operations.wait(
            [ResourceOperation.model_validate({**SUCCESS_OP, "status": "pending"})],
            timeout=5,
            poll_interval=0,
        ),
        "messages.list": lambda c: c.messages.list(connection_id=CONN).to_list(),
        "connections.list": lambda c: c.connections.list().to_list(),
        "connections.get": lambda c: c.connections.get(CONN),
        "users.list": lambda c: c.users.list(connection_id=CONN).to_list(),
    }


CALLS = _calls()


def _client(status: int, body: str, content_type: str) -> tuple[CatenaClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            status,
            content=body.encode("utf-8"),
            headers={"content-type": content_type, "x-request-id": "req-42"},
        )

    client = CatenaClient(
        base_url=BASE_URL,
        token="static-token-for-malformed-tests",
        transport=httpx.MockTransport(handler),
        max_retries=1,
        sleep=lambda _s: None,
        progress=False,
    )
    return client, seen


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize(
    ("label", "status", "body", "content_type"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_answer_gives_a_typed_error_with_the_raw_body(
    call: str, label: str, status: int, body: str, content_type: str
) -> None:
    """Every call meets every malformed body with ResponseValidationError or APIStatusError holding it."""
    client, seen = _client(status, body, content_type)
    with client, pytest.raises((ResponseValidationError, APIStatusError)) as info:
        CALLS[call](client)
    error = info.value
    assert isinstance(error, ResponseValidationError | APIStatusError)
    assert seen, "the call never reached the transport"
    assert error.body == body.encode("utf-8").decode("utf-8", "replace")
    text = str(error)
    assert text
    assert error.status_code == status
    assert error.request_id == "req-42"
    if isinstance(error, APIStatusError):
        assert str(status) in text
    assert "static-token-for-malformed-tests" not in text + repr(error)


def test_a_502_that_is_not_an_operation_is_a_server_error_not_a_result() -> None:
    """A sync send answered 502 with an HTML page raises ServerError (a 502 body must be an operation)."""
    client, _ = _client(502, HTML_PAGE, "text/html")
    with client, pytest.raises(ServerError) as info:
        client.messages.create(connection_id=CONN, sender_id=SENDER, recipient_id=RECIPIENT, sync=True)
    assert info.value.body == HTML_PAGE


def test_the_documented_502_still_returns_the_failed_operation() -> None:
    """The seed page's 502 body is a result: returned as the failed operation, not raised."""
    client, _ = _client(502, json.dumps(FAILED_OP), "application/json")
    with client:
        op = client.messages.create(connection_id=CONN, sender_id=SENDER, recipient_id=RECIPIENT, sync=True)
    assert op.status == "failed"
    assert op.last_error is not None
    assert op.last_error.error_type == "auth"


@pytest.mark.parametrize(
    "page",
    [
        json.dumps({"items": [{**SUCCESS_OP, "logs": None, "unknown_field": {"x": 1}}], "next_page": None}),
        json.dumps({"items": [{**SUCCESS_OP, "status": "quantum", "payload": None}], "next_page": None}),
    ],
    ids=["null logs and unknown fields", "unknown status and null payload"],
)
def test_odd_but_valid_pages_give_a_frame_not_a_crash(page: str) -> None:
    """Unknown fields, unknown enum values and null lists parse, and the frame keeps one row per item."""
    client, _ = _client(200, page, "application/json")
    with client:
        ops = client.operations.list(connection_id=CONN).to_list()
    frame = operations_frame(ops)
    assert len(frame) == 1
    assert frame["operation_id"].iloc[0] == SUCCESS_OP["id"]


@pytest.mark.parametrize(
    "raw", [b"garbage", b'{"items": 5}', b"", b"\x1f\x8b\x00"], ids=["text", "items", "empty", "bytes"]
)
def test_frames_refuse_garbage_pages_with_a_value_or_type_error(raw: bytes) -> None:
    """Raw bytes that are not a page raise ResponseValidationError or TypeError, not AttributeError."""
    for frame in (operations_frame, logs_frame):
        with pytest.raises((ResponseValidationError, TypeError)):
            frame([raw])
