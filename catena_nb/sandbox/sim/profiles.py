"""How each simulated TSP behaves: its endpoint, latency, error rates, field rules, rate limit and delays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


# (slug, the messages endpoint its errors name, the header carrying its request id)
_ENDPOINTS = (
    ("samsara", "https://api.samsara.com/v1/fleet/messages", "x-samsara-request-id"),
    ("motive", "https://api.gomotive.com/v1/messages", "x-request-id"),
    ("geotab", "https://my.geotab.com/apiv1", "x-geotab-request-id"),
    ("omnitracs", "https://api.omnitracs.com/messaging/v1/messages", "x-correlation-id"),
)
# assumed: no TSP publishes its message API's error rates; these are small enough that an audit finds a
# healthy baseline (about 5% of attempts fail, mostly retryable) and large enough that every error_type shows
# up in a day of traffic. Rate limits are generous (1,000 sync sends 16 at a time with 50 ms latency stay
# under them even on one samsara connection: a burst of 600, then 150/s) but real: a sync burst above them
# gets a 429.
# One row per field of TspProfile, one column per TSP in the order of _ENDPOINTS.
_BEHAVIOUR: dict[str, tuple[Any, Any, Any, Any]] = {
    #                    samsara  motive  geotab  omnitracs
    "latency_median_s": (0.35, 0.55, 0.8, 1.3),
    "latency_sigma": (0.45, 0.5, 0.55, 0.6),
    "p_auth": (0.002, 0.003, 0.002, 0.004),
    "p_validation": (0.004, 0.006, 0.005, 0.008),
    "p_network": (0.015, 0.02, 0.025, 0.03),
    "p_tsp": (0.025, 0.03, 0.02, 0.035),
    "text_limit": (2000, 1000, 1000, 500),
    "rejects_empty_text": (False, True, True, True),
    "supports_priority": (True, True, False, True),
    "rate_per_s": (150.0, 120.0, 120.0, 100.0),
    "burst": (600, 600, 600, 600),
    "sent_delay_s": (2.0, 3.0, 5.0, 8.0),
    "delivered_median_s": (45.0, 90.0, 180.0, 360.0),
    "p_never_delivered": (0.03, 0.05, 0.06, 0.1),
    "p_read": (0.4, 0.3, 0.25, 0.2),
    "read_median_s": (600.0, 900.0, 1200.0, 1800.0),
}

PROFILES: dict[str, TspProfile] = {
    slug: TspProfile(slug, url, header, **{name: column[i] for name, column in _BEHAVIOUR.items()})
    for i, (slug, url, header) in enumerate(_ENDPOINTS)
}
