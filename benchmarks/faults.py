"""Faults: lookups, `create_many`, `operations.wait` and `AuditStore.sync` at 1%, 10% and 30% faults.

The sandbox answers that share of API requests with a 500, a 429 with Retry-After, a slow answer or a dropped
connection (evenly). Per rate it prints: calls made (and served), faults injected, retries, failures surfaced
to the caller, messages created (at most once per row), and records lost by the store (the bar: 0).

    .venv/bin/python benchmarks/faults.py                 # 1,000 rows per rate
    .venv/bin/python benchmarks/faults.py --rows 200 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the round lives with the tests that use it

from tests.support.faults import FaultFigures, run_round


def _line(f: FaultFigures, seconds: float) -> str:
    faults = sum(f.faults_injected.values())
    kinds = ", ".join(f"{k}: {v}" for k, v in f.faults_injected.items())
    return (
        f"faults={f.rate:>4.0%}  calls made {f.calls_made:>5} (served {f.calls_served:>5})  "
        f"faults injected {faults:>4} ({kinds})  retries {f.retries:>4}  resends {f.resends:>3}  "
        f"failures surfaced {f.failures_surfaced:>3} (unknown rows {f.rows_unknown}, refused rows "
        f"{f.rows_refused})  messages created {f.messages_created:>4} of {f.rows} rows "
        f"(most per row {f.most_creates_of_a_row})  records lost {f.records_lost} of "
        f"{f.operations_on_server}  [{seconds:.1f} s]"
    )


def main() -> None:
    """Run one round per rate and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rates", type=float, nargs="+", default=[0.01, 0.1, 0.3])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON lines")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="catena-faults-") as work:
        for rate in args.rates:
            t0 = time.perf_counter()
            figures = run_round(rate, args.rows, Path(work) / f"audit-{rate:g}.duckdb")
            seconds = time.perf_counter() - t0
            sys.stdout.write((json.dumps(figures.as_dict()) if args.json else _line(figures, seconds)) + "\n")
            if figures.surfaced and not args.json:
                sys.stdout.write(f"    surfaced: {figures.surfaced}\n")
            ok &= (
                figures.records_lost == 0
                and figures.most_creates_of_a_row <= 1
                and figures.answered_not_created_once == 0
                and figures.refused_but_created == 0
                and figures.rows_with_outcome == figures.rows
            )
    sys.stdout.write(
        f"bar (at most once per row, every row an outcome, 0 records lost): {'met' if ok else 'MISSED'}\n"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
