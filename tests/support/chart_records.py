"""Operations for the chart tests, and what a test reads back from the Axes a chart drew."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle


def make_op(
    i: int, source: str, status: str, errors: list[str], day: int = 1, duration: float = 2.0
) -> dict[str, Any]:
    """A wire operation of ``source`` on October ``day``: failed logs for ``errors``, then a success log."""
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


def four_days() -> list[dict[str, Any]]:
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


def bars(ax: Axes) -> list[Rectangle]:
    """The rectangles drawn on ``ax``."""
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def texts(ax: Axes) -> list[str]:
    """The free texts on ``ax`` (annotations, not titles or ticks)."""
    return [t.get_text() for t in ax.texts]


def label(artist: Artist) -> str:
    """An artist's legend label."""
    text = artist.get_label()
    assert isinstance(text, str), text
    return text


def legend_texts(ax: Axes) -> set[str]:
    """The texts of the legend of ``ax``."""
    legend = ax.get_legend()
    assert legend is not None, "no legend"
    return {t.get_text() for t in legend.get_texts()}
