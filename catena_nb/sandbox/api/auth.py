"""Keycloak-style token and revoke endpoints, and the bearer check every ``/v2`` route depends on."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qs, unquote

from fastapi import APIRouter, Depends, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from catena_nb.sandbox.api.context import Ctx, get_ctx
from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.schemas import COMMON_ERRORS
from catena_nb.sandbox.api.tokens import GRANTED_SCOPE, expires_in

REALM_PREFIX = "/realms/catena"
TOKEN_PATH = REALM_PREFIX + "/protocol/openid-connect/token"
REVOKE_PATH = REALM_PREFIX + "/protocol/openid-connect/revoke"

router = APIRouter(tags=["OAuth 2.0"])


def _form_body(properties: dict[str, dict[str, Any]], required: str) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that reads an ``application/x-www-form-urlencoded`` body."""
    schema = {"type": "object", "properties": properties, "required": [required]}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


_STRING = {"type": "string"}
_TOKEN_FORM = _form_body(
    {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": _STRING,
        "client_secret": _STRING,
        "scope": _STRING,
    },
    required="grant_type",
)
_REVOKE_FORM = _form_body(
    {"token": _STRING, "client_id": _STRING, "client_secret": _STRING}, required="token"
)


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand: FastAPI's Form() would need python-multipart for a four-field body.
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """Credentials from the form, or from HTTP Basic auth (Keycloak accepts both)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


@router.post(TOKEN_PATH, openapi_extra=_TOKEN_FORM, summary="Get Token")
async def token(request: Request, ctx: Ctx) -> Response:
    """Exchange client credentials for a bearer token (OAuth 2.0 client credentials grant)."""
    form = await _form(request)
    grant = form.get("grant_type")
    if not grant:
        return _oauth_error(400, "invalid_request", "Missing form parameter: grant_type")
    client_id, secret = _client_credentials(request, form)
    if not ctx.tokens.check_client(client_id, secret):
        return _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
    scope = form.get("scope")
    if scope is not None and any(s not in GRANTED_SCOPE.split() for s in scope.split()):
        return _oauth_error(400, "invalid_scope", f"Invalid scopes: {scope}")
    access_token, lifetime = ctx.tokens.issue()
    return JSONResponse(
        {
            "access_token": access_token,
            "expires_in": expires_in(lifetime),
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": GRANTED_SCOPE,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.post(REVOKE_PATH, openapi_extra=_REVOKE_FORM, summary="Revoke Token")
async def revoke(request: Request, ctx: Ctx) -> Response:
    """Revoke a token; later requests carrying it get 401."""
    form = await _form(request)
    client_id, secret = _client_credentials(request, form)
    if not ctx.tokens.check_client(client_id, secret):
        return _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
    if not form.get("token"):
        return _oauth_error(400, "invalid_request", "Missing form parameter: token")
    ctx.tokens.revoke(form["token"])
    return Response(status_code=200)


_bearer_scheme = HTTPBearer(auto_error=False, description="The access token from the token endpoint.")


async def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer_scheme)],
) -> None:
    """Let a request through only with a valid bearer token.

    Raises:
        APIError: 401 with the documented body when the token is missing, unknown, revoked or expired.
    """
    ctx = get_ctx(request)
    if credentials is None:
        raise APIError(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    if not ctx.tokens.valid(credentials.credentials):
        raise APIError(
            401,
            "Invalid or expired token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


def bearer_router(tag: str) -> APIRouter:
    """A router for ``/v2`` routes: each needs a bearer token and may answer the common errors."""
    return APIRouter(tags=[tag], dependencies=[Depends(require_token)], responses=COMMON_ERRORS)
