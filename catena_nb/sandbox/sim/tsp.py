"""Simulated TSPs: per-provider profiles, the outcome of one call, and each connection's rate limit.

An attempt's outcome is a pure function of ``(seed, the operation's content, the occurrence number of
identical content, attempt number)``: those fields are hashed with BLAKE2b into uniform floats that pick the
error (if any), its kind and the latency. Nothing depends on arrival order, ids or thread timing, so the same
seed and inputs give the same outcomes at any concurrency. The only exception is the rate limit, which is
about time by nature: a sync call that finds its connection's bucket empty is answered 429 (``TspSimulator``).
"""

from __future__ import annotations

import hashlib
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from math import exp
from statistics import NormalDist
from typing import Any

from catena_nb.sandbox.sim.types import AttemptOutcome, World
from catena_nb.sandbox.sim.world import source_id_for


@dataclass(frozen=True)
class TspProfile:
    """How one TSP behaves: latency, error rates, field rules, rate limit and message delivery delays.

    Probabilities are per attempt. Delays are in simulated seconds (multiplied by ``time_scale`` when live).
    """

    slug: str
    messages_url: str
    request_id_header: str
    latency_median_s: float
    latency_sigma: float
    p_auth: float
    p_validation: float
    p_network: float
    p_tsp: float
    text_limit: int
    rejects_empty_text: bool
    supports_priority: bool
    rate_per_s: float  # sustained calls per second per connection (one API token each)
    burst: int  # calls the bucket lets through at once
    sent_delay_s: float  # from acceptance to the device queue
    delivered_median_s: float
    p_never_delivered: float
    p_read: float
    read_median_s: float


# assumed: no TSP publishes its message API's error rates; these are small enough that an audit finds a
# healthy baseline (about 5% of attempts fail, mostly retryable) and large enough that every error_type shows
# up in a day of traffic. Rate limits are generous (1,000 sync sends 16 at a time with 50 ms latency stay
# under them even on one samsara connection: a burst of 600, then 150/s) but real: a sync burst above them
# gets a 429.
PROFILES: dict[str, TspProfile] = {
    "samsara": TspProfile(
        slug="samsara",
        messages_url="https://api.samsara.com/v1/fleet/messages",
        request_id_header="x-samsara-request-id",
        latency_median_s=0.35,
        latency_sigma=0.45,
        p_auth=0.002,
        p_validation=0.004,
        p_network=0.015,
        p_tsp=0.025,
        text_limit=2000,
        rejects_empty_text=False,
        supports_priority=True,
        rate_per_s=150.0,
        burst=600,
        sent_delay_s=2.0,
        delivered_median_s=45.0,
        p_never_delivered=0.03,
        p_read=0.4,
        read_median_s=600.0,
    ),
    "motive": TspProfile(
        slug="motive",
        messages_url="https://api.gomotive.com/v1/messages",
        request_id_header="x-request-id",
        latency_median_s=0.55,
        latency_sigma=0.5,
        p_auth=0.003,
        p_validation=0.006,
        p_network=0.02,
        p_tsp=0.03,
        text_limit=1000,
        rejects_empty_text=True,
        supports_priority=True,
        rate_per_s=120.0,
        burst=600,
        sent_delay_s=3.0,
        delivered_median_s=90.0,
        p_never_delivered=0.05,
        p_read=0.3,
        read_median_s=900.0,
    ),
    "geotab": TspProfile(
        slug="geotab",
        messages_url="https://my.geotab.com/apiv1",
        request_id_header="x-geotab-request-id",
        latency_median_s=0.8,
        latency_sigma=0.55,
        p_auth=0.002,
        p_validation=0.005,
        p_network=0.025,
        p_tsp=0.02,
        text_limit=1000,
        rejects_empty_text=True,
        supports_priority=False,
        rate_per_s=120.0,
        burst=600,
        sent_delay_s=5.0,
        delivered_median_s=180.0,
        p_never_delivered=0.06,
        p_read=0.25,
        read_median_s=1200.0,
    ),
    "omnitracs": TspProfile(
        slug="omnitracs",
        messages_url="https://api.omnitracs.com/messaging/v1/messages",
        request_id_header="x-correlation-id",
        latency_median_s=1.3,
        latency_sigma=0.6,
        p_auth=0.004,
        p_validation=0.008,
        p_network=0.03,
        p_tsp=0.035,
        text_limit=500,
        rejects_empty_text=True,
        supports_priority=True,
        rate_per_s=100.0,
        burst=600,
        sent_delay_s=8.0,
        delivered_median_s=360.0,
        p_never_delivered=0.1,
        p_read=0.2,
        read_median_s=1800.0,
    ),
}

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
_VALIDATION_REASONS = (
    "recipient driver is deactivated",
    "recipient has no active device",
    "sender is not permitted to message this driver",
)
_QUANTILES = 4096
_Z = tuple(NormalDist().inv_cdf((i + 0.5) / _QUANTILES) for i in range(_QUANTILES))
_SCALE = 1.0 / 2**53
_UNPACK = struct.Struct(">5Q").unpack


