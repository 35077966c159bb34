"""UTC time buckets: fixed sizes from the epoch, calendar sizes on their dates, every bucket in the grid."""

from __future__ import annotations

import pandas as pd

from catena_nb.analysis.buckets import bucket_end, period_grid, time_buckets


def test_fixed_and_calendar_buckets_start_where_they_should() -> None:
    """A day starts at 00:00 UTC whatever the offset; a month bucket on the 1st; NaT stays NaT."""
    times = pd.Series(["2026-10-01T23:30:00+02:00", "2026-10-15T12:00:00Z", None]).pipe(
        pd.to_datetime, utc=True
    )
    days = time_buckets(times, "D")
    assert days.iloc[0] == pd.Timestamp("2026-10-01", tz="UTC")
    assert pd.isna(days.iloc[2])
    months = time_buckets(times, "MS")
    assert months.iloc[1] == pd.Timestamp("2026-10-01", tz="UTC")


def test_the_grid_holds_empty_buckets_and_each_bucket_ends_where_the_next_starts() -> None:
    """From the first bucket to the last, none missing; a month ends at the next month's start."""
    grid = period_grid(pd.Timestamp("2026-10-01T05:00Z"), pd.Timestamp("2026-10-03T01:00Z"), "D")
    assert [t.day for t in grid] == [1, 2, 3]
    assert bucket_end(pd.Timestamp("2026-10-01", tz="UTC"), "h") == pd.Timestamp("2026-10-01T01:00Z")
    assert bucket_end(pd.Timestamp("2026-02-01", tz="UTC"), "MS") == pd.Timestamp("2026-03-01", tz="UTC")
