"""Finding incidents: periods in which a TSP or connection failed clearly more than it usually does."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from catena_nb.analysis import changepoints as cp
from catena_nb.analysis.buckets import bucket_end
from catena_nb.analysis.grouping import By, keys_of, label, names_of
from catena_nb.analysis.intervals import wilson_interval
from catena_nb.analysis.outcomes import UNKNOWN_ERROR, rates_by_period
from catena_nb.analysis.signatures import signatures_of
from catena_nb.frames.checks import mark_table, require, require_by

INCIDENT_COLUMNS = (
    "group", "start", "end", "buckets", "n", "failures", "rate", "ci_low", "ci_high", "baseline",
    "baseline_ci_low", "baseline_ci_high", "excess_failures", "error_type", "error_share", "signature",
    "detected_at", "failure_rate", "baseline_rate", "dominant_error_type", "dominant_share",
)  # fmt: skip

_MAX_ROUNDS = 6
_RESIMULATE = 0.1  # a baseline that moves by more than this share between rounds gets a new threshold
# The smallest rise worth an incident. Checked on sandbox histories of seeds 1-5 and 7-17: at 2.5 every
# seeded incident was found at its scope, every 3-hour degradation to 30% but one (whose three hours
# happened to fail 16%, 2.2 times the usual rate) to the hour, and one quiet history of the 16 reported one
# incident: a two-day rise to 2.9 times a samsara connection's usual rate (seed 3); at 3 that one goes too,
# but so would a day at exactly three times the usual rate.
DEFAULT_MIN_RATIO = 2.5
_RATE_FLOOR = 1e-6  # keeps a fixed baseline of 0 or 1 inside the likelihood's domain


def find_incidents(
    ops_df: pd.DataFrame,
    freq: str = "D",
    by: By = "source_name",
    *,
    baseline: str | float = "group",
    min_ratio: float = DEFAULT_MIN_RATIO,
    min_failures: int = 5,
    false_alarm: float = cp.DEFAULT_FALSE_ALARM,
    simulations: int = cp.DEFAULT_SIMULATIONS,
    time_col: str = "created_at",
) -> pd.DataFrame:
    """Periods in which a group's failure rate rose above its usual rate, found by a Bernoulli CUSUM.

    Per group (a TSP, a connection...), the settled operations are counted per time bucket of ``freq``
    (``"h"``: per hour, ``"D"``: per day) and watched by a Bernoulli CUSUM (Page 1954; Reynolds & Stoumbos
    1999) tuned to a rise of ``min_ratio`` in the odds of failure over the group's baseline, its threshold
    set by simulation under the baseline so that a group's whole window raises a false alarm with chance
    ``false_alarm``; each alarm's period is then the run of buckets whose own failure rate best explains
    the counts (a likelihood ratio against the baseline), so an incident starts and ends at the resolution
    of ``freq``. :mod:`catena_nb.analysis.changepoints` gives the method, its references and why it was
    chosen over a Bayesian online detector (Adams & MacKay 2007) or binomial-cost PELT (Killick et al. 2012).

    The counts are binomial, so a bucket weighs in by its ``n``: a night hour with two or three sends cannot
    make an incident by itself, while a busy hour at a high rate can. Two overlapping Wilson intervals can
    still differ significantly (Schenker & Gentleman 2001); the CUSUM adds up the evidence of successive
    buckets instead of judging each alone.

    The **baseline** (``baseline="group"``) is the group's own failure rate over the window outside its
    incidents, recomputed until the incidents no longer change (so that an incident does not raise the bar
    it is measured against); ``baseline="overall"`` pools all groups (outside their incidents), and a
    number is used as a fixed rate. A period with fewer than ``min_failures`` failures, or whose failure
    rate is below ``min_ratio`` times the baseline, is not reported: it may be a real change, but not one
    worth an incident.

    Args:
        ops_df: an operations frame.
        freq: the bucket size (``"h"``, ``"D"``, ``"4h"``...): the resolution of the starts and ends.
        by: the grouping: ``"source_name"`` (a TSP), ``"connection_id"``, a list of columns, or ``None``.
        baseline: ``"group"``, ``"overall"`` or a fixed failure rate in [0, 1].
        min_ratio: the smallest rise worth an incident: the CUSUM is tuned to find a rise of this odds
            ratio (about the rate ratio at small rates) fastest, and a period whose rate is below this
            many times the baseline is not reported. Above 1.
        min_failures: the fewest failures a reported incident has.
        false_alarm: the chance that a group's whole window, without any incident, raises one anyway.
        simulations: the series simulated to set each threshold (at least 100).
        time_col: the timestamp that places an operation in a bucket.

    Returns:
        One row per incident, by start time: ``group`` (the group's values, joined by " / " for several
        columns), the ``by`` columns themselves (e.g. ``source_name`` and ``connection_id``), ``start`` and
        ``end`` (UTC, end exclusive), ``buckets``, ``n`` (settled operations in the period), ``failures``,
        ``rate`` with its Wilson 95% ``ci_low``/``ci_high``, ``baseline`` with ``baseline_ci_low``/
        ``baseline_ci_high``, ``excess_failures`` (failures above what the baseline rate expects over the
        period's ``n``), ``error_type`` (the most common error_type of the period's failures) and
        ``error_share`` (its share of them), ``signature`` (the most common error signature,
        :func:`catena_nb.analysis.signatures.signature_of` of ``error_details``; NA without that column),
        ``detected_at`` (the end of the bucket in which the CUSUM raised its alarm). ``failure_rate``,
        ``baseline_rate``, ``dominant_error_type`` and ``dominant_share`` repeat ``rate``, ``baseline``,
        ``error_type`` and ``error_share`` under the names the audit notebook reads.

    Raises:
        TypeError: ``ops_df`` is not an operations frame.
        ValueError: for an unknown ``baseline`` or a fixed baseline outside [0, 1], ``min_ratio`` not above
            1, ``false_alarm`` outside (0, 1), too few ``simulations``, a column missing (``status``,
            ``error_type``, ``time_col``), naive or missing times, or a ``by`` naming no column.

    Example:
        >>> find_incidents(ops_df, freq="h", by=["source_name", "connection_id"])  # doctest: +SKIP
    """
    options = _Options(baseline, min_ratio, min_failures, false_alarm, simulations)
    return mark_table(_find(ops_df, freq, by, options, time_col, "find_incidents"), "find_incidents")


@dataclass(frozen=True)
class _Options:
    baseline: str | float
    min_ratio: float
    min_failures: int
    false_alarm: float
    simulations: int

    def check(self) -> None:
        baseline = self.baseline
        if isinstance(baseline, str) and baseline not in ("group", "overall"):
            raise ValueError(f"baseline must be 'group', 'overall' or a rate, not {baseline!r}")
        if not isinstance(baseline, str) and not 0.0 <= float(baseline) <= 1.0:
            raise ValueError(f"a fixed baseline must be a rate in [0, 1], not {baseline!r}")
        if not float(self.min_ratio) > 1.0:
            raise ValueError(f"min_ratio must be above 1 (the rise to detect), not {self.min_ratio!r}")
        if not 0.0 < float(self.false_alarm) < 1.0:
            raise ValueError(f"false_alarm must be a probability in (0, 1), not {self.false_alarm!r}")
        if int(self.simulations) < 100:
            raise ValueError(f"simulations must be at least 100, not {self.simulations!r}")
        if int(self.min_failures) < 0:
            raise ValueError(f"min_failures must be 0 or more, not {self.min_failures!r}")


def _find(
    ops_df: pd.DataFrame, freq: str, by: By, options: _Options, time_col: str, function: str
) -> pd.DataFrame:
    columns = ["status", "error_type"]
    require(ops_df, "operations", function, "ops_df", columns=columns, times=[time_col])
    require_by(ops_df, by, function)
    options.check()
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
    order = np.lexsort((table["period"].to_numpy(), group_ids))
    table = table.iloc[order].reset_index(drop=True)
    group_ids = group_ids[order]
    series = _series(group_ids, table)
    found = _detect_all(
        series,
        table["settled"].to_numpy(dtype=np.float64),
        table["failures"].to_numpy(dtype=np.float64),
        options,
    )
    rows = []
    for positions, (segments, base_x, base_n) in zip(series.values(), found, strict=True):
        part = table.iloc[positions]
        for seg in segments:
            rows.append(_incident_row(ops_df, part, seg, names, freq, time_col, (base_x, base_n), options))
    if not rows:
        return _empty(names)
    out = pd.DataFrame(rows)
    return out.sort_values(["start", "group"], kind="stable").reset_index(drop=True)


def _series(group_ids: np.ndarray[Any, Any], table: pd.DataFrame) -> dict[int, np.ndarray[Any, Any]]:
    """Each group's row positions in the table, in time order."""
    bounds = np.flatnonzero(np.diff(group_ids)) + 1
    parts = np.split(np.arange(len(group_ids)), bounds)
    return {int(group_ids[p[0]]): p for p in parts if len(p)}


