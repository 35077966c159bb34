"""The outcome of one call to a simulated TSP: a pure function of the seed, the content and the attempt.

``draw(seed, key, attempt)`` hashes those with BLAKE2b into uniform floats; ``decide`` turns them into an
``AttemptOutcome`` under the TSP's profile: field rules first (they hold on every attempt), then the random
errors, each a band of the first float. Nothing depends on arrival order, ids or thread timing, so the same
seed and inputs give the same outcomes at any concurrency (the rate limit is the one exception, and lives in
``tsp.py``).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from math import exp
from statistics import NormalDist
from typing import Any

from catena_nb.sandbox.sim import errortexts
from catena_nb.sandbox.sim.ids import source_id_for
from catena_nb.sandbox.sim.profiles import TspProfile
from catena_nb.sandbox.sim.types import AttemptOutcome

_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# assumed: the texts of error_details. The docs show one ("Client error '401 Unauthorized' for url '...'",
# httpx's text for an error status, seed page "Sync Write Operations"); the network texts are httpx's
# exception texts, and the mix of TSP statuses, the validation reasons and the TSPs' answer bodies (in
# errortexts.py, with request ids, user ids and values that vary per call) are made up.
# (details, latency in simulated seconds or None for the normal latency, weight): what an HTTP client sees
NETWORK_ERRORS: tuple[tuple[str, float | None, float], ...] = (
    ("ReadTimeout: The read operation timed out", 10.0, 0.35),
    ("ConnectTimeout: timed out", 5.0, 0.15),
    ("ConnectError: [Errno 111] Connection refused", 0.02, 0.15),
    ("RemoteProtocolError: Server disconnected without sending a response.", None, 0.2),
    ("ReadError: [Errno 104] Connection reset by peer", None, 0.1),
    ("ConnectError: [Errno -3] Temporary failure in name resolution", 0.05, 0.05),
)
TSP_ERRORS: tuple[tuple[int, float], ...] = ((500, 0.3), (502, 0.2), (503, 0.25), (504, 0.1), (429, 0.15))
_VALIDATION_REASONS = 3  # deactivated recipient, no active device, sender not permitted (errortexts.py)
_QUANTILES = 4096
_Z = tuple(NormalDist().inv_cdf((i + 0.5) / _QUANTILES) for i in range(_QUANTILES))
_SCALE = 1.0 / 2**53
_UNPACK = struct.Struct(">5Q").unpack

Draw = tuple[float, float, float, float, int]


def http_error_details(url: str, code: int, response: str | None = None) -> str:
    """The text an HTTP client (httpx) gives for an error status, as Catena logs it, plus the TSP's body."""
    kind = "Client error" if code < 500 else "Server error"
    text = (
        f"{kind} '{code} {_PHRASES.get(code, '')}' for url '{url}'\n"
        f"For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/{code}"
    )
    return text if response is None else f"{text}\nResponse: {response}"


def draw(seed: int, key: str, attempt: int) -> Draw:
    """Four uniform floats in [0, 1) and one 64-bit integer from ``(seed, key, attempt)``."""
    a, b, c, d, n = _UNPACK(
        hashlib.blake2b(f"{seed}\x1f{key}\x1f{attempt}".encode(), digest_size=40).digest()
    )
    # 53 bits each: every float is exact and strictly below 1
    return (a >> 11) * _SCALE, (b >> 11) * _SCALE, (c >> 11) * _SCALE, (d >> 11) * _SCALE, n


def lognormal(median: float, sigma: float, u: float) -> float:
    """The ``u``-quantile of a log-normal distribution with that median."""
    return median * exp(sigma * _Z[int(u * _QUANTILES)])


def operation_key(op: dict[str, Any], occurrence: int) -> str:
    """The content that decides an operation's outcomes: connection, sender, recipients, text, priority."""
    payload = op.get("payload") or {}
    recipients = payload.get("recipient_id")
    if recipients is None:
        recipients = ",".join(str(r) for r in payload.get("recipient_ids") or [])
    text = payload.get("message_text")
    return "\x1f".join(
        (
            str(op.get("connection_id")),
            str(op.get("resource")),
            str(payload.get("sender_id")),
            str(recipients),
            "\x00" if text is None else str(text),
            str(payload.get("priority")),
            str(occurrence),
        )
    )


@dataclass(frozen=True)
class Conditions:
    """A temporary change at a TSP or connection (the history's incidents)."""

    auth_expired: bool = False  # every call answers 401
    p_network: float | None = None  # replaces the profile's network error rate
    text_limit: int | None = None  # replaces the profile's text length limit
    # a degradation: this share of the calls fails with ``degraded_error`` before the profile's own errors
    p_degraded: float = 0.0
    degraded_error: str | None = None


def _pick(weights: Sequence[float], u: float) -> int:
    total = sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w / total
        if u < acc:
            return i
    return len(weights) - 1


def _headers(profile: TspProfile, n: int) -> dict[str, str]:
    return {"content-type": "application/json", profile.request_id_header: f"{n:016x}"}


