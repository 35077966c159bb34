"""The ``by`` argument of every table: keys, their column names, group sums and labels."""

from __future__ import annotations

import pandas as pd

from catena_nb.analysis.grouping import counts_by, group_totals, keys_of, label, names_of


def test_by_becomes_keys_and_column_names() -> None:
    """None, a column, a Grouper or a list of them; a Grouper's column is named after its key."""
    day = pd.Grouper(key="created_at", freq="D")
    assert keys_of(None) == []
    assert keys_of("source_name") == ["source_name"]
    assert names_of(keys_of(["source_name", day])) == ["source_name", "created_at"]


def test_sums_shares_and_labels_per_group() -> None:
    """Sums per group (missing values a group of their own), totals within a group, labels joined."""
    work = pd.DataFrame({"tsp": ["a", "a", None], "n": [1, 2, 3]})
    sums = counts_by(work, ["tsp"], ["n"])
    assert sums["n"].tolist() == [3, 3]
    assert counts_by(work.iloc[:0], ["tsp"], ["n"]).columns.tolist() == ["tsp", "n"]
    assert group_totals(pd.DataFrame({"g": ["x", "x", "y"], "v": [1, 2, 5]}), ["g"], "v").tolist() == [
        3,
        3,
        5,
    ]
    assert label(["samsara", None]) == "samsara / (none)"
