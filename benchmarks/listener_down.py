"""A listener down for 10 s (simulated, times --time-scale) while 500 async sends settle, end to end.

The sandbox delivers `resource_operation.*` events to a real `catena-nb listen --store F`, which is killed
(SIGKILL, or SIGTERM with --kill TERM) just before the sends and started again once the outage is over;
Catena's retries (3 within about 5 s) fail meanwhile, so the events go to the subscriptions' dead-letter
queues, and the listener's replay on start brings them back. Prints the metrics' `dlq_count` while it was
down and after, and what the store holds: each operation once, at its final status (the bar: all of them).

    .venv/bin/python benchmarks/listener_down.py
    .venv/bin/python benchmarks/listener_down.py --sends 500 --time-scale 0.2 --kill TERM
"""

from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the scenario is the tests' own

from tests.support.outage import line, outage_arguments, run_outage


def main() -> int:
    parser = outage_arguments(__doc__.splitlines()[0], "listener")
    parser.add_argument("--kill", choices=["KILL", "TERM"], default="KILL")
    args = parser.parse_args()
    down = args.down * args.time_scale
    with tempfile.TemporaryDirectory() as tmp:
        r = run_outage(
            Path(tmp) / "audit.duckdb",
            sends=args.sends,
            down_s=down,
            time_scale=args.time_scale,
            kill=signal.SIGKILL if args.kill == "KILL" else signal.SIGTERM,
        )
    line(
        f"{r.sends} async sends, listener down {r.down_for:.2f} s (SIG{args.kill}; at least {down:.2f} s), "
        f"time_scale {args.time_scale}"
    )
    line(f"events in the dead-letter queues while it was down (metrics' dlq_count): {r.dlq_while_down}")
    for replayed in r.replay_lines:
        line(f"  on restart: {replayed}")
    line(f"dlq_count after the replay: {r.dlq_after}")
    line(
        f"store: {r.stored} operations, at most {r.rows_per_operation} row each, "
        f"{r.at_final_status} of {r.sends} at their final status ({r.seconds:.1f} s in all)"
    )
    ok = r.stored == r.sends == r.at_final_status and r.rows_per_operation == 1 and r.dlq_after == 0
    line("all back, each once" if ok else "MISSING OR DUPLICATED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
