"""Keycloak-style token and revoke endpoints, and the bearer and scope check of every ``/v2`` route.

Each route declares the scope its path's ``security`` names in Catena's specs (``needs("telematics:write")``);
a token without it gets a 403 with the ``Forbidden`` body. The OpenAPI document lists the same scopes under
an OAuth2 scheme named ``Bearer``, as Catena's do.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qs, unquote

from fastapi import APIRouter, Request, Security
from fastapi.params import Depends
from fastapi.responses import JSONResponse, Response
from fastapi.security import OAuth2, SecurityScopes

from catena_nb.sandbox.api.context import Ctx, get_ctx
from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.schemas import COMMON_ERRORS, error_responses
from catena_nb.sandbox.api.tokens import REQUEST_SCOPE, ROUTE_SCOPES, expires_in

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
    if scope is None or scope.split() != [REQUEST_SCOPE]:
        # assumed: a request without scope=organization (required by specs/authentication/openapi.json) is
        # refused with Keycloak's 400 invalid_scope body; the spec gives no error for it.
        given = scope or "(none)"
        return _oauth_error(
            400, "invalid_scope", f"Invalid scopes: {given}; the request must ask for scope=organization"
        )
    access_token, lifetime = ctx.tokens.issue()
    return JSONResponse(
        {
            "access_token": access_token,
            "expires_in": expires_in(lifetime),
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            # what the client was granted, as the spec's example lists it ("fleet:read ... telematics:read")
            "scope": ctx.tokens.scope,
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


_bearer_scheme = OAuth2(
    flows={
        "clientCredentials": {
            "tokenUrl": TOKEN_PATH,
            "scopes": {scope: f"Required by the routes that list {scope}" for scope in ROUTE_SCOPES},
        }
    },
    scheme_name="Bearer",
    description="The access token from the token endpoint, as `Authorization: Bearer <token>`.",
    auto_error=False,
)


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def require_token(
    request: Request,
    security_scopes: SecurityScopes,
    authorization: Annotated[str | None, Security(_bearer_scheme)],
) -> None:
    """Let a request through only with a valid bearer token that carries the route's scopes.

    Raises:
        APIError: 401 with the documented body when the token is missing, unknown, revoked or expired;
            403 with the ``Forbidden`` body, naming the scope, when the token lacks one the route requires.
    """
    ctx = get_ctx(request)
    token = _bearer(authorization)
    # assumed: the 401's detail texts and WWW-Authenticate headers (the specs give the Unauthorized body,
    # {code, message, detail}, but no detail text)
    if token is None:
        raise APIError(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    if not ctx.tokens.valid(token):
        raise APIError(
            401,
            "Invalid or expired token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    granted = ctx.tokens.scopes_of(token)
    missing = [scope for scope in security_scopes.scopes if scope not in granted]
    if missing:
        # assumed: the 403's detail names the missing scope in these words (the specs give the Forbidden body,
        # {code, message, detail}, but no detail text)
        raise APIError(
            403,
            f"Missing required scope: {missing[0]}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(missing)}"'},
        )


def needs(*scopes: str) -> Depends:
    """The dependency of a route that requires a bearer token with ``scopes`` (its path's ``security``)."""
    dependency: Depends = Security(require_token, scopes=list(scopes))
    return dependency


def bearer_router(tag: str) -> APIRouter:
    """A router for ``/v2`` routes: each names the scope it needs (``needs``), and may answer the common
    errors, a 403 among them."""
    return APIRouter(tags=[tag], responses={**COMMON_ERRORS, **error_responses(403)})


def open_router(tag: str) -> APIRouter:
    """A router for routes whose path lists no ``security`` in the specs: no token is asked for."""
    return APIRouter(tags=[tag], responses=COMMON_ERRORS)
