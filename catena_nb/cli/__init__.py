"""The ``catena-nb`` command: ``sandbox``, ``report``, ``sync`` and ``listen``.

Each subcommand lives in a module of this package with an ``add(subparsers)`` that declares its arguments
and sets ``func`` to its run function ``(args) -> int``; to add one, write the module and append its adder
to ``SUBCOMMANDS``. Heavy imports happen inside the run functions, so that ``catena-nb --help`` stays quick.

A run function raises what goes wrong; ``main`` turns it into one or two lines on stderr (what happened,
what to do: :mod:`catena_nb.cli.errors`) and exit status 1, with the traceback only under ``--debug``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from catena_nb.cli import report, sandbox, store
from catena_nb.cli.errors import explain

SubcommandAdder = Callable[["Subparsers"], None]

SUBCOMMANDS: list[SubcommandAdder] = [
    sandbox.add,
    report.add,
    store.add_sync,
    store.add_listen,
    store.add_reconcile,
]

if TYPE_CHECKING:
    from catena_nb.cli._common import Subparsers


_DEBUG_HELP = "on a failure, show the traceback (and log at debug level)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``catena-nb`` with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="catena-nb",
        description="Send driver messages through the Catena Telematics API and audit their reliability.",
    )
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    for command in sub.choices.values():  # `catena-nb sync ... --debug` works too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``catena-nb`` with ``argv`` (default: the process's arguments).

    Returns:
        The exit status: 0, 1 for a failure (told in one or two lines on stderr), 2 for a usage error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    if args.debug:
        logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
        logging.getLogger("catena_nb").setLevel(logging.DEBUG)
    try:
        return func(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"catena-nb {args.command}: interrupted\n")
        return 130
    except Exception as exc:
        if args.debug:
            traceback.print_exception(exc)
        what, *todo = explain(exc, args.command)
        sys.stderr.write(f"catena-nb {args.command}: {what}\n" + "".join(f"  {line}\n" for line in todo))
        return 1
