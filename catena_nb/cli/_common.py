"""What the subcommands share: output, the ``--since``/``--until`` window, the store argument, stopping.

Each subcommand module offers ``add(subparsers)``, which declares its arguments and sets ``func`` to a run
function ``(args) -> int``. A run function raises what goes wrong; :func:`catena_nb.cli.main` tells it in
one or two lines (:mod:`catena_nb.cli.errors`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, TypeAlias

from catena_nb.cli.errors import UsageError

if TYPE_CHECKING:  # argparse's class is generic only to type checkers
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def out(text: str = "") -> None:
    """Print a line of the command's answer on stdout, at once."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


_DATE_HINT = "Give a date such as 2026-10-01, or an ISO 8601 time such as 2026-10-01T12:00:00Z."


def when(value: str | None, flag: str) -> dt.datetime | None:
    """A ``--since``/``--until`` value as a UTC datetime, checked before anything starts."""
    from catena_nb._time import as_utc

    if value is None:
        return None
    try:
        return as_utc(value)
    except (TypeError, ValueError):
        raise UsageError(f"{flag} {value!r} is not a date or a time", _DATE_HINT) from None


def window(since: str | None, until: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The checked ``--since``/``--until`` window (either end may be open)."""
    start, end = when(since, "--since"), when(until, "--until")
    if start is not None and end is not None and start >= end:
        raise UsageError(
            f"--since {since} is not before --until {until}", "Give a window that ends after it starts."
        )
    return start, end


def command(
    sub: Subparsers, name: str, run: Callable[[argparse.Namespace], int], summary: str
) -> argparse.ArgumentParser:
    """Declare the subcommand ``name``: ``summary`` in the list of commands, ``run``'s docstring as its
    description in ``catena-nb name --help``, and ``run`` as what it does."""
    parser = sub.add_parser(name, help=summary, description=inspect.getdoc(run))
    parser.set_defaults(func=run)
    return parser


def store_argument(
    parser: argparse.ArgumentParser, *, required: bool = True, help: str | None = None
) -> None:
    """The ``--store PATH`` argument."""
    parser.add_argument(
        "--store", required=required, metavar="PATH", help=help or "the audit store file (DuckDB)"
    )


def progress_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--no-progress`` switch."""
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


@contextmanager
def stop_signal() -> Iterator[threading.Event]:
    """An event set by Ctrl-C or SIGTERM while the block runs (the previous handlers come back after)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
