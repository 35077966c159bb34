"""A scripted Catena API on `httpx.MockTransport`, for the client's unit tests."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

CONN = "019ddd87-eedd-710f-967c-1c6cc72ac985"
SENDER = "f9c7ee1c-2e16-5858-9b7e-ff7c89a4dd04"
RECIPIENT = "b224f322-b3d2-57e0-b245-cda313f68a1d"
PARTNER = "9df92c50-d8a7-460e-aab2-a93f1de9280a"
AUTH_URL = "http://auth.test/realms/catena"
BASE_URL = "http://api.test"
TOKEN_URL = AUTH_URL + "/protocol/openid-connect/token"
SECRET = "sup3r-s3cret-value"
TOKEN_PREFIX = "eyJ-token-value-"

# the 502 example of the seed page "Sync Write Operations"
FAILED_OP: dict[str, Any] = {
    "id": "019df22e-f255-7a7c-b1d7-59f509071b6d",
    "created_at": "2026-05-04T08:51:01.487639Z",
    "updated_at": "2026-05-04T08:51:02.179210Z",
    "deleted_at": None,
    "partner_id": PARTNER,
    "connection_id": CONN,
    "resource": "message",
    "resource_id": None,
    "source_id": None,
    "operation_type": "create",
    "payload": {"priority": "low", "sender_id": SENDER, "recipient_id": RECIPIENT},
    "status": "failed",
    "logs": [
        {
            "id": "019df22f-093f-7949-908d-d5564941fdbe",
            "created_at": "2026-05-04T08:51:02.079501Z",
            "updated_at": "2026-05-04T08:51:02.079501Z",
            "resource_operation_id": "019df22e-f255-7a7c-b1d7-59f509071b6d",
            "status": "failed",
            "error_type": "auth",
            "error_details": "Client error '401 Unauthorized' for url 'https://api.samsara.com/v1/fleet/messages'",
        }
    ],
}
# the 200 example of the same page
SUCCESS_OP: dict[str, Any] = {
    **FAILED_OP,
    "id": "019df230-a1b2-7890-cdef-1234567890ab",
    "resource_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "source_id": "98765432",
    "status": "success",
    "logs": [],
}


def op(status: str = "success", **fields: Any) -> dict[str, Any]:
    """A lookup-shaped operation with a fresh id."""
    base = copy.deepcopy(SUCCESS_OP if status != "failed" else FAILED_OP)
    base.pop("deleted_at", None)
    base.update({"id": str(uuid.uuid4()), "status": status, "source_name": "samsara", "fleet_ref": "F1"})
    base.update(fields)
    return base


def row(**fields: Any) -> dict[str, Any]:
    """A valid message row."""
    return {
        "connection_id": CONN,
        "sender_id": SENDER,
        "recipient_id": RECIPIENT,
        "message_text": "hi",
        **fields,
    }


Handler = Callable[[httpx.Request], httpx.Response]

# What `create_many` looks up before sending (a connection, then its TSP), to warn about a TSP that takes no
# message writes.
_PRECHECK = re.compile(r"^/v2/integrations/(connections/[0-9a-f-]{36}|tsps(/[0-9a-f-]{36})?)$")


class MockAPI:
    """Routes requests to `handlers` by (method, path prefix); serves tokens; counts and keeps requests.

    The lookups of a connection and of a TSP that `create_many` makes before sending are answered apart
    (from `directory`, a path -> JSON map; 404 for any other) and kept in `directory_requests`, so that
    `requests`, `counts`, `script` and `handler` see the sends alone. A test of those lookups themselves
    sets `intercept_directory = False`.
    """

    def __init__(self, *, token_ttl: int = 3600) -> None:
        self.intercept_directory = True
        self.directory: dict[str, Any] = {}
        self.directory_requests: list[httpx.Request] = []
        self.requests: list[httpx.Request] = []
        self.counts: Counter[str] = Counter()
        self.tokens_issued = 0
        self.token_ttl = token_ttl
        self.token_script: list[httpx.Response | Exception] = []
        self.script: list[httpx.Response | Exception] = []  # answers to API requests, in order, first
        self.handler: Handler | None = None
        self.bearers: list[str | None] = []  # the Authorization header of each API request, as sent

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.intercept_directory and request.method == "GET" and _PRECHECK.match(request.url.path):
            self.directory_requests.append(request)
            found = self.directory.get(request.url.path)
            if found is None:
                return httpx.Response(404, json={"code": 404, "message": "Not Found", "detail": None})
            return httpx.Response(200, json=found)
        self.requests.append(request)
        key = f"{request.method} {request.url.path}"
        self.counts[key] += 1
        if str(request.url).startswith(TOKEN_URL):
            if self.token_script:
                answer = self.token_script.pop(0)
                if isinstance(answer, Exception):
                    raise answer
                return answer
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"{TOKEN_PREFIX}{self.tokens_issued}",
                    "expires_in": self.token_ttl,
                    "token_type": "Bearer",
                },
            )
        self.bearers.append(request.headers.get("authorization"))
        if self.script:
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if self.handler is not None:
            return self.handler(request)
        return httpx.Response(404, json={"code": 404, "message": "Not Found", "detail": None})

    def api_requests(self) -> list[httpx.Request]:
        """The requests that were not token requests."""
        return [r for r in self.requests if not str(r.url).startswith(TOKEN_URL)]


def page(items: list[dict[str, Any]], next_page: str | None = None) -> httpx.Response:
    """A cursor page answer."""
    return httpx.Response(200, json={"items": items, "next_page": next_page})


def body_of(request: httpx.Request) -> Any:
    """The JSON body of a request."""
    return json.loads(request.content)


def paged_handler(items: list[dict[str, Any]], seen: list[httpx.Request]) -> Handler:
    """Serves `items` in pages of the request's `size`, the cursor being the index of the next item."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        size = int(request.url.params["size"])
        start = int(request.url.params.get("cursor", "0"))
        chunk = items[start : start + size]
        nxt = str(start + size) if start + size < len(items) else None
        return page(chunk, nxt)

    return handler
