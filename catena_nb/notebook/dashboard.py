"""The reliability dashboard over an audit's frames (see :mod:`catena_nb.notebook`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from catena_nb._html import escape_html
from catena_nb.frames.checks import require
from catena_nb.notebook import _views as views
from catena_nb.notebook._options import labelled
from catena_nb.notebook._panes import error_box, info_box

logger = logging.getLogger("catena_nb.notebook")

__all__ = ["ReliabilityDashboard"]


class ReliabilityDashboard(widgets.VBox):  # type: ignore[misc]
    """Filters over an audit's frames that update the outcome-rates table, the error breakdown and charts.

    Filters: TSPs (multi-select), connection, date range and the group-by column (``source_name``,
    ``connection_id``, ``error_type``, ``priority`` or ``day``). Every change recomputes through
    ``catena_nb.analysis`` and redraws through ``catena_nb.charts``. Two panes look further: the selected
    days against the same number of days just before (``compare_periods``, per TSP, connection or
    priority), and the error budget of an SLO (``error_budget``; its target is a control of its own).

    Args:
        ops_df: ``operations_frame(...)`` of the operations to audit.
        logs_df: ``logs_frame(...)`` of the same operations.
        messages_df: optional ``messages_frame(...)``, for the delivery funnel.

    Raises:
        TypeError: ``ops_df`` is not an operations frame, ``logs_df`` (when given) not a logs frame, or
            ``messages_df`` (when given) not a messages frame; or two of them were swapped.
        ValueError: a column the dashboard reads is missing, or ``created_at`` is naive or missing (NaT).
    """

    GROUP_BY = ("source_name", "connection_id", "error_type", "priority", "day")
    _FILTERS = ("tsp", "connection", "since", "until", "group_by", "target")

    def __init__(self, ops_df: Any, logs_df: Any, messages_df: Any = None) -> None:
        _check(ops_df, logs_df, messages_df)
        self._ops = ops_df
        self._logs = logs_df
        self._messages = messages_df
        self._paused = False
        self._timeline_for: tuple[Any, ...] | None = None
        tsps = views.sorted_values(self._ops, "source_name")
        connections = views.sorted_values(self._ops, "connection_id")
        first_day, last_day = views.day_range(self._ops)

        self.tsp = widgets.SelectMultiple(
            description="TSP", options=labelled(tsps), value=tuple(tsps), rows=4
        )
        self.connection = widgets.Dropdown(
            description="Connection", options=[("any", None), *labelled(connections)]
        )
        self.since = widgets.DatePicker(description="From", value=first_day)
        self.until = widgets.DatePicker(description="Until (incl.)", value=last_day)
        self.group_by = widgets.Dropdown(
            description="Group by", options=list(self.GROUP_BY), value="source_name"
        )
        self.target = widgets.BoundedFloatText(
            description="SLO target", value=0.99, min=0.5, max=0.9999, step=0.001
        )
        self.summary = widgets.HTML(value="")
        self.comparison = widgets.HTML(value="")
        self.budget = widgets.HTML(value="")
        self.rates = widgets.HTML(value="")
        self.errors = widgets.HTML(value="")
        self.outcomes_chart = widgets.HTML(value="")
        self.timeline_chart = widgets.HTML(value="")
        self.funnel = widgets.HTML(value="")
        funnel_pane = (
            [widgets.HTML(value="<b>From send to driver</b> (delivery funnel)"), self.funnel]
            if messages_df is not None
            else []
        )

        super().__init__(
            children=[
                widgets.HBox([self.tsp, widgets.VBox([self.connection, self.group_by])]),
                widgets.HBox([self.since, self.until]),
                self.summary,
                widgets.HTML(value="<b>Outcome rates</b> (95% Wilson intervals)"),
                self.rates,
                widgets.HTML(value="<b>Failures by error type</b>"),
                self.errors,
                widgets.HTML(
                    value="<b>Against the previous window of equal length</b> (95% Newcombe "
                    "intervals of the difference, score test)"
                ),
                self.comparison,
                widgets.HTML(
                    value="<b>Error budget</b> (burn rates: the window's failure rate over the "
                    "budget's; alerts of the SRE workbook)"
                ),
                self.target,
                self.budget,
                *funnel_pane,
                self.outcomes_chart,
                self.timeline_chart,
            ]
        )
        for control in (self.tsp, self.connection, self.since, self.until, self.group_by):
            control.observe(self._on_filter_change, names="value")
        self.target.observe(self._on_target_change, names="value")
        self.refresh()

    def __repr__(self) -> str:
        return f"ReliabilityDashboard(operations={len(self._ops)})"

    def filtered(self) -> Any:
        """The operations frame restricted to the current filters."""
        return views.filter_operations(
            self._ops,
            source_names=list(self.tsp.value),
            connection_id=self.connection.value,
            since=self.since.value,
            until=self.until.value,
        )

    def set_filters(self, **values: Any) -> None:
        """Set several filters at once (``tsp``, ``connection``, ``since``, ``until``, ``group_by``), then
        recompute once instead of once per filter.

        Raises:
            TypeError: a name that is not one of the filters.
        """
        unknown = set(values) - set(self._FILTERS)
        if unknown:
            raise TypeError(f"unknown filter(s) {sorted(unknown)}; the filters are {list(self._FILTERS)}")
        self._paused = True
        try:
            for name, value in values.items():
                getattr(self, name).value = value
        finally:
            self._paused = False
        self.refresh()

    def _on_filter_change(self, change: dict[str, Any]) -> None:
        if not self._paused:
            self.refresh()

    def _on_target_change(self, change: dict[str, Any]) -> None:
        if not self._paused:
            self._render_budget(self.filtered())

    def _render_budget(self, ops: Any) -> None:
        by = views.group_key(self.group_by.value)
        self._render(self.budget, lambda: views.budget_html(ops, float(self.target.value), by))

    def refresh(self) -> None:
        """Recompute the tables and redraw the charts for the current filters."""
        ops = self.filtered()
        by = views.group_key(self.group_by.value)
        self.summary.value = escape_html(f"{len(ops):,} of {len(self._ops):,} operations match the filters.")
        if len(ops) == 0:
            empty = info_box("No operations match these filters.")
            self.rates.value = self.errors.value = self.comparison.value = self.budget.value = empty
            self.funnel.value = empty if self._messages is not None else ""
            self.outcomes_chart.value = self.timeline_chart.value = ""
            self._timeline_for = None
            return
        logs = views.logs_of(self._logs, ops)
        self._render(self.rates, lambda: views.outcome_rates_html(ops, by))
        self._render(self.errors, lambda: views.error_breakdown_html(ops, logs))
        # the comparison needs the days before the selection too: every date of the chosen TSPs
        chosen = views.filter_operations(
            self._ops,
            source_names=list(self.tsp.value),
            connection_id=self.connection.value,
            since=None,
            until=None,
        )
        window = views.window_of(self._ops, self.since.value, self.until.value)
        self._render(self.comparison, lambda: views.comparison_html(chosen, window, by))
        self._render_budget(ops)
        if self._messages is not None:
            self._render(self.funnel, lambda: views.delivery_funnel_html(ops, self._messages))
        self._render(self.outcomes_chart, lambda: views.outcomes_chart_html(ops, by))
        # the timeline ignores the grouping: a group-by change need not redraw it (a chart costs ~0.5 s)
        selection = (tuple(self.tsp.value), self.connection.value, self.since.value, self.until.value)
        if selection != self._timeline_for:
            self._render(self.timeline_chart, lambda: views.timeline_chart_html(ops))
            self._timeline_for = selection

    @staticmethod
    def _render(target: widgets.HTML, build: Callable[[], str]) -> None:
        # one failing pane (a grouping with no data, say) must not blank the whole dashboard
        try:
            target.value = build()
        except Exception as exc:
            logger.debug("dashboard pane failed", exc_info=True)
            target.value = error_box(exc, context="Could not compute this view")


def _check(ops_df: Any, logs_df: Any, messages_df: Any) -> None:
    """Check the frames before any widget is built: a wrong one would fail in every pane."""
    frames = {"ops_df": ops_df, "logs_df": logs_df, "messages_df": messages_df}
    name = "ReliabilityDashboard"
    columns = ["operation_id", "status", "source_name", "connection_id", "error_type", "resource_id"]
    require(ops_df, "operations", name, "ops_df", columns=columns, times=["created_at"], others=frames)
    if logs_df is not None:
        require(
            logs_df, "logs", name, "logs_df", columns=["operation_id", "status", "error_type"], others=frames
        )
    if messages_df is not None:
        columns = ["message_id", "status", "delivered_at", "read_at"]
        require(messages_df, "messages", name, "messages_df", columns=columns, others=frames)