def _refused(
    profile: TspProfile, n: int, latency: float, error_type: str, code: int, message: str | None = None
) -> AttemptOutcome:
    """The TSP answered an error status (auth, validation and tsp errors); only a tsp error is retryable.

    ``message`` is the TSP's reason (None: what it says for that status), sent in the TSP's body style.
    """
    headers = _headers(profile, n)
    if code == 429:
        headers["retry-after"] = str(1 + n % 5)
    reason = errortexts.default_message(code, n) if message is None else message
    return AttemptOutcome(
        ok=False,
        latency_s=latency,
        error_type=error_type,
        error_details=http_error_details(
            errortexts.url(profile.slug, profile.messages_url, n),
            code,
            errortexts.body(profile.slug, code, reason, n),
        ),
        response_status_code=code,
        response_headers=headers,
        retryable=error_type == "tsp",
    )


def _broken_rule(profile: TspProfile, text: str | None, conditions: Conditions | None) -> str | None:
    """The TSP's reason when the text breaks one of its field rules, else None."""
    limit = (
        profile.text_limit if conditions is None or conditions.text_limit is None else conditions.text_limit
    )
    if not text:
        return "message text must not be empty" if profile.rejects_empty_text else None
    if len(text) > limit:
        return f"message text is {len(text)} characters; at most {limit} are allowed"
    return None


def decide(
    profile: TspProfile, u: Draw, *, text: str | None, conditions: Conditions | None = None
) -> AttemptOutcome:
    """The outcome of one call to the TSP, given the call's uniform draws (``draw``). Pure: no sleep."""
    u_err, u_kind, u_lat, _, n = u
    latency = lognormal(profile.latency_median_s, profile.latency_sigma, u_lat)
    if conditions is not None and conditions.auth_expired:
        return _refused(profile, n, latency, "auth", 401, "Unauthorized: token expired")
    rule = _broken_rule(profile, text, conditions)
    if rule is not None:
        return _refused(
            profile, n, latency, "validation", 400 if profile.slug in ("samsara", "geotab") else 422, rule
        )
    if conditions is not None and conditions.p_degraded > 0.0:
        if u_err < conditions.p_degraded:
            return _failure(profile, str(conditions.degraded_error), u_kind, n, latency)
        # the rest of the band, stretched back to [0, 1), decides as if nothing were degraded
        u_err = (u_err - conditions.p_degraded) / (1.0 - conditions.p_degraded)
    p_net = profile.p_network if conditions is None or conditions.p_network is None else conditions.p_network
    band = 0.0
    for error_type, p in (
        ("auth", profile.p_auth),
        ("validation", profile.p_validation),
        ("network", p_net),
        ("tsp", profile.p_tsp),
    ):
        band += p
        if u_err < band:
            return _failure(profile, error_type, u_kind, n, latency)
    return AttemptOutcome(
        ok=True,
        latency_s=latency,
        response_status_code=200,
        response_headers=_headers(profile, n),
        source_id=source_id_for(profile.slug, n),
    )


def _failure(profile: TspProfile, error_type: str, u_kind: float, n: int, latency: float) -> AttemptOutcome:
    """A failed call of that error_type, its status and text chosen by ``u_kind``."""
    if error_type == "auth":
        return _refused(profile, n, latency, "auth", 401 if u_kind < 0.8 else 403)
    if error_type == "validation":
        reason = errortexts.validation_reason(
            min(int(u_kind * _VALIDATION_REASONS), _VALIDATION_REASONS - 1), n
        )
        return _refused(profile, n, latency, "validation", 422, reason)
    if error_type == "network":
        details, fixed, _ = NETWORK_ERRORS[_pick([w for _, _, w in NETWORK_ERRORS], u_kind)]
        return AttemptOutcome(
            ok=False,
            latency_s=latency if fixed is None else fixed,
            error_type="network",
            error_details=details,
            response_status_code=None,
            retryable=True,
        )
    return _refused(profile, n, latency, "tsp", TSP_ERRORS[_pick([w for _, w in TSP_ERRORS], u_kind)][0])


def rate_limited(profile: TspProfile, retry_after_s: float) -> AttemptOutcome:
    """The TSP's answer to a call above the connection's rate limit: 429, retryable."""
    return AttemptOutcome(
        ok=False,
        latency_s=0.0,
        error_type="tsp",
        error_details=http_error_details(profile.messages_url, 429, '{"message": "rate limit exceeded"}'),
        response_status_code=429,
        response_headers={
            "content-type": "application/json",
            "retry-after": str(max(1, round(retry_after_s))),
        },
        retryable=True,
    )


def read_timeout(waited_s: float) -> AttemptOutcome:
    """A call that Catena gave up waiting for: a network error, as its HTTP client reports a read timeout."""
    return AttemptOutcome(
        ok=False,
        latency_s=waited_s,
        error_type="network",
        error_details=NETWORK_ERRORS[0][0],
        response_status_code=None,
        retryable=True,
    )
