"""plot_delivery_funnel: the four stages as shares of the sends created."""

from __future__ import annotations

import pandas as pd
import pytest

from catena_nb.charts import (
    plot_delivery_funnel,
)
from catena_nb.frames import messages_frame
from tests.support.chart_records import bars, texts


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
    with pytest.raises(TypeError, match=r"needs a messages frame .* as `messages_df`; got None"):
        plot_delivery_funnel(ops_df)
