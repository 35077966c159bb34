"""The outcome of one TSP call: realistic errors with their codes, field rules, and incident conditions."""

from __future__ import annotations

import collections

from catena_nb.sandbox.sim.outcomes import Conditions, decide, draw
from catena_nb.sandbox.sim.profiles import PROFILES


def _outcomes(profile_name: str, n: int, text: str = "Load 12 ready", conditions: Conditions | None = None):
    profile = PROFILES[profile_name]
    return [decide(profile, draw(7, f"k{i}", 1), text=text, conditions=conditions) for i in range(n)]


def test_every_error_type_has_its_status_code_and_retryability():
    """auth -> 401/403, validation -> 400/422, network -> None, tsp -> 5xx/429; only network and tsp retry."""
    seen: dict[str, set[int | None]] = collections.defaultdict(set)
    for name in PROFILES:
        for out in _outcomes(name, 4000):
            if out.ok:
                assert out.source_id
                assert out.response_status_code == 200
                assert out.error_type is None
                continue
            seen[out.error_type or ""].add(out.response_status_code)
            assert out.retryable == (out.error_type in ("network", "tsp"))
            assert out.error_details
    assert seen["auth"] <= {401, 403}
    assert seen["auth"]
    assert seen["validation"] <= {400, 422}
    assert seen["validation"]
    assert seen["network"] == {None}
    assert seen["tsp"] <= {500, 502, 503, 504, 429}
    assert 429 in seen["tsp"]


def test_error_details_read_like_the_seed_page():
    """A 401 reads "Client error '401 Unauthorized' for url '<the TSP's endpoint>'" plus the MDN pointer."""
    out = decide(PROFILES["samsara"], draw(1, "x", 1), text="hi", conditions=Conditions(auth_expired=True))
    assert out.error_type == "auth"
    assert out.response_status_code == 401
    assert (out.error_details or "").startswith(
        "Client error '401 Unauthorized' for url 'https://api.samsara.com/v1/fleet/messages'\n"
        "For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/401"
    )


def test_text_limits_differ_per_tsp():
    """A 1,500-character text passes Samsara (2,000) but fails Motive (1,000) as validation, every attempt."""
    text = "x" * 1500
    assert all(
        o.error_type != "validation" or "characters" not in (o.error_details or "")
        for o in _outcomes("samsara", 200, text)
    )
    motive = _outcomes("motive", 50, text)
    assert all(o.error_type == "validation" and not o.retryable for o in motive)


def test_empty_text_is_rejected_by_some_tsps_only():
    """Geotab rejects an empty message text; Samsara accepts it."""
    assert all(o.error_type == "validation" for o in _outcomes("geotab", 20, ""))
    assert any(o.ok for o in _outcomes("samsara", 20, ""))


def test_conditions_model_incidents():
    """An expired credential fails every call as auth; an outage makes most calls network errors."""
    assert all(
        o.error_type == "auth" for o in _outcomes("motive", 200, conditions=Conditions(auth_expired=True))
    )
    outage = _outcomes("motive", 1000, conditions=Conditions(p_network=0.9))
    assert sum(o.error_type == "network" for o in outage) > 800
