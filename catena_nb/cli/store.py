"""``catena-nb sync``, ``listen`` and ``reconcile``: keep an audit store, by listing the API or by webhook."""

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
    parser.add_argument(
        "--webhook-id",
        action="append",
        default=[],
        metavar="ID",
        help="a subscription whose dead-letter queue to replay on start (repeatable; those that deliver to "
        "this listener, or delivered to the store before, are replayed anyway)",
    )
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help="the URL Catena delivers to when it is not http://127.0.0.1:PORT/ (a proxy's public URL; "
        "repeatable): the subscriptions whose URL starts with it are this listener's",
    )
    parser.add_argument(
        "--no-replay",
        action="store_true",
        help="do not replay the subscriptions' dead-letter queues on start",
    )


def _replay(store_ids: set[str], extra: list[str], port: int, urls: list[str]) -> None:
    """Replay the dead-letter queues of the listener's subscriptions: those listed with its URL, those
    that delivered to its store, those named (credentials from the CATENA_* variables)."""
    from catena_nb.client import CatenaClient
    from catena_nb.errors import CatenaError, ConfigurationError
    from catena_nb.store.replay import replay_dead_letters

    ids = store_ids | set(extra)
    try:
        with CatenaClient() as client:
            done = replay_dead_letters(client, ids, port=port, urls=urls)
    except ConfigurationError as exc:
        if ids:  # without credentials there is nothing to list, and only named queues are missed
            sys.stderr.write(f"catena-nb listen: the dead-letter queues were not replayed: {exc}\n")
        return
    except CatenaError as exc:
        sys.stderr.write(f"catena-nb listen: the dead-letter queues were not replayed: {exc}\n")
        return
    for webhook_id, what in done.items():
        out(f"Webhook {webhook_id}: {what}.")


def run_listen(args: argparse.Namespace) -> int:
    """Serve a webhook receiver on 127.0.0.1 that verifies each Catena delivery (signature and
    timestamp), answers 202 only once it is on disk, and writes its operations into the audit store, until
    Ctrl-C. Deliveries it refuses answer 5xx, so that Catena keeps them in its dead-letter queue; on start
    the queues of the store's subscriptions are replayed (--no-replay to skip). The webhook secret is read
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
    store = AuditStore(args.store)  # merges what a listener killed before left in the spool
    app = create_app(store, secret)
    receiver = app.state.receiver
    # served from a thread, so that Ctrl-C and SIGTERM stop it here and the spool is merged cleanly
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="catena-listen", daemon=True)
    try:
        with stop_signal() as stop:
            thread.start()
            while not server.started and thread.is_alive():
                stop.wait(0.05)
            out(f"Receiving webhooks at http://127.0.0.1:{args.port}/ into {args.store}; Ctrl-C to stop.")
            if not args.no_replay and thread.is_alive():
                _replay(set(receiver.webhook_ids), args.webhook_id, args.port, args.url)
            while not stop.wait(0.5):
                if not thread.is_alive():  # uvicorn gave up, e.g. the port is taken
                    sys.stderr.write(f"catena-nb listen: cannot serve on 127.0.0.1:{args.port}\n")
                    return 1
            server.should_exit = True
            thread.join(30)
            receiver.close()
            out(f"Stopped: {receiver.summary()}")
            return 0
    finally:
        receiver.close()
        store.close()


def add_reconcile(sub: Subparsers) -> None:
    parser = command(sub, "reconcile", run_reconcile, "compare webhooks, listings and lookups in a store")
    store_argument(parser)
    parser.add_argument("--no-fix", action="store_true", help="only report: no re-listing, no lookups")


def run_reconcile(args: argparse.Namespace) -> int:
    """Find the operations known from webhooks but missing from the listing and the reverse, statuses
    that disagree, and pending operations never settled; re-list and look up what can be filled
    (credentials from the CATENA_* variables), and print one line per finding still open.
    """
    from catena_nb.client import CatenaClient
    from catena_nb.store import AuditStore

    with CatenaClient() as client, AuditStore(args.store) as store:
        found = store.reconcile(client, fix=not args.no_fix)
    fixed = int(found["fixed"].sum())
    kinds = found.groupby("kind").size().to_dict() if len(found) else {}
    text = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "none"
    out(f"{len(found)} findings ({text}); {fixed} filled, {len(found) - fixed} open.")
    for row in found.loc[~found["fixed"]].itertuples(index=False):
        out(f"  {row.kind} {row.operation_id} (connection {row.connection_id}): {row.detail}")
    return 0
