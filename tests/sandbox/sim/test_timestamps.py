"""The one timestamp format: fixed width, UTC, and the fast writer agrees with the plain one."""

from __future__ import annotations

import datetime as dt

from catena_nb.sandbox.sim.timestamps import Stamper, iso


def test_iso_is_utc_with_microseconds():
    """Aware datetimes are converted to UTC, naive ones taken as UTC, always with six decimals and a Z."""
    aware = dt.datetime(2026, 11, 2, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert iso(aware) == "2026-11-02T10:30:00.000000Z"
    assert iso(dt.datetime(2026, 1, 5, 3, 4, 5, 6)) == "2026-01-05T03:04:05.000006Z"


def test_stamper_writes_what_iso_writes():
    """Seconds after the start give the string iso gives for that instant, across hours and days."""
    start = dt.datetime(2026, 10, 3, tzinfo=dt.UTC)
    stamp = Stamper(start)
    for t in (0.0, 0.5, 59.75, 3599.25, 86399.75, 12 * 86400 + 7.125):
        assert stamp(t) == iso(start + dt.timedelta(seconds=t))
