"""The one error tree of catena_nb.

```
CatenaError
├── ConfigurationError (also ValueError)     no base URL or credentials to work with
├── InvalidRequestError (also ValueError)    a request refused before any I/O; `.errors` names each field
├── APIConnectionError                       the API could not be reached, or the connection dropped
│   └── APITimeoutError
├── APIStatusError                           the API answered with an error status
│   ├── AuthenticationError                  401
│   ├── PermissionDeniedError                403
│   ├── NotFoundError                        404
│   ├── ConflictError                        409
│   ├── ValidationError                      422 (the server's own request validation)
│   ├── RateLimitError                       429; `.retry_after` in seconds
│   └── ServerError                          5xx (a sync send's 502 with an operation body is a result)
├── ResponseValidationError                  a 2xx (or 502) body that does not parse as the documented shape
│   └── PaginationError                      a listing whose server repeats a cursor or a page (endless)
├── WaitTimeoutError (also TimeoutError)     operations still pending when `operations.wait` gave up
├── WebhookVerificationError                 a webhook delivery whose signature or timestamp is not right
└── WebhookParseError (also ValueError)      a webhook payload that is not a Catena event envelope

UnsupportedResourceWarning (a UserWarning)   a send through a connection whose TSP does not take the writes
```

Error texts never contain a bearer token or a client secret. The classes redact what they are given
themselves (`catena_nb._redact`), so that no code path can forget it: every message, `str()`, `.args`; an
`APIStatusError`'s `.body`, `.json`, `.message`, `.detail` and `.headers`; a `ResponseValidationError`'s
`.body` and `.errors`. A body is kept up to 64 KiB, and quoted in a message up to 300 characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from catena_nb._redact import clip, redact, redact_data, redact_headers

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "CatenaError",
    "ConfigurationError",
    "ConflictError",
    "InvalidRequestError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
    "UnsupportedResourceWarning",
    "ValidationError",
    "WaitTimeoutError",
    "WebhookParseError",
    "WebhookVerificationError",
    "status_error",
]

_MAX_BODY_IN_TEXT = 300
_MAX_BODY_KEPT = 65_536
_MAX_BODY_PARSED = 1 << 20  # an error body larger than this is not decoded as JSON


def _short(text: str, limit: int = _MAX_BODY_IN_TEXT) -> str:
    return clip(text, limit)


def _kept_body(body: str) -> str:
    """The body an error keeps: redacted and cut at 64 KiB, otherwise as received (not stripped)."""
    return clip(body, _MAX_BODY_KEPT, strip=False)


class CatenaError(Exception):
    """Base class of every error raised by catena_nb; its text is redacted (no token, no secret)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))

    def __str__(self) -> str:
        # `args` may be set again after __init__ (RateLimitError does): redact what is shown all the same
        return redact(super().__str__())


class ConfigurationError(CatenaError, ValueError):
    """The client was not given what it needs (credentials, a base URL) and found none in the environment."""


class InvalidRequestError(CatenaError, ValueError):
    """A request that fails validation before any I/O; `.errors` lists `{"field", "message", "input"}`."""

    def __init__(self, errors: Sequence[Mapping[str, Any]], *, what: str = "request") -> None:
        self.errors: list[dict[str, Any]] = [dict(e) for e in errors]
        self.what = what
        parts = [f"{e.get('field') or '(body)'}: {e.get('message')}" for e in self.errors]
        n = len(self.errors)
        super().__init__(
            f"invalid {what} ({n} problem{'s' if n != 1 else ''}; nothing was sent): " + "; ".join(parts)
        )

    @property
    def fields(self) -> list[str]:
        """The names of the bad fields, in the order found."""
        return [str(e.get("field")) for e in self.errors]


class APIConnectionError(CatenaError):
    """The API could not be reached, or the connection failed before a full answer came back.

    `maybe_sent` is False when the request certainly never left (the connection could not be opened), so
    resending it cannot create anything twice; True when the server may have received and acted on it.
    """

    def __init__(
        self, message: str, *, method: str | None = None, url: str | None = None, maybe_sent: bool = True
    ) -> None:
        self.method = method
        self.url = redact(url) if url is not None else None
        self.maybe_sent = maybe_sent
        where = f" ({method} {self.url})" if method and self.url else ""
        super().__init__(f"{message}{where}")


