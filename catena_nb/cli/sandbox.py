"""``catena-nb sandbox``: serve the local stand-in of the Catena API in the foreground, for curl."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catena_nb.cli._common import command, out, stop_signal

if TYPE_CHECKING:
    from catena_nb.cli._common import Subparsers
    from catena_nb.sandbox import Sandbox


def add(sub: Subparsers) -> None:
    parser = command(sub, "sandbox", run, "serve the local Catena API stand-in in the foreground")
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
    parser.add_argument(
        "--api-latency",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds every API answer takes (plus a share per item listed); also rate-limits listings",
    )
    parser.add_argument("--time-scale", type=float, default=1.0, help="factor on every simulated wait")
    parser.add_argument("--token-ttl", type=float, default=3600.0, metavar="SECONDS", help="token lifetime")
    parser.add_argument(
        "--no-success-logs",
        dest="success_logs",
        action="store_false",
        help="log failed attempts only (successful ones get no log), live and in the history",
    )
    parser.add_argument(
        "--webhook-duplicates",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of webhook deliveries sent twice, as at-least-once delivery does (e.g. 0.01)",
    )
    parser.add_argument(
        "--incidents",
        metavar="FILE.json",
        default=None,
        help="seed these incidents into the history instead of the default three: a JSON list of specs "
        "(kind, source_name, connection_id, start, end, error_type, failure_rate); [] for a quiet history",
    )
    parser.add_argument(
        "--scopes",
        metavar="SCOPE,...",
        default=None,
        help="grant the client only these OAuth scopes, e.g. telematics:read,telematics:write (default: all)",
    )


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
        f"  scopes          {' '.join(sorted(sb.scopes)) or '(none)'}",
    ]
    if not sb.success_logs:
        lines.append("  logs            failed attempts only (--no-success-logs)")
    if sb.incidents:
        lines.append(f"  incidents       {', '.join(i.name for i in sb.incidents)}")
    lines += ["", "Paste into another shell (see README, 'The sandbox from a shell'):"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
    lines += ["", "Press Ctrl-C to stop."]
    return lines


def _read_incidents(path: str) -> list[Any]:
    """The incident specs of a JSON file: a list of objects (ValueError for anything else)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read --incidents {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"--incidents {path} is not JSON: {exc}") from exc
    if not isinstance(data, list):
        raise ValueError(f"--incidents {path} must hold a JSON list of incident specs")
    return data


def run(args: argparse.Namespace) -> int:
    """Serve the sandbox (a local Catena Telematics API with simulated TSPs) on 127.0.0.1 until Ctrl-C,
    and print its URLs, the client id and secret, and a ready bearer token for curl.
    """
    from catena_nb.sandbox import Sandbox

    try:
        incidents = None if args.incidents is None else _read_incidents(args.incidents)
        sandbox = Sandbox(
            args.seed,
            history=args.history,
            anchor=args.anchor,
            faults=args.faults,
            tsp_latency=args.tsp_latency,
            api_latency=args.api_latency,
            time_scale=args.time_scale,
            token_ttl=args.token_ttl,
            port=args.port,
            success_logs=args.success_logs,
            webhook_duplicates=args.webhook_duplicates,
            scopes=None if args.scopes is None else [s.strip() for s in args.scopes.split(",") if s.strip()],
            incidents=incidents,
        )
    except ValueError as exc:
        sys.stderr.write(f"catena-nb sandbox: {exc}\n")
        return 2
    with stop_signal() as stop:
        try:
            sandbox.start()
        except OSError as exc:
            sys.stderr.write(f"catena-nb sandbox: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}\n")
            return 1
        try:
            for line in _banner(sandbox):
                out(line)
            while not stop.wait(0.5):
                pass
        finally:
            sandbox.stop()
    out("Sandbox stopped.")
    return 0
