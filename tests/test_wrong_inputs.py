"""Every public function that takes a frame refuses every wrong input with a clear error, before any work.

The cases are in ``tests/support/wrong_inputs.py``; ``scripts/wrong_inputs.py`` prints their table.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.axes import Axes

import catena_nb as cn
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.world import build_world
from tests.support.wrong_inputs import Case, Outcome, cases, frames

CASES = cases()
# the public names that take a frame, each of which the cases must cover
TAKES_A_FRAME = {
    "outcome_rates", "rates_over_time", "error_breakdown", "retry_effect", "attempts_distribution",
    "latency_summary", "delivery_funnel", "find_incidents", "locate_incidents", "format_table",
    "plot_attempts", "plot_delivery_funnel", "plot_error_types", "plot_failure_rate_over_time",
    "plot_latency", "plot_outcomes", "ReliabilityDashboard", "operations_frame", "logs_frame",
    "messages_frame", "compare_periods", "funnel_table", "plot_funnel", "error_budget", "plot_error_budget",
    "time_to_settle", "time_to_deliver", "error_signatures",
}  # fmt: skip


def test_every_public_function_that_takes_a_frame_has_cases() -> None:
    """The cases cover each public analysis, chart and widget function (and the frames' makers)."""
    assert {case.function for case in CASES} == TAKES_A_FRAME
    assert set(cn.__all__) >= TAKES_A_FRAME
    assert len(CASES) > 250


@pytest.mark.parametrize("case", CASES, ids=[f"{c.function}-{c.wrong}" for c in CASES])
def test_a_wrong_input_raises_an_error_naming_the_frame_expected(case: Case) -> None:
    """A TypeError or ValueError (ResponseValidationError from the makers) whose message names the frame
    expected and how to make it; never a bare KeyError or AttributeError, never a silent answer."""
    outcome = Outcome(case, case.run())
    assert outcome.error is not None, "accepted silently"
    assert not isinstance(outcome.error, KeyError | AttributeError), repr(outcome.error)
    assert outcome.clear, repr(outcome.error)


def _every_call(ops: pd.DataFrame, logs: pd.DataFrame, messages: pd.DataFrame) -> dict[str, Any]:
    by = "source_name"
    return {
        "outcome_rates": cn.outcome_rates(ops, by=by),
        "rates_over_time": cn.rates_over_time(ops, "D", by=by),
        "error_breakdown": cn.error_breakdown(ops, logs, by=by),
        "retry_effect": cn.retry_effect(ops, logs, by=by),
        "attempts_distribution": cn.attempts_distribution(ops, by=by),
        "latency_summary": cn.latency_summary(ops, by=by),
        "time_to_settle": cn.time_to_settle(ops, by=by),
        "time_to_deliver": cn.time_to_deliver(messages, by=by, event="read"),
        "error_signatures": cn.error_signatures(logs, by=by),
        "delivery_funnel": cn.delivery_funnel(ops, messages),
        "find_incidents": cn.find_incidents(ops),
        "locate_incidents": cn.locate_incidents(ops),
        "format_table": cn.format_table(cn.outcome_rates(ops, by=by)),
        "plot_attempts": cn.plot_attempts(ops, logs),
        "plot_delivery_funnel": cn.plot_delivery_funnel(ops, messages),
        "plot_error_types": cn.plot_error_types(ops, logs),
        "plot_failure_rate_over_time": cn.plot_failure_rate_over_time(ops),
        "plot_latency": cn.plot_latency(ops, by=by),
        "plot_outcomes": cn.plot_outcomes(ops),
        "plot_outcomes of its table": cn.plot_outcomes(cn.outcome_rates(ops, by=by)),
        "plot_error_types of its table": cn.plot_error_types(cn.error_breakdown(ops)),
        "plot_failure_rate_over_time of its table": cn.plot_failure_rate_over_time(cn.rates_over_time(ops)),
        "plot_delivery_funnel of its table": cn.plot_delivery_funnel(cn.delivery_funnel(ops, messages)),
        "ReliabilityDashboard": cn.ReliabilityDashboard(ops, logs, messages),
        "compare_periods": cn.compare_periods(ops, after=("2026-10-31", "2026-11-02"), by=by),
        "funnel_table": cn.funnel_table(ops, by="connection_id"),
        "plot_funnel": cn.plot_funnel(ops, by="connection"),
        "error_budget": cn.error_budget(ops, by=by).summary,
        "plot_error_budget": cn.plot_error_budget(ops, by=by),
        "plot_funnel of its table": cn.plot_funnel(cn.funnel_table(ops, by="source_name")),
        "plot_error_budget of its result": cn.plot_error_budget(cn.error_budget(ops, by=by)),
    }


def test_empty_well_formed_frames_still_give_empty_answers() -> None:
    """The frames of no records are accepted everywhere: empty tables, 'no data' charts, a dashboard."""
    answers = _every_call(cn.operations_frame([]), cn.logs_frame([]), cn.messages_frame([]))
    for name, answer in answers.items():
        if isinstance(answer, pd.DataFrame) and "n" in answer.columns:
            assert answer["n"].sum() == 0, name
        elif isinstance(answer, pd.DataFrame):
            assert len(answer) == 0, name
        elif isinstance(answer, Axes):
            assert answer.figure is not None, name


def test_frames_read_from_the_store_are_accepted_everywhere(tmp_path: Path) -> None:
    """The store's frames, marked like the frames', go into every analysis, chart and the dashboard."""
    history = generate_history(build_world(3), 3, 3, dt.date(2026, 11, 1))
    with cn.AuditStore(tmp_path / "a.duckdb") as store:
        store.upsert(history.operations)
        store.upsert_messages(history.messages)
        ops, logs, messages = store.operations_frame(), store.logs_frame(), store.messages_frame()
    assert [f.attrs["catena_nb"] for f in (ops, logs, messages)] == ["operations", "logs", "messages"]
    answers = _every_call(ops, logs, messages)
    assert answers["outcome_rates"]["n"].sum() == len(ops)


def test_frames_that_lost_their_mark_are_accepted_by_their_columns() -> None:
    """A frame without attrs (after pd.concat with an unmarked frame, or pd.DataFrame(df)) still works."""
    f = frames()
    ops = pd.concat([f.ops.iloc[:10], pd.DataFrame(f.ops.iloc[10:])])
    logs = pd.DataFrame(f.logs)
    messages = pd.DataFrame(f.messages)
    logs.attrs, messages.attrs = {}, {}
    assert ops.attrs == {}
    answers = _every_call(ops, logs, messages)
    pd.testing.assert_frame_equal(answers["outcome_rates"], cn.outcome_rates(f.ops, by="source_name"))


def test_a_users_own_filter_keeps_the_mark() -> None:
    """Filtering, assign and sorting keep the mark, so a selection is told from other frames."""
    f = frames()
    selection = f.ops.loc[f.ops["status"] == "failed"].assign(day=1).sort_values("created_at")
    assert selection.attrs == {"catena_nb": "operations"}
    with pytest.raises(TypeError, match="this is an operations frame"):
        cn.retry_effect(f.ops, selection)
