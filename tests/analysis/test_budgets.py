"""error_budget: the budget spent, burn rates over trailing windows, and the SRE workbook's alerts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catena_nb.analysis import ErrorBudget, error_budget
from catena_nb.analysis.budgets import SUMMARY_COLUMNS
from tests.support.timed_ops import frame, spread

QUIET = ("2026-10-01", "2026-10-04")  # three days, one operation every two minutes
OUTAGE = ("2026-10-04T10:00", "2026-10-04T12:00")
AFTER = ("2026-10-04T12:00", "2026-10-04T14:00")


def _outage_on_samsara() -> pd.DataFrame:
    """Three quiet days on two TSPs (0.23% failing), two hours in which half of samsara's sends fail, then two
    quiet hours."""
    return frame(
        spread(*QUIET, ok=2155, failed=5, source="samsara"),
        spread(*QUIET, ok=2155, failed=5, source="motive"),
        spread(*OUTAGE, ok=60, failed=60, source="samsara"),
        spread(*OUTAGE, ok=120, failed=0, source="motive"),
        spread(*AFTER, ok=60, failed=0, source="samsara"),
        spread(*AFTER, ok=60, failed=0, source="motive"),
    )


def test_the_budget_spent_is_failures_over_the_allowed_share() -> None:
    """At 99%, 65 failures of 2,340 spend 65 / 23.4 of the budget; the budget over time ends there."""
    result = error_budget(_outage_on_samsara(), target=0.99, by="source_name")
    assert isinstance(result, ErrorBudget)
    summary = result.summary.set_index("source_name")
    assert list(result.summary.columns) == ["source_name", *SUMMARY_COLUMNS]
    samsara = summary.loc["samsara"]
    assert (samsara["n"], samsara["failures"]) == (2340, 65)
    assert samsara["allowed_failures"] == pytest.approx(23.4)
    assert samsara["budget_consumed"] == pytest.approx(65 / 23.4)
    assert samsara["budget_left"] == pytest.approx(1 - 65 / 23.4)
    over_time = result.budget.loc[result.budget["source_name"] == "samsara"]
    assert over_time["budget_left"].iloc[-1] == pytest.approx(samsara["budget_left"])
    assert over_time["budget_left"].is_monotonic_decreasing
    assert over_time["n"].sum() == 2340
    assert over_time["period"].diff().dropna().eq(pd.Timedelta(hours=1)).all()


@pytest.mark.parametrize(("min_events", "delay", "missed"), [(1, 10, 0), (20, 20, 8)])
def test_an_outage_fires_the_fast_page_from_its_onset_to_its_end(
    min_events: int, delay: int, missed: int
) -> None:
    """Half failing for two hours (50x the 1% budget) pages "1h & 5m > 14.4x" within minutes of the onset
    (after a night without sends, once the last hour holds 20 sends: 20 minutes at 5 a step) and stops
    within minutes of the end; the TSP without the outage fires no page."""
    result = error_budget(_outage_on_samsara(), target=0.99, by="source_name", min_events=min_events)
    pages = result.alerts.loc[(result.alerts["alert"] == "1h & 5m > 14.4x")]
    assert list(pages["source_name"]) == ["samsara"]
    page = pages.iloc[0]
    onset, end = pd.Timestamp(OUTAGE[0], tz="UTC"), pd.Timestamp(OUTAGE[1], tz="UTC")
    assert onset < page["start"] <= onset + pd.Timedelta(minutes=delay)
    assert end <= page["end"] <= end + pd.Timedelta(minutes=10)
    assert not page["ongoing"]
    assert page["peak_burn"] == pytest.approx(50.0, rel=0.1)
    assert page["failures"] == pytest.approx(60 - missed, abs=3)
    assert len(pages) == 1
    slow = result.alerts.loc[(result.alerts["alert"] == "6h & 30m > 6x")]
    assert list(slow["source_name"]) == ["samsara"]
    assert result.summary.set_index("source_name").loc["motive", "pages"] == 0


def test_a_quiet_service_within_its_slo_fires_nothing() -> None:
    """0.23% failing against a 1% budget: no alert of any kind, a 3-day burn rate of 0.23x."""
    ops = frame(spread(*QUIET, ok=2155, failed=5))
    result = error_budget(ops, target=0.99)
    assert len(result.alerts) == 0
    assert result.summary.loc[0, "burn_3d"] == pytest.approx(5 / 2160 / 0.01)
    assert (result.summary.loc[0, "pages"], result.summary.loc[0, "tickets"]) == (0, 0)


def test_burn_rates_read_the_trailing_windows_at_the_end() -> None:
    """In the last hour 6 of 60 failed (10% = 10x a 1% budget); in the last 5 minutes 0 of 5."""
    ops = frame(
        spread("2026-10-01T00:00", "2026-10-01T23:00", ok=1380, failed=0),
        spread("2026-10-01T23:00", "2026-10-01T23:55", ok=49, failed=6),
        spread("2026-10-01T23:55", "2026-10-02T00:00", ok=5, failed=0),
    )
    summary = error_budget(ops, target=0.99).summary.iloc[0]
    assert summary["burn_1h"] == pytest.approx(10.0)
    assert summary["burn_5m"] == 0.0
    assert summary["burn_6h"] == pytest.approx(6 / 360 / 0.01)
    assert summary["burn_3d"] == pytest.approx(6 / 1440 / 0.01)


def test_pending_operations_are_left_out() -> None:
    """Pending operations are neither budget nor failures."""
    with_pending = frame(spread(*QUIET, ok=2155, failed=5, pending=300))
    assert error_budget(with_pending).summary.loc[0, "n"] == 2160


@pytest.mark.parametrize(
    ("target", "error"),
    [(0, ValueError), (1, ValueError), (1.5, ValueError), (-0.1, ValueError), (99, ValueError),
     (True, TypeError), ("0.99", TypeError), (None, TypeError)],
)  # fmt: skip
def test_a_target_outside_zero_to_one_raises(target: object, error: type) -> None:
    """The SLO must be a number strictly between 0 and 1 (99 is not 99%)."""
    with pytest.raises(error, match="target="):
        error_budget(frame(spread(*QUIET, ok=10, failed=0)), target=target)  # type: ignore[arg-type]


@pytest.mark.parametrize(("freq", "error"), [("fortnight", ValueError), (3600, TypeError)])
def test_an_unknown_freq_raises(freq: object, error: type) -> None:
    """freq= must be a pandas frequency."""
    with pytest.raises(error, match="freq="):
        error_budget(frame(spread(*QUIET, ok=10, failed=0)), freq=freq)  # type: ignore[arg-type]


def test_an_empty_frame_gives_empty_frames() -> None:
    """No operations: an ErrorBudget of empty frames with their columns, no window."""
    result = error_budget(frame([]), by="source_name")
    assert len(result.summary) == len(result.alerts) == len(result.budget) == 0
    assert "budget_left" in result.summary.columns
    assert result.window == (None, None)
    assert "alerts=0" in repr(result)


def test_days_as_buckets_and_no_groups() -> None:
    """freq="D": one row a day; without groups one summary row."""
    result = error_budget(_outage_on_samsara(), target=0.995, freq="D")
    assert len(result.summary) == 1
    assert list(result.budget["period"].dt.day) == [1, 2, 3, 4]
    assert result.budget["budget_left"].iloc[-1] == pytest.approx(result.summary["budget_left"].iloc[0])


def test_by_connection_names_each_connections_tsp() -> None:
    """Grouped by connection, the summary names each connection's TSP beside it."""
    ops = frame(
        spread(*QUIET, ok=99, failed=1, source="samsara", connection="c-1"),
        spread(*QUIET, ok=98, failed=2, source="motive", connection="c-2"),
    )
    summary = error_budget(ops, by="connection_id").summary
    assert list(summary.columns[:2]) == ["connection_id", "source_name"]
    assert dict(zip(summary["connection_id"], summary["source_name"], strict=True)) == {
        "c-1": "samsara",
        "c-2": "motive",
    }


