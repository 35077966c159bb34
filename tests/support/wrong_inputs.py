"""Every public function that takes a frame, against every wrong input a new user tries: the table of cases.

Shared by ``tests/test_wrong_inputs.py`` (which asserts each outcome) and ``scripts/wrong_inputs.py`` (which
prints the table). A case is (function, wrong input, call, the frame its message must name); running it
gives the error raised, or None when the call was silently accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

import pandas as pd

import catena_nb as cn
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.world import build_world

OPS = "an operations frame (cn.operations_frame(ops))"
LOGS = "a logs frame (cn.logs_frame(ops))"
MESSAGES = "a messages frame (cn.messages_frame(messages))"
TABLE = "the table of an analysis function"


@dataclass(frozen=True)
class Frames:
    ops: pd.DataFrame
    logs: pd.DataFrame
    messages: pd.DataFrame


@cache
def _frames() -> Frames:
    world = build_world(3)
    history = generate_history(world, 3, 3, dt.date(2026, 11, 1))
    ops, logs = cn.operation_frames(history.operations)
    return Frames(ops, logs, cn.messages_frame(history.messages))


def frames() -> Frames:
    """Well-formed frames of a 3-day sandbox history (copies: a case may not spoil the next)."""
    f = _frames()
    return Frames(f.ops.copy(), f.logs.copy(), f.messages.copy())


def _naive(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["created_at"] = out["created_at"].dt.tz_localize(None)
    return out


def _nat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.loc[out.index[:3], "created_at"] = pd.NaT
    return out


def _unmarked(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as pandas leaves it after ``pd.DataFrame(df)`` or a merge with another: no attrs."""
    out = pd.DataFrame(frame)
    out.attrs = {}
    return out


Call = Callable[..., Any]  # called with the frames; defaults bind the loop variables


@dataclass(frozen=True)
class Case:
    function: str
    wrong: str
    call: Call
    names: str  # the frame (or table) the message must name

    def run(self) -> BaseException | None:
        """The error the call raises; None if it returned."""
        try:
            self.call(frames())
        except Exception as exc:
            return exc
        return None


# the window compare_periods compares in the cases: the last two days of the 3-day history (and two before)
LAST_DAYS = ("2026-10-31", "2026-11-02")

# (function, its frame arguments by name and kind, whether it takes by=, whether it needs times)
_FUNCTIONS: list[tuple[str, Callable[..., Any], tuple[tuple[str, str], ...], bool, bool]] = [
    ("outcome_rates", cn.outcome_rates, (("ops_df", "operations"),), True, False),
    ("rates_over_time", cn.rates_over_time, (("ops_df", "operations"),), True, True),
    ("error_breakdown", cn.error_breakdown, (("ops_df", "operations"), ("logs_df", "logs")), True, False),
    ("retry_effect", cn.retry_effect, (("ops_df", "operations"), ("logs_df", "logs")), True, False),
    ("attempts_distribution", cn.attempts_distribution, (("ops_df", "operations"),), True, False),
    ("latency_summary", cn.latency_summary, (("ops_df", "operations"),), True, False),
    ("delivery_funnel", cn.delivery_funnel, (("ops_df", "operations"), ("messages_df", "messages")), True,
     False),
    ("find_incidents", cn.find_incidents, (("ops_df", "operations"),), True, True),
    ("locate_incidents", cn.locate_incidents, (("ops_df", "operations"),), False, True),
    ("plot_outcomes", cn.plot_outcomes, (("data", "operations"),), True, False),
    ("plot_error_types", cn.plot_error_types, (("data", "operations"), ("logs_df", "logs")), True, False),
    ("plot_failure_rate_over_time", cn.plot_failure_rate_over_time, (("data", "operations"),), True, True),
    ("plot_attempts", cn.plot_attempts, (("data", "operations"), ("logs_df", "logs")), False, False),
    ("plot_latency", cn.plot_latency, (("data", "operations"),), True, True),
    ("time_to_settle", cn.time_to_settle, (("ops_df", "operations"),), True, True),
    ("time_to_deliver", cn.time_to_deliver, (("messages_df", "messages"),), True, True),
    ("error_signatures", cn.error_signatures, (("logs_df", "logs"),), True, True),
    ("plot_delivery_funnel", cn.plot_delivery_funnel, (("data", "operations"), ("messages_df", "messages")),
     False, False),
    ("compare_periods", partial(cn.compare_periods, after=LAST_DAYS), (("ops_df", "operations"),), True,
     True),
    ("funnel_table", cn.funnel_table, (("ops_df", "operations"),), True, False),
    ("plot_funnel", cn.plot_funnel, (("data", "operations"),), True, False),
    ("error_budget", cn.error_budget, (("ops_df", "operations"),), True, True),
    ("plot_error_budget", cn.plot_error_budget, (("data", "operations"),), True, True),
    ("ReliabilityDashboard", cn.ReliabilityDashboard,
     (("ops_df", "operations"), ("logs_df", "logs"), ("messages_df", "messages")), False, True),
]  # fmt: skip
_NAMES = {"operations": OPS, "logs": LOGS, "messages": MESSAGES}
_ARTICLES = {"operations": "an", "logs": "a", "messages": "a"}
# a column each kind of frame is read for, dropped in the "no such column" case
_READ = {"operations": "status", "logs": "error_details", "messages": "delivered_at"}
# the calls of a function that takes a time besides its frame: (wrong input, keyword arguments, error names)
_UNTIL = [
    ("until before the data", {"until": "2020-01-01T00:00:00Z"}, "before the first"),
    ("tz-naive until", {"until": "2026-11-01T00:00:00"}, "no time zone"),
    ("until=42", {"until": 42}, "until must be a tz-aware time"),
]