_Found = tuple[list[cp.Segment], float, float]
FloatArray = cp.FloatArray


def _detect_all(
    series: dict[int, np.ndarray[Any, Any]], settled: FloatArray, failures: FloatArray, options: _Options
) -> list[_Found]:
    """Each group's incidents and its baseline counts (failures, settled) outside them.

    Rounds: detect with the baselines of the buckets outside the last round's incidents, until the
    incidents no longer change (the first round's baseline still holds the incidents).
    """
    groups = list(series.values())
    segments: list[list[cp.Segment]] = [[] for _ in groups]
    thresholds: dict[int, tuple[float, float]] = {}  # per group: the rate it was simulated at, and h
    base: list[tuple[float, float]] = []
    for _ in range(_MAX_ROUNDS):
        base = [_outside(settled[p], failures[p], segs) for p, segs in zip(groups, segments, strict=True)]
        rates = _baseline_rates(base, options.baseline)
        new: list[list[cp.Segment]] = []
        # The threshold of a likelihood-ratio CUSUM hardly depends on the rate (its false alarms fall as
        # exp(-h) whatever p0 is), so a baseline that moved by less than a tenth keeps it.
        stale = [
            i
            for i, p0 in enumerate(rates)
            if i not in thresholds or abs(p0 / thresholds[i][0] - 1.0) > _RESIMULATE
        ]
        thresholds.update(_simulate(stale, groups, settled, rates, options))
        for i, (positions, p0) in enumerate(zip(groups, rates, strict=True)):
            n, x = settled[positions], failures[positions]
            p1 = cp.raised_rate(p0, float(options.min_ratio))
            found = cp.detect(n, x, p0, p1, thresholds[i][1])
            fixed = None if options.baseline == "group" else p0
            new.append([s for s in found if _worth(n, x, s, segments[i], fixed, options)])
        if new == segments:
            break
        segments = new
    if options.baseline == "overall":
        pooled = (sum(b[0] for b in base), sum(b[1] for b in base))
        base = [pooled] * len(base)
    return [(segs, bx, bn) for segs, (bx, bn) in zip(segments, base, strict=True)]


