"""How fast the error budget burns: an SLO on the share of sends that succeed, and its burn-rate alerts.

An SLO of ``target = 0.99`` allows 1% of the settled sends to fail: that 1% of the window's sends is the
**error budget**. The **burn rate** over a trailing window is that window's failure rate divided by the
allowed one (1x spends the budget exactly over the SLO's period; 14.4x spends 2% of a 30-day budget in one
hour). The alerts are the Google SRE workbook's (chapter "Alerting on SLOs", recommendation 6: multiwindow,
multi-burn-rate), each firing while *both* its long and short windows burn above its threshold; the short
window makes the alert stop soon after the failures do:

======== ============ ============= ========= =================================
severity long window  short window  burn rate budget spent in the long window
======== ============ ============= ========= =================================
page     1 hour       5 minutes     14.4x     2% of 30 days' budget
page     6 hours      30 minutes    6x        5%
ticket   3 days       6 hours       1x        10%
======== ============ ============= ========= =================================

Conditions are evaluated every 5 minutes (the shortest window) from the first operation of the frame to the
last, on ``created_at`` (when the send was made); settled operations only, pending ones left out as in every
rate. Near the start of the frame a trailing window holds only the traffic there is.

At a few sends per 5 minutes one failure is a burn of 20x or more, so two guards keep an alert from crying
wolf at low volume:

- **minimum volume**: an alert's long window needs ``min_events`` settled sends (20 by default) before its
  condition counts; a window with fewer (or none) neither starts an alert nor stops one that fires. At a
  failure rate of exactly the allowed 1%, 20 sends or more cross 14.4x by chance in at most 0.1% of windows.
- **episodes, not flaps**: an alert that stops and fires again within its long window (the reset time: 1
  hour, 6 hours, 3 days) is one episode spanning both. The short window drops first when failures pause, but
  the long window still holds them: the second firing counts the same failures again.

Example:
    >>> result = error_budget(ops_df, target=0.99, by="source_name")  # doctest: +SKIP
    >>> result.summary, result.alerts, result.budget  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.tseries.frequencies import to_offset

from catena_nb.analysis.buckets import bucket_end, period_grid, time_buckets
from catena_nb.analysis.comparisons import column_keys
from catena_nb.analysis.funnel import with_tsp
from catena_nb.analysis.grouping import SETTLED, By, flag, names_of
from catena_nb.analysis.intervals import safe_ratio
from catena_nb.frames.checks import mark_table, require, require_by

__all__ = ["BURN_ALERTS", "BURN_WINDOWS", "SUMMARY_COLUMNS", "ErrorBudget", "error_budget"]

STEP = pd.Timedelta(minutes=5)  # the evaluation step: the shortest window
# trailing windows: column suffix -> length
BURN_WINDOWS: dict[str, pd.Timedelta] = {
    "5m": pd.Timedelta(minutes=5),
    "30m": pd.Timedelta(minutes=30),
    "1h": pd.Timedelta(hours=1),
    "6h": pd.Timedelta(hours=6),
    "3d": pd.Timedelta(days=3),
}
# (long window, short window, burn-rate threshold, severity)
BURN_ALERTS: tuple[tuple[str, str, float, str], ...] = (
    ("1h", "5m", 14.4, "page"),
    ("6h", "30m", 6.0, "page"),
    ("3d", "6h", 1.0, "ticket"),
)
SUMMARY_COLUMNS = (
    "n", "failures", "failure_rate", "allowed_failures", "budget_consumed", "budget_left",
    *[f"burn_{w}" for w in BURN_WINDOWS], "pages", "tickets",
)  # fmt: skip
_ALERT_COLUMNS = [
    "alert", "severity", "threshold", "start", "end", "ongoing", "duration", "peak_burn", "n", "failures",
]  # fmt: skip
# assumed: an alert's long window needs this many settled sends to start or stop an alert (the workbook leaves
# low traffic to the reader). At exactly the allowed failure rate of a 99% SLO, a window of 20 sends or more
# burns above 14.4x by chance in at most 0.1% of windows (3 failures of 20; at 10 sends, 2 failures: 0.4%,
# at 5 sends, 1 failure: 4.9%); 20 sends is about the median hour of a TSP in the sandbox's history
MIN_EVENTS = 20
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ErrorBudget:
    """What :func:`error_budget` found.

    Attributes:
        summary: one row per group (by connection, with its TSP's ``source_name``): ``n`` (settled),
            ``failures``, ``failure_rate``, ``allowed_failures`` (the budget: ``(1 - target) * n``),
            ``budget_consumed`` (failures over the budget: 1.0 is all of it), ``budget_left``
            (``1 - budget_consumed``, negative when overspent), ``burn_5m`` ...
            ``burn_3d`` at the end of the window, ``pages`` and ``tickets`` (alerts fired).
        alerts: one row per alert episode: the group columns, ``alert`` (``"1h & 5m > 14.4x"``),
            ``severity``, ``threshold``, ``start`` (the first 5-minute evaluation at which both windows burned
            above it), ``end`` (the first at which they no longer did and did not again within the long
            window, or the last evaluation when ``ongoing``), ``duration``, ``peak_burn`` (the long window's
            highest burn rate meanwhile) and the ``n`` and ``failures`` created meanwhile.
        budget: the budget left over time: per group (in the order of ``summary``) and ``period`` (bucket
            start, of size ``freq``; every bucket of the window for every group), ``n``,
            ``failures``, ``budget_left`` at the bucket's end (the window's budget less the failures so far),
            and the burn rates at the bucket's end.
        target: the SLO, e.g. 0.99.
        freq: the buckets of ``budget``.
        window: the first and last evaluation times (UTC).
    """

    summary: pd.DataFrame
    alerts: pd.DataFrame
    budget: pd.DataFrame
    target: float
    freq: str
    window: tuple[pd.Timestamp | None, pd.Timestamp | None]

    def __repr__(self) -> str:
        return (
            f"ErrorBudget(target={self.target}, groups={len(self.summary)}, alerts={len(self.alerts)}, "
            f"freq={self.freq!r})"
        )


def check_target(target: Any, function: str) -> float:
    """``target`` as a float strictly between 0 and 1."""
    if isinstance(target, bool) or not isinstance(target, int | float | np.floating | np.integer):
        raise TypeError(f"{function} needs target= the SLO as a number in (0, 1), e.g. 0.99; got {target!r}")
    value = float(target)
    if not 0.0 < value < 1.0:
        raise ValueError(
            f"{function} needs target= the SLO as a share of sends that succeed, in (0, 1) (e.g. 0.99 for "
            f"99%); got {target!r}"
        )
    return value


def check_freq(freq: Any, function: str) -> str:
    """``freq`` as a pandas frequency string that :mod:`~.buckets` can bucket by."""
    if not isinstance(freq, str):
        raise TypeError(f"{function} needs freq= a pandas frequency such as 'h' or 'D'; got {freq!r}")
    try:
        to_offset(freq)
    except ValueError as exc:
        message = f"{function} needs freq= a pandas frequency such as 'h' or 'D'; got {freq!r}"
        raise ValueError(message) from exc
    return freq


def check_min_events(min_events: Any, function: str) -> int:
    """``min_events`` as a whole number of at least 1."""
    if isinstance(min_events, bool) or not isinstance(min_events, int | np.integer):
        raise TypeError(
            f"{function} needs min_events= the fewest settled sends in an alert's long window, a whole "
            f"number such as {MIN_EVENTS}; got {min_events!r}"
        )
    if min_events < 1:
        raise ValueError(
            f"{function} needs min_events= the fewest settled sends in an alert's long window, at least 1 (1 "
            f"turns the guard off but for empty windows); got {min_events!r}"
        )
    return int(min_events)


def error_budget(
    ops_df: pd.DataFrame,
    target: float = 0.99,
    by: By = None,
    freq: str = "h",
    *,
    time_col: str = "created_at",
    min_events: int = MIN_EVENTS,
) -> ErrorBudget:
    """The error budget of an SLO over the frame's window, its burn rates, and the burn-rate alerts fired.

    Args:
        ops_df: an operations frame.
        target: the SLO: the share of settled sends that should succeed, in (0, 1).
        by: the groups (``"source_name"`` for one budget per TSP, ``"connection_id"``...), or ``None``.
        freq: the buckets of the budget left over time (``"h"``, ``"D"``...).
        time_col: the timestamp that places an operation in time.
        min_events: the fewest settled sends in an alert's long window for its condition to count; below it
            the window neither starts nor stops an alert (``1``: only empty windows are left out).

    Returns:
        An :class:`ErrorBudget` with its ``summary``, ``alerts`` and ``budget`` frames.

    Raises:
        TypeError: ``ops_df`` is not an operations frame; ``target``, ``freq`` or ``min_events`` of the wrong
            type.
        ValueError: ``status`` or ``time_col`` missing, naive or missing times, a ``by`` naming no column (or
            a time Grouper), ``target`` outside (0, 1), an unknown ``freq``, ``min_events`` below 1.

    Example:
        >>> error_budget(ops_df, target=0.995, by="source_name").alerts  # doctest: +SKIP
    """
    return compute_budget(ops_df, target, by, freq, time_col, "error_budget", "ops_df", min_events)


def compute_budget(
    ops_df: Any,
    target: Any,
    by: Any,
    freq: Any,
    time_col: str,
    function: str,
    argument: str,
    min_events: Any = MIN_EVENTS,
) -> ErrorBudget:
    """:func:`error_budget`, its input checks named for ``function`` and its frame ``argument``."""
    require(ops_df, "operations", function, argument, columns=["status"], times=[time_col])
    require_by(ops_df, by, function, argument)
    keys = column_keys(by, function)
    slo = check_target(target, function)
    freq = check_freq(freq, function)
    events = check_min_events(min_events, function)
    names = names_of(keys)
    settled = ops_df.loc[ops_df["status"].isin(SETTLED).fillna(False).to_numpy(dtype=bool)]
    if names:
        grouped = settled.groupby(names, observed=True, dropna=False, sort=True)
        codes = grouped.ngroup().to_numpy(dtype=np.int64)
        groups = grouped.size().reset_index()[names]
    else:
        codes = np.zeros(len(settled), dtype=np.int64)
        groups = pd.DataFrame(index=range(1 if len(settled) else 0))
    failed = flag(settled["status"], "failed").to_numpy(dtype=np.float64)
    times = pd.DatetimeIndex(settled[time_col])
    if not len(settled):
        return _empty(names, slo, freq)
    grid = _Grid(times, codes, failed, len(groups), 1.0 - slo)
    summary = _summary(groups, grid)
    if names == ["connection_id"] and "source_name" in settled.columns:
        summary = with_tsp(summary, settled)
    alerts = _alerts(groups, names, grid, events)
    counts = None
    if len(alerts):
        counts = alerts.groupby("_group")["severity"].value_counts().unstack(fill_value=0)
    for severity, column in (("page", "pages"), ("ticket", "tickets")):
        if counts is not None and severity in counts.columns:
            summary[column] = counts[severity].reindex(range(len(groups)), fill_value=0).to_numpy(np.int64)
        else:
            summary[column] = np.zeros(len(groups), dtype=np.int64)
    budget = _budget(groups, names, grid, settled, codes, failed, freq, time_col)
    window = (grid.end_times[0], grid.end_times[-1])
    return ErrorBudget(
        summary=mark_table(summary, "error_budget"),
        alerts=mark_table(alerts.drop(columns="_group").reset_index(drop=True), "error_budget"),
        budget=mark_table(budget, "error_budget"),
        target=slo,
        freq=freq,
        window=window,
    )


class _Grid:
    """Settled counts per group on the 5-minute evaluation grid, and the trailing burn rates on it."""

    def __init__(
        self,
        times: pd.DatetimeIndex,
        codes: npt.NDArray[np.int64],
        failed: Floats,
        groups: int,
        allowed: float,
    ) -> None:
        self.origin = times.min().floor(STEP)
        step_ns = STEP.value
        offsets = (times.as_unit("ns").asi8 - self.origin.as_unit("ns").value) // step_ns
        self.steps = int(offsets.max()) + 1
        self.groups = groups
        self.allowed = allowed
        flat = codes * self.steps + offsets
        size = groups * self.steps
        self.n = np.bincount(flat, minlength=size).astype(np.float64).reshape(groups, self.steps)
        self.f = np.bincount(flat, weights=failed, minlength=size).reshape(groups, self.steps)
        zeros = np.zeros((groups, 1))
        self.cum_n = np.concatenate([zeros, np.cumsum(self.n, axis=1)], axis=1)
        self.cum_f = np.concatenate([zeros, np.cumsum(self.f, axis=1)], axis=1)
        self.end_times = pd.DatetimeIndex(self.origin + STEP * np.arange(1, self.steps + 1))
        self.width = {name: int(length / STEP) for name, length in BURN_WINDOWS.items()}
        self.burn = {name: self._burn(width) for name, width in self.width.items()}

    def trailing(self, cum: Floats, width: int) -> Floats:
        """Sums over the ``width`` steps ending at each step (fewer near the start)."""
        ends = np.arange(1, self.steps + 1)
        starts = np.maximum(ends - width, 0)
        out: Floats = cum[:, ends] - cum[:, starts]
        return out

    def _burn(self, width: int) -> Floats:
        n = self.trailing(self.cum_n, width)
        f = self.trailing(self.cum_f, width)
        return safe_ratio(f, n) / self.allowed


def _empty(names: list[str], slo: float, freq: str) -> ErrorBudget:
    summary_cols = list(SUMMARY_COLUMNS)
    budget_cols = ["period", "n", "failures", "budget_left", *[f"burn_{w}" for w in BURN_WINDOWS]]

    def frame(columns: list[str]) -> pd.DataFrame:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in [*names, *columns]})
        return mark_table(empty, "error_budget")

    summary, alerts, budget = frame(summary_cols), frame(_ALERT_COLUMNS), frame(budget_cols)
    return ErrorBudget(summary, alerts, budget, slo, freq, (None, None))


def _summary(groups: pd.DataFrame, grid: _Grid) -> pd.DataFrame:
    out = groups.copy().reset_index(drop=True)
    n = grid.n.sum(axis=1)
    f = grid.f.sum(axis=1)
    out["n"] = n.astype(np.int64)
    out["failures"] = f.astype(np.int64)
    out["failure_rate"] = safe_ratio(f, n)
    out["allowed_failures"] = grid.allowed * n
    out["budget_consumed"] = safe_ratio(f, grid.allowed * n)
    out["budget_left"] = 1.0 - out["budget_consumed"]
    for name, burn in grid.burn.items():
        out[f"burn_{name}"] = burn[:, -1]
    return out


def alert_name(long: str, short: str, threshold: float) -> str:
    """``"1h & 5m > 14.4x"``."""
    return f"{long} & {short} > {threshold:g}x"


def _alerts(groups: pd.DataFrame, names: list[str], grid: _Grid, min_events: int) -> pd.DataFrame:
    parts: list[pd.DataFrame] = []
    for long, short, threshold, severity in BURN_ALERTS:
        with np.errstate(invalid="ignore"):
            firing = (grid.burn[long] > threshold) & (grid.burn[short] > threshold)
        firing = _held_below_volume(firing, grid.trailing(grid.cum_n, grid.width[long]) >= min_events)
        found = _episodes(firing, grid.width[long])
        if found is None:
            continue
        rows, first, stop = found
        ongoing = stop >= grid.steps
        last = np.minimum(stop, grid.steps - 1)
        # the long window's peak over the episode: a running maximum per row, read at each episode's end
        burn = np.where(np.isnan(grid.burn[long]), -np.inf, grid.burn[long])
        flat = np.column_stack([burn, np.full(grid.groups, -np.inf)]).ravel()
        bounds = np.column_stack([rows * (grid.steps + 1) + first, rows * (grid.steps + 1) + stop]).ravel()
        peak = np.maximum.reduceat(flat, bounds)[::2]
        start_times, end_times = grid.end_times[first], grid.end_times[last]
        part = groups.iloc[rows].reset_index(drop=True) if names else pd.DataFrame(index=range(len(rows)))
        part = part.assign(
            _group=rows,
            alert=alert_name(long, short, threshold),
            severity=severity,
            threshold=threshold,
            start=start_times,
            end=end_times,
            ongoing=ongoing,
            duration=end_times - start_times,
            peak_burn=peak,
            # the operations created over the episode: the steps of its evaluations, pauses included
            n=(grid.cum_n[rows, stop] - grid.cum_n[rows, first]).astype(np.int64),
            failures=(grid.cum_f[rows, stop] - grid.cum_f[rows, first]).astype(np.int64),
        )
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*names, "_group", *_ALERT_COLUMNS]})
    out = pd.concat(parts, ignore_index=True)[[*names, "_group", *_ALERT_COLUMNS]]
    return out.sort_values(["start", "_group"], kind="stable").reset_index(drop=True)


def _held_below_volume(firing: npt.NDArray[np.bool_], enough: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """``firing`` where the long window holds enough sends; elsewhere the last such step's state (not firing
    before the first): too few sends neither start an alert nor stop one."""
    steps = np.arange(firing.shape[1])
    known = np.maximum.accumulate(np.where(enough, steps, -1), axis=1)
    held = np.take_along_axis(firing, np.maximum(known, 0), axis=1)
    out: npt.NDArray[np.bool_] = held & (known >= 0)
    return out


def _episodes(
    firing: npt.NDArray[np.bool_], reset: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """(row, first step firing, first step no longer firing) of each episode: runs of firing steps, a run
    that starts fewer than ``reset`` steps after the previous one stopped joining it; ``None`` if none."""
    rows_count, steps = firing.shape
    padded = np.zeros((rows_count, steps + 2), dtype=np.int8)
    padded[:, 1:-1] = firing
    edges = np.diff(padded, axis=1)
    # row-major order pairs each start with its stop (the first step no longer firing) in the same row
    rows, first = np.nonzero(edges == 1)
    stop = np.nonzero(edges == -1)[1]
    if not len(rows):
        return None
    # a run opens a new episode unless it follows the previous run of its row by less than the reset time
    opens = np.ones(len(rows), dtype=bool)
    opens[1:] = (rows[1:] != rows[:-1]) | (first[1:] - stop[:-1] >= reset)
    heads = np.flatnonzero(opens)
    tails = np.r_[heads[1:], len(rows)] - 1
    return rows[heads], first[heads], stop[tails]


def _budget(
    groups: pd.DataFrame,
    names: list[str],
    grid: _Grid,
    settled: pd.DataFrame,
    codes: npt.NDArray[np.int64],
    failed: Floats,
    freq: str,
    time_col: str,
) -> pd.DataFrame:
    periods = time_buckets(settled[time_col], freq)
    full = period_grid(periods.min(), periods.max(), freq)
    index = full.get_indexer(pd.DatetimeIndex(periods))
    flat = codes * len(full) + index
    size = grid.groups * len(full)
    n = np.bincount(flat, minlength=size).astype(np.float64).reshape(grid.groups, len(full))
    f = np.bincount(flat, weights=failed, minlength=size).reshape(grid.groups, len(full))
    budget = grid.allowed * n.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        left = 1.0 - np.cumsum(f, axis=1) / budget
    left = np.where(budget > 0, left, np.nan)
    ends = pd.DatetimeIndex([bucket_end(s, freq) for s in full])
    # the burn rates at each bucket's end: the last evaluation step that ends by then
    step_at = ((ends - grid.origin) // STEP).to_numpy(dtype=np.int64) - 1
    step_at = np.clip(step_at, 0, grid.steps - 1)
    out = pd.DataFrame(
        {
            "_group": np.repeat(np.arange(grid.groups), len(full)),
            "period": np.tile(full, grid.groups),
            "n": n.ravel().astype(np.int64),
            "failures": f.ravel().astype(np.int64),
            "budget_left": left.ravel(),
        }
    )
    for name, burn in grid.burn.items():
        out[f"burn_{name}"] = burn[:, step_at].ravel()
    if names:
        out = groups.reset_index(drop=True).assign(_group=range(grid.groups)).merge(out, on="_group")
    return out.drop(columns="_group")
