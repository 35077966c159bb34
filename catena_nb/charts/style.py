"""The one look of every chart: fixed colours, text shown as given, titles that ask a question, tidy axes.

A colour means the same thing in every chart, and outcomes mean the same colours as in every HTML table of
the package: they are its one status palette, :data:`catena_nb._html.STATUS_COLOURS`. Error types take
colours of the Okabe-Ito palette, which stays distinguishable with the common colour-vision deficiencies
(a ``network`` error is always sky blue), and groups (TSPs, connections) Paul Tol's "muted" ones.

Text that comes from the data (TSP names, connections, error types) is drawn as it is, through
:func:`plain`: a bidi control is shown as ``⟨U+202E⟩`` (it would otherwise reorder the label, as in the
HTML), and a ``$`` stays a dollar sign instead of starting matplotlib's mathtext, where two of them in a
name would make the whole chart fail. Nothing here touches matplotlib's global rcParams.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.container import Container
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from matplotlib.transforms import ScaledTranslation

from catena_nb._html import STATUS_COLOURS, neutralize_bidi
from catena_nb.analysis.grouping import By, keys_of, label, names_of

OUTCOME_LABELS: dict[str, str] = {"success": "succeeded", "failed": "failed", "pending": "pending"}
ERROR_COLORS: dict[str, str] = {
    "auth": "#CC79A7",
    "validation": "#E69F00",
    "network": "#56B4E9",
    "tsp": "#0072B2",
    "unknown": "#999999",
}
# error types the API may add later get these, in name order, so they too stay put from chart to chart
_SPARE_ERROR_COLORS = ("#F0E442", "#000000", "#8C6D31", "#6B6ECF")
# lines per group (TSP, connection...): Paul Tol's "muted" colours, apart from the outcome and error colours
GROUP_COLORS = ("#332288", "#44AA99", "#882255", "#999933", "#88CCEE", "#AA4499", "#DDCC77", "#CC6677")
STAGE_COLORS: dict[str, str] = {
    "created": "#08519C",
    "accepted": "#3182BD",
    "delivered": "#6BAED6",
    "read": "#9ECAE1",
}
INCIDENT_COLOR = STATUS_COLOURS["failed"]
INTERVAL_COLOR = "#222222"
MUTED = "#666666"

FIGSIZE = (8.0, 4.5)
TITLE_SIZE = 11.5
TEXT_SIZE = 9.0
NO_DATA = "no settled operations"

LegendEntry = tuple[Artist | Container, str]  # what the legend shows for a label, and the label


def outcome_color(status: str) -> str:
    """The colour of an outcome (``success``, ``failed``, ``pending``) in the package's status palette."""
    return STATUS_COLOURS[status]


def plain(text: Any) -> str:
    """``text`` as matplotlib should draw it, literally: bidi controls shown, ``$`` never mathtext."""
    return neutralize_bidi(str(text)).replace("$", r"\$")


def error_colors(error_types: Iterable[str]) -> dict[str, str]:
    """A colour for each error type: the fixed one when known, a spare one (by name order) otherwise."""
    known = dict(ERROR_COLORS)
    extra = sorted({str(e) for e in error_types} - known.keys())
    for i, name in enumerate(extra):
        known[name] = _SPARE_ERROR_COLORS[i % len(_SPARE_ERROR_COLORS)]
    return known


def group_colors(labels: Iterable[str]) -> dict[str, str]:
    """A colour per group, by the groups' names in sorted order: the same TSP gets the same colour in every
    chart of the same data, whatever each chart sorts by."""
    names = sorted(set(labels))
    return {name: GROUP_COLORS[i % len(GROUP_COLORS)] for i, name in enumerate(names)}


def group_labels(table: pd.DataFrame, names: list[str]) -> list[str]:
    """The label of each row's group (``"samsara / conn-1"``), or "all operations" without groups."""
    if not names:
        return ["all operations"] * len(table)
    return [label(row) for row in table[names].itertuples(index=False, name=None)]


def by_title(by: By) -> str:
    """How a title names the grouping: ``"source name and priority"``."""
    names = names_of(keys_of(by))
    return " and ".join(n.removeprefix("payload_").replace("_", " ") for n in names) or "all operations"


def new_axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    """``ax`` itself, or a fresh Axes on its own Figure (constrained layout, outside pyplot's registry).

    A Figure made this way is not tracked by ``pyplot``, so nothing leaks when it is dropped; in Jupyter
    display it with ``ax.figure``.
    """
    if ax is not None:
        return ax
    fig = Figure(figsize=figsize, layout="constrained", dpi=100)
    return fig.add_subplot()


def tidy(ax: Axes, grid: Literal["x", "y", "both"] = "x") -> None:
    """Light value grid behind the data, no top/right frame."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_axisbelow(True)
    ax.grid(axis=grid, color="#DDDDDD", linewidth=0.8)
    ax.tick_params(labelsize=TEXT_SIZE)


def percent_axis(ax: Axes, axis: str = "x", decimals: int | None = None) -> None:
    """Format an axis holding shares in [0, 1] as percents."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))


def set_title(ax: Axes, question: str, detail: str | None = None) -> None:
    """A title that states the question, and a second line with what was measured (n, interval)."""
    text = plain(question) if not detail else f"{plain(question)}\n{plain(detail)}"
    ax.set_title(text, loc="left", fontsize=TITLE_SIZE, pad=10)
    if detail:
        # the second line reads as a subtitle: same font, lighter weight is not available per line
        ax.title.set_linespacing(1.5)


def set_ticks(ax: Axes, axis: Literal["x", "y"], positions: Any, labels: Iterable[Any]) -> None:
    """Ticks at ``positions`` labelled with ``labels`` as text (:func:`plain`)."""
    shown = [plain(text) for text in labels]
    if axis == "x":
        ax.set_xticks(positions, shown)
    else:
        ax.set_yticks(positions, shown)


def legend(ax: Axes, entries: Sequence[LegendEntry], **kw: Any) -> None:
    """A legend of exactly these artists and labels (as text), none left out for a leading underscore."""
    ax.legend([artist for artist, _ in entries], [plain(text) for _, text in entries], **kw)


def below(ax: Axes) -> Any:
    """A transform with its origin 32 points under the Axes' bottom edge: room for tick labels and x label."""
    return ax.transAxes + ScaledTranslation(0, -32 / 72, ax.figure.dpi_scale_trans)


def no_data(ax: Axes, question: str) -> Axes:
    """The chart of nothing: the question, and "No data" where the data would be."""
    set_title(ax, question, NO_DATA)
    ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes, color=MUTED)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def naive_utc(times: pd.Series) -> np.ndarray[Any, Any]:
    """UTC datetimes as naive numpy datetime64, which matplotlib plots without a converter."""
    t = pd.to_datetime(times, utc=True)
    return np.asarray(t.dt.tz_localize(None).to_numpy(dtype="datetime64[us]"))


def fmt_n(n: Any) -> str:
    """1234 -> '1,234'."""
    return f"{int(n):,}"


def fmt_seconds(x: float) -> str:
    """3.21 -> '3.2 s', 42.5 -> '42 s'."""
    if x != x:
        return "n/a"
    return f"{x:.1f} s" if x < 10 else f"{x:.0f} s"


def fmt_pct(x: float) -> str:
    """0.1234 -> '12.3%'; small shares keep a second decimal so that 0.4% does not read as 0%."""
    if x != x:  # NaN
        return "n/a"
    pct = 100.0 * x
    if 0 < pct < 1:
        return f"{pct:.2f}%"
    return f"{pct:.1f}%"
