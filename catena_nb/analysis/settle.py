"""How long until a send settles, and until its message is delivered and read: Kaplan–Meier estimates that
count the operations still pending instead of leaving them out.

A percentile of the settled operations alone is biased low exactly when a TSP is slow: the slow sends are
the ones still pending. Here each pending operation is *right-censored* at ``until`` (it took at least
``until - created_at``), and the time-to-settle distribution is the Kaplan–Meier product-limit estimate
(Kaplan and Meier 1958), per group, all groups at once.

- The median and p90 are the smallest times at which the estimated survival (the share not settled yet)
  falls to 0.5 and 0.1 or below; NaN when it never does within the data (more than half still pending).
- The median's 95% interval is Brookmeyer and Crowley's (1982): the times whose pointwise interval of the
  survival contains 0.5, with the pointwise interval taken on the log(-log) scale with Greenwood's variance,
  which is ``scipy.stats.ecdf(...).sf.confidence_interval(method="log-log")``; so the low bound is the first
  time the band's lower curve reaches 0.5 and the high bound the first time its upper curve does (NaN when it
  never does). Where the survival equals 0.5 over a stretch, the median is the stretch's start (scipy's and
  numpy's "inverted_cdf" convention), not its midpoint as R's ``survfit`` reports.

Example:
    >>> time_to_settle(ops_df, by="source_name")  # doctest: +SKIP
    >>> time_to_deliver(messages_df, by="source_name", event="read")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb.analysis.grouping import SETTLED, By, is_time_key, keys_of, names_of
from catena_nb.analysis.intervals import Z_95, small_sample
from catena_nb.frames.checks import mark_table, require, require_by

__all__ = [
    "SETTLE_COLUMNS",
    "KaplanMeier",
    "kaplan_meier",
    "settle_curves",
    "time_to_deliver",
    "time_to_settle",
]

SETTLE_COLUMNS = ("n", "events", "censored", "median_s", "median_ci_low", "median_ci_high", "p90_s")
# S(t) is compared with 0.5 and 0.1 with this slack, so that a product that is 0.5 in exact arithmetic
# (2 of 4 settled) is not missed for a rounding error of one ulp
_SLACK = 1e-12
Event = Literal["delivered", "read"]
Until = str | dt.datetime | pd.Timestamp | None

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class KaplanMeier:
    """The product-limit estimate of every group at once: one row per (group, distinct time), by group then
    time. ``survival`` is S(t) just after ``time``; ``ci_low``/``ci_high`` its pointwise log-log 95% band
    (NaN where S is 1 or 0, as scipy gives it)."""

    group: IntArray
    time: FloatArray
    at_risk: IntArray
    events: IntArray
    survival: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray

    def first_at_or_below(
        self, level: FloatArray | float, n_groups: int, curve: str = "survival"
    ) -> FloatArray:
        """Per group, the first time ``curve`` is at or below ``level``; NaN where it never is."""
        values = getattr(self, curve)
        below = np.flatnonzero(values <= np.asarray(level) + _SLACK)
        out = np.full(n_groups, np.nan)
        if len(below):
            groups, first = np.unique(self.group[below], return_index=True)
            out[groups] = self.time[below[first]]
        return out


def kaplan_meier(
    group: npt.ArrayLike, time: npt.ArrayLike, observed: npt.ArrayLike, *, z: float = Z_95
) -> KaplanMeier:
    """Kaplan–Meier estimates per group, vectorised: one sort, cumulative products within groups.

    Args:
        group: an integer code per observation (0..k-1).
        time: the time of the event or of censoring.
        observed: True for an event, False for a right-censored time. At a tie, the censored are still at
            risk at that time (the usual convention, and scipy's).
        z: the normal quantile of the pointwise band.
    """
    g = np.asarray(group, dtype=np.int64)
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(observed, dtype=bool)
    order = np.lexsort((t, g))
    g, t, e = g[order], t[order], e[order].astype(np.int64)
    size = len(t)
    if not size:
        empty_f, empty_i = np.empty(0), np.empty(0, dtype=np.int64)
        return KaplanMeier(empty_i, empty_f, empty_i, empty_i, empty_f, empty_f, empty_f)
    new = np.empty(size, dtype=bool)
    new[0] = True
    new[1:] = (g[1:] != g[:-1]) | (t[1:] != t[:-1])
    starts = np.flatnonzero(new)
    step_group = g[starts]
    deaths = np.add.reduceat(e, starts)
    group_start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    group_size = np.diff(np.r_[group_start, size])
    which = np.searchsorted(g[group_start], step_group)
    at_risk = group_size[which] - (starts - group_start[which])
    factor = pd.Series((at_risk - deaths) / at_risk)
    survival = factor.groupby(step_group).cumprod().to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = pd.Series(deaths / (at_risk * (at_risk - deaths)))
        cumulative = greenwood.groupby(step_group).cumsum().to_numpy(dtype=np.float64)
        log_s = np.log(survival)
        se = np.sqrt(cumulative / log_s**2)
        centre = np.log(-log_s)
        low = np.exp(-np.exp(centre + z * se))
        high = np.exp(-np.exp(centre - z * se))
    return KaplanMeier(step_group, t[starts], at_risk, deaths, survival, low, high)


def time_to_settle(ops_df: pd.DataFrame, by: By = None, until: Until = None) -> pd.DataFrame:
    """Kaplan–Meier time from an operation's creation to its final status, the pending ones censored.

    An operation settled (``success`` or ``failed``) by ``until`` took ``duration_s``; one still pending then
    (or settled only after it) is censored at ``until - created_at``; one created after ``until`` is left out.

    Args:
        ops_df: an operations frame; ``status``, ``created_at`` and ``duration_s`` are read.
        by: an optional grouping (see :mod:`catena_nb.analysis`).
        until: the time the data is looked at, tz-aware; by default the latest ``created_at`` or
            ``updated_at`` in the frame.

    Returns:
        One row per group: ``n`` (operations created by ``until``), ``events`` (settled by then),
        ``censored``, ``median_s`` with its Brookmeyer–Crowley 95% interval ``median_ci_low``/
        ``median_ci_high`` (see the module), ``p90_s`` (seconds; NaN where the curve never gets there),
        ``small_sample``. Slowest median first (never reached first), unless grouped by time.

    Raises:
        TypeError: ``ops_df`` is not an operations frame, or ``until`` is not a time.
        ValueError: a column is missing, ``created_at`` is naive or has NaT, ``by`` names no column, or
            ``until`` is naive or before the first operation.

    Example:
        >>> time_to_settle(ops_df, by="source_name", until="2026-11-01T00:00:00Z")  # doctest: +SKIP
    """
    start, settled, durations, cutoff = _settle_inputs(ops_df, by, until, "time_to_settle")
    return _table(ops_df, by, start, settled, durations, cutoff, "time_to_settle")


def time_to_deliver(
    messages_df: pd.DataFrame, by: By = None, until: Until = None, *, event: Event = "delivered"
) -> pd.DataFrame:
    """Kaplan–Meier time from a message's send (its ``created_at``) to ``delivered_at`` or ``read_at``.

    A separate function from :func:`time_to_settle` because its population and frame differ: messages that
    reached a TSP, with their own ``source_name`` and ``connection_id`` to group by. A message not delivered
    (or read) by ``until`` is censored there; one that never will be stays at risk to the end, so the curve
    levels off above zero and the median is NaN when fewer than half get there.

    Args:
        messages_df: a messages frame (:func:`catena_nb.messages_frame`).
        by: an optional grouping of the messages.
        until: the time the data is looked at, tz-aware; by default the latest time in the frame.
        event: ``"delivered"`` or ``"read"``.

    Returns:
        The columns of :func:`time_to_settle`, ``events`` counting the messages delivered (read) by ``until``.

    Raises:
        TypeError: ``messages_df`` is not a messages frame, or ``until`` is not a time.
        ValueError: as :func:`time_to_settle`, or ``event`` is neither ``"delivered"`` nor ``"read"``.

    Example:
        >>> time_to_deliver(messages_df, by="source_name", event="read")  # doctest: +SKIP
    """
    function = "time_to_deliver"
    at = {"delivered": "delivered_at", "read": "read_at"}.get(event) if isinstance(event, str) else None
    require(messages_df, "messages", function, "messages_df", times=["created_at"])
    if at is None:
        raise ValueError(f"{function}: event must be 'delivered' or 'read', not {event!r}")
    require(messages_df, "messages", function, "messages_df", columns=[at])
    require_by(messages_df, by, function, "messages_df", "messages")
    created = messages_df["created_at"]
    reached = messages_df[at]
    if not isinstance(reached.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"{function} needs a messages frame (cn.messages_frame(messages)) as `messages_df` with UTC "
            f"times in {at!r}; these are {reached.dtype}: convert them first "
            f"(df[{at!r}] = pd.to_datetime(df[{at!r}], utc=True))"
        )
    latest = [created.max(), reached.max()]
    cutoff = _until(until, created, latest, function, "message")
    start = _seconds(created)
    durations = _seconds(reached) - start
    done = ~np.isnan(durations)
    return _table(
        messages_df, by, start, done, np.clip(np.nan_to_num(durations), 0.0, None), cutoff, function
    )


def settle_curves(ops_df: pd.DataFrame, by: By = None, until: Until = None) -> pd.DataFrame:
    """The Kaplan–Meier curves behind :func:`time_to_settle`: one row per group and distinct time.

    Returns:
        The group columns, then ``time_s``, ``at_risk``, ``events``, ``survival`` (the share not settled
        after ``time_s``), ``ci_low``, ``ci_high`` (pointwise log-log 95%).
    """
    function = "settle_curves"
    start, settled, durations, cutoff = _settle_inputs(ops_df, by, until, function)
    _, codes, labels, time, observed = _prepare(ops_df, by, start, settled, durations, cutoff)
    km = kaplan_meier(codes, time, observed)
    out = labels.iloc[km.group].reset_index(drop=True)
    steps = pd.DataFrame(
        {
            "time_s": km.time,
            "at_risk": km.at_risk,
            "events": km.events,
            "survival": km.survival,
            "ci_low": km.ci_low,
            "ci_high": km.ci_high,
        }
    )
    return mark_table(pd.concat([out, steps], axis=1), function)


def _settle_inputs(
    ops_df: pd.DataFrame, by: By, until: Until, function: str
) -> tuple[FloatArray, npt.NDArray[np.bool_], FloatArray, float]:
    """The checks of the operations' functions; then creation times, settled flags, durations, cutoff."""
    require(ops_df, "operations", function, "ops_df", columns=["status", "duration_s"], times=["created_at"])
    require_by(ops_df, by, function)
    created = ops_df["created_at"]
    latest = [created.max()]
    if "updated_at" in ops_df.columns and isinstance(ops_df["updated_at"].dtype, pd.DatetimeTZDtype):
        latest.append(ops_df["updated_at"].max())
    cutoff = _until(until, created, latest, function, "operation")
    durations = np.clip(ops_df["duration_s"].to_numpy(dtype=np.float64, na_value=np.nan), 0.0, None)
    settled = ops_df["status"].isin(SETTLED).to_numpy(dtype=bool) & ~np.isnan(durations)
    return _seconds(created), settled, durations, cutoff


def _seconds(times: pd.Series) -> FloatArray:
    """UTC times as float seconds since the epoch, NaT as NaN (microseconds are exact in a float64)."""
    values = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    out = values.astype(np.int64).astype(np.float64) / 1e6
    out[np.isnat(values)] = np.nan
    return np.asarray(out, dtype=np.float64)


def _until(until: Any, created: pd.Series, latest: list[Any], function: str, what: str) -> float:
    """``until`` as float seconds, checked: a tz-aware time no earlier than the first ``what``."""
    found = [t for t in latest if not pd.isna(t)]
    if until is None:
        return _stamp_seconds(max(found)) if found else 0.0
    if not isinstance(until, str | dt.datetime | pd.Timestamp):
        raise TypeError(
            f"{function}: until must be a tz-aware time (an ISO string, a datetime or a pd.Timestamp), "
            f"not {type(until).__name__}"
        )
    try:
        stamp = pd.Timestamp(until)
    except ValueError as exc:
        raise ValueError(f"{function}: until={until!r} is not a time") from exc
    if pd.isna(stamp):
        raise ValueError(
            f"{function}: until is NaT; give a tz-aware time or None for the latest in the frame"
        )
    if stamp.tzinfo is None:
        raise ValueError(f"{function}: until={until!r} has no time zone; give one (e.g. '2026-11-01T00:00Z')")
    if len(created) and stamp < created.min():
        raise ValueError(
            f"{function}: until={stamp.isoformat()} is before the first {what} "
            f"({created.min().isoformat()}): nothing was created by then"
        )
    return _stamp_seconds(stamp)


def _stamp_seconds(stamp: Any) -> float:
    since_epoch = pd.Timestamp(stamp).tz_convert("UTC").tz_localize(None) - pd.Timestamp(0)
    return float(since_epoch // pd.Timedelta(1, "us")) / 1e6


def _prepare(
    frame: pd.DataFrame,
    by: By,
    start: FloatArray,
    done: npt.NDArray[np.bool_],
    durations: FloatArray,
    cutoff: float,
) -> tuple[npt.NDArray[np.bool_], IntArray, pd.DataFrame, FloatArray, npt.NDArray[np.bool_]]:
    """The rows observed by ``cutoff``, their group codes, the groups' labels, times and event flags."""
    keys = keys_of(by)
    names = names_of(keys)
    keep = start <= cutoff
    work = frame.loc[keep]
    finish = start[keep] + np.where(done[keep], durations[keep], np.inf)
    observed = finish <= cutoff
    time = np.where(observed, finish, cutoff) - start[keep]
    if keys:
        grouped = work.groupby(keys, observed=True, dropna=False, sort=True)
        codes: IntArray = np.asarray(grouped.ngroup().to_numpy(), dtype=np.int64)
        labels = grouped.size().reset_index()[names]
    else:
        codes = np.zeros(len(work), dtype=np.int64).reshape(-1)
        labels = pd.DataFrame(index=[0])
    return keep, codes, labels, time, observed


def _table(
    frame: pd.DataFrame,
    by: By,
    start: FloatArray,
    done: npt.NDArray[np.bool_],
    durations: FloatArray,
    cutoff: float,
    function: str,
) -> pd.DataFrame:
    keys = keys_of(by)
    names = names_of(keys)
    _, codes, labels, time, observed = _prepare(frame, by, start, done, durations, cutoff)
    k = len(labels)
    km = kaplan_meier(codes, time, observed)
    n = np.bincount(codes, minlength=k)
    events = np.bincount(codes, weights=observed, minlength=k).astype(np.int64)
    out = labels.reset_index(drop=True).copy()
    out["n"] = n.astype(np.int64)
    out["events"] = events
    out["censored"] = out["n"] - events
    out["median_s"] = km.first_at_or_below(0.5, k)
    out["median_ci_low"] = km.first_at_or_below(0.5, k, "ci_low")
    out["median_ci_high"] = km.first_at_or_below(0.5, k, "ci_high")
    out["p90_s"] = km.first_at_or_below(0.1, k)
    out["small_sample"] = small_sample(out["n"])
    if keys and not any(is_time_key(frame, key) for key in keys):
        out = out.sort_values("median_s", ascending=False, na_position="first", kind="stable")
    return mark_table(out[[*names, *SETTLE_COLUMNS, "small_sample"]].reset_index(drop=True), function)
