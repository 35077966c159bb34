"""plot_error_budget: the budget left per group over time, the pages shaded."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from catena_nb.analysis import error_budget
from catena_nb.charts import plot_error_budget
from tests.support.timed_ops import frame, spread


@pytest.fixture(scope="module")
def outage() -> pd.DataFrame:
    """A quiet day on two TSPs, then an hour in which half of samsara's sends fail, then a quiet hour."""
    return frame(
        spread("2026-10-01", "2026-10-02", ok=718, failed=2, source="samsara"),
        spread("2026-10-01", "2026-10-02", ok=720, failed=0, source="motive"),
        spread("2026-10-02T00:00", "2026-10-02T01:00", ok=30, failed=30, source="samsara"),
        spread("2026-10-02T01:00", "2026-10-02T02:00", ok=60, failed=0, source="samsara"),
    )


def test_one_line_per_group_from_full_budget_to_what_is_left(outage: pd.DataFrame) -> None:
    """Each line starts at 100% and ends at the group's budget left; the legend says how much is left."""
    result = error_budget(outage, target=0.95, by="source_name")
    ax = plot_error_budget(result)
    assert len(ax.lines) == 3  # two groups and the 0% line
    left = result.summary.set_index("source_name")["budget_left"]
    ends = {round(float(np.asarray(line.get_ydata())[-1]), 9) for line in ax.lines[:2]}
    assert ends == {round(float(left["samsara"]), 9), round(float(left["motive"]), 9)}
    assert all(float(np.asarray(line.get_ydata())[0]) == 1.0 for line in ax.lines[:2])
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert any(t.startswith("samsara: ") and t.endswith(" left") for t in texts)
    ax.figure.savefig(io.BytesIO(), format="png")  # type: ignore[union-attr]


def test_page_alerts_are_shaded_in_one_artist(outage: pd.DataFrame) -> None:
    """The pages fired during the outage are drawn as one shaded collection, counted in the legend."""
    result = error_budget(outage, target=0.99, by="source_name")
    pages = result.alerts.loc[result.alerts["severity"] == "page"]
    assert len(pages) >= 1
    ax = plot_error_budget(outage, target=0.99, by="source_name")
    shaded = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(shaded) == 1
    legend = ax.get_legend()
    assert legend is not None
    assert f"page alert firing ({len(pages)})" in [t.get_text() for t in legend.get_texts()]


def test_the_title_names_the_slo(outage: pd.DataFrame) -> None:
    """The question names the SLO's target."""
    ax = plot_error_budget(outage, target=0.999)
    assert "99.9% SLO" in ax.get_title(loc="left")


def test_no_operations_draws_no_data() -> None:
    """An empty frame gives the 'No data' chart."""
    ax = plot_error_budget(frame([]))
    assert "No data" in [t.get_text() for t in ax.texts]
