"""``catena-nb sync`` and ``catena-nb listen``: keep an audit store, by listing the API or by webhook."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TYPE_CHECKING

from catena_nb import _config
from catena_nb.cli._common import command, out, progress_argument, stop_signal, store_argument, window

if TYPE_CHECKING:
    from catena_nb.cli._common import Subparsers


def add_sync(sub: Subparsers) -> None:
    parser = command(sub, "sync", run_sync, "fetch what changed in the API into an audit store")
    store_argument(parser)
    parser.add_argument("--since", metavar="DATE", help="earliest creation time to hold, e.g. 2026-09-01")
    parser.add_argument("--until", metavar="DATE", help="end of what to fetch (default: now)")
    parser.add_argument("--no-messages", action="store_true", help="skip the messages listing")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        metavar="N",
        help="sub-windows listed side by side (default 1: one cursor at a time, each page committed "
        f"before the next is asked for; the listings' own default is {_config.DEFAULT_LIST_CONCURRENCY})",
    )
    progress_argument(parser)


def run_sync(args: argparse.Namespace) -> int:
    """Fetch the operations (and messages) created since the last sync into a DuckDB audit store,
    re-checking those still pending. Credentials come from the CATENA_* environment variables. Safe to stop
    at any time: the next run resumes where this one stopped.
    """
    from catena_nb.client import CatenaClient
    from catena_nb.store import AuditStore

    since, until = window(args.since, args.until)
    with CatenaClient() as client, AuditStore(args.store) as store:
        summary = store.sync(
            client,
            since=since,
            until=until,
            messages=not args.no_messages,
            progress=False if args.no_progress else None,
            concurrency=args.concurrency,
        )
    out(str(summary))
    return 0


def add_listen(sub: Subparsers) -> None:
    parser = command(sub, "listen", run_listen, "receive Catena webhooks into an audit store")
    store_argument(parser)
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080)")
    parser.add_argument(
        "--secret-env",
        required=True,
        metavar="VAR",
        help="the environment variable holding the webhook secret, e.g. CATENA_WEBHOOK_SECRET",
    )


def run_listen(args: argparse.Namespace) -> int:
    """Serve a webhook receiver on 127.0.0.1 that verifies each Catena delivery (signature and
    timestamp) and writes its operations into the audit store, until Ctrl-C. The webhook secret is read
    from the environment variable named by --secret-env, never from the command line.
    """
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
    try:
        with stop_signal() as stop:
            thread.start()
            out(f"Receiving webhooks at http://127.0.0.1:{args.port}/ into {args.store}; Ctrl-C to stop.")
            while not stop.wait(0.5):
                if not thread.is_alive():  # uvicorn gave up, e.g. the port is taken
                    sys.stderr.write(f"catena-nb listen: cannot serve on 127.0.0.1:{args.port}\n")
                    return 1
            server.should_exit = True
            thread.join(30)
            counts = app.state.receiver.counts
            out(f"Stopped: {counts['stored']} deliveries stored, {counts['unauthorized']} refused.")
            return 0
    finally:
        app.state.receiver.close()
        store.close()
