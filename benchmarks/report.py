"""Benchmark: `catena-nb report` on the default 30-day sandbox history, and where its time goes.

Runs the same steps as `render_report` with a clock around each: reading the notebook, the kernel's start,
each code cell (the first holds the sandbox's history, the listing and the frames; the others the tables and
charts), the kernel's shutdown, and the export to HTML. Then the command itself, end to end, as a
subprocess. The bar: the command in under 15 s.

Run: ``.venv/bin/python benchmarks/report.py [runs]`` (default 2 runs of the command; the best is shown)
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from catena_nb.report import render

CATENA = Path(sys.executable).with_name("catena-nb")


def _cell_times(nb: Any) -> list[tuple[int, float, str]]:
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        timing = cell.metadata.get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            seconds = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
            first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
            out.append((i, seconds, first))
    return out


def _served() -> Any:
    """The sandbox `catena-nb report` serves beside the kernel (None where it runs in the kernel)."""
    try:
        from catena_nb.cli._served import ServedSandbox
    except ImportError:
        return None
    return ServedSandbox.for_audit_notebook()


def breakdown() -> None:
    """The phases of one report, timed in this process, as `catena-nb report` runs them."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    t0 = time.perf_counter()
    nb = nbformat.read(render.find_audit_notebook(), as_version=4)
    read_s = time.perf_counter() - t0
    served = _served()
    waited = 0.0
    if served is not None:
        os.environ.update(served.environment())
    with tempfile.TemporaryDirectory(prefix="catena-report-") as work:
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(work) / "kernel"))
        client = NotebookClient(nb, km=km, timeout=600, kernel_name="python3", store_widget_state=False)
        client.resources = {"metadata": {"path": work}}
        t0 = time.perf_counter()
        with client.setup_kernel():
            start_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                if served is not None and index == 2:
                    t = time.perf_counter()
                    served.wait()
                    waited = time.perf_counter() - t
                client.execute_cell(cell, index)
            cells_s = time.perf_counter() - t1
            t2 = time.perf_counter()
        stop_s = time.perf_counter() - t2
    if served is not None:
        served.stop()
    render._strip_widgets(nb)
    render._sanitize_outputs(nb)
    t0 = time.perf_counter()
    render.to_html(nb, title="benchmark", banner={"sandbox": True, "headline": "x", "meta": "y"})
    export_s = time.perf_counter() - t0
    print(f"read notebook        {read_s:6.2f} s")
    print(f"kernel start         {start_s:6.2f} s")
    where = "served beside the kernel" if served is not None else "in the kernel"
    print(f"cells                {cells_s:6.2f} s  (the sandbox {where}; waited {waited:.2f} s for it)")
    for index, seconds, first in _cell_times(nb):
        if seconds >= 0.05:
            print(f"  cell {index:2d} {seconds:6.2f} s  {first}")
    print(f"kernel shutdown      {stop_s:6.2f} s")
    print(f"sanitise + export    {export_s:6.2f} s")


def command(runs: int) -> None:
    """The command end to end, best of `runs`."""
    times = []
    env = {**os.environ, "TQDM_DISABLE": "1"}
    for name in ("CATENA_TOKEN", "CATENA_CLIENT_ID", "CATENA_CLIENT_SECRET"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory() as work:
        for _ in range(runs):
            t0 = time.perf_counter()
            out = Path(work) / "report.html"
            subprocess.run([str(CATENA), "report", "--out", str(out), "--no-progress"], check=True, env=env)
            times.append(time.perf_counter() - t0)
    best = min(times)
    shown = ", ".join(f"{t:.1f}" for t in times)
    print(f"catena-nb report: best {best:.1f} s of {runs} ({shown}); bar: under 15 s ->", end=" ")
    print("OK" if best < 15 else "OVER")


if __name__ == "__main__":
    breakdown()
    command(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
