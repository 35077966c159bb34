"""The seeded world: connections, users and ids are a pure function of the seed."""

from __future__ import annotations

import uuid

from catena_nb.sandbox.sim.world import build_world


def test_same_seed_same_world_other_seed_other_ids():
    """Two builds from one seed are equal; another seed gives other ids."""
    assert build_world(7) == build_world(7)
    assert build_world(7).connections[0].id != build_world(8).connections[0].id


def test_world_has_tsps_connections_and_users():
    """At least three TSPs, seven connections (one TSP with two fleets; six whose TSP takes message writes and
    one whose TSP does not), 4-8 users each with both roles."""
    world = build_world(3)
    names = [c.source_name for c in world.connections]
    assert {"samsara", "motive", "geotab"} <= set(names)
    assert len(world.connections) == 7
    assert len(world.message_connections) == 6
    assert world.connections[-1] not in world.message_connections
    assert any(names.count(n) >= 2 for n in names)
    for conn in world.connections:
        assert 4 <= len(conn.users) <= 8
        assert conn.drivers
        assert conn.dispatchers
        assert all(u.connection_id == conn.id for u in conn.user_records)


def test_ids_are_uuids_and_unique():
    """Every id in the world is a well-formed UUID and no two are equal."""
    world = build_world(11)
    ids = (
        [world.partner_id]
        + [c.id for c in world.connections]
        + [u for c in world.connections for u in c.users]
    )
    assert len(set(ids)) == len(ids)
    for value in ids:
        uuid.UUID(value)


def test_source_ids_follow_each_tsp_style():
    """Samsara and Motive users have numeric TSP ids, Geotab ids start with 'b', Omnitracs with 'OMX', HOS247
    with 'H247-'."""
    world = build_world(5)
    for conn in world.connections:
        for user in conn.user_records:
            if conn.source_name in ("samsara", "motive"):
                assert user.source_id.isdigit()
            elif conn.source_name == "geotab":
                assert user.source_id.startswith("b")
            elif conn.source_name == "hos247":
                assert user.source_id.startswith("H247-")
            else:
                assert user.source_id.startswith("OMX")
