"""plot_funnel: the rate of each group against its size inside the 95% and 99.8% limits, outliers named."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

from catena_nb.analysis import funnel_table
from catena_nb.charts import plot_funnel
from tests.support.timed_ops import frame, spread

DAY = ("2026-10-01", "2026-10-02")


@pytest.fixture(scope="module")
def connections() -> pd.DataFrame:
    """Twelve connections at 4% of 400 and one at 20%."""
    parts = [
        spread(*DAY, ok=384, failed=16, source="samsara", connection=f"c{i}-0000-0000") for i in range(12)
    ]
    parts.append(spread(*DAY, ok=320, failed=80, source="motive", connection="bad00000-1111-2222"))
    return frame(*parts)


def _texts(ax: object) -> list[str]:
    return [t.get_text() for t in ax.texts]  # type: ignore[attr-defined]


def test_the_outlier_is_labelled_with_its_tsp_and_the_start_of_its_id(connections: pd.DataFrame) -> None:
    """Only the connection outside the funnel gets a label: its TSP and the first 8 characters of its id."""
    ax = plot_funnel(connections, by="connection")
    assert _texts(ax) == ["motive · bad00000"]
    ax.figure.savefig(io.BytesIO(), format="png")  # type: ignore[union-attr]


def test_the_table_draws_the_same_chart(connections: pd.DataFrame) -> None:
    """Given funnel_table's table the chart shows the same points, lines and labels."""
    from_frame = plot_funnel(connections, by="connection_id")
    from_table = plot_funnel(funnel_table(connections, by="connection_id"))
    assert _texts(from_frame) == _texts(from_table)
    assert len(from_frame.lines) == len(from_table.lines) == 5  # target, two limits on each side
    points = [c for c in from_table.collections if isinstance(c, PathCollection)]
    assert sum(np.asarray(c.get_offsets()).shape[0] for c in points) == 13


def test_the_legend_counts_the_groups_outside(connections: pd.DataFrame) -> None:
    """The legend names the overall rate and how many groups lie outside 99.8% and within."""
    ax = plot_funnel(connections, by="connection")
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[0] == "overall failure rate 5.2%"
    assert "outside 99.8% (1)" in labels
    assert "within (12)" in labels


def test_no_settled_operation_draws_no_data() -> None:
    """An empty frame gives the 'No data' chart."""
    ax = plot_funnel(frame([]))
    assert "No data" in _texts(ax)