def _simulate(
    which: list[int],
    groups: list[np.ndarray[Any, Any]],
    settled: FloatArray,
    rates: list[float],
    options: _Options,
) -> dict[int, tuple[float, float]]:
    """The rate and CUSUM threshold of each group in ``which``, side by side: numpy draws and sums its
    simulations without the interpreter lock, and each one is seeded on its own (the same thresholds as one
    after the other)."""

    def one(i: int) -> tuple[int, tuple[float, float]]:
        p0 = rates[i]
        p1 = cp.raised_rate(p0, float(options.min_ratio))
        n = settled[groups[i]]
        h = cp.threshold(
            n, p0, p1, false_alarm=float(options.false_alarm), simulations=int(options.simulations)
        )
        return i, (p0, h)

    workers = min(len(which), os.cpu_count() or 1)
    if workers <= 1:
        return dict(map(one, which))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="catena-incidents") as pool:
        return dict(pool.map(one, which))


def _worth(
    n: FloatArray,
    x: FloatArray,
    seg: cp.Segment,
    known: list[cp.Segment],
    fixed: float | None,
    options: _Options,
) -> bool:
    """Whether a period is an incident worth reporting: enough failures, at ``min_ratio`` times the rate
    of the rest of the series (outside it and the incidents already known), or of the overall or fixed
    baseline."""
    failures, settled = x[seg.start : seg.stop].sum(), n[seg.start : seg.stop].sum()
    if fixed is None:
        # the rest of the series, not the round's baseline: in the first round that still holds the
        # period itself, and a loud incident would raise the bar it has to clear
        rest_x, rest_n = _outside(n, x, [*known, seg])
        fixed = (rest_x + 0.5) / (rest_n + 1.0)
    return bool(failures >= options.min_failures and failures >= options.min_ratio * fixed * settled)


