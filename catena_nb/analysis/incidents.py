"""Finding incidents: periods in which a TSP or connection failed clearly more than it usually does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catena_nb.analysis.buckets import bucket_end
from catena_nb.analysis.grouping import By, keys_of, label, names_of
from catena_nb.analysis.intervals import safe_ratio, wilson_interval
from catena_nb.analysis.outcomes import UNKNOWN_ERROR, rates_by_period
from catena_nb.frames.checks import mark_table, require, require_by

INCIDENT_COLUMNS = (
    "group", "start", "end", "buckets", "n", "failures", "failure_rate", "ci_low", "ci_high", "baseline_rate",
    "baseline_ci_high", "dominant_error_type", "dominant_share",
)  # fmt: skip

_MAX_ROUNDS = 20


def find_incidents(
    ops_df: pd.DataFrame,
    freq: str = "D",
    by: By = "source_name",
    *,
    baseline: str | float = "group",
    min_ratio: float = 2.0,
    min_failures: int = 5,
    time_col: str = "created_at",
) -> pd.DataFrame:
    """Periods in which a group's failure rate was clearly above its usual rate.

    The rule, per group (e.g. per TSP) and time bucket (e.g. per day), over settled operations:

    - a bucket is **flagged** when the Wilson 95% *lower* bound of its failure rate exceeds both the
      baseline's Wilson 95% *upper* bound and ``min_ratio`` times the baseline rate, and it has at least
      ``min_failures`` failures;
    - the **baseline** (``baseline="group"``) is the group's own failure rate over the rest of the window:
      every other bucket of the group *except the flagged ones*, recomputed until the flagged set no longer
      changes, so that an incident does not raise the bar it is measured against. ``baseline="overall"``
      pools the other buckets of all groups instead, and a number is used as a fixed rate;
    - adjacent flagged buckets of the same group merge into one incident.

    The ratio condition is what keeps ordinary day-to-day wobble out: with hundreds of operations a day, a
    day at 1.3 times the usual rate is "significant" yet no incident. ``min_ratio=1`` gives the bare
    interval rule.

    Args:
        ops_df: an operations frame.
        freq: the bucket size (``"D"``, ``"h"``, ``"4h"``...).
        by: the grouping: ``"source_name"`` (a TSP), ``"connection_id"``, a list of columns, or ``None``.
        baseline: ``"group"``, ``"overall"`` or a fixed failure rate in [0, 1].
        min_ratio: how many times the baseline rate the bucket's lower bound must exceed.
        min_failures: the fewest failures a flagged bucket may have.
        time_col: the timestamp that places an operation in a bucket.

    Returns:
        One row per incident, by start time: ``group`` (the group's values, joined by " / " for several
        columns), the ``by`` columns themselves, ``start`` and ``end`` (UTC, end exclusive), ``buckets``,
        ``n`` (settled operations in the period), ``failures``, ``failure_rate`` with ``ci_low``/``ci_high``,
        ``baseline_rate``, ``baseline_ci_high``, ``dominant_error_type`` (the most common error_type among the
        period's failures) and ``dominant_share`` (its share of them).

    Raises:
        TypeError: ``ops_df`` is not an operations frame.
        ValueError: for an unknown ``baseline`` or a fixed baseline outside [0, 1], a column missing
            (``status``, ``error_type``, ``time_col``), naive or missing times, or a ``by`` naming no column.

    Example:
        >>> find_incidents(ops_df, freq="D", by="source_name")  # doctest: +SKIP
    """
    return mark_table(
        _find(ops_df, freq, by, baseline, min_ratio, min_failures, time_col, "find_incidents"),
        "find_incidents",
    )


def _find(
    ops_df: pd.DataFrame,
    freq: str,
    by: By,
    baseline: str | float,
    min_ratio: float,
    min_failures: int,
    time_col: str,
    function: str,
) -> pd.DataFrame:
    columns = ["status", "error_type"]
    require(ops_df, "operations", function, "ops_df", columns=columns, times=[time_col])
    require_by(ops_df, by, function)
    if isinstance(baseline, str) and baseline not in ("group", "overall"):
        raise ValueError(f"baseline must be 'group', 'overall' or a rate, not {baseline!r}")
    if not isinstance(baseline, str) and not 0.0 <= float(baseline) <= 1.0:
        raise ValueError(f"a fixed baseline must be a rate in [0, 1], not {baseline!r}")
    keys = keys_of(by)
    names = names_of(keys)
    table = rates_by_period(ops_df, freq, keys, time_col)
    if not len(table) or "period" not in table.columns:
        return _empty(names)
    group_ids = (
        table.groupby(names, dropna=False, sort=False, observed=True).ngroup().to_numpy()
        if names
        else np.zeros(len(table), int)
    )
    failures = table["failures"].to_numpy(dtype=np.float64)
    settled = table["settled"].to_numpy(dtype=np.float64)
    low = table["failure_ci_low"].to_numpy(dtype=np.float64)
    flagged, base_rate, base_high = _flag(
        group_ids, failures, settled, low, baseline, min_ratio, min_failures
    )
    table = table.assign(_flagged=flagged, _group=group_ids, _base_rate=base_rate, _base_high=base_high)
    return _incidents(ops_df, table, names, freq, time_col)


def _flag(
    groups: np.ndarray[Any, Any],
    failures: np.ndarray[Any, Any],
    settled: np.ndarray[Any, Any],
    low: np.ndarray[Any, Any],
    baseline: str | float,
    min_ratio: float,
    min_failures: int,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The flagged buckets and the baseline (rate, upper bound) each bucket was judged against."""
    flagged = np.zeros(len(groups), dtype=bool)
    rate = np.full(len(groups), np.nan)
    high = np.full(len(groups), np.nan)
    valid = ~np.isnan(low)
    for _ in range(_MAX_ROUNDS):
        if isinstance(baseline, str):
            # every calm bucket of the group (or of all groups) except the one being judged
            calm = ~flagged
            f_calm, n_calm = np.where(calm, failures, 0.0), np.where(calm, settled, 0.0)
            if baseline == "group":
                f_tot = np.bincount(groups, weights=f_calm)[groups]
                n_tot = np.bincount(groups, weights=n_calm)[groups]
            else:  # "overall"
                f_tot, n_tot = np.full(len(groups), f_calm.sum()), np.full(len(groups), n_calm.sum())
            f_base, n_base = f_tot - f_calm, n_tot - n_calm
            rate = safe_ratio(f_base, n_base)
            high = wilson_interval(np.clip(f_base, 0, None), np.clip(n_base, 0, None))[1]
        else:
            rate = high = np.full(len(groups), float(baseline))
        with np.errstate(invalid="ignore"):
            new = valid & (low > high) & (low > min_ratio * rate) & (failures >= min_failures)
        if np.array_equal(new, flagged):
            break
        flagged = new
    return flagged, rate, high


def _incidents(
    ops_df: pd.DataFrame, table: pd.DataFrame, names: list[str], freq: str, time_col: str
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for _, part in table.groupby("_group", sort=False):
        part = part.sort_values("period")
        flags = part["_flagged"].to_numpy(dtype=bool)
        if not flags.any():
            continue
        # runs of consecutive flagged buckets (the table has every bucket, so neighbours are adjacent rows)
        edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
        for begin, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            run = part.iloc[begin:stop]
            rows.append(_incident_row(ops_df, run, names, freq, time_col))
    if not rows:
        return _empty(names)
    out = pd.DataFrame(rows)
    return out.sort_values(["start", "group"], kind="stable").reset_index(drop=True)


def _incident_row(
    ops_df: pd.DataFrame, run: pd.DataFrame, names: list[str], freq: str, time_col: str
) -> dict[str, Any]:
    first = run.iloc[0]
    start = first["period"]
    end = bucket_end(run.iloc[-1]["period"], freq)
    values = [first[n] for n in names]
    failures = int(run["failures"].sum())
    settled = int(run["settled"].sum())
    low, high = wilson_interval(failures, settled)
    in_period = (ops_df[time_col] >= start) & (ops_df[time_col] < end) & (ops_df["status"] == "failed")
    for name, value in zip(names, values, strict=True):
        in_period &= ops_df[name].isna() if pd.isna(value) else (ops_df[name] == value)
    errors = ops_df.loc[in_period.fillna(False).to_numpy(dtype=bool), "error_type"].astype("string")
    counts = errors.fillna(UNKNOWN_ERROR).value_counts(sort=True)
    dominant = str(counts.index[0]) if len(counts) else None
    row: dict[str, Any] = {"group": label(values) if names else "all"}
    row.update(zip(names, values, strict=True))
    row.update(
        start=start,
        end=end,
        buckets=len(run),
        n=settled,
        failures=failures,
        failure_rate=failures / settled if settled else np.nan,
        ci_low=float(low),
        ci_high=float(high),
        baseline_rate=float(first["_base_rate"]),
        baseline_ci_high=float(first["_base_high"]),
        dominant_error_type=dominant,
        dominant_share=float(counts.iloc[0] / counts.sum()) if len(counts) else np.nan,
    )
    return row


def _empty(names: list[str]) -> pd.DataFrame:
    cols = ["group", *names, *INCIDENT_COLUMNS[1:]]
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    frame["start"] = pd.Series(dtype="datetime64[us, UTC]")
    frame["end"] = pd.Series(dtype="datetime64[us, UTC]")
    return frame


def locate_incidents(
    ops_df: pd.DataFrame,
    freq: str = "D",
    *,
    tsp: str = "source_name",
    connection: str = "connection_id",
    **options: Any,
) -> pd.DataFrame:
    """Incidents placed where they happened: at a whole TSP, or at some of its connections.

    :func:`find_incidents` runs twice, per TSP and per connection. A TSP incident during which every
    connection of that TSP (with traffic in the window) was flagged too is reported once, as the TSP's
    (``scope="tsp"``); one during which only some were flagged is reported as those connections' incidents
    (``scope="connection"``), since the TSP's rate only rose through them; a TSP incident that no single
    connection shows (spread thin over many) stays the TSP's. Connection incidents outside any TSP incident
    are kept as they are.

    Args:
        ops_df: an operations frame.
        freq: the bucket size, as for :func:`find_incidents`.
        tsp, connection: the columns naming the TSP and the connection (a label column works too).
        **options: passed to :func:`find_incidents` (``baseline``, ``min_ratio``, ``min_failures``...).

    Returns:
        One row per incident by start time: ``scope``, ``source_name``, ``connection`` (None for a TSP-wide
        one), ``connections`` (how many were affected), then the columns of :func:`find_incidents` from
        ``start`` on.

    Raises:
        TypeError: ``ops_df`` is not an operations frame, or an option :func:`find_incidents` does not take.
        ValueError: as :func:`find_incidents`, ``tsp`` and ``connection`` naming columns of ``ops_df``.
    """
    time_col = options.get("time_col", "created_at")
    require(
        ops_df, "operations", "locate_incidents", "ops_df", columns=["status", "error_type"], times=[time_col]
    )
    require_by(ops_df, [tsp, connection], "locate_incidents")
    unknown = set(options) - {"baseline", "min_ratio", "min_failures", "time_col"}
    if unknown:
        raise TypeError(
            f"locate_incidents: unknown option(s) {', '.join(sorted(unknown))}; it passes baseline, "
            "min_ratio, min_failures and time_col to find_incidents"
        )
    at_tsp = find_incidents(ops_df, freq, by=tsp, **options)
    at_conn = find_incidents(ops_df, freq, by=[tsp, connection], **options)
    fleet = ops_df.groupby(tsp, observed=True)[connection].nunique()
    measures = list(INCIDENT_COLUMNS[1:])
    rows: list[dict[str, Any]] = []
    used: set[int] = set()
    for _, t in at_tsp.iterrows():
        name = t[tsp]
        overlap = at_conn[
            (at_conn[tsp] == name) & (at_conn["start"] < t["end"]) & (at_conn["end"] > t["start"])
        ]
        used.update(overlap.index)
        flagged = overlap[connection].nunique()
        if len(overlap) and flagged < int(fleet.get(name, 0)):
            rows += [_located("connection", r, tsp, connection, 1, measures) for _, r in overlap.iterrows()]
        else:
            rows.append(_located("tsp", t, tsp, None, int(fleet.get(name, 0)), measures))
    rows += [
        _located("connection", r, tsp, connection, 1, measures)
        for i, r in at_conn.iterrows()
        if i not in used
    ]
    columns = ["scope", "source_name", "connection", "connections", *measures]
    if not rows:
        empty = _empty([])
        located = pd.DataFrame(
            {c: empty[c] if c in empty.columns else pd.Series(dtype=object) for c in columns}
        )
        return mark_table(located, "locate_incidents")
    out = pd.DataFrame(rows, columns=columns)
    return mark_table(
        out.sort_values(["start", "source_name"], kind="stable").reset_index(drop=True), "locate_incidents"
    )


def _located(
    scope: str, row: pd.Series, tsp: str, connection: str | None, affected: int, measures: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "scope": scope,
        "source_name": row[tsp],
        "connection": row[connection] if connection is not None else None,
        "connections": affected,
    }
    out.update({m: row[m] for m in measures})
    return out
