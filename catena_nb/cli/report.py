"""``catena-nb report``: the reliability report as one self-contained HTML file."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from catena_nb.cli._common import command, out, progress_argument, store_argument, window

if TYPE_CHECKING:
    from catena_nb.cli._common import Subparsers


def add(sub: Subparsers) -> None:
    parser = command(sub, "report", run, "write the reliability report as one self-contained HTML file")
    parser.add_argument(
        "--out", metavar="PATH", help="the HTML file to write (default ./catena-reliability-report.html)"
    )
    parser.add_argument("--since", metavar="DATE", help="first day of the audit window, e.g. 2026-10-01")
    parser.add_argument("--until", metavar="DATE", help="end of the audit window (exclusive)")
    store_argument(parser, required=False, help="read operations from this audit store")
    progress_argument(parser)


def _notebook_time(value: str | None, moment: dt.datetime | None) -> str | None:
    """What the notebook is given: the value as typed, or as naive UTC when it carried an offset."""
    if value is None or moment is None:
        return None
    if dt.datetime.fromisoformat(value.strip()).tzinfo is None:
        return value
    # the notebook reads its window with pd.Timestamp(value, tz="UTC"), which refuses an offset
    return moment.replace(tzinfo=None).isoformat()


def run(args: argparse.Namespace) -> int:
    """Execute the reliability audit notebook (against the sandbox when no CATENA_* credentials are set)
    and write it as one offline HTML file: findings, tables and charts, code hidden.
    """
    from catena_nb.report import credentials_configured, render_report

    # checked here, before a kernel starts: the window, and that the store opens
    start, end = window(args.since, args.until)
    if args.store is not None:
        from catena_nb.store import AuditStore

        AuditStore(args.store, read_only=True).close()
    served = None
    if args.store is None and not credentials_configured():
        from catena_nb.cli._served import ServedSandbox

        # started first: its process builds the history while this one imports the kernel's machinery
        served = ServedSandbox.for_audit_notebook()
    try:
        path = render_report(
            args.out,
            since=_notebook_time(args.since, start),
            until=_notebook_time(args.until, end),
            store=args.store,
            progress=not args.no_progress,
            served=served,
        )
    finally:
        if served is not None:
            served.stop()
    out(str(path))
    return 0