def _outside(n: FloatArray, x: FloatArray, segments: list[cp.Segment]) -> tuple[float, float]:
    """Failures and settled operations outside the segments."""
    calm = np.ones(len(n), dtype=bool)
    for seg in segments:
        calm[seg.start : seg.stop] = False
    return float(x[calm].sum()), float(n[calm].sum())


def _baseline_rates(base: list[tuple[float, float]], baseline: str | float) -> list[float]:
    """The rate each group is judged against, kept off 0 and 1 (where no rise or every rise is certain)."""
    if not isinstance(baseline, str):
        rate = min(max(float(baseline), _RATE_FLOOR), 1.0 - _RATE_FLOOR)
        return [rate] * len(base)
    if baseline == "overall":
        x, n = sum(b[0] for b in base), sum(b[1] for b in base)
        return [(x + 0.5) / (n + 1.0)] * len(base)
    # half a failure in one more operation: a group without any failure still has a rate to rise from
    return [(x + 0.5) / (n + 1.0) for x, n in base]


def _incident_row(
    ops_df: pd.DataFrame,
    part: pd.DataFrame,
    seg: cp.Segment,
    names: list[str],
    freq: str,
    time_col: str,
    base: tuple[float, float],
    options: _Options,
) -> dict[str, Any]:
    run = part.iloc[seg.start : seg.stop]
    first = run.iloc[0]
    start = first["period"]
    end = bucket_end(run.iloc[-1]["period"], freq)
    values = [first[n] for n in names]
    failures = int(run["failures"].sum())
    settled = int(run["settled"].sum())
    low, high = wilson_interval(failures, settled)
    if isinstance(options.baseline, str):
        base_x, base_n = base
        base_rate = base_x / base_n if base_n else np.nan
        bounds = wilson_interval(base_x, base_n)
        base_low, base_high = float(bounds[0]), float(bounds[1])
    else:
        base_rate = base_low = base_high = float(options.baseline)
    in_period = (ops_df[time_col] >= start) & (ops_df[time_col] < end) & (ops_df["status"] == "failed")
    for name, value in zip(names, values, strict=True):
        in_period &= ops_df[name].isna() if pd.isna(value) else (ops_df[name] == value)
    mask = in_period.fillna(False).to_numpy(dtype=bool)
    errors = ops_df.loc[mask, "error_type"].astype("string")
    counts = errors.fillna(UNKNOWN_ERROR).value_counts(sort=True)
    dominant = str(counts.index[0]) if len(counts) else None
    share = float(counts.iloc[0] / counts.sum()) if len(counts) else np.nan
    rate = failures / settled if settled else np.nan
    row: dict[str, Any] = {"group": label(values) if names else "all"}
    row.update(zip(names, values, strict=True))
    row.update(
        start=start,
        end=end,
        buckets=len(run),
        n=settled,
        failures=failures,
        rate=rate,
        ci_low=float(low),
        ci_high=float(high),
        baseline=base_rate,
        baseline_ci_low=float(base_low),
        baseline_ci_high=float(base_high),
        excess_failures=failures - settled * base_rate,
        error_type=dominant,
        error_share=share,
        signature=_main_signature(ops_df, mask),
        detected_at=bucket_end(part.iloc[seg.alarm]["period"], freq),
        failure_rate=rate,
        baseline_rate=base_rate,
        dominant_error_type=dominant,
        dominant_share=share,
    )
    return row


def _main_signature(ops_df: pd.DataFrame, mask: np.ndarray[Any, Any]) -> str | None:
    """The most common error signature of the masked operations (each distinct text templated once)."""
    if "error_details" not in ops_df.columns:
        return None
    texts = ops_df.loc[mask, "error_details"].dropna().astype(str).value_counts()
    if not len(texts):
        return None
    by_signature = texts.groupby(signatures_of(texts.index)).sum()
    return str(by_signature.sort_values(ascending=False, kind="stable").index[0])


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
    unknown = set(options) - {
        "baseline",
        "min_ratio",
        "min_failures",
        "false_alarm",
        "simulations",
        "time_col",
    }
    if unknown:
        raise TypeError(
            f"locate_incidents: unknown option(s) {', '.join(sorted(unknown))}; it passes baseline, "
            "min_ratio, min_failures, false_alarm, simulations and time_col to find_incidents"
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
