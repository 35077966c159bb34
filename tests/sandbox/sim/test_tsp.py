"""The simulated TSPs: outcomes that depend on content only, and the rate limit a sync call meets."""

from __future__ import annotations

from catena_nb.sandbox.sim.outcomes import draw
from catena_nb.sandbox.sim.profiles import PROFILES
from catena_nb.sandbox.sim.tsp import TspSimulator
from catena_nb.sandbox.sim.types import Pace
from catena_nb.sandbox.sim.world import build_world
from tests.support.sim import new_op


def test_outcome_is_a_pure_function_of_seed_content_and_attempt():
    """The same (seed, key, attempt) gives the same outcome; the attempt number changes the draw."""
    world = build_world(7)
    sim = TspSimulator(world, seed=7, pace=Pace(tsp_latency=0.0))
    op = new_op(world, 0, text="Delivery confirmed at warehouse B")
    first = [sim.decide(op, a) for a in range(1, 6)]
    again = [TspSimulator(world, seed=7, pace=Pace()).decide(dict(op, id="other"), a) for a in range(1, 6)]
    assert first == again
    assert draw(7, "k", 1) != draw(7, "k", 2) != draw(8, "k", 1)


def test_sync_call_above_the_rate_limit_gets_429():
    """A sync call that finds the connection's bucket empty is answered 429 (tsp, retryable) at once."""
    world = build_world(7)
    now = [0.0]
    sim = TspSimulator(world, seed=7, pace=Pace(tsp_latency=0.0), clock=lambda: now[0])
    op = new_op(world, 0, text="hi")
    burst = PROFILES[world.connections[0].source_name].burst
    outcomes = [sim.call(op, 1, sync=True) for _ in range(burst + 5)]
    limited = [
        o for o in outcomes if o.response_status_code == 429 and "rate limit" in (o.error_details or "")
    ]
    assert len(limited) == 5
    assert all(o.error_type == "tsp" and o.retryable and "retry-after" in o.response_headers for o in limited)
    assert sim.rate_limited[world.connections[0].id] == 5
