"""Did retries help: how many attempts sends took, how each count ended, first attempt against final."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from catena_nb.analysis import attempts_distribution, retry_effect
from catena_nb.analysis.retries import check_retries
from catena_nb.charts import style as st


def plot_attempts(data: pd.DataFrame, logs_df: pd.DataFrame | None = None, *, ax: Axes | None = None,
                  **kw: Any) -> Axes:  # fmt: skip
    """How many attempts operations took, and how each count ended (succeeded / failed / pending).

    Bars are side by side on a log scale, because almost every operation takes one attempt; the subtitle
    gives first-attempt against final success on the same operations.

    Args:
        data: an operations frame.
        logs_df: its logs frame, to read first attempts from (see :func:`catena_nb.retry_effect`).
        ax: where to draw; a new Axes by default.
        **kw: ``title`` to replace the question.

    Returns:
        The Axes.

    Raises:
        TypeError: ``data`` is not an operations frame, or ``logs_df`` not a logs frame (or swapped).
        ValueError: a column the chart reads is missing.

    The bars count the failed attempts and one for a success (``attempts``), logged or not, and the
    subtitle's rates are those of :func:`catena_nb.retry_effect`: both read the same whether Catena logged
    the successful attempts or not.
    """
    check_retries(data, logs_df, None, "plot_attempts", "data")
    question = kw.get("title") or "How many attempts did operations need, and did retries help?"
    ax = st.new_axes(ax, (8.0, 4.5))
    dist = attempts_distribution(data)
    if not len(dist):
        return st.no_data(ax, question)
    x = dist["attempts"].to_numpy(int)
    outcomes = [o for o in ("success", "failed", "pending") if dist[o].sum() > 0]
    width = 0.8 / len(outcomes)
    for i, outcome in enumerate(outcomes):
        counts = dist[outcome].to_numpy(float)
        pos = x + (i - (len(outcomes) - 1) / 2) * width
        shown = counts > 0
        bars = ax.bar(
            pos[shown],
            counts[shown],
            width=width,
            color=st.outcome_color(outcome),
            label=st.OUTCOME_LABELS[outcome],
        )
        ax.bar_label(bars, labels=[st.fmt_n(c) for c in counts[shown]], fontsize=st.TEXT_SIZE - 1, padding=2)
    ax.set_yscale("log")
    ax.set_ylim(0.7, float(dist[outcomes].to_numpy().max()) * 4)
    st.set_ticks(ax, "x", x, [str(v) for v in x])
    ax.set_xlabel("Attempts per operation", fontsize=st.TEXT_SIZE)
    ax.set_ylabel("Operations (log scale)", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "y")
    ax.legend(fontsize=st.TEXT_SIZE, frameon=False, loc="upper right")
    effect = retry_effect(data, logs_df).iloc[0]
    if effect["n"]:
        detail = (
            f"First attempt {st.fmt_pct(effect['first_attempt_rate'])} → final "
            f"{st.fmt_pct(effect['final_rate'])} success; {st.fmt_n(effect['rescued'])} rescued by a retry "
            f"(n = {st.fmt_n(effect['n'])} settled)"
        )
    else:
        detail = st.NO_DATA
    st.set_title(ax, question, detail)
    return ax
