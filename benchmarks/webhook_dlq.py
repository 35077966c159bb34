"""The sandbox's dead-letter queue: a receiver down for 10 s (simulated, times --time-scale) while 500 async
sends settle, then one replay per subscription.

A plain receiver (it answers 503 while "down", 202 otherwise) subscribes to `resource_operation.*`; it goes
down just before the sends and comes back 10 s later. Prints the metrics' `dlq_count` (the events that
failed their 4 attempts), what one replay per subscription re-delivered, and whether every operation's final
status reached the receiver at least once (the bar: all of them, and an empty queue after).

    .venv/bin/python benchmarks/webhook_dlq.py
    .venv/bin/python benchmarks/webhook_dlq.py --sends 500 --time-scale 0.2
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox
from tests.support.outage import line, outage_arguments
from tests.support.receiver import Receiver


def main() -> int:
    parser = outage_arguments(__doc__.splitlines()[0], "receiver")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    receiver = Receiver()
    try:
        with (
            Sandbox(seed=args.seed, time_scale=args.time_scale, tsp_latency=0.0) as sb,
            CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
        ):
            subs = client.webhooks.create(url=receiver.url, event_name="resource_operation.*")
            conns = sb.message_connections
            rows = [
                {"connection_id": conns[i % len(conns)].id, "sender_id": conns[i % len(conns)].users[0],
                 "recipient_id": conns[i % len(conns)].users[-1], "message_text": f"dlq {i}"}
                for i in range(args.sends)
            ]  # fmt: skip
            receiver.status = 503
            down_at = time.monotonic()
            batch = client.messages.create_many(rows, sync=False, concurrency=16, progress=False)
            time.sleep(max(0.0, down_at + args.down * args.time_scale - time.monotonic()))
            receiver.status = 202
            down_for = time.monotonic() - down_at
            assert sb.wait_idle(600)
            parked = {s.event_name: client.webhooks.metrics(s).dlq_count for s in subs}
            with receiver.lock:
                before = len(receiver.deliveries)
            replayed = {s.event_name: client.webhooks.replay(s)["replayed"] for s in subs}
            assert sb.wait_idle(600)
            after = sum(client.webhooks.metrics(s).dlq_count for s in subs)
            final = {}
            for op in batch.operations:
                record = sb.state.get_operation(str(op.id))
                final[str(op.id)] = None if record is None else record["status"]
            with receiver.lock:
                delivered = [(h, e) for h, e in receiver.deliveries if h.get("X-Delivery-Attempt")]
                again = receiver.deliveries[before:]
        ok_final: Counter[str] = Counter()
        for _, envelope in delivered:
            if envelope["event_name"] == "resource_operation.created":
                continue
            record = envelope["data"][0]
            if final.get(record["id"]) == record["status"]:
                ok_final[record["id"]] += 1
        first_ids = Counter(e["id"] for _, e in again)
    finally:
        receiver.close()
    line(f"{args.sends} async sends; receiver down {down_for:.2f} s (503), time_scale {args.time_scale}")
    line(f"dlq_count after the outage, per subscription: {parked} ({sum(parked.values())} events)")
    line(f"one replay each re-delivered: {replayed} ({len(again)} deliveries, {len(first_ids)} events)")
    line(f"dlq_count after the replay: {after}")
    line(f"operations whose final status reached the receiver: {len(ok_final)} of {args.sends}")
    ok = len(ok_final) == args.sends and after == 0 and sum(replayed.values()) == sum(parked.values())
    line("every one back" if ok else "MISSING")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