def _good(f: Frames, kind: str) -> pd.DataFrame:
    return {"operations": f.ops, "logs": f.logs, "messages": f.messages}[kind]


def _caller(
    fn: Callable[..., Any], args: tuple[tuple[str, str], ...], *, by: Any = None
) -> Callable[..., Any]:
    """Call ``fn`` with the well-formed frames except for those given by position (``replace``)."""

    def call(f: Frames, replace: dict[int, Any], **kw: Any) -> Any:
        values = [replace[i] if i in replace else _good(f, kind) for i, (_, kind) in enumerate(args)]
        if by is not None:
            kw["by"] = by
        return fn(*values, **kw)

    return call


def _function_cases(
    name: str, fn: Callable[..., Any], args: tuple[tuple[str, str], ...], takes_by: bool, needs_times: bool
) -> list[Case]:
    out: list[Case] = []
    call = _caller(fn, args)
    kind = args[0][1]
    first = _NAMES[kind]

    def add(wrong: str, run: Call, names: str = first) -> None:
        out.append(Case(name, wrong, run, names))

    add("None", lambda f: call(f, {0: None}))
    add("a dict", lambda f: call(f, {0: {"status": ["failed"], "attempts": [2]}}))
    add("a list of records", lambda f: call(f, {0: [{"status": "failed"}]}))
    add("a Series", lambda f: call(f, {0: f.ops["status"]}))
    add("pd.DataFrame()", lambda f: call(f, {0: pd.DataFrame()}))
    others = [k for k in ("logs", "messages", "operations") if k != kind]
    for other in others:
        add(f"{_ARTICLES[other]} {other} frame", lambda f, o=other: call(f, {0: _good(f, o)}))
    add(f"an unmarked {others[0]} frame", lambda f, o=others[0]: call(f, {0: _unmarked(_good(f, o))}))
    # the table of another function than the one a chart takes instead of the frame
    other_table = cn.outcome_rates if name == "plot_error_types" else cn.error_breakdown
    add("an analysis table", lambda f: call(f, {0: other_table(f.ops)}))
    read = _READ[kind]
    add(f"no {read!r} column", lambda f: call(f, {0: _unmarked(_good(f, kind)).drop(columns=read)}))
    for i, (argument, kind) in enumerate(args[1:], start=1):
        other = "logs" if kind != "logs" else "operations"
        article = "an" if other == "operations" else "a"
        names = _NAMES[kind]
        if name in ("delivery_funnel", "plot_delivery_funnel"):  # required there; optional elsewhere
            add(f"{argument}: None", lambda f, i=i: call(f, {i: None}), names)
        add(f"{argument}: {article} {other} frame", lambda f, i=i, o=other: call(f, {i: _good(f, o)}), names)
        add(f"{argument}: pd.DataFrame()", lambda f, i=i: call(f, {i: pd.DataFrame()}), names)
        add(f"{argument}: a dict", lambda f, i=i: call(f, {i: {"status": ["failed"]}}), names)
    if len(args) > 1:

        def swapped(f: Frames) -> Any:
            values = [_good(f, kind) for _, kind in args]
            values[0], values[1] = values[1], values[0]
            return fn(*values)

        add(f"swapped ({args[1][0]}, {args[0][0]})", swapped)
    if needs_times:
        add("tz-naive created_at", lambda f: call(f, {0: _naive(_good(f, kind))}))
        add("NaT in created_at", lambda f: call(f, {0: _nat(_good(f, kind))}))
    if name in ("time_to_settle", "time_to_deliver"):
        for wrong, kw, names in _UNTIL:
            add(wrong, lambda f, kw=kw: call(f, {}, **kw), names)
    if takes_by:
        missing = _caller(fn, args, by="no_such_column")
        add("by='no_such_column'", lambda f: missing(f, {}))
        if not needs_times:
            by_day = _caller(fn, args, by=pd.Grouper(key="created_at", freq="D"))
            add("by=pd.Grouper on tz-naive times", lambda f: by_day(f, {0: _naive(f.ops)}))
        nowhere = _caller(fn, args, by=pd.Grouper(key="nope", freq="D"))
        add("by=pd.Grouper(key='nope')", lambda f: nowhere(f, {}))
        number = _caller(fn, args, by=42)
        add("by=42", lambda f: number(f, {}))
    return out


