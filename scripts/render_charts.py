"""Write one PNG of each chart, drawn from a sandbox history, into a folder, for a person to look at.

Run: ``.venv/bin/python scripts/render_charts.py OUT_DIR [--seed 7] [--days 30] [--anchor 2026-11-01]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

import catena_nb.charts as charts
from catena_nb.analysis import find_incidents
from catena_nb.frames import messages_frame, operation_frames
from catena_nb.sandbox.sim.delivery import message_view
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.world import build_world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--anchor", default="2026-11-01")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    world = build_world(args.seed)
    history = generate_history(world, args.seed, args.days, dt.date.fromisoformat(args.anchor))
    ops_df, logs_df = operation_frames(history.operations)
    messages_df = messages_frame([message_view(m, history.end) for m in history.messages])
    incidents = find_incidents(ops_df, "D", "source_name")
    # a handful of operations on a rare priority shows how a small sample reads
    few = ops_df.head(len(ops_df) - 3).copy()
    tail = ops_df.tail(3).assign(payload_priority="urgent")
    small = pd.concat([few, tail], ignore_index=True)

    figures = {
        "outcomes_by_tsp": charts.plot_outcomes(ops_df, by="source_name"),
        "outcomes_by_priority_small_sample": charts.plot_outcomes(small, by="payload_priority"),
        "outcomes_by_connection": charts.plot_outcomes(ops_df, by="connection_id"),
        "error_types": charts.plot_error_types(ops_df),
        "error_types_by_tsp": charts.plot_error_types(ops_df, by="source_name"),
        "failure_rate_over_time": charts.plot_failure_rate_over_time(ops_df, freq="D", incidents=incidents),
        "failure_rate_over_time_by_tsp": charts.plot_failure_rate_over_time(
            ops_df, freq="D", by="source_name", incidents=history.incidents
        ),
        "attempts": charts.plot_attempts(ops_df, logs_df),
        "latency_by_tsp": charts.plot_latency(ops_df, by="source_name"),
        "delivery_funnel": charts.plot_delivery_funnel(ops_df, messages_df),
    }
    for name, ax in figures.items():
        path = args.out_dir / f"{name}.png"
        figure = ax.get_figure(root=True)
        assert figure is not None
        figure.savefig(path, dpi=120, metadata={"Software": None})
        print(path)  # a script's output, not the library's
    return 0


if __name__ == "__main__":
    sys.exit(main())
