"""The pre-seeded history: deterministic, valid records, a daily rhythm, and incidents that show by day."""

from __future__ import annotations

import collections
import datetime as dt
import re
import statistics

import pytest

from catena_nb.sandbox.sim.history import History, generate_history
from catena_nb.sandbox.sim.records import LOOKUP_KEYS, WRITE_KEYS, WRITE_LOG_KEYS
from catena_nb.sandbox.sim.world import build_world

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture(scope="module")
def month():
    """A 30-day history for seed 7, anchored at 2026-11-01, shared by the module."""
    world = build_world(7)
    return world, generate_history(world, 7, 30, dt.date(2026, 11, 1))


def test_same_arguments_same_history():
    """Two generations from the same arguments are equal; another seed differs."""
    world = build_world(4)
    a = generate_history(world, 4, 3, "2026-06-10")
    b = generate_history(world, 4, 3, dt.date(2026, 6, 10))
    assert a.operations == b.operations
    assert a.messages == b.messages
    assert generate_history(world, 5, 3, "2026-06-10").operations != a.operations


def test_window_ends_with_the_anchor_day(month):
    """Thirty days of operations, from 2026-10-03 to the anchor day 2026-11-01, in created_at order."""
    _, hist = month
    days = sorted({op["created_at"][:10] for op in hist.operations})
    assert days[0] == "2026-10-03"
    assert days[-1] == "2026-11-01"
    assert len(days) == 30
    created = [op["created_at"] for op in hist.operations]
    assert created == sorted(created)
    assert hist.end == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def test_thousands_a_day_with_a_rhythm(month):
    """Weekdays carry thousands of operations, weekends fewer, and the small hours least."""
    _, hist = month
    per_day = collections.Counter(op["created_at"][:10] for op in hist.operations)
    weekday = [n for d, n in per_day.items() if dt.date.fromisoformat(d).weekday() < 5]
    weekend = [n for d, n in per_day.items() if dt.date.fromisoformat(d).weekday() >= 5]
    assert min(weekday) > 1800
    assert statistics.mean(weekend) < 0.7 * statistics.mean(weekday)
    per_hour = collections.Counter(int(op["created_at"][11:13]) for op in hist.operations)
    assert per_hour[4] < per_hour[15] / 4


def test_records_are_valid_internal_records(month):
    """Every operation has both shapes' keys, ordered logs with the log keys, and consistent ids."""
    world, hist = month
    conns = {c.id: c for c in world.connections}
    messages = {m["id"]: m for m in hist.messages}
    assert len(messages) == len(hist.messages)
    op_ids = set()
    sync_like = retried = 0
    for op in hist.operations:
        assert set(WRITE_KEYS) | set(LOOKUP_KEYS) <= set(op)
        assert op["id"] not in op_ids
        op_ids.add(op["id"])
        assert STAMP.match(op["created_at"])
        assert op["created_at"] <= op["logs"][0]["created_at"] <= op["updated_at"]
        assert conns[op["connection_id"]].source_name == op["source_name"]
        logs = op["logs"]
        assert [log["created_at"] for log in logs] == sorted(log["created_at"] for log in logs)
        for log in logs:
            assert set(WRITE_LOG_KEYS) <= set(log)
            assert log["resource_operation_id"] == op["id"]
            assert STAMP.match(log["created_at"])
        assert all(log["status"] == "failed" and log["error_type"] in ("network", "tsp") for log in logs[:-1])
        assert len(logs) <= 5
        retried += len(logs) > 1
        if op["status"] == "success":
            assert logs[-1]["status"] == "success"
            message = messages[op["resource_id"]]
            assert message["source_id"] == op["source_id"]
            assert message["connection_id"] == op["connection_id"]
        else:
            assert op["status"] == "failed"
            assert op["resource_id"] is None
            assert op["source_id"] is None
            sync_like += len(logs) == 1 and logs[0]["error_type"] in ("network", "tsp")
    assert retried > 1000
    assert sync_like > 100  # sync operations: a retryable error, yet one attempt
    assert len(hist.messages) == sum(op["status"] == "success" for op in hist.operations)
    assert any("recipient_ids" in m for m in hist.messages)


def test_incidents_are_named_distinct_and_inside_the_window(month):
    """Three incidents of the three kinds, on three TSPs, inside the window."""
    _, hist = month
    assert sorted(i.kind for i in hist.incidents) == [
        "credential_expiry",
        "network_outage",
        "validation_change",
    ]
    assert len({i.source_name for i in hist.incidents}) == 3
    for inc in hist.incidents:
        assert hist.start <= inc.start < inc.end <= hist.end
        assert inc.name
    expiry = next(i for i in hist.incidents if i.kind == "credential_expiry")
    assert expiry.connection_id is not None
    assert expiry.error_type == "auth"


def _assert_incidents_show(hist: History) -> None:
    for inc in hist.incidents:
        days: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        errors: collections.Counter[str] = collections.Counter()
        day = inc.start.date().isoformat()
        for op in hist.operations:
            if op["source_name"] != inc.source_name or inc.connection_id not in (None, op["connection_id"]):
                continue
            d = op["created_at"][:10]
            days[d][0] += 1
            if op["status"] == "failed":
                days[d][1] += 1
                if d == day:
                    errors[op["logs"][-1]["error_type"]] += 1
        rates = {d: failed / n for d, (n, failed) in days.items()}
        baseline = statistics.median(rates.values())
        assert rates[day] > 3 * baseline, (inc.name, rates[day], baseline)
        assert errors.most_common(1)[0][0] == inc.error_type
        assert errors[inc.error_type] > 0.6 * sum(errors.values())


def test_incidents_show_in_the_failure_counts_by_day(month):
    """On an incident's day its connection/TSP fails over 3x its median daily rate, mostly of its type."""
    _assert_incidents_show(month[1])


def test_incidents_show_by_day_for_another_seed():
    """The same holds for another seed, which places the incidents on other TSPs and days."""
    world = build_world(2)
    _assert_incidents_show(generate_history(world, 2, 30, "2026-11-01"))


def test_short_histories_have_no_incidents_and_zero_days_is_empty():
    """Fewer than nine days hold no incident; zero days hold nothing."""
    world = build_world(1)
    assert generate_history(world, 1, 8, "2026-01-05").incidents == []
    empty = generate_history(world, 1, 0, "2026-01-05")
    assert empty.operations == []
    assert empty.messages == []
