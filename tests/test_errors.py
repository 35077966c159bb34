"""The error tree: the mapping from status codes, and what each error says."""

from __future__ import annotations

import json

import pytest

from catena_nb import errors
from catena_nb.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    CatenaError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
    status_error,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, APIStatusError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (504, ServerError),
    ],
)
def test_status_maps_to_its_class(status: int, cls: type[APIStatusError]) -> None:
    """Each status code maps to its error class, all under APIStatusError and CatenaError."""
    body = json.dumps({"code": status, "message": "Some Message", "detail": "the detail"})
    err = status_error(status, body, request_id="req-1", method="GET", url="/v2/x")
    assert type(err) is cls
    assert isinstance(err, CatenaError)
    assert err.status_code == status
    assert err.request_id == "req-1"
    assert err.message == "Some Message"
    assert err.detail == "the detail"
    assert err.body == body
    assert err.headers == {}
    text = str(err)
    assert str(status) in text
    assert "req-1" in text
    assert "GET /v2/x" in text
    assert "the detail" in text


def test_422_detail_in_the_documented_shape() -> None:
    """A 422 with the documented detail list names each field in its text and in `.field_errors`."""
    body = json.dumps(
        {
            "code": 422,
            "message": "Invalid Request Body",
            "detail": [
                {"path": "sender_id", "input": "x", "message": "not a uuid", "error_type": "uuid_parsing"},
                {"path": "priority", "input": "urgent", "message": "bad enum", "error_type": "enum"},
            ],
        }
    )
    err = status_error(422, body)
    assert isinstance(err, ValidationError)
    assert [e["field"] for e in err.field_errors] == ["sender_id", "priority"]
    assert "sender_id: not a uuid" in str(err)
    assert "priority: bad enum" in str(err)


def test_422_detail_in_fastapi_shape() -> None:
    """A 422 in FastAPI's `{loc, msg, type}` shape is read too, without the location word."""
    body = json.dumps(
        {"detail": [{"loc": ["body", "recipient_id"], "msg": "Field required", "type": "missing"}]}
    )
    err = status_error(422, body)
    assert err.field_errors == [
        {"field": "recipient_id", "message": "Field required", "input": None, "error_type": "missing"}
    ]
    assert "recipient_id: Field required" in str(err)


def test_429_carries_retry_after() -> None:
    """A 429 keeps the wait hint and says it."""
    body = json.dumps({"code": 429, "message": "Too Many Requests", "detail": {"retry_after_seconds": 7}})
    err = status_error(429, body, retry_after=7)
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 7
    assert "Retry after 7 s" in str(err)


def test_500_without_code_and_non_json_bodies() -> None:
    """A bare `{"message"}` 500 and a non-JSON body both make readable errors."""
    err = status_error(500, json.dumps({"message": "Internal Server Error"}))
    assert isinstance(err, ServerError)
    assert err.message == "Internal Server Error"
    assert err.detail is None
    html = status_error(503, "<html>upstream down</html>")
    assert "upstream down" in str(html)
    assert html.body == "<html>upstream down</html>"


def test_token_endpoint_error_shape() -> None:
    """Keycloak's `{error, error_description}` is read as message and detail."""
    body = json.dumps({"error": "invalid_client", "error_description": "Invalid client credentials"})
    err = status_error(401, body)
    assert err.message == "invalid_client"
    assert err.detail == "Invalid client credentials"
    assert "Check the token" in str(err)


def test_invalid_request_error_is_a_value_error() -> None:
    """InvalidRequestError is both a CatenaError and a ValueError, and lists the bad fields."""
    err = InvalidRequestError([{"field": "a", "message": "bad", "input": 1}])
    assert isinstance(err, ValueError)
    assert isinstance(err, CatenaError)
    assert err.fields == ["a"]
    assert "a: bad" in str(err)
    assert "nothing was sent" in str(err)


def test_connection_error_tree() -> None:
    """APITimeoutError is an APIConnectionError; `maybe_sent` says whether a resend is safe."""
    err = APITimeoutError("timed out", method="GET", url="/v2/x", maybe_sent=False)
    assert isinstance(err, APIConnectionError)
    assert not err.maybe_sent
    assert "GET /v2/x" in str(err)


def test_wait_timeout_is_a_timeout_error() -> None:
    """WaitTimeoutError is a TimeoutError naming what is still pending."""
    err = WaitTimeoutError(5, ["a", "b"], ["a", "b", "c"])
    assert isinstance(err, TimeoutError)
    assert "2 of 3" in str(err)
    assert err.pending == ["a", "b"]


def test_module_exports_every_error() -> None:
    """Every error class is listed in the module's `__all__`."""
    classes = {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, CatenaError)}
    assert classes <= set(errors.__all__)
