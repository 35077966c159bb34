"""The shape of the history's traffic: a day with a working rhythm, and a pool of texts of three lengths."""

from __future__ import annotations

import random

from catena_nb.sandbox.sim.traffic import DAILY_VOLUME, HOURLY_SHARE, PRIORITIES, text_pool
from catena_nb.sandbox.sim.world import build_world


def test_the_day_has_24_hours_busiest_in_the_north_american_afternoon():
    """One share per UTC hour, the busiest between 12:00 and 20:00 UTC; one volume per connection that
    carries traffic (its TSP takes message writes)."""
    assert len(HOURLY_SHARE) == 24
    assert 12 <= HOURLY_SHARE.index(max(HOURLY_SHARE)) < 20
    assert len(DAILY_VOLUME) == len(build_world(1).message_connections)
    assert None in PRIORITIES


def test_text_pool_is_seeded_and_mostly_short():
    """300 texts, the same for the same seed: 75% up to 160 characters, 5% over 480."""
    pool = text_pool(random.Random(3))
    assert pool == text_pool(random.Random(3))
    assert len(pool) == 300
    assert sum(len(t) <= 160 for t in pool) == 225
    assert sum(len(t) > 480 for t in pool) == 15
    assert all(t for t in pool)
