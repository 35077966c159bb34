"""plot_attempts: bars per attempt count and outcome, first attempt against final success."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.colors import to_hex

from catena_nb.charts import (
    plot_attempts,
)
from catena_nb.charts import style as st
from catena_nb.frames import logs_frame
from tests.support.chart_records import bars


def test_plot_attempts_bars_and_retry_subtitle(ops_df: pd.DataFrame, ops: list[dict[str, Any]]) -> None:
    """Bars per attempt count and outcome (log scale), and first-attempt vs final success in the title."""
    ax = plot_attempts(ops_df, logs_frame(ops))
    assert ax.get_yscale() == "log"
    heights = {
        (round(r.get_x() + r.get_width() / 2), to_hex(r.get_facecolor())): r.get_height() for r in bars(ax)
    }
    green, red = st.outcome_color("success").lower(), st.outcome_color("failed").lower()
    assert heights[(1, red)] == 16
    assert heights[(2, red)] == 60
    assert heights[(2, green)] == 20  # rescued after one tsp failure
    title = ax.get_title(loc="left")
    assert "First attempt" in title
    assert "20 rescued by a retry" in title
    assert "n = 323" in title
