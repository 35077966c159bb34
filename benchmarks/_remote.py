"""What the benchmarks share: the sandbox in a process of its own (`catena-nb sandbox`), as the API is."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CATENA = Path(sys.executable).with_name("catena-nb")
ANCHOR = dt.date(2026, 11, 1)  # the last day of every benchmark's seeded history
OPERATIONS_PATH = "/v2/integrations/connections/resource-operations"  # what the listings GET


def seeded_listing(days: int) -> tuple[dt.datetime, dt.datetime, dict[str, Any]]:
    """The window that holds `days` days of seeded history up to `ANCHOR`, and the options of a sandbox
    that builds that history and answers with no latency (`remote_sandbox(**options)`)."""
    since = dt.datetime.combine(ANCHOR - dt.timedelta(days=days - 1), dt.time(), dt.UTC)
    until = dt.datetime.combine(ANCHOR + dt.timedelta(days=1), dt.time(), dt.UTC)
    options = {
        "seed": 7,
        "history": days,
        "anchor": ANCHOR.isoformat(),
        "time_scale": 0.001,
        "tsp_latency": 0,
    }
    return since, until, options


@contextlib.contextmanager
def remote_sandbox(**options: Any) -> Iterator[tuple[str, str]]:
    """`catena-nb sandbox --port 0` with the options given (``time_scale=0.002`` is ``--time-scale 0.002``);
    yields its base URL and bearer token, and stops it with Ctrl-C on the way out."""
    cmd = [str(CATENA), "sandbox", "--port", "0"]
    for name, value in options.items():
        if value is not None:
            cmd += [f"--{name.replace('_', '-')}", str(value)]
    env = {**os.environ, "TQDM_DISABLE": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    exports: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exports[name] = shlex.split(value)[0]
            if "Ctrl-C" in line:
                break
        if "CATENA_BASE_URL" not in exports:
            raise RuntimeError(f"catena-nb sandbox did not start (exit {proc.poll()})")
        yield exports["CATENA_BASE_URL"], exports["CATENA_TOKEN"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
