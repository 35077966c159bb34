"""The TSP profiles: one per TSP of the world, each with plausible rates, limits and delays."""

from __future__ import annotations

from catena_nb.sandbox.sim.profiles import PROFILES
from catena_nb.sandbox.sim.world import build_world


def test_every_tsp_of_the_world_has_a_plausible_profile():
    """Every TSP behind a connection has a profile; errors stay a few percent, limits and delays positive."""
    assert {c.source_name for c in build_world(7).connections} <= set(PROFILES)
    for slug, p in PROFILES.items():
        assert p.slug == slug
        assert p.messages_url.startswith("https://")
        assert 0 < p.p_auth + p.p_validation + p.p_network + p.p_tsp < 0.1
        assert p.text_limit >= 160
        assert p.rate_per_s > 0
        assert p.burst >= 1
        assert 0 < p.sent_delay_s < p.delivered_median_s < p.read_median_s
        assert 0 < p.p_never_delivered < 0.5
        assert 0 < p.p_read < 1
    assert len({p.request_id_header for p in PROFILES.values()}) == len(PROFILES)
