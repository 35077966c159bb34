"""What the pickers offer: labelled options, bidi controls shown, the likely role first."""

from __future__ import annotations

from catena_nb.models import Connection, User
from catena_nb.notebook._options import connection_options, labelled, tsp_names, user_options


def test_connection_options_are_labelled_by_tsp_and_fleet_with_bidi_shown() -> None:
    """``tsp · fleet`` labels, sorted; a right-to-left override in a name is shown, not applied."""
    conns = [
        Connection(id="c2", source_name="samsara", description="North"),
        Connection(id="c1", source_name="\u202emotive", fleet_ref="F-9"),
    ]
    assert connection_options(conns) == [("samsara · North", "c2"), ("⟨U+202E⟩motive · F-9", "c1")]
    assert tsp_names(conns) == ["samsara", "\u202emotive"]
    assert labelled(["\u202ex"]) == [("⟨U+202E⟩x", "\u202ex")]


def test_user_options_put_the_likely_role_first() -> None:
    """Recipients list drivers first, senders dispatchers first; a user without a name shows the username."""
    users = [
        User(id="u1", first_name="Ana", last_name="Ruiz", is_driver=True),
        User(id="u2", username="dispatch", is_driver=False),
    ]
    assert user_options(users, drivers_first=True) == [
        ("Ana Ruiz (driver)", "u1"),
        ("dispatch (dispatcher)", "u2"),
    ]
    assert user_options(users, drivers_first=False)[0] == ("dispatch (dispatcher)", "u2")
