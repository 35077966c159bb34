"""A real `catena-nb listen` down while async sends settle: the DLQ holds the events, the replay on
restart brings every one back, and the store ends with each operation once at its final status."""

from __future__ import annotations

import pytest

from tests.support.outage import run_outage


@pytest.mark.slow
def test_a_listener_down_and_restarted_ends_with_every_operation_once_at_its_final_status(tmp_path):
    """Down for 10 s (scaled) during 30 async sends: events land in the DLQ; `catena-nb listen`'s replay on
    start empties it, and the store holds each of the 30 operations once, at its final status (the
    SIGKILLed command itself: benchmarks/listener_down.py and notebook 04)."""
    r = run_outage(tmp_path / "audit.duckdb", sends=30, down_s=0.5, time_scale=0.05, first_inline=True)
    assert r.dlq_while_down > 0
    assert len(r.replay_lines) == 3  # the three resource_operation.* subscriptions, found by their URL
    assert all(line.endswith("replay requested.") for line in r.replay_lines)
    assert r.dlq_after == 0
    assert r.stored == 30
    assert r.rows_per_operation == 1
    assert r.at_final_status == 30
