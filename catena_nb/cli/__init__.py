"""The ``catena-nb`` command.

Each subcommand is a pair of functions: ``_add_<name>(subparsers)`` declares its arguments and sets
``func`` to ``_run_<name>(args) -> int``. To add a subcommand, write the pair and append the adder to
``SUBCOMMANDS``; ``main`` needs no change. Heavy imports happen inside the run functions, so that
``catena-nb --help`` stays quick.

A run function raises what goes wrong; ``main`` turns it into one or two lines on stderr (what happened,
what to do: :mod:`catena_nb.cli.errors`) and exit status 1, with the traceback only under ``--debug``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shlex
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING

from catena_nb.cli.errors import UsageError, explain

if TYPE_CHECKING:
    from catena_nb.sandbox import Sandbox

SubcommandAdder = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


_DATE_HINT = "Give a date such as 2026-10-01, or an ISO 8601 time such as 2026-10-01T12:00:00Z."


def _when(value: str | None, flag: str) -> dt.datetime | None:
    """A ``--since``/``--until`` value as a UTC datetime, checked before anything starts."""
    from catena_nb._time import as_utc

    if value is None:
        return None
    try:
        return as_utc(value)
    except (TypeError, ValueError):
        raise UsageError(f"{flag} {value!r} is not a date or a time", _DATE_HINT) from None


def _window(since: str | None, until: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    start, end = _when(since, "--since"), _when(until, "--until")
    if start is not None and end is not None and start >= end:
        raise UsageError(
            f"--since {since} is not before --until {until}", "Give a window that ends after it starts."
        )
    return start, end


# -- catena-nb sandbox ---------------------------------------------------------------------------------------


def _add_sandbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sandbox",
        help="serve the local Catena API stand-in in the foreground",
        description=(
            "Serve the sandbox (a local Catena Telematics API with simulated TSPs) on 127.0.0.1 until "
            "Ctrl-C, and print its URLs, the client id and secret, and a ready bearer token for curl."
        ),
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port on 127.0.0.1 (0: a free one; default 8000)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated world (default 7)")
    parser.add_argument(
        "--history", type=int, default=0, metavar="DAYS", help="days of past operations to seed"
    )
    parser.add_argument("--anchor", metavar="DATE", help="last day of the history, e.g. 2026-11-01")
    parser.add_argument("--faults", type=float, default=None, help="share of requests to disturb (0..1)")
    parser.add_argument(
        "--tsp-latency", type=float, default=None, metavar="SECONDS", help="latency of every TSP call"
    )
    parser.add_argument("--time-scale", type=float, default=1.0, help="factor on every simulated wait")
    parser.add_argument("--token-ttl", type=float, default=3600.0, metavar="SECONDS", help="token lifetime")
    parser.set_defaults(func=_run_sandbox)


def _banner(sb: Sandbox) -> list[str]:
    conn = sb.connections[0]
    sender, recipient = conn.user_records[0].id, conn.user_records[-1].id
    exports = {
        "CATENA_BASE_URL": sb.url,
        "CATENA_AUTH_URL": sb.auth_url,
        "CATENA_CLIENT_ID": sb.client_id,
        "CATENA_CLIENT_SECRET": sb.client_secret,
        "CATENA_TOKEN": sb.token,
        "CONNECTION_ID": conn.id,
        "SENDER_ID": sender,
        "RECIPIENT_ID": recipient,
    }
    lines = [
        f"Catena sandbox (seed {sb.seed}) serving at {sb.url}",
        f"  token endpoint  {sb.token_url}",
        f"  client id       {sb.client_id}",
        f"  client secret   {sb.client_secret}",
        "  token           the CATENA_TOKEN below, valid while this sandbox runs",
        f"  connections     {', '.join(f'{c.id} ({c.source_name})' for c in sb.connections)}",
    ]
    if sb.incidents:
        lines.append(f"  incidents       {', '.join(i.name for i in sb.incidents)}")
    lines += ["", "Paste into another shell (see README, 'The sandbox from a shell'):"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
    lines += ["", "Press Ctrl-C to stop."]
    return lines


def _run_sandbox(args: argparse.Namespace) -> int:
    from catena_nb.sandbox import Sandbox

    try:
        sandbox = Sandbox(
            args.seed,
            history=args.history,
            anchor=args.anchor,
            faults=args.faults,
            tsp_latency=args.tsp_latency,
            time_scale=args.time_scale,
            token_ttl=args.token_ttl,
            port=args.port,
        )
    except ValueError as exc:
        sys.stderr.write(f"catena-nb sandbox: {exc}\n")
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            sandbox.start()
        except OSError as exc:
            sys.stderr.write(f"catena-nb sandbox: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}\n")
            return 1
        try:
            for line in _banner(sandbox):
                _out(line)
            while not stop.wait(0.5):
                pass
        finally:
            sandbox.stop()
        _out("Sandbox stopped.")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- catena-nb report ----------------------------------------------------------------------------------------


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="write the reliability report as one self-contained HTML file",
        description=(
            "Execute the reliability audit notebook (against the sandbox when no CATENA_* credentials are "
            "set) and write it as one offline HTML file: findings, tables and charts, code hidden."
        ),
    )
    parser.add_argument(
        "--out", metavar="PATH", help="the HTML file to write (default ./catena-reliability-report.html)"
    )
    parser.add_argument("--since", metavar="DATE", help="first day of the audit window, e.g. 2026-10-01")
    parser.add_argument("--until", metavar="DATE", help="end of the audit window (exclusive)")
    parser.add_argument("--store", metavar="PATH", help="read operations from this audit store")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run_report)


def _notebook_time(value: str | None, moment: dt.datetime | None) -> str | None:
    """What the notebook is given: the value as typed, or as naive UTC when it carried an offset."""
    if value is None or moment is None:
        return None
    if dt.datetime.fromisoformat(value.strip()).tzinfo is None:
        return value
    # the notebook reads its window with pd.Timestamp(value, tz="UTC"), which refuses an offset
    return moment.replace(tzinfo=None).isoformat()


def _run_report(args: argparse.Namespace) -> int:
    from catena_nb.report import render_report
    from catena_nb.store import AuditStore

    # checked here, before a kernel starts: the window, and that the store opens
    start, end = _window(args.since, args.until)
    if args.store is not None:
        AuditStore(args.store, read_only=True).close()
    path = render_report(
        args.out,
        since=_notebook_time(args.since, start),
        until=_notebook_time(args.until, end),
        store=args.store,
        progress=not args.no_progress,
    )
    _out(str(path))
    return 0


# -- catena-nb sync ------------------------------------------------------------------------------------------


def _add_sync(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sync",
        help="fetch what changed in the API into an audit store",
        description=(
            "Fetch the operations (and messages) created since the last sync into a DuckDB audit store, "
            "re-checking those still pending. Credentials come from the CATENA_* environment variables. "
            "Safe to stop at any time: the next run resumes where this one stopped."
        ),
    )
    parser.add_argument("--store", required=True, metavar="PATH", help="the audit store file (DuckDB)")
    parser.add_argument("--since", metavar="DATE", help="earliest creation time to hold, e.g. 2026-09-01")
    parser.add_argument("--until", metavar="DATE", help="end of what to fetch (default: now)")
    parser.add_argument("--no-messages", action="store_true", help="skip the messages listing")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run_sync)


def _run_sync(args: argparse.Namespace) -> int:
    from catena_nb.client import CatenaClient
    from catena_nb.store import AuditStore

    since, until = _window(args.since, args.until)
    with CatenaClient() as client, AuditStore(args.store) as store:
        summary = store.sync(
            client,
            since=since,
            until=until,
            messages=not args.no_messages,
            progress=False if args.no_progress else None,
        )
    _out(str(summary))
    return 0


# -- catena-nb listen ----------------------------------------------------------------------------------------


def _add_listen(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "listen",
        help="receive Catena webhooks into an audit store",
        description=(
            "Serve a webhook receiver on 127.0.0.1 that verifies each Catena delivery (signature and "
            "timestamp) and writes its operations into the audit store, until Ctrl-C. The webhook secret is "
            "read from the environment variable named by --secret-env, never from the command line."
        ),
    )
    parser.add_argument("--store", required=True, metavar="PATH", help="the audit store file (DuckDB)")
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080)")
    parser.add_argument(
        "--secret-env",
        required=True,
        metavar="VAR",
        help="the environment variable holding the webhook secret, e.g. CATENA_WEBHOOK_SECRET",
    )
    parser.set_defaults(func=_run_listen)


def _run_listen(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from catena_nb.store import AuditStore
    from catena_nb.store.listen import create_app

    secret = os.environ.get(args.secret_env, "")
    if not secret:
        sys.stderr.write(f"catena-nb listen: the environment variable {args.secret_env} is unset or empty\n")
        return 2
    store = AuditStore(args.store)  # raises StoreLockedError when a sync or another listener holds it
    app = create_app(store, secret)
    # served from a thread, so that Ctrl-C and SIGTERM stop it here and the store is closed cleanly
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="catena-listen", daemon=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        thread.start()
        _out(f"Receiving webhooks at http://127.0.0.1:{args.port}/ into {args.store}; Ctrl-C to stop.")
        while not stop.wait(0.5):
            if not thread.is_alive():  # uvicorn gave up, e.g. the port is taken
                sys.stderr.write(f"catena-nb listen: cannot serve on 127.0.0.1:{args.port}\n")
                return 1
        server.should_exit = True
        thread.join(30)
        counts = app.state.receiver.counts
        _out(f"Stopped: {counts['stored']} deliveries stored, {counts['unauthorized']} refused.")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        app.state.receiver.close()
        store.close()


SUBCOMMANDS: list[SubcommandAdder] = [_add_sandbox, _add_report, _add_sync, _add_listen]


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
