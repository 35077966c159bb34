"""The bodies of the simulated TSPs' error answers, each in its TSP's own style and with its own ids.

Real TSPs answer errors with JSON bodies that carry a request id, the user or driver in question, the field
value at fault and often an error code of their own, so the same cause shows under many texts. Each body
here is a pure function of the call's 64-bit draw ``n`` (the same bits that make the ``request_id_header``),
so texts are deterministic from the seed and choose nothing else: outcomes, counts and timings are what
they would be with fixed texts.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# assumed: the shapes of the TSPs' error bodies. Samsara documents {"message", "requestId"}; Geotab's API is
# JSON-RPC, whose errors carry an exception name; Motive and Omnitracs bodies are made up in the same vein.
_GEOTAB_EXCEPTIONS = {
    401: "InvalidUserException",
    403: "InvalidPermissionsException",
    400: "ArgumentException",
    422: "ArgumentException",
    429: "OverLimitException",
}
_SERVER_MESSAGES = (
    "Service temporarily unavailable",
    "Upstream timeout after {ms} ms",
    "Internal error, reference {ref}",
)
_CODES = {401: "AUTH", 403: "FORBIDDEN", 400: "INVALID", 422: "INVALID", 429: "RATE_LIMITED"}


def _uuid(n: int, salt: str) -> str:
    h = hashlib.blake2b(f"{salt}\x1f{n}".encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def driver_ref(n: int) -> str:
    """A TSP-side driver id named in an error (six or seven digits)."""
    return str(100_000 + (n >> 24) % 4_900_000)


def user_ref(n: int) -> str:
    """A TSP-side user id (a dispatcher or API user) named in an error."""
    return str(10_000 + (n >> 8) % 90_000)


def validation_reason(reason: int, n: int) -> str:
    """The TSP's words for a rejected recipient or sender, naming the ids."""
    driver = driver_ref(n)
    return (
        f"recipient driver {driver} is deactivated",
        f"recipient {driver} has no active device",
        f"sender {user_ref(n)} is not permitted to message driver {driver}",
    )[reason]


def default_message(code: int, n: int) -> str:
    """What a TSP says with a status when no rule of the call explains it."""
    if code == 401:
        return ("Invalid API token", "Authentication failed")[n % 2]
    if code == 403:
        return f"user {user_ref(n)} is not allowed to send messages"
    if code == 429:
        return f"rate limit exceeded: {5 * (2 + n % 18)} requests per second"
    template = _SERVER_MESSAGES[(n >> 4) % len(_SERVER_MESSAGES)]
    return template.format(ms=1000 * (5 + (n >> 12) % 56), ref=f"{(n >> 32) & 0xFFFFFF:08d}")


def url(slug: str, messages_url: str, n: int) -> str:
    """The URL the call went to: Omnitracs posts to the driver's path, Motive names the driver in the query;
    the others post to one endpoint."""
    if slug == "omnitracs":
        return messages_url.replace("/messages", f"/drivers/{driver_ref(n)}/messages")
    if slug == "motive":
        return f"{messages_url}?driver_id={driver_ref(n)}"
    return messages_url


def body(slug: str, code: int, message: str, n: int) -> str:
    """The JSON body a TSP answers an error status with, in its style, with its request id."""
    data: dict[str, Any]
    if slug == "geotab":
        name = _GEOTAB_EXCEPTIONS.get(code, "DbUnavailableException")
        data = {
            "error": {
                "code": -32000,
                "message": message,
                "name": "JSONRPCError",
                "errors": [{"name": name, "message": message}],
            },
            "requestIndex": n % 1000,
        }
    elif slug == "motive":
        data = {
            "error_code": _CODES.get(code, "SERVER_ERROR"),
            "message": message,
            "request_id": _uuid(n, "m"),
        }
    elif slug == "omnitracs":
        # the code names the kind of error, as a TSP's own codes do; the correlation id is the call's
        data = {"errorCode": f"OMN-{code}", "errorMessage": message, "correlationId": _uuid(n, "o")}
    else:  # samsara, and the style of any other
        data = {"message": message, "requestId": f"{n:016x}"}
    return json.dumps(data)
