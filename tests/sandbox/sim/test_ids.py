"""Record ids: UUID version 7 strings, seeded ids that never repeat, and TSP-style source ids."""

from __future__ import annotations

import uuid

from catena_nb.sandbox.sim.ids import SeededIds, new_uuid7, source_id_for, stable_int, uuid7_at


def test_uuid7_strings_are_version_7():
    """The time-ordered ids parse as UUID version 7 and sort by their millisecond."""
    a, b = uuid7_at(1_790_000_000_000, 2**73 + 5), uuid7_at(1_790_000_000_001, 1)
    assert uuid.UUID(a).version == 7
    assert uuid.UUID(a).variant == uuid.RFC_4122
    assert a < b


def test_seeded_ids_are_unique_repeatable_and_time_ordered():
    """One kind's ids never repeat, the same seed gives the same ids, and later records sort later."""
    a, b = SeededIds(7, "log", 1_790_000_000_000), SeededIds(7, "log", 1_790_000_000_000)
    ids = [a(t / 10) for t in range(5000)]
    assert len(set(ids)) == len(ids)
    assert ids == [b(t / 10) for t in range(5000)]
    assert ids[0] < ids[-1]
    assert SeededIds(7, "message", 1_790_000_000_000)(0.0) != ids[0]
    assert all(uuid.UUID(i).version == 7 for i in ids[:50])
    assert uuid.UUID(new_uuid7()).version == 7


def test_stable_ints_and_source_ids_depend_only_on_their_inputs():
    """The same parts give the same integer; each TSP style shapes the id made from it."""
    n = stable_int(7, "thread", "a", "b")
    assert n == stable_int(7, "thread", "a", "b") != stable_int(7, "thread", "b", "a")
    assert 0 <= n < 2**64
    assert source_id_for("samsara", n).isdigit()
    assert len(source_id_for("motive", n)) == 7
    assert source_id_for("geotab", n).startswith("b")
    assert source_id_for("omnitracs", n).startswith("OMX")