_WINDOWS = {"5m": "5min", "30m": "30min", "1h": "1h", "6h": "6h", "3d": "3D"}


def _burn(stamps: np.ndarray, failed: np.ndarray, width: str, t: pd.Timestamp, allowed: float) -> float:
    """The burn rate over ``[t - width, t)`` from sorted times (ns) and the running count of failures."""
    lo = int(np.searchsorted(stamps, (t - pd.Timedelta(width)).as_unit("ns").value, side="left"))
    hi = int(np.searchsorted(stamps, t.as_unit("ns").value, side="left"))
    f = (failed[hi - 1] if hi else 0) - (failed[lo - 1] if lo else 0)
    return np.nan if hi == lo else float(f) / (hi - lo) / allowed


def _runs(marks: pd.DatetimeIndex, firing: list[bool]) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(first mark firing, first mark not firing, or the last mark) of each run of firing marks."""
    runs, start = [], None
    for t, on in zip(marks, firing, strict=True):
        if on and start is None:
            start = t
        elif not on and start is not None:
            runs.append((start, t))
            start = None
    return runs if start is None else [*runs, (start, marks[-1])]


def _episodes(
    runs: list[tuple[pd.Timestamp, pd.Timestamp]], reset: pd.Timedelta
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The runs, a run that starts less than ``reset`` after the previous one ended joined to it."""
    out: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for start, end in runs:
        if out and start - out[-1][1] < reset:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _naive_alerts(
    ops: pd.DataFrame, target: float, min_events: int
) -> set[tuple[str, str, pd.Timestamp, pd.Timestamp]]:
    """The alerts by their definition: at every 5-minute mark t, each window [t - w, t) counted afresh; a
    long window of fewer than ``min_events`` sends keeps the state of the mark before; runs within the long
    window of each other are one episode."""
    settled = ops.loc[ops["status"].isin(["success", "failed"])]
    first, last = settled["created_at"].min().floor("5min"), settled["created_at"].max().floor("5min")
    marks = pd.date_range(first + pd.Timedelta(minutes=5), last + pd.Timedelta(minutes=5), freq="5min")
    found = set()
    for tsp, part in settled.groupby("source_name", observed=True):
        part = part.sort_values("created_at")
        stamps = pd.DatetimeIndex(part["created_at"]).as_unit("ns").asi8
        failed = part["status"].eq("failed").to_numpy().cumsum()
        for long, short, threshold in (("1h", "5m", 14.4), ("6h", "30m", 6.0), ("3d", "6h", 1.0)):
            firing, state = [], False
            for t in marks:
                lo = np.searchsorted(stamps, (t - pd.Timedelta(_WINDOWS[long])).as_unit("ns").value)
                if np.searchsorted(stamps, t.as_unit("ns").value) - lo >= min_events:
                    state = bool(
                        _burn(stamps, failed, _WINDOWS[long], t, 1 - target) > threshold
                        and _burn(stamps, failed, _WINDOWS[short], t, 1 - target) > threshold
                    )
                firing.append(state)
            for start, end in _episodes(_runs(marks, firing), pd.Timedelta(_WINDOWS[long])):
                found.add((str(tsp), f"{long} & {short} > {threshold:g}x", start, end))
    return found