def http_error_details(url: str, code: int, response: str | None = None) -> str:
    """The text an HTTP client (httpx) gives for an error status, as Catena logs it, plus the TSP's body."""
    kind = "Client error" if code < 500 else "Server error"
    text = (
        f"{kind} '{code} {_PHRASES.get(code, '')}' for url '{url}'\n"
        f"For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/{code}"
    )
    return text if response is None else f"{text}\nResponse: {response}"


def draw(seed: int, key: str, attempt: int) -> tuple[float, float, float, float, int]:
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


def decide(
    profile: TspProfile,
    u: tuple[float, float, float, float, int],
    *,
    text: str | None,
    conditions: Conditions | None = None,
) -> AttemptOutcome:
    """The outcome of one call to the TSP, given the call's uniform draws (``draw``). Pure: no sleep.

    Field rules come first (they hold on every attempt), then the random errors, each a band of ``u[0]``.
    """
    u_err, u_kind, u_lat, _, n = u
    latency = lognormal(profile.latency_median_s, profile.latency_sigma, u_lat)
    url = profile.messages_url
    if conditions is not None and conditions.auth_expired:
        return AttemptOutcome(
            ok=False,
            latency_s=latency,
            error_type="auth",
            error_details=http_error_details(url, 401, '{"message": "Unauthorized: token expired"}'),
            response_status_code=401,
            response_headers=_headers(profile, n),
        )
    limit = (
        profile.text_limit if conditions is None or conditions.text_limit is None else conditions.text_limit
    )
    rule: str | None = None
    if not text:
        if profile.rejects_empty_text:
            rule = '{"message": "message text must not be empty"}'
    elif len(text) > limit:
        rule = f'{{"message": "message text is {len(text)} characters; at most {limit} are allowed"}}'
    if rule is not None:
        code = 400 if profile.slug in ("samsara", "geotab") else 422
        return AttemptOutcome(
            ok=False,
            latency_s=latency,
            error_type="validation",
            error_details=http_error_details(url, code, rule),
            response_status_code=code,
            response_headers=_headers(profile, n),
        )
    p_net = profile.p_network if conditions is None or conditions.p_network is None else conditions.p_network
    band = profile.p_auth
    if u_err < band:
        code = 401 if u_kind < 0.8 else 403
        return AttemptOutcome(
            ok=False,
            latency_s=latency,
            error_type="auth",
            error_details=http_error_details(url, code),
            response_status_code=code,
            response_headers=_headers(profile, n),
        )
    band += profile.p_validation
    if u_err < band:
        reason = _VALIDATION_REASONS[
            min(int(u_kind * len(_VALIDATION_REASONS)), len(_VALIDATION_REASONS) - 1)
        ]
        return AttemptOutcome(
            ok=False,
            latency_s=latency,
            error_type="validation",
            error_details=http_error_details(url, 422, f'{{"message": "{reason}"}}'),
            response_status_code=422,
            response_headers=_headers(profile, n),
        )
    band += p_net
    if u_err < band:
        details, fixed, _ = NETWORK_ERRORS[_pick([w for _, _, w in NETWORK_ERRORS], u_kind)]
        return AttemptOutcome(
            ok=False,
            latency_s=latency if fixed is None else fixed,
            error_type="network",
            error_details=details,
            response_status_code=None,
            retryable=True,
        )
    band += profile.p_tsp
    if u_err < band:
        code = TSP_ERRORS[_pick([w for _, w in TSP_ERRORS], u_kind)][0]
        headers = _headers(profile, n)
        if code == 429:
            headers["retry-after"] = str(1 + n % 5)
        return AttemptOutcome(
            ok=False,
            latency_s=latency,
            error_type="tsp",
            error_details=http_error_details(url, code),
            response_status_code=code,
            response_headers=headers,
            retryable=True,
        )
    return AttemptOutcome(
        ok=True,
        latency_s=latency,
        response_status_code=200,
        response_headers=_headers(profile, n),
        source_id=source_id_for(profile.slug, n),
    )


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


