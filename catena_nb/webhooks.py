"""Verify and parse Catena webhook deliveries.

A delivery's body may be gzipped (`Content-Encoding: gzip`). Its signature, `X-Catena-Signature`, is
`base64(HMAC_SHA256(secret, timestamp + "." + payload))` over the uncompressed payload, where `timestamp`
is the `X-Catena-Timestamp` header as sent; deliveries older (or newer) than the tolerance are refused.

Example:
    >>> event = construct_event(request_body, request_headers, secret)
    >>> for op in event.operations: ...
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, TypedDict, Unpack

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from catena_nb import _jsonio
from catena_nb._time import as_utc
from catena_nb.errors import WebhookParseError, WebhookVerificationError
from catena_nb.models import ResourceOperation, UTCDateTime

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookEvent",
    "WebhookParseError",
    "WebhookVerificationError",
    "construct_event",
    "parse",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "X-Catena-Signature"
TIMESTAMP_HEADER = "X-Catena-Timestamp"
DEFAULT_TOLERANCE_S = 300.0
# A webhook body is a few records; anything that inflates past this is refused rather than unpacked.
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _gunzip(body: bytes) -> bytes:
    try:
        return _jsonio.gunzip(body, MAX_PAYLOAD_BYTES)
    except ValueError as exc:
        raise WebhookVerificationError(str(exc)) from None


def signature(payload: bytes, timestamp: str, secret: str) -> str:
    """The base64 HMAC-SHA256 signature of `timestamp + "." + payload`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def sign(
    payload: bytes | str, secret: str, *, timestamp: dt.datetime | None = None, compress: bool = True
) -> tuple[bytes, dict[str, str]]:
    """A body and headers as Catena would send them (for tests and local receivers)."""
    raw = payload.encode() if isinstance(payload, str) else payload
    when = (timestamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(raw, when, secret),
        TIMESTAMP_HEADER: when,
    }
    if compress:
        headers["Content-Encoding"] = "gzip"
        return gzip.compress(raw, mtime=0), headers
    return raw, headers


class VerifyChecks(TypedDict, total=False):
    """How `verify` checks the timestamp: the largest accepted age (seconds), and the time to compare with."""

    tolerance: float
    now: dt.datetime | None


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    now: dt.datetime | None = None,
) -> bytes:
    """Check a delivery's signature and timestamp; returns the (uncompressed) payload.

    Args:
        body: the request body as received (gzipped or not).
        headers: the request headers (any case).
        secret: the webhook subscription's secret.
        tolerance: the largest accepted age (or lead) of the timestamp, in seconds.
        now: the current time (for tests).

    Returns:
        The payload bytes, gunzipped when the body was compressed.

    Raises:
        WebhookVerificationError: a missing header, a bad signature, a stale or future timestamp, bad gzip.
    """
    if not secret:
        raise WebhookVerificationError("no webhook secret given to verify with")
    encoding = (_header(headers, "Content-Encoding") or "").lower()
    payload = _gunzip(body) if "gzip" in encoding or body[:2] == _GZIP_MAGIC else body
    sent_signature = _header(headers, SIGNATURE_HEADER)
    stamp = _header(headers, TIMESTAMP_HEADER)
    if not sent_signature:
        raise WebhookVerificationError(f"the {SIGNATURE_HEADER} header is missing")
    if not stamp:
        raise WebhookVerificationError(f"the {TIMESTAMP_HEADER} header is missing")
    expected = signature(payload, stamp, secret)
    if not hmac.compare_digest(expected.encode("ascii"), sent_signature.strip().encode("utf-8", "replace")):
        raise WebhookVerificationError(
            "the signature does not match (wrong secret, or the body or timestamp was altered)"
        )
    try:
        when = as_utc(stamp)  # assumed: Catena sends UTC; a bare time is read as UTC
    except ValueError:
        raise WebhookVerificationError(f"the {TIMESTAMP_HEADER} header is not an ISO 8601 time") from None
    current = as_utc(now or dt.datetime.now(dt.UTC))
    age = (current - when).total_seconds()
    if age > tolerance:
        raise WebhookVerificationError(
            f"the delivery is stale: signed {age:.0f} s ago (tolerance {tolerance:g} s)"
        )
    if age < -tolerance:
        raise WebhookVerificationError(
            f"the delivery's timestamp is {-age:.0f} s in the future (tolerance {tolerance:g} s)"
        )
    return payload


class WebhookEvent(BaseModel):
    """A delivery envelope; `data` is always a list, of `ResourceOperation`s for `resource_operation.*`."""

    model_config = ConfigDict(extra="allow")

    version: str | None = None
    event_name: str
    webhook_id: str | None = None
    timestamp: UTCDateTime | None = None
    id: str | None = None
    delivery_attempt: int | None = None
    data: list[Any] = Field(default_factory=list)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _typed_data(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out = dict(value)
        data = out.get("data")
        if data is None:
            data = []
        elif not isinstance(data, list):
            data = [data]  # a single record is still a list of one
        if str(out.get("event_name", "")).startswith("resource_operation."):
            data = [ResourceOperation.model_validate(item) for item in data]
        out["data"] = data
        return out

    @property
    def operations(self) -> list[ResourceOperation]:
        """The operations carried by a `resource_operation.*` event (empty for other events)."""
        return [item for item in self.data if isinstance(item, ResourceOperation)]

    def __repr__(self) -> str:
        return f"WebhookEvent({self.event_name!r}, id={self.id!r}, {len(self.data)} records)"


def parse(payload: bytes | str | Mapping[str, Any]) -> WebhookEvent:
    """The typed event of a (verified) payload.

    Raises:
        WebhookParseError: the payload is not JSON, or not an event envelope.
    """
    if isinstance(payload, bytes | str):
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise WebhookParseError(f"the webhook payload is not JSON ({exc})") from None
    else:
        data = dict(payload)
    if not isinstance(data, dict):
        raise WebhookParseError("the webhook payload is not a JSON object")
    try:
        return WebhookEvent.model_validate(data)
    except pydantic.ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
        raise WebhookParseError(
            f"the webhook payload is not a Catena event envelope (bad: {fields})"
        ) from None


def construct_event(
    body: bytes, headers: Mapping[str, str], secret: str, **checks: Unpack[VerifyChecks]
) -> WebhookEvent:
    """Verify a delivery (`verify`, with the same `tolerance` and `now`), then parse it (`parse`).

    Raises:
        WebhookVerificationError: see `verify`.
        WebhookParseError: see `parse`.
    """
    return parse(verify(body, headers, secret, **checks))
