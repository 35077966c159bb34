"""AuditStore.rates on 10 million operations: time and peak memory, and equal to outcome_rates on 1 million.

Writes a store of 10,000,000 operations with DuckDB itself (8 TSPs, 40 connections, 85% success, 12% failed
under 5 error types, 3% pending, spread over 60 days), then, in a fresh process each so that the peak memory
is the call's own: ``rates(by="source_name")``, ``rates(by=["source_name", "error_type"])`` and
``rates(freq="D")`` on all of it (time, and the process's peak resident memory), and on the first 1,000,000
(a ``since``/``until`` window) ``rates`` against ``cn.outcome_rates`` / ``cn.rates_over_time`` of the
operations frame of the same window (largest difference). The bar: under 30 s and 1.5 GB.

    .venv/bin/python benchmarks/store_rates.py
    .venv/bin/python benchmarks/store_rates.py --operations 2000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

from catena_nb.store import AuditStore

ANCHOR = "2026-09-01 00:00:00+00"
SPAN_S = 60 * 86400
SAMPLE = 1_000_000


def _line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def build(path: Path, n: int) -> None:
    """A store of ``n`` synthetic operations, written by DuckDB in one statement."""
    AuditStore(path).close()
    con = duckdb.connect(str(path))
    step = SPAN_S / n
    con.execute(
        f"""
        INSERT INTO operations (operation_id, created_at, updated_at, connection_id, source_name, resource,
                                operation_type, status, attempts, error_type)
        SELECT 'op-' || lpad(CAST(i AS VARCHAR), 9, '0'),
               TIMESTAMPTZ '{ANCHOR}' + to_microseconds(CAST(i * {step} * 1e6 AS BIGINT)),
               TIMESTAMPTZ '{ANCHOR}' + to_microseconds(CAST(i * {step} * 1e6 AS BIGINT)) + INTERVAL 5 SECOND,
               'conn-' || CAST(h % 40 AS VARCHAR),
               ['samsara', 'motive', 'geotab', 'omnitracs', 'verizon', 'webfleet', 'zonar', 'netradyne'][
                   CAST(h % 8 AS INTEGER) + 1],
               'message', 'create',
               CASE WHEN r < 85 THEN 'success' WHEN r < 97 THEN 'failed' ELSE 'pending' END,
               1 + CAST(h % 3 AS INTEGER),
               CASE WHEN r >= 85 AND r < 97 THEN
                   ['auth', 'validation', 'network', 'tsp', 'unknown'][CAST((h // 8) % 5 AS INTEGER) + 1]
               END
        FROM (SELECT i, hash(i) AS h, hash(i * 7919) % 100 AS r FROM range({n}) t(i))
        """
    )
    con.close()


def measure(path: Path, what: str, n: int) -> dict[str, object]:
    """One measurement in this (fresh) process."""
    started = time.perf_counter()
    with AuditStore(path, read_only=True) as store:
        if what == "sample":
            since = np.datetime64("2026-09-01T00:00:00")
            until = since + np.timedelta64(int(SAMPLE * SPAN_S / n * 1e6), "us")
            from catena_nb.analysis import outcome_rates, rates_over_time

            frame = store.operations_frame(since=str(since), until=str(until))
            worst = 0.0
            for by, freq in (("source_name", None), (["source_name", "error_type"], None), (None, "D")):
                sql = store.rates(by=by, freq=freq, since=str(since), until=str(until))
                pandas = rates_over_time(frame, freq=freq, by=by) if freq else outcome_rates(frame, by=by)
                assert len(sql) == len(pandas)
                for col in ("n", "successes", "failures", "pending", "settled"):
                    assert sql[col].tolist() == pandas[col].tolist(), col
                for col in ("rate", "ci_low", "ci_high", "failure_rate", "failure_ci_low", "failure_ci_high"):
                    diff = np.nanmax(np.abs(sql[col].to_numpy(float) - pandas[col].to_numpy(float)))
                    worst = max(worst, float(diff))
            result: dict[str, object] = {"rows": len(frame), "max_diff": worst}
        else:
            by, freq = json.loads(what)
            out = store.rates(by=by, freq=freq)
            result = {"groups": len(out), "n": int(out["n"].sum())}
    result["seconds"] = time.perf_counter() - started
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> int:
    """Build the store, then measure each call in a process of its own."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=10_000_000)
    parser.add_argument("--measure", nargs=2, metavar=("PATH", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        sys.stdout.write(json.dumps(measure(Path(args.measure[0]), args.measure[1], args.operations)) + "\n")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.duckdb"
        t0 = time.perf_counter()
        build(path, args.operations)
        size = path.stat().st_size / 1e6
        took = time.perf_counter() - t0
        _line(f"built a store of {args.operations:,} operations in {took:.1f} s ({size:.0f} MB)")
        ok = True
        me = [sys.executable, __file__, "--operations", str(args.operations), "--measure", str(path)]
        for by, freq in (("source_name", None), (["source_name", "error_type"], None), (None, "D")):
            done = subprocess.run([*me, json.dumps([by, freq])], capture_output=True, text=True, check=True)
            r = json.loads(done.stdout)
            ok = ok and float(r["seconds"]) < 30 and float(r["peak_mb"]) < 1536
            _line(
                f"rates(by={by!r}, freq={freq!r}) on {r['n']:,} operations: {r['groups']} rows in "
                f"{r['seconds']:.2f} s, peak memory {r['peak_mb']:.0f} MB (bar: 30 s, 1536 MB)"
            )
        done = subprocess.run([*me, "sample"], capture_output=True, text=True, check=True)
        r = json.loads(done.stdout)
        ok = ok and float(r["max_diff"]) <= 1e-12
        _line(
            f"first {r['rows']:,} operations: rates equal outcome_rates / rates_over_time of the frame "
            f"(3 groupings), largest difference {r['max_diff']:.1e} (bar: 1e-12); {r['seconds']:.1f} s"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
