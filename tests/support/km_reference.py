"""The cross-check of time_to_settle against scipy.stats.ecdf on CensoredData: random groups with ties and
heavy censoring, all computed in one call. Shared by ``tests/analysis/test_settle.py`` (which asserts the
differences) and ``scripts/settle_signatures_checks.py`` (which prints them).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

import catena_nb as cn
from catena_nb.analysis.settle import settle_curves
from catena_nb.frames.checks import mark

T0 = pd.Timestamp("2026-11-01T00:00:00Z")


def ops_frame(
    created_s: list[float], duration_s: list[float], status: list[str], group: list[str]
) -> pd.DataFrame:
    """A minimal operations frame: created ``created_s`` after T0, settled (or not) ``duration_s`` later."""
    created = T0 + pd.to_timedelta(np.asarray(created_s, dtype=float), unit="s")
    frame = pd.DataFrame(
        {
            "operation_id": [f"op-{i}" for i in range(len(status))],
            "attempts": 1,
            "created_at": created,
            "updated_at": created + pd.to_timedelta(np.asarray(duration_s, dtype=float), unit="s"),
            "status": pd.Categorical(status),
            "duration_s": np.asarray(duration_s, dtype=float),
            "source_name": group,
        }
    )
    return mark(frame, "operations")


def random_cases(rng: np.random.Generator, cases: int) -> tuple[pd.DataFrame, pd.Timestamp]:
    """``cases`` groups of 1-80 operations, durations in whole seconds (many ties), each group with its own
    share of pending ones (10% to 90%), all looked at the same ``until``."""
    sizes = rng.integers(1, 80, cases)
    n = int(sizes.sum())
    case = np.repeat(np.arange(cases), sizes)
    created = rng.integers(0, 30, n).astype(float)
    duration = rng.integers(0, 12, n).astype(float)
    pending = rng.random(n) < rng.uniform(0.1, 0.9, cases)[case]
    status = np.where(pending, "pending", np.where(rng.random(n) < 0.9, "success", "failed"))
    groups = [f"case{c:03d}" for c in case]
    return ops_frame(list(created), list(duration), list(status), groups), T0 + pd.Timedelta(seconds=36)


def _scipy_reference(
    rows: dict[str, np.ndarray], cut: float
) -> tuple[stats._survival.ECDFResult, np.ndarray, np.ndarray] | None:
    start, end, settled = rows["start"], rows["end"], rows["settled"]
    done = settled & (end <= cut)
    times = np.where(done, end, cut) - start
    if not done.any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy warns where the band is undefined (S = 0)
        result = stats.ecdf(stats.CensoredData(uncensored=times[done], right=times[~done]))
        band = result.sf.confidence_interval(method="log-log")
    at = result.sf.quantiles
    return result, band.low.evaluate(at), band.high.evaluate(at)


def _first_at_or_below(times: np.ndarray, values: np.ndarray, level: float) -> float:
    hit = np.flatnonzero(values <= level + 1e-12)
    return float(times[hit[0]]) if len(hit) else np.nan


def _close(a: float, b: float) -> float:
    """|a - b|, 0 when both are NaN, inf when only one is."""
    if np.isnan(a) and np.isnan(b):
        return 0.0
    return abs(a - b) if not (np.isnan(a) or np.isnan(b)) else np.inf


@dataclass(frozen=True)
class CrossCheck:
    groups: int  # groups compared (those with at least one event)
    steps: int  # survival values compared
    survival: float  # the largest absolute differences
    band: float
    quantiles: float


def crosscheck(seed: int, cases: int) -> CrossCheck:
    """The largest absolute differences between time_to_settle (and its curves) and scipy."""
    ops, until = random_cases(np.random.default_rng(seed), cases)
    table = cn.time_to_settle(ops, by="source_name", until=until).set_index("source_name")
    curves = settle_curves(ops, by="source_name", until=until)
    worst = {"survival": 0.0, "band": 0.0, "quantiles": 0.0}
    start = (ops["created_at"] - T0).dt.total_seconds().to_numpy()
    columns = {
        "start": start,
        "end": start + ops["duration_s"].to_numpy(),
        "settled": ops["status"].isin(["success", "failed"]).to_numpy(dtype=bool),
    }
    group_of = ops["source_name"].to_numpy()
    order = np.argsort(group_of, kind="stable")
    names, first = np.unique(group_of[order], return_index=True)
    bounds = dict(zip(names, zip(first, [*first[1:], len(order)], strict=True), strict=True))
    cut = (until - T0).total_seconds()
    compared = steps = 0
    for group in table.index:
        lo, hi = bounds[group]
        reference = _scipy_reference({k: v[order[lo:hi]] for k, v in columns.items()}, cut)
        row = table.loc[group]
        if reference is None:
            assert row["events"] == 0
            assert np.isnan(row["median_s"])
            continue
        result, low, high = reference
        curve = curves.loc[curves["source_name"] == group]
        assert np.array_equal(curve["time_s"].to_numpy(), result.sf.quantiles)
        for name, ours, theirs in [
            ("survival", curve["survival"].to_numpy(), result.sf.probabilities),
            ("band", curve["ci_low"].to_numpy(), low),
            ("band", curve["ci_high"].to_numpy(), high),
        ]:
            assert np.array_equal(np.isnan(ours), np.isnan(theirs))
            worst[name] = max(worst[name], float(np.nanmax(np.abs(ours - theirs), initial=0.0)))
        t = result.sf.quantiles
        for column, values, level in [
            ("median_s", result.sf.probabilities, 0.5),
            ("median_ci_low", low, 0.5),
            ("median_ci_high", high, 0.5),
            ("p90_s", result.sf.probabilities, 0.1),
        ]:
            worst["quantiles"] = max(
                worst["quantiles"], _close(row[column], _first_at_or_below(t, values, level))
            )
        compared += 1
        steps += len(t)
    return CrossCheck(compared, steps, worst["survival"], worst["band"], worst["quantiles"])
