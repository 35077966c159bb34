"""Benchmark: `catena-nb report` on the default 30-day sandbox history, and where its time goes.

Runs the same steps as `catena-nb report` (``render_report`` with the served sandbox) with a clock around
each: the served sandbox's start (its import and history, in its own process), the kernel's start and the
parameters cells, the wait for the sandbox, each code cell (the first holds the listing and the frames; the
others the tables and charts; a ``report-skip`` cell is not run), and the export to HTML (its first-time
costs paid while the kernel runs the analysis). Then the command itself, end to end, as a subprocess, and
the CPU time it took. The bar: the command in under 15 s.

Run: ``.venv/bin/python benchmarks/report.py [runs]`` (default 2 runs of the command; the best is shown)
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import nbformat

from catena_nb.report import render

CATENA = Path(sys.executable).with_name("catena-nb")
BAR_S = 15.0


def _cell_times(nb: Any) -> list[tuple[int, float, str]]:
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or render.SKIP_CELL_TAG in cell.metadata.get("tags", []):
            continue  # a skipped cell keeps the timing of the notebook's last full run
        timing = cell.metadata.get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            seconds = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
            first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
            out.append((i, seconds, first))
    return out


def breakdown() -> None:
    """The phases of one report, timed in this process, as `catena-nb report` runs them."""
    from catena_nb.cli._served import ServedSandbox

    os.environ.setdefault("TQDM_DISABLE", "1")
    t_start = time.perf_counter()
    served = ServedSandbox.for_audit_notebook()  # as the command: started before the kernel's imports
    import jupyter_client.manager  # noqa: F401
    import nbclient  # noqa: F401

    served_at: list[float] = []

    def serves() -> None:
        served.wait()
        served_at.append(time.perf_counter())

    threading.Thread(target=serves, daemon=True).start()
    nb = nbformat.read(render.find_audit_notebook(), as_version=4)
    marks: dict[str, float] = {}

    def before_data() -> None:
        marks["data cell due"] = time.perf_counter()
        served.wait()
        marks["sandbox serves"] = time.perf_counter()
        marks["sandbox serves (clock)"] = time.time()

    preparing = threading.Thread(target=render.prepare_export, daemon=True)

    def after_data() -> None:
        marks["data cell done"] = time.perf_counter()
        preparing.start()

    with tempfile.TemporaryDirectory(prefix="catena-report-") as work:
        t0 = time.perf_counter()
        render.execute_notebook(
            nb, cwd=Path(work), progress=False, env=served.environment(), before_data=before_data,
            after_data=after_data,
        )  # fmt: skip
        cells_done = time.perf_counter()
    served.stop()
    prepared = preparing.is_alive()
    preparing.join()
    joined = time.perf_counter()
    cells = _cell_times(nb)
    # the data cell starts in the kernel once both the sandbox serves and the kernel's imports are done
    data = nb.cells[cells[1][0]] if len(cells) > 1 else None
    began = data.metadata.get("execution", {}).get("iopub.execute_input") if data is not None else None
    late = dt.datetime.fromisoformat(began).timestamp() - marks["sandbox serves (clock)"] if began else 0.0
    render._strip_widgets(nb)
    render.to_html(nb, title="benchmark", banner={"sandbox": True, "headline": "x", "meta": "y"})
    done = time.perf_counter()
    print(f"sandbox serves             {served_at[0] - t_start:6.2f} s after the start (import + history)")
    print(f"kernel start + parameters  {marks['data cell due'] - t0:6.2f} s")
    print(f"waited for the sandbox     {marks['sandbox serves'] - marks['data cell due']:6.2f} s", end=" ")
    print(f"(the kernel's imports went on {max(late, 0.0):.2f} s after it)")
    print(f"cells after the wait       {cells_done - marks['sandbox serves']:6.2f} s (and kernel stop)")
    for index, seconds, first in cells:
        if seconds >= 0.05:
            print(f"  cell {index:2d} {seconds:6.2f} s  {first}")
    waited = "still preparing when the cells were done" if prepared else "prepared while the cells ran"
    print(f"export                     {done - joined:6.2f} s ({waited}; waited {joined - cells_done:.2f} s)")
    print(f"total                      {done - t_start:6.2f} s in this process")


def command(runs: int) -> None:
    """The command end to end, best of `runs`."""
    times, cpus = [], []
    env = {**os.environ, "TQDM_DISABLE": "1"}
    for name in ("CATENA_TOKEN", "CATENA_CLIENT_ID", "CATENA_CLIENT_SECRET", "CATENA_BASE_URL"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory() as work:
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            out = Path(work) / "report.html"
            subprocess.run(
                [str(CATENA), "report", "--out", str(out), "--no-progress"],
                check=True, env=env, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            times.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    best = min(times)
    shown = ", ".join(f"{t:.1f}" for t in times)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    print(f"catena-nb report: best {best:.1f} s of {runs} ({shown}); CPU {min(cpus):.1f} s (command, kernel)")
    print(f"  load average {load}; bar: under {BAR_S:.0f} s -> {best / BAR_S:.2f} of it,", end=" ")
    print("OK" if best < BAR_S else "OVER")


if __name__ == "__main__":
    breakdown()
    command(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
