"""Simulated TSPs: deterministic outcomes, realistic errors, field rules and the rate-limit gate."""

from __future__ import annotations

import collections

import pytest

from catena_nb.sandbox.sim.tsp import (
    PROFILES,
    Conditions,
    RateLimiter,
    TspSimulator,
    bucket_violations,
    decide,
    draw,
    max_window_count,
)
from catena_nb.sandbox.sim.world import build_world
from tests.support.sim import new_op


def _outcomes(profile_name: str, n: int, text: str = "Load 12 ready", conditions: Conditions | None = None):
    profile = PROFILES[profile_name]
    return [decide(profile, draw(7, f"k{i}", 1), text=text, conditions=conditions) for i in range(n)]


def test_outcome_is_a_pure_function_of_seed_content_and_attempt():
    """The same (seed, key, attempt) gives the same outcome; the attempt number changes the draw."""
    world = build_world(7)
    sim = TspSimulator(world, seed=7, tsp_latency=0.0)
    op = new_op(world, 0, text="Delivery confirmed at warehouse B")
    first = [sim.decide(op, a) for a in range(1, 6)]
    again = [TspSimulator(world, seed=7).decide(dict(op, id="other"), a) for a in range(1, 6)]
    assert first == again
    assert draw(7, "k", 1) != draw(7, "k", 2) != draw(8, "k", 1)


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


def test_rate_limiter_admits_burst_then_refills():
    """A bucket of 3 at 10/s admits 3 calls at once, then one per 0.1 s; its call times keep the invariant."""
    now = [0.0]
    limiter = RateLimiter(10.0, 3, clock=lambda: now[0])
    assert [limiter.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.try_acquire()
    assert wait == pytest.approx(0.1)
    now[0] += wait
    assert limiter.try_acquire() == 0.0
    assert bucket_violations(limiter.call_times(), 10.0, 3) == 0


def test_bucket_violations_and_window_count_detect_bursts():
    """Ten calls at one instant break a bucket of 5, and so does one soon after; the densest window has 10."""
    times = [1.0] * 10 + [5.0]
    # calls 6-10 exceed the bucket at t=1, and the call at t=5 still finds it 2 short (11 > 5 + 4)
    assert bucket_violations(times, 1.0, 5) == 6
    assert max_window_count(times, 1.0) == 10
    assert bucket_violations([0.0, 1.0, 2.0, 3.0], 1.0, 1) == 0


def test_sync_call_above_the_rate_limit_gets_429():
    """A sync call that finds the connection's bucket empty is answered 429 (tsp, retryable) at once."""
    world = build_world(7)
    now = [0.0]
    sim = TspSimulator(world, seed=7, tsp_latency=0.0, clock=lambda: now[0])
    op = new_op(world, 0, text="hi")
    burst = PROFILES[world.connections[0].source_name].burst
    outcomes = [sim.call(op, 1, sync=True) for _ in range(burst + 5)]
    limited = [
        o for o in outcomes if o.response_status_code == 429 and "rate limit" in (o.error_details or "")
    ]
    assert len(limited) == 5
    assert all(o.error_type == "tsp" and o.retryable and "retry-after" in o.response_headers for o in limited)
    assert sim.rate_limited[world.connections[0].id] == 5
