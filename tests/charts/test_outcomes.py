"""plot_outcomes and plot_error_types: bars, intervals, labels and fixed colours."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.container import ErrorbarContainer

from catena_nb.analysis import outcome_rates
from catena_nb.charts import (
    plot_error_types,
    plot_outcomes,
)
from catena_nb.charts import style as st
from tests.support.chart_records import bars, legend_texts, texts


def test_plot_outcomes_bars_labels_and_colours(ops_df: pd.DataFrame) -> None:
    """Failed/succeeded bars per group sum to 100%, with n, intervals, a question and fixed colours."""
    ax = plot_outcomes(ops_df, by="source_name")
    assert ax.get_title(loc="left").startswith("What share of operations failed, by source name?")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["motive", "samsara", "rare"]  # top to bottom: most failures first
    rects = bars(ax)
    assert len(rects) == 6
    failed = [r for r in rects if to_hex(r.get_facecolor()) == st.outcome_color("failed").lower()]
    success = [r for r in rects if to_hex(r.get_facecolor()) == st.outcome_color("success").lower()]
    assert len(failed) == 3
    assert len(success) == 3
    widths = sorted(r.get_width() for r in failed)
    assert widths == pytest.approx([0.0, 0.1, 60 / 160])
    for f in failed:
        partner = next(s for s in success if s.get_y() == f.get_y())
        assert f.get_width() + partner.get_width() == pytest.approx(1.0)
    notes = texts(ax)
    assert any("n=160" in t for t in notes)
    assert any("n=3" in t and "small sample" in t for t in notes)
    assert ax.xaxis.get_major_formatter()(0.5, 0) == "50%"


def test_small_sample_shows_its_wide_interval(ops_df: pd.DataFrame) -> None:
    """A rate over 3 operations is drawn with its wide interval (0 to 56%), hatched, and with its n."""
    ax = plot_outcomes(ops_df, by="source_name")
    row = [t.get_text() for t in ax.get_yticklabels()].index("rare")
    rare_y = ax.get_yticks()[row]
    errorbar = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
    segments = errorbar.lines[2][0].get_segments()
    x_low, x_high = segments[row][0][0], segments[row][1][0]
    assert x_low == pytest.approx(0.0)
    assert x_high == pytest.approx(0.5615, abs=1e-3)
    rare_bars = [r for r in bars(ax) if abs(r.get_y() + r.get_height() / 2 - rare_y) < 0.01]
    assert all(r.get_hatch() == "///" for r in rare_bars)


def test_plot_outcomes_accepts_a_rates_table(ops_df: pd.DataFrame) -> None:
    """The table of outcome_rates draws the same chart as the operations it came from."""
    a = plot_outcomes(ops_df, by="source_name")
    b = plot_outcomes(outcome_rates(ops_df, by="source_name"))
    assert [r.get_width() for r in bars(a)] == [r.get_width() for r in bars(b)]


def test_plot_error_types_colours_shares_and_counts(ops_df: pd.DataFrame) -> None:
    """One bar per error type in its fixed colour, length = share of failures, count in the label."""
    ax = plot_error_types(ops_df)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["network", "auth"]
    rects = bars(ax)
    colours = [to_hex(r.get_facecolor()) for r in rects]
    assert colours == [st.ERROR_COLORS["network"].lower(), st.ERROR_COLORS["auth"].lower()]
    assert [r.get_width() for r in rects] == pytest.approx([60 / 76, 16 / 76])
    assert any("60 failed" in t for t in texts(ax))
    assert "n = 76 failed operations" in ax.get_title(loc="left")


def test_plot_error_types_by_group_is_stacked_to_100(ops_df: pd.DataFrame) -> None:
    """With by, each group's bar is split by error type and sums to 100%."""
    ax = plot_error_types(ops_df, by="source_name")
    per_row: dict[float, float] = {}
    for r in bars(ax):
        per_row[r.get_y()] = per_row.get(r.get_y(), 0.0) + r.get_width()
    assert all(total == pytest.approx(1.0) for total in per_row.values())
    assert legend_texts(ax) == {"network", "auth"}
