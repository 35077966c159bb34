"""How either client turns an error answer into a typed error: the request id, the detail, the hints."""

from __future__ import annotations

import httpx
import pytest

from catena_nb.errors import NotFoundError, RateLimitError, ValidationError
from tests.client.conftest import MakeDriver
from tests.support.client_mock import CONN, FAILED_OP, MockAPI, row


def test_error_statuses_carry_request_id_and_detail(drive: MakeDriver) -> None:
    """A 404 and a 422 raise their classes with the request id and the server's detail."""
    api = MockAPI()
    api.script = [
        httpx.Response(404, headers={"X-Request-ID": "abc"}, json={"code": 404, "message": "Not Found"}),
        httpx.Response(
            422,
            json={
                "code": 422,
                "message": "Invalid Request Body",
                "detail": [
                    {"path": "recipient_id", "input": "x", "message": "unknown user", "error_type": "v"}
                ],
            },
        ),
    ]
    d = drive(api)
    with pytest.raises(NotFoundError) as nf:
        d(lambda c: c.operations.get(FAILED_OP["id"], connection_id=CONN))
    with pytest.raises(ValidationError) as ve:
        d(lambda c: c.messages.create(**row()))
    assert nf.value.request_id == "abc"
    assert "(request id abc)" in str(nf.value)
    assert ve.value.field_errors[0]["field"] == "recipient_id"


def test_rate_limit_error_keeps_response_headers(drive: MakeDriver) -> None:
    """A refused create's error keeps the response headers (rate-limit hints) and the server's wait."""
    api = MockAPI()
    api.script = [
        httpx.Response(
            429,
            headers={"X-RateLimit-Remaining": "0", "Retry-After": "4", "X-Request-ID": "r1"},
            json={"code": 429, "message": "Too Many Requests"},
        )
    ]
    with pytest.raises(RateLimitError) as info:
        drive(api)(lambda c: c.messages.create(**row()))
    assert info.value.retry_after == 4.0
    assert info.value.headers["x-ratelimit-remaining"] == "0"
    assert info.value.request_id == "r1"
