"""The one style of the charts: axes given or made, no pyplot state, no data, colours."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from catena_nb.charts import (
    plot_attempts,
    plot_error_types,
    plot_failure_rate_over_time,
    plot_latency,
    plot_outcomes,
)
from catena_nb.charts import style as st
from catena_nb.frames import operations_frame
from tests.support.chart_records import bars, make_op, texts


def test_given_axes_is_used_and_returned(ops_df: pd.DataFrame) -> None:
    """A chart draws on the Axes it is given and returns it."""
    fig = matplotlib.figure.Figure()
    ax = fig.add_subplot()
    assert plot_outcomes(ops_df, ax=ax) is ax
    assert plot_latency(ops_df, ax=ax) is ax


def test_charts_leave_no_pyplot_figure_and_no_rcparams_change(ops_df: pd.DataFrame) -> None:
    """New figures are not registered with pyplot, have a fixed size and constrained layout; rcParams stay."""
    before = dict(matplotlib.rcParams)
    plt.close("all")
    ax = plot_outcomes(ops_df)
    plot_error_types(ops_df)
    plot_failure_rate_over_time(ops_df)
    assert plt.get_fignums() == []
    fig = ax.figure
    assert isinstance(fig, matplotlib.figure.Figure)
    assert tuple(fig.get_size_inches()) == pytest.approx((8.0, 3.0))
    assert fig.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine"
    assert dict(matplotlib.rcParams) == before
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_empty_data_draws_a_no_data_chart() -> None:
    """Every chart copes with no operations: it says so instead of failing."""
    empty = operations_frame([])
    for plot in (plot_outcomes, plot_error_types, plot_failure_rate_over_time, plot_attempts, plot_latency):
        ax = plot(empty)
        assert "No data" in texts(ax)


def test_unknown_error_type_gets_a_spare_colour() -> None:
    """An error type the palette does not know gets a colour of its own, not one of the fixed ones."""
    df = operations_frame([make_op(i, "samsara", "failed", ["quantum"]) for i in range(5)])
    ax = plot_error_types(df)
    colour = to_hex(bars(ax)[0].get_facecolor())
    assert colour not in {c.lower() for c in st.ERROR_COLORS.values()}
