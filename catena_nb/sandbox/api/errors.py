"""Error bodies exactly as the real API writes them (catena-api.md §3), and the handlers that produce them.

``{"code": N, "message": "<reason>", "detail": ...}`` for every status except 500, which is
``{"message": "Internal Server Error"}``; a 422's detail lists every bad field as
``{path, input, message, error_type}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

REASONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Invalid Request Body",
    429: "Too Many Requests",
    501: "Not Implemented",
    504: "Gateway Timeout",
}


class APIError(Exception):
    """An error answer of the API: raise it in a route and the handler renders the §3 body."""

    def __init__(self, status: int, detail: Any = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def error_body(status: int, detail: Any = None) -> dict[str, Any]:
    """The JSON body of an error answer with this status."""
    if status == 500:
        return {"message": "Internal Server Error"}
    return {"code": status, "message": REASONS.get(status, "Error"), "detail": detail}


def error_response(status: int, detail: Any = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error answer with the documented body."""
    return JSONResponse(error_body(status, detail), status_code=status, headers=headers)


def field_error(path: str, value: Any, message: str, error_type: str) -> dict[str, str]:
    """One entry of a 422's ``detail`` list."""
    return {"path": path, "input": _as_input(value), "message": message, "error_type": error_type}


def validation_error(errors: Sequence[dict[str, str]]) -> APIError:
    """A 422 naming every bad field."""
    return APIError(422, list(errors))


def _as_input(value: Any) -> str:
    # ValidationErrorDetail.input is a string in the published schema, whatever the client sent.
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def _from_pydantic(err: dict[str, Any]) -> dict[str, str]:
    loc = [str(part) for part in err.get("loc", ())]
    value = err.get("input")
    if err.get("type") == "missing":
        value = None  # pydantic gives the whole enclosing object as the input of a missing field
    return field_error(".".join(loc), value, str(err.get("msg", "")), str(err.get("type", "")))


async def _answer(_: Request, exc: Exception) -> Response:
    """The documented answer to any error a route, FastAPI's validation or Starlette's routing raised."""
    if isinstance(exc, APIError):
        return error_response(exc.status, exc.detail, exc.headers)
    if isinstance(exc, RequestValidationError):
        return error_response(422, [_from_pydantic(dict(e)) for e in exc.errors()])
    if isinstance(exc, StarletteHTTPException) and exc.status_code < 500:
        detail: Any = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No route matches this path"
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = "This route does not accept this method"
        return error_response(exc.status_code, detail, dict(exc.headers or {}))
    return error_response(500)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app can answer carry the documented body."""
    for kind in (APIError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, _answer)
