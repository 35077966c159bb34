"""The seeded world: connections, users and ids are a pure function of the seed."""

from __future__ import annotations

import uuid

from catena_nb.sandbox.sim.world import build_world, message_payload, uuid7_at


def test_same_seed_same_world_other_seed_other_ids():
    """Two builds from one seed are equal; another seed gives other ids."""
    assert build_world(7) == build_world(7)
    assert build_world(7).connections[0].id != build_world(8).connections[0].id


def test_world_has_tsps_connections_and_users():
    """At least three TSPs, six connections (one TSP with two fleets), 4-8 users each with both roles."""
    world = build_world(3)
    names = [c.source_name for c in world.connections]
    assert {"samsara", "motive", "geotab"} <= set(names)
    assert len(world.connections) == 6
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
    """Samsara and Motive users have numeric TSP ids, Geotab ids start with 'b', Omnitracs with 'OMX'."""
    world = build_world(5)
    for conn in world.connections:
        for user in conn.user_records:
            if conn.source_name in ("samsara", "motive"):
                assert user.source_id.isdigit()
            elif conn.source_name == "geotab":
                assert user.source_id.startswith("b")
            else:
                assert user.source_id.startswith("OMX")


def test_message_payload_maps_source_ids_in_seed_order():
    """The payload carries the TSP-side ids of sender and recipient, keys in the seed example's order."""
    world = build_world(7)
    conn = world.connections[0]
    sender, recipient = conn.user_records[0], conn.user_records[-1]
    payload = message_payload(
        world,
        connection_id=conn.id,
        sender_id=sender.id,
        recipient_id=recipient.id,
        message_text="hi",
        priority="low",
    )
    assert list(payload) == [
        "priority",
        "sender_id",
        "message_text",
        "recipient_id",
        "connection_id",
        "source_sender_id",
        "reply_to_message_id",
        "source_recipient_id",
        "source_reply_to_message_id",
    ]
    assert (payload["source_sender_id"], payload["source_recipient_id"]) == (
        sender.source_id,
        recipient.source_id,
    )


def test_uuid7_strings_are_version_7():
    """The time-ordered ids parse as UUID version 7 and sort by their millisecond."""
    a, b = uuid7_at(1_790_000_000_000, 2**73 + 5), uuid7_at(1_790_000_000_001, 1)
    assert uuid.UUID(a).version == 7
    assert uuid.UUID(a).variant == uuid.RFC_4122
    assert a < b
