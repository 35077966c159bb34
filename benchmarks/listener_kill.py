"""SIGKILL of `catena-nb listen` mid-stream, again and again: every delivery it answered 202 is in the store.

Each round starts `catena-nb listen` on the same store file, has 8 senders post signed deliveries of new
operations as fast as it answers, kills the listener with SIGKILL after 1.5-3 s, and then counts, in the store
opened afresh (which merges what the dead listener left in its spool), the operations whose delivery was
answered 202. Prints each round's figures and the total missing (the bar is 0).

    .venv/bin/python benchmarks/listener_kill.py
    .venv/bin/python benchmarks/listener_kill.py --rounds 5 --senders 8
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the deliveries are made as the tests make them

from catena_nb.store import AuditStore
from catena_nb.store.spool import Spool, spool_dir
from tests.support.listener import SECRET, _free_port, delivery, operation


def _line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _start(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "CATENA_BENCH_HOOK_SECRET": SECRET}
    cmd = [sys.executable, "-m", "catena_nb.cli", "listen", "--store", str(store), "--no-replay"]
    cmd += ["--secret-env", "CATENA_BENCH_HOOK_SECRET", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url, timeout=1)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the listener did not start") from None
            time.sleep(0.05)


def _round(store: Path, senders: int, rng: random.Random) -> tuple[set[str], int, int]:
    """One round: the ids answered 202, and how many requests got another answer or none."""
    proc, url = _start(store)
    answered: set[str] = set()
    other = failed = 0
    lock = threading.Lock()
    stop = threading.Event()

    def send() -> None:
        nonlocal other, failed
        with httpx.Client(timeout=10) as http:
            while not stop.is_set():
                op = operation()
                body, headers = delivery([op])
                try:
                    status = http.post(url, content=body, headers=headers).status_code
                except httpx.TransportError:
                    with lock:
                        failed += 1  # no answer: Catena would deliver it again
                    if proc.poll() is not None:
                        return
                    continue
                with lock:
                    if status == 202:
                        answered.add(op["id"])
                    else:
                        other += 1

    with cf.ThreadPoolExecutor(senders) as pool:
        futures = [pool.submit(send) for _ in range(senders)]
        time.sleep(rng.uniform(1.5, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        for future in futures:
            future.result()
    return answered, other, failed


def main() -> int:
    """Run the rounds and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(19)
    missing_total = 0
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "hooks.duckdb"
        everything: set[str] = set()
        for n in range(1, args.rounds + 1):
            answered, other, failed = _round(store, args.senders, rng)
            everything |= answered
            left = len(Spool(spool_dir(store)).pending())  # on disk, not yet in the database
            with AuditStore(store) as audit:  # opened for writing: merges the dead listener's spool
                stored = set(audit.query("SELECT operation_id FROM operations")["operation_id"])
            missing = len(answered - stored)
            missing_total += missing
            _line(
                f"round {n}: killed mid-stream; {len(answered)} deliveries answered 202 ({other} others, "
                f"{failed} cut off without an answer); {len(answered & stored)} of them in the store, "
                f"{missing} missing; store holds {len(stored)} operations"
                f" ({left} deliveries left in the spool, merged on reopening)"
            )
        with AuditStore(store, read_only=True) as audit:
            stored = set(audit.query("SELECT operation_id FROM operations")["operation_id"])
        _line(
            f"total: {len(everything)} deliveries answered 202 over {args.rounds} SIGKILLs, "
            f"{len(everything - stored)} missing from the store (bar: 0)"
        )
    return 0 if missing_total == 0 and not (everything - stored) else 1


if __name__ == "__main__":
    sys.exit(main())
