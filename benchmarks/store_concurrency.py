"""One store file, used at once by a listener taking 20 deliveries/s, a sync, a report and 3 notebooks' reads.

Starts a sandbox (7 days of history) and `catena-nb listen` on a fresh store, posts 20 signed deliveries a
second to the listener for the whole run, and meanwhile runs `catena-nb sync --store`, then
`catena-nb report --store`, then a second sync, while 3 processes read the store in a loop as notebooks do
(`AuditStore(path, read_only=True)`: the operations frame, a count, the rates). Prints the lock errors
(from every process), the deliveries answered 202 and how many of them the store holds at the end, the
slowest answer, what the syncs stored against the sandbox's own count, and how often a call had to wait.

    .venv/bin/python benchmarks/store_concurrency.py
    .venv/bin/python benchmarks/store_concurrency.py --rate 20 --readers 3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the deliveries are made as the tests make them

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox
from catena_nb.store import AuditStore
from tests.support.listener import SECRET, _free_port, delivery, operation

ANCHOR = "2026-11-01"
SINCE = "2026-10-25"

READER = """
import json, sys, time
from catena_nb.store import AuditStore, StoreLockedError
path, until = sys.argv[1], time.monotonic() + float(sys.argv[2])
reads = locked = other = 0
waits = []
while time.monotonic() < until:
    started = time.monotonic()
    try:
        with AuditStore(path, read_only=True) as store:
            store.operations_frame()
            store.count("operations")
            store.rates(by="source_name")
        reads += 1
    except StoreLockedError:
        locked += 1
    except Exception as exc:
        other += 1
        print(repr(exc)[:200], file=sys.stderr)
    waits.append(time.monotonic() - started)
    time.sleep(0.2)
print(json.dumps({"reads": reads, "locked": locked, "other": other, "slowest": max(waits, default=0)}))
"""


def _line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _lock_lines(text: str) -> int:
    return sum("lock" in line.lower() and "error" in line.lower() for line in text.splitlines())


def main() -> int:
    """Run everything at once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="deliveries per second (default 20)")
    parser.add_argument("--readers", type=int, default=3, help="notebook-like reader processes (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Sandbox(seed=5, history=7, anchor=ANCHOR) as sb:
        store = Path(tmp) / "audit.duckdb"
        AuditStore(store).close()
        port = _free_port()
        env = {**os.environ, "CATENA_BENCH_HOOK_SECRET": SECRET, "CATENA_BASE_URL": sb.url,
               "CATENA_TOKEN": sb.token, "TQDM_DISABLE": "1"}  # fmt: skip
        for name in ("CATENA_CLIENT_ID", "CATENA_CLIENT_SECRET", "CATENA_AUTH_URL"):
            env.pop(name, None)
        cli = [sys.executable, "-m", "catena_nb.cli"]
        listener = subprocess.Popen(
            [*cli, "listen", "--store", str(store), "--secret-env", "CATENA_BENCH_HOOK_SECRET",
             "--port", str(port), "--no-replay"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/"
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)

        answered: set[str] = set()
        other_answers: list[int] = []
        slowest = 0.0
        stop = threading.Event()

        def send() -> None:
            nonlocal slowest
            with httpx.Client(timeout=10) as http:
                next_at = time.monotonic()
                while not stop.is_set():
                    op = operation()
                    body, headers = delivery([op])
                    started = time.monotonic()
                    status = http.post(url, content=body, headers=headers).status_code
                    slowest = max(slowest, time.monotonic() - started)
                    (answered.add(op["id"]) if status == 202 else other_answers.append(status))
                    next_at += 1 / args.rate
                    time.sleep(max(0.0, next_at - time.monotonic()))

        sender = threading.Thread(target=send)
        sender.start()
        started = time.monotonic()
        run_for = 60.0
        readers = [
            subprocess.Popen([sys.executable, "-c", READER, str(store), str(run_for)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(args.readers)
        ]  # fmt: skip
        sync = [*cli, "sync", "--store", str(store), "--since", SINCE, "--until", ANCHOR, "--no-progress"]
        report = [*cli, "report", "--store", str(store), "--out", str(Path(tmp) / "report.html"),
                  "--since", SINCE, "--until", ANCHOR]  # fmt: skip
        again = [*cli, "sync", "--store", str(store), "--until", ANCHOR, "--no-progress"]
        lock_errors = 0
        # the first sync and the report at the same time, then a second sync (a resumed one)
        for batch in ([sync, report], [again]):
            t0 = time.monotonic()
            pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
            procs = [subprocess.Popen(step, env=env, **pipes) for step in batch]  # type: ignore[call-overload]
            for step, proc in zip(batch, procs, strict=True):
                out, err = proc.communicate()
                lock_errors += _lock_lines(out + err)
                last = out.strip().splitlines()[-1][:160] if out.strip() else err[-300:]
                _line(f"{step[3]}: exit {proc.returncode} after {time.monotonic() - t0:.1f} s; {last}")
        results = []
        for reader in readers:
            out, err = reader.communicate()
            lock_errors += _lock_lines(err)
            results.append(json.loads(out.strip().splitlines()[-1]))
        stop.set()
        sender.join()
        elapsed = time.monotonic() - started
        listener.send_signal(signal.SIGTERM)
        l_out, l_err = listener.communicate(timeout=120)
        lock_errors += _lock_lines(l_err)
        lock_errors += sum(r["locked"] for r in results)
        with AuditStore(store, read_only=True) as audit:
            stored = set(audit.query("SELECT operation_id FROM operations")["operation_id"])
        with CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client:
            listed = {op["id"] for p in client.operations.list(since=SINCE, until=ANCHOR).pages()
                      for op in p.raw_items}  # fmt: skip
        _line(f"listener: {l_out.strip().splitlines()[-1] if l_out.strip() else l_err[-300:]}")
        _line(
            f"{len(answered)} deliveries answered 202 in {elapsed:.0f} s ({len(answered) / elapsed:.1f}/s), "
            f"{len(other_answers)} other answers; slowest answer {slowest * 1000:.0f} ms; "
            f"{len(answered - stored)} of them missing from the store"
        )
        _line(f"syncs: the sandbox lists {len(listed)} operations, the store holds {len(listed & stored)}")
        for i, r in enumerate(results, 1):
            _line(f"reader {i}: {r['reads']} reads, {r['locked']} lock errors, {r['other']} other errors, "
                  f"slowest read {r['slowest']:.2f} s")  # fmt: skip
        _line(f"lock errors in all processes: {lock_errors}")
        ok = not lock_errors and not (answered - stored) and listed <= stored and not other_answers
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
