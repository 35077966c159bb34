"""Did the messages reach the drivers: the delivery funnel as shares of the sends created."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from catena_nb.analysis import FUNNEL_STAGES, delivery_funnel
from catena_nb.analysis.delivery import check_funnel
from catena_nb.charts import style as st
from catena_nb.frames.checks import require_frame_or_table

_FUNNEL_TABLES = {"delivery_funnel": ("stage", "n", "share", "ci_low", "ci_high", "step_rate")}


def plot_delivery_funnel(
    data: pd.DataFrame, messages_df: pd.DataFrame | None = None, *, ax: Axes | None = None, **kw: Any
) -> Axes:
    """Did the messages reach the drivers: created → accepted by the TSP → delivered → read.

    Args:
        data: an operations frame (with ``messages_df``), or the result of :func:`catena_nb.delivery_funnel`
            without groups.
        messages_df: the messages frame, when ``data`` is an operations frame.
        ax: where to draw; a new Axes by default.
        **kw: ``title`` to replace the question.

    Returns:
        The Axes.

    Raises:
        TypeError: ``data`` is neither an operations frame nor a funnel table, or ``messages_df`` is missing
            (None) or not a messages frame with an operations frame.
        ValueError: a column the chart reads is missing, or the funnel is grouped (draw one funnel per group
            on separate Axes instead).
    """
    question = kw.get("title") or "Did the messages reach the drivers?"
    others = {"messages_df": messages_df}
    if require_frame_or_table(data, "operations", "plot_delivery_funnel", "data", _FUNNEL_TABLES,
                              columns=["status", "resource_id"], others=others):  # fmt: skip
        funnel = data
    else:
        check_funnel(data, messages_df, None, "plot_delivery_funnel", "data")
        funnel = delivery_funnel(data, cast(pd.DataFrame, messages_df))  # checked just above
    if len(funnel) > len(FUNNEL_STAGES):
        raise ValueError("plot_delivery_funnel draws one funnel; select one group first")
    ax = st.new_axes(ax, (8.0, 3.4))
    created = float(funnel["n"].iloc[0]) if len(funnel) else 0.0
    if not created:
        return st.no_data(ax, question)
    stages = funnel["stage"].astype(str).tolist()
    y = np.arange(len(funnel))[::-1]
    share = funnel["share"].to_numpy(float)
    low, high = funnel["ci_low"].to_numpy(float), funnel["ci_high"].to_numpy(float)
    ax.barh(y, share, color=[st.STAGE_COLORS.get(s, st.MUTED) for s in stages], height=0.7)
    # the first stage is 100% by definition: no interval to show
    ax.errorbar(
        share[1:],
        y[1:],
        xerr=np.vstack(((share - low)[1:], (high - share)[1:])),
        fmt="none",
        ecolor=st.INTERVAL_COLOR,
        capsize=3,
    )
    for i, (yi, (_, row)) in enumerate(zip(y, funnel.iterrows(), strict=True)):
        if i == 0:
            text = f"{st.fmt_n(row['n'])} sends"
        else:
            text = f"{st.fmt_n(row['n'])} · {st.fmt_pct(row['share'])} of created"
        if i > 1:
            text += f" · {st.fmt_pct(row['step_rate'])} of {stages[i - 1]}"
        ax.text(
            1.02, yi, st.plain(text), transform=ax.get_yaxis_transform(), va="center", fontsize=st.TEXT_SIZE
        )
    st.set_ticks(ax, "y", y, stages)
    ax.set_xlim(0, 1)
    st.percent_axis(ax, "x")
    ax.set_xlabel("Share of created message operations", fontsize=st.TEXT_SIZE)
    st.tidy(ax, "x")
    st.set_title(ax, question, f"n = {st.fmt_n(created)} sends; whiskers: 95% interval")
    return ax
