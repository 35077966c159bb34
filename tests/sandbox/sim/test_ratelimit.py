"""The rate-limit gate of a connection, and the checks that a run kept to its bucket."""

from __future__ import annotations

import pytest

from catena_nb.sandbox.sim.ratelimit import RateLimiter, bucket_violations, max_window_count


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