@pytest.mark.parametrize(("seed", "min_events"), [(5, 1), (6, 1), (7, 20), (8, 10)])
def test_alerts_equal_their_definition_on_random_traffic(seed: int, min_events: int) -> None:
    """On a day of random bursts on two TSPs, the alert episodes found are exactly those that counting every
    window at every 5-minute mark gives, with or without the volume guard."""
    rng = np.random.default_rng(seed)
    parts = []
    for tsp in ("samsara", "motive"):
        hours = pd.date_range("2026-10-01", periods=24, freq="h")
        for hour, rate in zip(hours, rng.choice([0.0, 0.01, 0.3, 0.6], size=24, p=[0.5, 0.3, 0.1, 0.1]),
                              strict=True):  # fmt: skip
            n = int(rng.integers(0, 25))
            failed = int(rng.binomial(n, rate))
            parts.append(spread(str(hour), str(hour + pd.Timedelta(hours=1)), ok=n - failed, failed=failed,
                                source=tsp))  # fmt: skip
    ops = frame(*parts)
    alerts = error_budget(ops, target=0.99, by="source_name", min_events=min_events).alerts
    ours = {(r.source_name, r.alert, r.start, r.end) for r in alerts.itertuples()}
    assert ours == _naive_alerts(ops, 0.99, min_events)
    assert len(ours) >= 3