class RateLimiter:
    """A token bucket: at most ``burst + rate * (t_j - t_i)`` calls are admitted in any interval [t_i, t_j].

    It is the TSP's gate for one connection: the instant a call is admitted is the instant the TSP counts it,
    and those instants are kept so that the invariant can be checked (``call_times``).
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        keep: int = 200_000,
    ) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()
        self._calls: deque[float] = deque(maxlen=keep)
        self.admitted = 0  # every admitted call, including those older than the kept instants

    def try_acquire(self) -> float:
        """Take a token if one is there: 0.0 when admitted, else the seconds until one will be."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                self._calls.append(now)
                self.admitted += 1
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def call_times(self) -> list[float]:
        """The clock readings at which calls were admitted, oldest first (the most recent ``keep``)."""
        with self._lock:
            return list(self._calls)


def bucket_violations(times: Sequence[float], rate: float, burst: float) -> int:
    """How many calls in ``times`` (sorted) broke ``count(t_i..t_j) <= burst + rate * (t_j - t_i)``."""
    violations = 0
    best = float("-inf")  # max over i <= j of (rate * t_i - i)
    for j, t in enumerate(times):
        best = max(best, rate * t - j)
        if (j + 1) - rate * t + best > burst + 1e-6:
            violations += 1
    return violations


def max_window_count(times: Sequence[float], window: float) -> int:
    """The largest number of calls in ``times`` (sorted) inside any interval of length ``window``."""
    best, i = 0, 0
    for j, t in enumerate(times):
        while t - times[i] > window:
            i += 1
        best = max(best, j - i + 1)
    return best


class TspSimulator:
    """The TSPs behind the sandbox's connections: decides, times and rate-limits each call.

    Args:
        world: the seeded connections.
        seed: mixed into every outcome.
        tsp_latency: seconds every call takes, overriding the profiles; None: the profile's latency times
            ``time_scale``.
        time_scale: multiplies simulated waits; the rate limits become ``rate / time_scale`` per real second.
        sleep: how a call waits (tests may pass a fake).
    """

    def __init__(
        self,
        world: World,
        *,
        seed: int,
        tsp_latency: float | None = None,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seed = seed
        self.time_scale = time_scale
        self.tsp_latency = tsp_latency
        self._sleep = sleep
        self._profiles = {c.id: PROFILES[c.source_name] for c in world.connections}
        self._count_lock = threading.Lock()
        self.rate_limited: dict[str, int] = dict.fromkeys(self._profiles, 0)  # sync calls answered 429
        self._limiters = {
            c.id: RateLimiter(p.rate_per_s / time_scale, p.burst, clock=clock)
            for c, p in ((c, PROFILES[c.source_name]) for c in world.connections)
        }

    def profile(self, connection_id: str) -> TspProfile:
        """The profile of the TSP behind a connection (KeyError for an unknown connection)."""
        return self._profiles[connection_id]

    def limiter(self, connection_id: str) -> RateLimiter:
        """The rate-limit gate of a connection."""
        return self._limiters[connection_id]

    @property
    def connection_ids(self) -> list[str]:
        """Every connection the simulator serves."""
        return list(self._profiles)

    def decide(self, op: dict[str, Any], attempt: int, *, occurrence: int = 1) -> AttemptOutcome:
        """The outcome of attempt ``attempt`` of ``op`` (pure; no waiting, no rate limit)."""
        profile = self._profiles[op["connection_id"]]
        u = draw(self.seed, operation_key(op, occurrence), attempt)
        return decide(profile, u, text=(op.get("payload") or {}).get("message_text"))

    def jitter(self, op: dict[str, Any], attempt: int, *, occurrence: int = 1) -> float:
        """A uniform float in [0, 1) for the backoff after ``attempt``, seeded like the outcome."""
        return draw(self.seed, operation_key(op, occurrence), attempt)[3]

    def call(self, op: dict[str, Any], attempt: int, *, sync: bool, occurrence: int = 1) -> AttemptOutcome:
        """Make one call to the TSP: wait the latency and return what it answered.

        A sync call passes the connection's rate-limit gate itself and gets a 429 when the bucket is empty
        (Catena does not rate-limit sync writes). An async call must have been admitted by the worker
        (``limiter(connection_id).try_acquire()``) before it gets here.
        """
        profile = self._profiles[op["connection_id"]]
        if sync:
            # assumed: the TSP counts sync and async calls against one bucket per connection (one API token);
            # Catena does not throttle sync writes, so one that finds the bucket empty gets the TSP's 429.
            wait = self._limiters[op["connection_id"]].try_acquire()
            if wait > 0.0:
                with self._count_lock:
                    self.rate_limited[op["connection_id"]] += 1
                return rate_limited(profile, wait / self.time_scale)
        outcome = self.decide(op, attempt, occurrence=occurrence)
        delay = outcome.latency_s * self.time_scale if self.tsp_latency is None else self.tsp_latency
        if delay > 0.0:
            self._sleep(delay)
        return outcome if self.tsp_latency is None else replace(outcome, latency_s=delay)
