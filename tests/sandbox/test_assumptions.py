"""Every choice the sandbox makes where Catena's docs are silent is marked `# assumed:` in its code and has
its row in the README's table "What the sandbox assumes where Catena's docs are silent", and every row points
at a marked place."""

from __future__ import annotations

from tests.support.assumptions import markers, readme_rows


def test_every_assumption_in_the_code_has_its_readme_row() -> None:
    """Each `# assumed:` comment under catena_nb/sandbox/ is at a place (module:function) that a README row
    names."""
    found = markers()
    assert len(found) >= 30
    named = {location for _, _, locations in readme_rows() for location in locations}
    missing = sorted({m.location for m in found} - named)
    assert missing == [], f"assumptions without a README row: {missing}"


def test_every_readme_row_points_at_a_marked_place() -> None:
    """Each row has a behaviour, a reason and at least one place, and each place holds an `# assumed:`."""
    rows = readme_rows()
    assert len(rows) >= 30
    marked = {m.location for m in markers()}
    for behaviour, why, locations in rows:
        assert behaviour
        assert why
        assert locations, behaviour
        assert locations <= marked, (behaviour, sorted(locations - marked))


def test_the_known_inventions_have_rows() -> None:
    """The behaviours the docs are known not to give have rows: the 45-day window's status, sort_by refused,
    the Retry-After header, the async retry schedule, the rate limits and the slow sync send (no 504)."""
    behaviours = " ".join(behaviour for behaviour, _, _ in readme_rows())
    for phrase in ("over 45 days", "`sort_by`", "`Retry-After`", "5 attempts", "rate limits", "never 504"):
        assert phrase in behaviours, phrase
