"""The dashboard's views: its selection by TSP, connection and UTC days, and its group-by choices."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from catena_nb.frames import operations_frame
from catena_nb.notebook import _views as views


def _ops() -> pd.DataFrame:
    return operations_frame(
        [
            {
                "id": "a",
                "source_name": "samsara",
                "connection_id": "c1",
                "created_at": "2026-10-01T23:59:59Z",
            },
            {
                "id": "b",
                "source_name": "samsara",
                "connection_id": "c2",
                "created_at": "2026-10-02T00:00:00Z",
            },
            {"id": "c", "source_name": "motive", "connection_id": "c3", "created_at": "2026-10-03T00:00:00Z"},
        ]
    )


def test_the_selection_takes_whole_utc_days_and_the_connection() -> None:
    """``until`` includes its whole day, ``since`` starts at midnight UTC; a connection narrows further."""
    ops_df = _ops()
    day = dt.date(2026, 10, 1)
    picked = views.filter_operations(
        ops_df, source_names=["samsara", "motive"], connection_id=None, since=day, until=day
    )
    assert picked["operation_id"].tolist() == ["a"]
    both = views.filter_operations(
        ops_df, source_names=["samsara"], connection_id="c2", since=None, until=None
    )
    assert both["operation_id"].tolist() == ["b"]
    assert views.day_range(ops_df) == (dt.date(2026, 10, 1), dt.date(2026, 10, 3))
    assert views.sorted_values(ops_df, "source_name") == ["motive", "samsara"]


def test_group_by_choices_name_their_column_or_a_day_bucket() -> None:
    """``priority`` groups on the payload field, ``day`` on created_at by UTC day, others on their column."""
    assert views.group_key("priority") == "payload_priority"
    assert views.group_key("source_name") == "source_name"
    day = views.group_key("day")
    assert isinstance(day, pd.Grouper)
    assert day.key == "created_at"