class APITimeoutError(APIConnectionError):
    """The API did not answer within the timeout, or the call passed its overall deadline (`.deadline` s)."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        maybe_sent: bool = True,
        deadline: float | None = None,
    ) -> None:
        self.deadline = deadline
        super().__init__(message, method=method, url=url, maybe_sent=maybe_sent)


class APIStatusError(CatenaError):
    """The API answered an error status: `.status_code`, `.request_id`, `.message`, `.detail`, `.body`."""

    hint = ""

    def __init__(
        self,
        *,
        status_code: int,
        body: str,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = _kept_body(body)
        # the response's headers (rate-limit hints among them); the request's, with the token, are not kept
        self.headers: dict[str, str] = redact_headers(headers or {})
        self.request_id = redact(request_id) if request_id is not None else None
        self.method = method
        self.url = redact(url) if url is not None else None
        self.message: str | None = None
        self.detail: Any = None
        self.json: Any = None
        try:
            # decoded from the whole body (the kept one may be cut), then redacted field by field
            self.json = redact_data(json.loads(body)) if body and len(body) <= _MAX_BODY_PARSED else None
        except (ValueError, RecursionError):
            self.json = None
        if isinstance(self.json, Mapping):
            message = self.json.get("message")
            self.message = message if isinstance(message, str) else None
            self.detail = self.json.get("detail")
            if self.message is None and isinstance(self.json.get("error_description"), str):
                # the Keycloak token endpoint answers {"error", "error_description"}
                self.message = str(self.json.get("error"))
                self.detail = self.json.get("error_description")
        super().__init__(self._text())

    def _text(self) -> str:
        head = f"{self.status_code} {self.message or 'error'}"
        if self.method and self.url:
            head += f" for {self.method} {self.url}"
        detail = self._detail_text()
        if detail:
            head += f": {detail}"
        elif not isinstance(self.json, Mapping) and self.body:
            head += f": {_short(self.body)}"
        if self.request_id:
            head += f" (request id {self.request_id})"
        hint = self._hint()
        if hint:
            head += f". {hint}"
        return head

    def _hint(self) -> str:
        """What to do next, added to the message (the class's `hint` unless a subclass knows better)."""
        return self.hint

    def _detail_text(self) -> str:
        detail = self.detail
        if detail is None:
            return ""
        if isinstance(detail, str):
            return _short(detail)
        if isinstance(detail, list):
            return "; ".join(_short(_validation_item_text(item), 120) for item in detail[:10])
        if isinstance(detail, Mapping):
            text = detail.get("message")
            return _short(str(text)) if text else _short(json.dumps(detail, default=str))
        return _short(str(detail))

    @property
    def field_errors(self) -> list[dict[str, Any]]:
        """A 422's detail as `{"field", "message", "input", "error_type"}` items, from either shape."""
        if not isinstance(self.detail, list):
            return []
        out = []
        for item in self.detail:
            if isinstance(item, Mapping):
                out.append(
                    {
                        "field": _field_of(item),
                        "message": item.get("message", item.get("msg")),
                        "input": item.get("input"),
                        "error_type": item.get("error_type", item.get("type")),
                    }
                )
        return out


def _field_of(item: Mapping[str, Any]) -> str | None:
    if "path" in item:
        return str(item["path"])
    loc = item.get("loc")
    if isinstance(loc, list | tuple):
        # FastAPI's shape: ["body", "sender_id"]; the location word is not part of the field name
        parts = [str(p) for p in loc]
        if parts and parts[0] in ("body", "query", "path", "header"):
            parts = parts[1:]
        return ".".join(parts)
    return None


def _validation_item_text(item: Any) -> str:
    if isinstance(item, Mapping):
        field = _field_of(item)
        msg = item.get("message", item.get("msg", ""))
        return f"{field}: {msg}" if field else str(msg)
    return str(item)


class AuthenticationError(APIStatusError):
    """401: the token is missing, expired or wrong, or the client credentials were refused."""

    hint = "Check the token or the client id and secret (CATENA_* environment variables)"


# an OAuth scope as Catena names them: `telematics:write`, `resource_operation:read`, `webhook:create`
_SCOPE = re.compile(r"\b[a-z][a-z_-]*:[a-z][a-z_-]*\b")


class PermissionDeniedError(APIStatusError):
    """403: the credentials are valid but lack the scope or the access to this resource.

    `.missing_scope` is the OAuth scope the answer names as missing (e.g. `resource_operation:read`), when
    its detail names one; the message then says that the credentials must be granted it.
    """

    hint = "The credentials lack access to this resource or connection"

    def __init__(self, **kwargs: Any) -> None:
        self.missing_scope: str | None = None
        super().__init__(**kwargs)

    def _hint(self) -> str:
        detail = self.detail
        found = _SCOPE.search(detail) if isinstance(detail, str) else None
        if found is None:
            return self.hint
        self.missing_scope = found.group(0)
        return (
            f"The credentials lack the OAuth scope {self.missing_scope}: they must be granted it "
            "(ask Catena support to add it to this client) before this request can succeed"
        )


class NotFoundError(APIStatusError):
    """404: no such resource (for an operation: check the id and its connection id)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's current state."""


class ValidationError(APIStatusError):
    """422: the server's request validation refused the request; `.field_errors` names each field."""


class RateLimitError(APIStatusError):
    """429: too many requests; `.retry_after` is the server's hint in seconds, when it gave one."""

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)
        if retry_after is not None:
            self.args = (f"{self.args[0]}. Retry after {retry_after:g} s",)


