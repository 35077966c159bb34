"""The sandbox's FastAPI app: every route of the Catena API it reproduces, behind the fault injector.

``create_app(ctx)`` builds the FastAPI app; ``serve_app(ctx, injector, costs)`` wraps it in the request
counter, the API's costs and the fault injector, which is what the server runs.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from catena_nb.sandbox.api import auth, connections, messages, operations, tsps, users, webhooks
from catena_nb.sandbox.api.context import RequestCounter, SandboxContext
from catena_nb.sandbox.api.costs import ApiCosts, CostMiddleware
from catena_nb.sandbox.api.errors import install_error_handlers
from catena_nb.sandbox.api.faults import FaultInjector, FaultMiddleware

OPENAPI_PATH = "/openapi.json"

# The operations list route must come before /connections/{connection_id}, which would otherwise claim it.
_ROUTERS = (
    auth.router,
    messages.router,
    operations.router,
    connections.router,
    tsps.router,
    users.router,
    webhooks.router,
)

_DESCRIPTION = """A local stand-in for the Catena Telematics API with simulated TSPs.

Tokens come from the Keycloak-style endpoint under `/realms/catena` (with `scope=organization`); every `/v2`
route but the TSP list needs `Authorization: Bearer <token>` whose token carries the scope the route names."""


def create_app(ctx: SandboxContext) -> FastAPI:
    """The FastAPI app serving the sandbox's routes over ``ctx``.

    Args:
        ctx: the store, engine and tokens the routes use.

    Returns:
        The app (its OpenAPI document is served at ``/openapi.json``).
    """
    app = FastAPI(
        title="Catena Telematics API (sandbox)",
        version="2.0.1-sandbox",
        description=_DESCRIPTION,
        openapi_url=OPENAPI_PATH,
        docs_url=None,  # the interactive docs would load scripts from a CDN
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    for router in _ROUTERS:
        app.include_router(router)
    return app


class RequestCountingMiddleware:
    """Counts every request per (method, route path) before anything can reject it."""

    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter
        self.routes: list[BaseRoute] = [route for router in _ROUTERS for route in router.routes]

    def _route(self, scope: Scope) -> str:
        partial = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", scope["path"]))
            if match is Match.PARTIAL and partial is None:
                partial = str(getattr(route, "path", scope["path"]))
        return partial or scope["path"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counter.add(scope["method"], self._route(scope))
        await self.app(scope, receive, send)


def _exempt(path: str) -> bool:
    return path == OPENAPI_PATH


def serve_app(
    ctx: SandboxContext, injector: FaultInjector | None = None, costs: ApiCosts | None = None
) -> ASGIApp:
    """The ASGI callable to serve: the app over ``ctx`` behind the request counter, the API's costs (latency
    and listing rate limits, when given) and the fault injector."""
    app = create_app(ctx)
    inner: ASGIApp = app if injector is None else FaultMiddleware(app, injector, _exempt)
    if costs is not None:
        inner = CostMiddleware(inner, costs, _exempt)
    return RequestCountingMiddleware(inner, ctx.requests)
