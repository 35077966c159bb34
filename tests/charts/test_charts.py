"""Charts on the Agg backend: the artists drawn (bars, labels, titles, bands), colours and figure hygiene."""

from __future__ import annotations

import io
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import FillBetweenPolyCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.container import ErrorbarContainer
from matplotlib.patches import Rectangle

from catena_nb.analysis import find_incidents, outcome_rates
from catena_nb.charts import (
    plot_attempts,
    plot_delivery_funnel,
    plot_error_types,
    plot_failure_rate_over_time,
    plot_latency,
    plot_outcomes,
)
from catena_nb.charts import style as st
from catena_nb.frames import logs_frame, messages_frame, operations_frame


def make_op(
    i: int, source: str, status: str, errors: list[str], day: int = 1, duration: float = 2.0
) -> dict[str, Any]:
    start = pd.Timestamp(f"2026-10-{day:02d}T08:00:00Z") + pd.Timedelta(minutes=i)
    logs = [
        {"created_at": (start + pd.Timedelta(seconds=k)).isoformat(), "status": "failed", "error_type": e}
        for k, e in enumerate(errors)
    ]
    if status == "success":
        logs.append(
            {"created_at": (start + pd.Timedelta(seconds=len(errors))).isoformat(), "status": "success"}
        )
    return {
        "id": f"op-{source}-{day}-{i}",
        "created_at": start.isoformat(),
        "updated_at": (start + pd.Timedelta(seconds=duration)).isoformat(),
        "connection_id": f"conn-{source}",
        "source_name": source,
        "status": status,
        "resource_id": f"msg-{source}-{day}-{i}" if status == "success" else None,
        "logs": logs,
    }


@pytest.fixture(scope="module")
def ops() -> list[dict[str, Any]]:
    """Four days: samsara 40 ops a day (10% failing), motive 40 (25%, a bad day 3), tiny 'rare' with 3 ops."""
    out: list[dict[str, Any]] = []
    for day in range(1, 5):
        for i in range(40):
            out.append(
                make_op(i, "samsara", "failed" if i < 4 else "success", ["auth"] if i < 4 else [], day)
            )
            bad = 30 if day == 3 else 10
            errors = ["network", "network"] if i < bad else (["tsp"] if i < bad + 5 else [])
            out.append(
                make_op(i, "motive", "failed" if i < bad else "success", errors, day, duration=2.0 + i)
            )
    out += [make_op(i, "rare", "success", [], 2) for i in range(3)]
    return out


@pytest.fixture(scope="module")
def ops_df(ops: list[dict[str, Any]]) -> pd.DataFrame:
    return operations_frame(ops)


def bars(ax: Axes) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def label(artist: Artist) -> str:
    text = artist.get_label()
    assert isinstance(text, str), text
    return text


def legend_texts(ax: Axes) -> set[str]:
    legend = ax.get_legend()
    assert legend is not None, "no legend"
    return {t.get_text() for t in legend.get_texts()}


def test_plot_outcomes_bars_labels_and_colours(ops_df: pd.DataFrame) -> None:
    """Failed/succeeded bars per group sum to 100%, with n, intervals, a question and fixed colours."""
    ax = plot_outcomes(ops_df, by="source_name")
    assert ax.get_title(loc="left").startswith("What share of operations failed, by source name?")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["motive", "samsara", "rare"]  # top to bottom: most failures first
    rects = bars(ax)
    assert len(rects) == 6
    failed = [r for r in rects if to_hex(r.get_facecolor()) == st.OUTCOME_COLORS["failed"].lower()]
    success = [r for r in rects if to_hex(r.get_facecolor()) == st.OUTCOME_COLORS["success"].lower()]
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


def test_plot_failure_rate_over_time_band_line_and_incidents(ops_df: pd.DataFrame) -> None:
    """A failure-rate line with its Wilson band, the incident shaded, and n on a second axis."""
    incidents = find_incidents(ops_df, "D", "source_name")
    assert list(incidents["group"]) == ["motive"]
    ax = plot_failure_rate_over_time(ops_df, freq="D", incidents=incidents)
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "failure rate")
    rates = np.asarray(line.get_ydata())
    assert list(rates) == pytest.approx([14 / 80, 14 / 83, 34 / 80, 14 / 80])
    bands = [c for c in ax.collections if isinstance(c, FillBetweenPolyCollection | PolyCollection)]
    assert bands, "no interval band"
    spans = [p for p in ax.patches if p.get_label() == "incident"]
    assert len(spans) == 1
    assert "shaded: incidents" in ax.get_title(loc="left")
    twin = [other for other in ax.figure.axes if other is not ax]
    assert twin
    assert sum(r.get_height() for r in bars(twin[0])) == 323
    assert ax.yaxis.get_major_formatter()(0.25, 0) == "25%"


def test_plot_failure_rate_over_time_by_group(ops_df: pd.DataFrame) -> None:
    """With by, one line and one band per group, in group colours, labelled in the legend."""
    ax = plot_failure_rate_over_time(ops_df, by="source_name", incidents=[])
    names = {label(line) for line in ax.get_lines() if not label(line).startswith("_")}
    assert names == {"motive", "samsara", "rare"}
    legend = legend_texts(ax)
    assert legend == names


def test_plot_attempts_bars_and_retry_subtitle(ops_df: pd.DataFrame, ops: list[dict[str, Any]]) -> None:
    """Bars per attempt count and outcome (log scale), and first-attempt vs final success in the title."""
    ax = plot_attempts(ops_df, logs_frame(ops))
    assert ax.get_yscale() == "log"
    heights = {
        (round(r.get_x() + r.get_width() / 2), to_hex(r.get_facecolor())): r.get_height() for r in bars(ax)
    }
    green, red = st.OUTCOME_COLORS["success"].lower(), st.OUTCOME_COLORS["failed"].lower()
    assert heights[(1, red)] == 16
    assert heights[(2, red)] == 60
    assert heights[(2, green)] == 20  # rescued after one tsp failure
    title = ax.get_title(loc="left")
    assert "First attempt" in title
    assert "20 rescued by a retry" in title
    assert "n = 323" in title


def test_plot_latency_ecdf(ops_df: pd.DataFrame) -> None:
    """One ECDF per group ending at 100%, with n and percentiles in the legend."""
    ax = plot_latency(ops_df, by="source_name")
    curves = [line for line in ax.get_lines() if label(line).startswith(("motive", "samsara", "rare"))]
    assert len(curves) == 3
    for curve in curves:
        assert np.asarray(curve.get_ydata())[-1] == pytest.approx(1.0)
        assert np.all(np.diff(curve.get_ydata()) >= 0)
    assert any("n=160" in label(c) and "p95" in label(c) for c in curves)


def test_plot_delivery_funnel(ops_df: pd.DataFrame) -> None:
    """Four stage bars as shares of created, with counts, and a clear error without messages."""
    delivered = ops_df.loc[ops_df["status"] == "success", "resource_id"].head(100)
    messages = messages_frame(
        [{"id": m, "status": "read" if k < 30 else "delivered"} for k, m in enumerate(delivered)]
    )
    ax = plot_delivery_funnel(ops_df, messages)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["created", "accepted", "delivered", "read"]
    assert [r.get_width() for r in bars(ax)] == pytest.approx([1.0, 247 / 323, 100 / 323, 30 / 323])
    assert any("30 · " in t and "of delivered" in t for t in texts(ax))
    with pytest.raises(ValueError, match="messages_df"):
        plot_delivery_funnel(ops_df)


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