def _flapping() -> pd.DataFrame:
    """A steady 60 sends an hour over a day; for two hours from 10:00, every 20 minutes a burst of 12 sends in
    5 minutes of which 10 fail, then 15 minutes of successes."""
    parts = [spread("2026-10-01", "2026-10-01T10:00", ok=600, failed=0)]
    for start in pd.date_range("2026-10-01T10:00", "2026-10-01T11:40", freq="20min"):
        burst_end, quiet_end = start + pd.Timedelta(minutes=5), start + pd.Timedelta(minutes=20)
        parts.append(spread(str(start), str(burst_end), ok=2, failed=10))
        parts.append(spread(str(burst_end), str(quiet_end), ok=15, failed=0))
    parts.append(spread("2026-10-01T12:00", "2026-10-02", ok=720, failed=0))
    return frame(*parts)


def test_a_flapping_alert_is_one_episode() -> None:
    """The short window fires and stops six times in two hours while the hour holds the failures: one page
    from the first burst to the last, over the sends and failures of all of them."""
    pages = error_budget(_flapping(), target=0.99).alerts
    fast = pages.loc[pages["alert"] == "1h & 5m > 14.4x"]
    assert len(fast) == 1
    page = fast.iloc[0]
    assert page["start"] == pd.Timestamp("2026-10-01T10:05", tz="UTC")
    assert page["end"] == pd.Timestamp("2026-10-01T11:50", tz="UTC")
    assert page["duration"] == pd.Timedelta(minutes=105)
    assert (page["n"], page["failures"]) == (6 * 12 + 5 * 15, 60)
    assert page["peak_burn"] == pytest.approx(30 / 81 / 0.01)


def test_a_quiet_low_volume_group_fires_nothing() -> None:
    """Three sends an hour for a month, 2% failing (43 failures, spread): a single failure burns an hour at
    33x, but an hour holds 3 sends and 6 hours 18, fewer than 20: no page; without the guard, every failure
    pages."""
    ops = frame(spread("2026-10-01", "2026-10-31", ok=2117, failed=43, source="omnitracs"))
    guarded = error_budget(ops, target=0.99, by="source_name")
    assert int(guarded.summary["pages"].iloc[0]) == 0
    unguarded = error_budget(ops, target=0.99, by="source_name", min_events=1)
    assert int(unguarded.summary["pages"].iloc[0]) >= 40


def test_a_three_hour_outage_on_a_low_volume_group_still_pages() -> None:
    """Twelve sends an hour (too few for the hour's page) and three hours with half of them failing: the
    6-hour page fires in the outage's first hour, once, and stops after it."""
    onset, end = pd.Timestamp("2026-10-02T09:00", tz="UTC"), pd.Timestamp("2026-10-02T12:00", tz="UTC")
    ops = frame(
        spread("2026-10-01", "2026-10-02T09:00", ok=396, failed=0),
        spread("2026-10-02T09:00", "2026-10-02T12:00", ok=18, failed=18),
        spread("2026-10-02T12:00", "2026-10-03", ok=144, failed=0),
    )
    alerts = error_budget(ops, target=0.99).alerts
    pages = alerts.loc[alerts["severity"] == "page"]
    assert list(pages["alert"]) == ["6h & 30m > 6x"]
    page = pages.iloc[0]
    assert onset < page["start"] <= onset + pd.Timedelta(hours=1)
    assert end < page["end"] <= end + pd.Timedelta(hours=6)
    assert not page["ongoing"]


@pytest.mark.parametrize(
    ("min_events", "error"),
    [(0, ValueError), (-5, ValueError), (2.5, TypeError), (20.0, TypeError), (True, TypeError),
     ("20", TypeError), (None, TypeError)],
)  # fmt: skip
def test_min_events_must_be_a_whole_number_of_at_least_one(min_events: object, error: type) -> None:
    """min_events= is a count of sends, at least 1."""
    with pytest.raises(error, match="min_events="):
        error_budget(frame(spread(*QUIET, ok=10, failed=0)), min_events=min_events)  # type: ignore[arg-type]