def _table_cases() -> list[Case]:
    table = cn.format_table
    wrong_values: list[tuple[str, Any]] = [
        ("None", None),
        ("a dict", {"rate": [0.5]}),
        ("a list", [{"rate": 0.5}]),
        ("pd.DataFrame()", pd.DataFrame()),
    ]
    out = [Case("format_table", wrong, lambda f, v=value: table(v), TABLE) for wrong, value in wrong_values]
    for wrong, kind in [("an operations frame", "operations"), ("a logs frame", "logs")]:
        out.append(Case("format_table", wrong, lambda f, k=kind: table(_good(f, k)), TABLE))
    out.append(Case("format_table", "a messages frame", lambda f: table(f.messages), TABLE))
    return out


def _maker_cases() -> list[Case]:
    ops, msgs = "expected resource operations", "expected messages"
    message = {"id": "m", "message_text": "hi", "sender_id": "s"}
    out: list[Case] = []
    for maker, name in [(cn.operations_frame, "operations_frame"), (cn.logs_frame, "logs_frame")]:
        for wrong, value in [("b'not json'", b"not json"), ("[{'foo': 1}]", [{"foo": 1}]), ("b'42'", b"42")]:
            out.append(Case(name, wrong, lambda f, m=maker, v=value: m(v), ops))
        out.append(Case(name, "message records", lambda f, m=maker: m([message]), ops))
    for wrong, value in [("b'not json'", b"not json"), ("[{'foo': 1}]", [{"foo": 1}])]:
        out.append(Case("messages_frame", wrong, lambda f, v=value: cn.messages_frame(v), msgs))
    operation = {"id": "o", "resource": "message", "logs": []}
    out.append(Case("messages_frame", "operation records", lambda f: cn.messages_frame([operation]), msgs))
    return out


def _argument_cases() -> list[Case]:
    """Wrong windows and targets: the message names the argument and what it needs."""
    compare, budget, plot = cn.compare_periods, cn.error_budget, cn.plot_error_budget
    windows: list[tuple[str, dict[str, Any], str]] = [
        ("no after=", {}, "after=(start, end)"),
        ("after reversed", {"after": ("2026-11-02", "2026-10-31")}, "give (start, end) with end later"),
        ("after empty", {"after": ("2026-11-01", "2026-11-01")}, "give (start, end) with end later"),
        ("before overlapping after", {"before": ("2026-10-30", "2026-11-01"), "after": LAST_DAYS},
         "the windows overlap"),
        ("after a string", {"after": "2026-10-31"}, "a pair (start, end)"),
        ("after (day, None)", {"after": ("2026-10-31", None)}, "a pair (start, end)"),
        ("after not a time", {"after": ("2026-10-31", "soon")}, "not a time"),
        ("by=pd.Grouper by day", {"after": LAST_DAYS, "by": pd.Grouper(key="created_at", freq="D")},
         "not by a pd.Grouper"),
    ]  # fmt: skip
    out = [
        Case("compare_periods", wrong, lambda f, k=kw: compare(f.ops, **k), names)
        for wrong, kw, names in windows
    ]
    for target in (0, 1, 1.5, -0.01, 99, True, "0.99", None):
        for name, fn in (("error_budget", budget), ("plot_error_budget", plot)):
            out.append(
                Case(name, f"target={target!r}", lambda f, t=target, g=fn: g(f.ops, target=t), "target=")
            )
    out.append(Case("error_budget", "freq='fortnight'", lambda f: budget(f.ops, freq="fortnight"), "freq="))
    return out


def cases() -> list[Case]:
    """Every function x every wrong input that applies to it."""
    out = [case for spec in _FUNCTIONS for case in _function_cases(*spec)]
    return out + _argument_cases() + _table_cases() + _maker_cases()


@dataclass(frozen=True)
class Outcome:
    case: Case
    error: BaseException | None

    @property
    def kind(self) -> str:
        return "accepted silently" if self.error is None else type(self.error).__name__

    @property
    def first_line(self) -> str:
        return "" if self.error is None else (str(self.error).splitlines() or [""])[0]

    @property
    def clear(self) -> bool:
        """A TypeError/ValueError (or ResponseValidationError for the frames' makers) naming the frame."""
        allowed: tuple[type[BaseException], ...] = (TypeError, ValueError, cn.ResponseValidationError)
        return (
            self.error is not None
            and isinstance(self.error, allowed)
            and not isinstance(self.error, KeyError | AttributeError)
            and self.case.names in str(self.error)
        )


def outcomes() -> list[Outcome]:
    """Every case run."""
    return [Outcome(case, case.run()) for case in cases()]
