"""Benchmark: compare_periods, funnel_table, plot_funnel, error_budget and plot_error_budget on 200,000
operations (about 600,000 logs), each timed once after the frames are built.

The operations are those of ``benchmarks/frames.py`` (12 connections on 5 TSPs, one every 13 s: 30 days).
The bar: each under 5 s.

Run: ``.venv/bin/python benchmarks/analysis_windows.py [n_operations]``
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MPLBACKEND", "Agg")

from frames import make_operations

import catena_nb as cn

BAR_S = 5.0


def _timed(name: str, call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    took = time.perf_counter() - start
    print(f"{name:58} {took:6.2f} s  {'ok' if took < BAR_S else 'OVER the 5 s bar'}")
    return took


def main(n: int = 200_000) -> int:
    ops_df, logs_df = cn.operation_frames(make_operations(n))
    first, last = ops_df["created_at"].min(), ops_df["created_at"].max()
    print(f"{len(ops_df):,} operations, {len(logs_df):,} logs, {first:%Y-%m-%d} to {last:%Y-%m-%d}\n")
    week = (last.floor("D") - cn_days(7), last.floor("D") + cn_days(1))
    times = [
        _timed("compare_periods(after=last 8 days, by=connection_id)",
               lambda: cn.compare_periods(ops_df, after=week, by="connection_id")),
        _timed("compare_periods(after=last 8 days, by=[source_name, connection_id])",
               lambda: cn.compare_periods(ops_df, after=week, by=["source_name", "connection_id"])),
        _timed("funnel_table(by=connection_id)", lambda: cn.funnel_table(ops_df, by="connection_id")),
        _timed("plot_funnel(by=connection) and its PNG",
               lambda: _png(cn.plot_funnel(ops_df, by="connection"))),
        _timed("error_budget(target=0.99, by=source_name, freq=h)",
               lambda: cn.error_budget(ops_df, target=0.99, by="source_name", freq="h")),
        _timed("error_budget(target=0.99, by=connection_id, freq=h)",
               lambda: cn.error_budget(ops_df, target=0.99, by="connection_id", freq="h")),
        _timed("plot_error_budget(by=source_name) and its PNG",
               lambda: _png(cn.plot_error_budget(ops_df, by="source_name"))),
    ]  # fmt: skip
    print(f"\nslowest {max(times):.2f} s (bar {BAR_S:.0f} s)")
    return 0 if max(times) < BAR_S else 1


def cn_days(days: int) -> pd.Timedelta:
    return pd.Timedelta(days=days)


def _png(ax: Axes) -> None:
    cast(Figure, ax.figure).savefig(os.devnull, format="png")


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
