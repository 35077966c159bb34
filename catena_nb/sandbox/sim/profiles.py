"""How each simulated TSP behaves: its endpoint, latency, error rates, field rules, rate limit and delays."""

from __future__ import annotations

from dataclasses import dataclass


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
# The tables give the fields of TspProfile in its order, one row per TSP.
# slug: (the messages endpoint its errors name, the header carrying its request id)
_ENDPOINTS: dict[str, tuple[str, str]] = {
    "samsara": ("https://api.samsara.com/v1/fleet/messages", "x-samsara-request-id"),
    "motive": ("https://api.gomotive.com/v1/messages", "x-request-id"),
    "geotab": ("https://my.geotab.com/apiv1", "x-geotab-request-id"),
    "omnitracs": ("https://api.omnitracs.com/messaging/v1/messages", "x-correlation-id"),
    # no messaging API (sim/integrations.py): a send through it fails before any call, so the row is unused
    "hos247": ("https://api.hos247.com/v1/messages", "x-hos247-request-id"),
}
# slug: (latency median s, latency sigma; error rates per attempt: auth, validation, network, tsp)
_CALLS: dict[str, tuple[float, float, float, float, float, float]] = {
    "samsara": (0.35, 0.45, 0.002, 0.004, 0.015, 0.025),
    "motive": (0.55, 0.5, 0.003, 0.006, 0.02, 0.03),
    "geotab": (0.8, 0.55, 0.002, 0.005, 0.025, 0.02),
    "omnitracs": (1.3, 0.6, 0.004, 0.008, 0.03, 0.035),
    "hos247": (0.9, 0.5, 0.004, 0.008, 0.03, 0.03),
}
# slug: (text limit, rejects empty text, supports priority; rate limit: calls per s, burst)
_RULES: dict[str, tuple[int, bool, bool, float, int]] = {
    "samsara": (2000, False, True, 150.0, 600),
    "motive": (1000, True, True, 120.0, 600),
    "geotab": (1000, True, False, 120.0, 600),
    "omnitracs": (500, True, True, 100.0, 600),
    "hos247": (500, True, False, 60.0, 300),
}
# slug: (sent delay s, delivered median s, share never delivered, share read, read median s)
_DELIVERY: dict[str, tuple[float, float, float, float, float]] = {
    "samsara": (2.0, 45.0, 0.03, 0.4, 600.0),
    "motive": (3.0, 90.0, 0.05, 0.3, 900.0),
    "geotab": (5.0, 180.0, 0.06, 0.25, 1200.0),
    "omnitracs": (8.0, 360.0, 0.1, 0.2, 1800.0),
    "hos247": (8.0, 360.0, 0.1, 0.2, 1800.0),
}

PROFILES: dict[str, TspProfile] = {
    slug: TspProfile(*(slug, *endpoint, *_CALLS[slug], *_RULES[slug], *_DELIVERY[slug]))
    for slug, endpoint in _ENDPOINTS.items()
}
