"""Every chart draws text from the data as it is: bidi controls shown, ``$`` never mathtext, none dropped.

A TSP named with a right-to-left override would be drawn reversed, a name with two ``$`` would be parsed
as mathtext (``a$\\foo$b`` makes matplotlib raise while saving, which would stop the report), and a name
starting with ``_`` would be left out of a legend. Each chart is given such names where it shows data
text (tick labels, legends, titles) and saved as a PNG, as the report and the dashboard do.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from matplotlib import cbook
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from catena_nb._html import BIDI_CONTROLS, neutralize_bidi
from catena_nb.analysis import delivery_funnel, funnel_table
from catena_nb.charts import (
    plot_attempts,
    plot_delivery_funnel,
    plot_error_budget,
    plot_error_types,
    plot_failure_rate_over_time,
    plot_funnel,
    plot_latency,
    plot_outcomes,
)
from catena_nb.frames import logs_frame, messages_frame, operations_frame
from tests.support.chart_records import make_op

HOSTILE = ("\u202eevil\u202c", "a$\\foo$b", "_hidden", "x\\$y$z")


@pytest.fixture(scope="module")
def hostile_ops() -> list[dict[str, Any]]:
    """Each hostile name is a TSP, and an error type, on two days."""
    ops: list[dict[str, Any]] = []
    for day in (1, 2):
        for k, name in enumerate(HOSTILE):
            for i in range(6):
                status = "failed" if i < 2 + k % 2 else "success"
                ops.append(make_op(i + 10 * k, name, status, [name] if status == "failed" else [], day))
    return ops


def _saved_texts(ax: Axes) -> list[str]:
    """Every text of the figure once it is saved as PNG, as matplotlib draws it (none of it mathtext)."""
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    figure.savefig(io.BytesIO(), format="png")
    shown = []
    for text in figure.findobj(Text):
        assert isinstance(text, Text)
        raw = text.get_text()
        if raw.startswith(r"$\mathdefault{"):
            continue  # matplotlib's own tick label of a log axis: mathtext on purpose, never data
        assert not cbook.is_math_text(raw), raw
        assert not set(raw) & BIDI_CONTROLS, raw
        shown.append(raw.replace(r"\$", "$"))  # what matplotlib draws for a text that is not mathtext
    return shown


def _assert_shown(ax: Axes, names: tuple[str, ...] = HOSTILE) -> None:
    shown = _saved_texts(ax)
    for name in names:
        assert any(neutralize_bidi(name) in text for text in shown), (name, shown)


CHARTS: dict[str, Callable[[pd.DataFrame, pd.DataFrame], Axes]] = {
    "plot_outcomes": lambda ops_df, _logs: plot_outcomes(ops_df, by="source_name"),
    "plot_error_types": lambda ops_df, logs_df: plot_error_types(ops_df, logs_df),
    "plot_error_types by group": lambda ops_df, _logs: plot_error_types(ops_df, by="source_name"),
    "plot_failure_rate_over_time": lambda ops_df, _logs: plot_failure_rate_over_time(
        ops_df, by="source_name"
    ),
    "plot_latency": lambda ops_df, _logs: plot_latency(ops_df, by="source_name"),
    "plot_error_budget": lambda ops_df, _logs: plot_error_budget(ops_df, by="source_name"),
}


@pytest.mark.parametrize("chart", list(CHARTS))
def test_hostile_names_are_drawn_as_text(chart: str, hostile_ops: list[dict[str, Any]]) -> None:
    """TSP names and error types with bidi controls, ``$`` and a leading ``_`` show as they are."""
    ax = CHARTS[chart](operations_frame(hostile_ops), logs_frame(hostile_ops))
    _assert_shown(ax)


def test_plot_attempts_with_hostile_names_saves(hostile_ops: list[dict[str, Any]]) -> None:
    """plot_attempts shows no data text, and hostile names elsewhere in the data do not stop it."""
    ax = plot_attempts(operations_frame(hostile_ops), logs_frame(hostile_ops))
    assert _saved_texts(ax)


def test_plot_delivery_funnel_with_hostile_stages_and_title(hostile_ops: list[dict[str, Any]]) -> None:
    """A funnel table whose stages carry hostile names, and a title built from one, show as text."""
    ops_df = operations_frame(hostile_ops)
    accepted = ops_df.loc[ops_df["status"] == "success", "resource_id"]
    funnel = delivery_funnel(ops_df, messages_frame([{"id": m, "status": "read"} for m in accepted]))
    funnel["stage"] = list(HOSTILE)
    ax = plot_delivery_funnel(funnel, title=f"Funnel of {HOSTILE[1]}")
    _assert_shown(ax)
    assert ax.get_title(loc="left").startswith("Funnel of a\\$\\foo\\$b")


def test_hostile_group_column_names_in_titles(hostile_ops: list[dict[str, Any]]) -> None:
    """A grouping column named from the data (a payload field) shows literally in the question."""
    ops_df = operations_frame(hostile_ops).rename(columns={"source_name": "a$\\b$"})
    ax = plot_outcomes(ops_df, by="a$\\b$")
    assert any("a$\\b$" in text for text in _saved_texts(ax))


def test_plot_funnel_labels_hostile_names_of_the_groups_outside(hostile_ops: list[dict[str, Any]]) -> None:
    """The groups outside the funnel are labelled with their names as text."""
    table = funnel_table(operations_frame(hostile_ops), by="source_name")
    table["outside_95"] = True  # every group labelled, whatever its rate
    _assert_shown(plot_funnel(table))
