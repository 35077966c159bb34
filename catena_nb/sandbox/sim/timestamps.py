"""The sandbox's one timestamp format, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), and a fast writer of it.

Strings of that fixed width sort like the instants they name, so the store indexes them and the delivery
views compare them without parsing.
"""

from __future__ import annotations

import datetime as dt

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def iso(moment: dt.datetime) -> str:
    """Format a datetime as the sandbox's timestamp string (naive datetimes are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime(ISO_FORMAT)


def utcnow_iso() -> str:
    """The current time as the sandbox's timestamp string."""
    return iso(dt.datetime.now(dt.UTC))


class Stamper:
    """Seconds since ``start`` -> the sandbox's timestamp string, quickly (the history writes 300,000).

    ``strftime`` runs once per hour of the window; the minutes and seconds are formatted from integers.
    """

    def __init__(self, start: dt.datetime) -> None:
        self._start = start
        self._prefix: dict[int, str] = {}
        self._hour: dict[int, str] = {}

    def __call__(self, t: float) -> str:
        us = int(t * 1_000_000)
        minute = us // 60_000_000
        prefix = self._prefix.get(minute)
        if prefix is None:
            hour = self._hour.get(minute // 60)
            if hour is None:
                hour = self._hour[minute // 60] = (self._start + dt.timedelta(hours=minute // 60)).strftime(
                    "%Y-%m-%dT%H:"
                )
            prefix = self._prefix[minute] = f"{hour}{minute % 60:02d}:"
        return "%s%02d.%06dZ" % (prefix, us // 1_000_000 % 60, us % 1_000_000)  # noqa: UP031 - fastest