class ServerError(APIStatusError):
    """5xx: the API failed (for a sync send, a 502 whose body is not a resource operation)."""


class ResponseValidationError(CatenaError):
    """The API answered a body that does not parse as the documented shape; `.body` holds it (redacted)."""

    def __init__(
        self,
        message: str,
        *,
        body: str | None,
        status_code: int | None = None,
        request_id: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.body = _kept_body(body or "")
        self.status_code = status_code
        self.request_id = redact(request_id) if request_id is not None else None
        self.errors: list[dict[str, Any]] = [redact_data(dict(e)) for e in errors]
        rid = f" (request id {self.request_id})" if self.request_id else ""
        quoted = f"; body: {_short(body)}" if body is not None else ""
        super().__init__(f"{message}{rid}{quoted}")


class PaginationError(ResponseValidationError):
    """A listing whose server repeated a cursor, or a page, it had already answered: it would never end.

    `.listing` names the listing, `.path` its endpoint, `.cursor` the repeated cursor (None when a page
    repeated under a fresh cursor), `.page` the 1-based number of the page that repeated.
    """

    def __init__(
        self,
        message: str,
        *,
        listing: str,
        path: str,
        cursor: str | None,
        page: int,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.listing = listing
        self.path = path
        self.cursor = redact(cursor) if cursor is not None else None
        self.page = page
        super().__init__(message, body=None, status_code=status_code, request_id=request_id)


class WaitTimeoutError(CatenaError, TimeoutError):
    """`operations.wait` ran out of time; `.pending` lists the operations still pending, `.operations` all."""

    def __init__(self, timeout: float, pending: Sequence[Any], operations: Sequence[Any]) -> None:
        self.timeout = timeout
        self.pending = list(pending)
        self.operations = list(operations)
        ids = ", ".join(str(getattr(op, "id", op)) for op in self.pending[:10])
        more = f" and {len(self.pending) - 10} more" if len(self.pending) > 10 else ""
        super().__init__(
            f"{len(self.pending)} of {len(self.operations)} operations still pending after {timeout:g} s: "
            f"{ids}{more}"
        )


class WebhookVerificationError(CatenaError):
    """A webhook delivery failed verification: bad or missing signature, stale timestamp, bad gzip."""


class WebhookParseError(CatenaError, ValueError):
    """A webhook payload is not a Catena event envelope."""


class UnsupportedResourceWarning(UserWarning):
    """A send goes through a connection whose TSP does not take that resource's writes (`not_supported` or
    `not_implemented` in `GET /v2/integrations/tsps`): Catena will fail it."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def status_error(
    status_code: int,
    body: str,
    *,
    request_id: str | None = None,
    method: str | None = None,
    url: str | None = None,
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> APIStatusError:
    """The typed error for an HTTP error answer (one mapping, keyed on the status code)."""
    kwargs: dict[str, Any] = {
        "status_code": status_code,
        "body": body,
        "request_id": request_id,
        "method": method,
        "url": url,
        "headers": headers,
    }
    if status_code == 429:
        return RateLimitError(retry_after=retry_after, **kwargs)
    cls = _STATUS_ERRORS.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else APIStatusError
    return cls(**kwargs)
