"""ipywidgets forms and the reliability dashboard: send a message, browse operations, explore the audit.

The widgets only wire things together: the client sends and looks up, ``frames`` and ``reliability`` compute,
``charts`` draws and ``display`` renders escaped HTML. Every result lands in an ``HTML`` widget's ``value``
(never ``with out:``, which stays empty outside a browser), so a test can drive a form headlessly: set values,
``click()``, read ``.value``. Each widget has a short, stable ``repr`` for notebooks checked by nbval.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import uuid
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from catena_nb import _widget_parts as parts

logger = logging.getLogger("catena_nb.widgets")

__all__ = ["OperationBrowser", "ReliabilityDashboard", "SendMessageForm"]

PAGE_SIZE = 20
# assumed: a browser listing stops after this many operations; a wider search is a job for frames, not a table
MAX_BROWSE_RESULTS = 10_000
_PRIORITIES = ("none", "low", "medium", "high")
_STATUSES = ("any", "success", "failed", "pending")
_RESOURCES = ("any", "message", "group_message")
_ANY = "any"
_DATES_HINT = (
    '<span style="font-size:90%;color:#57606a">Without dates the API lists the last 24 hours; '
    "a window longer than 45 days is fetched in 45-day parts.</span>"
)


class SendMessageForm(widgets.VBox):  # type: ignore[misc]
    """A form that sends one driver message through the client and shows the operation that came back.

    The connection dropdown is filled from ``client.connections.list()``; the sender and recipient dropdowns
    from ``client.users.list(connection_id=...)`` whenever the connection changes. A user id may also be
    pasted by hand; a malformed one is refused beside its field and nothing is sent.

    Args:
        client: a ``CatenaClient`` (or any object with ``connections``, ``users`` and ``messages``).

    Example:
        >>> form = SendMessageForm(client)  # doctest: +SKIP
        >>> form  # shows the form in a notebook
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.last_operation: Any = None
        self.last_error: BaseException | None = None
        self._busy = False

        wide, label = parts.WIDE, parts.LABEL
        id_box = widgets.Layout(width="24em")  # room for a whole UUID
        self.connection = widgets.Dropdown(description="Connection", options=[], layout=wide, style=label)
        self.sender = widgets.Dropdown(description="Sender", options=[], layout=wide, style=label)
        self.sender_id = widgets.Text(description="", placeholder="or paste a sender user id", layout=id_box)
        self.recipient = widgets.Dropdown(description="Recipient", options=[], layout=wide, style=label)
        self.recipient_id = widgets.Text(
            description="", placeholder="or paste a recipient user id", layout=id_box
        )
        self.message_text = widgets.Textarea(
            description="Message", placeholder="Text for the driver", rows=4, layout=wide, style=label
        )
        self.priority = widgets.Dropdown(
            description="Priority", options=list(_PRIORITIES), value="none", style=label
        )
        self.sync = widgets.ToggleButtons(
            description="Mode",
            options=[("sync: see the TSP's answer now", True), ("async", False)],
            value=True,
            style={**label, "button_width": "auto"},
        )
        self.send_button = widgets.Button(description="Send", button_style="primary", icon="paper-plane")
        # one small HTML under each input for the validation message of that field
        self.field_errors: dict[str, widgets.HTML] = {
            name: widgets.HTML(value="")
            for name in ("connection_id", "sender_id", "recipient_id", "message_text", "priority")
        }
        self.result = widgets.HTML(value="")

        super().__init__(
            children=[
                self.connection,
                self.field_errors["connection_id"],
                widgets.HBox([self.sender, self.sender_id]),
                self.field_errors["sender_id"],
                widgets.HBox([self.recipient, self.recipient_id]),
                self.field_errors["recipient_id"],
                self.message_text,
                self.field_errors["message_text"],
                self.priority,
                self.field_errors["priority"],
                self.sync,
                self.send_button,
                self.result,
            ]
        )
        self._load_connections()
        self.connection.observe(self._on_connection_change, names="value")
        self.send_button.on_click(self._on_send)
        # a field's complaint goes away as soon as that field is changed
        for field, inputs in {
            "connection_id": (self.connection,),
            "sender_id": (self.sender, self.sender_id),
            "recipient_id": (self.recipient, self.recipient_id),
            "message_text": (self.message_text,),
            "priority": (self.priority,),
        }.items():
            for control in inputs:
                control.observe(self._clear_error_of(field), names="value")
        self._load_users()

    def __repr__(self) -> str:
        return f"SendMessageForm(connections={len(self.connection.options)})"

    # -- filling the pickers ----------------------------------------------------------------------
    def _load_connections(self) -> None:
        try:
            options = parts.connection_options(self._client.connections.list())
        except Exception as exc:
            self.result.value = parts.error_box(exc, context="Could not list the connections")
            return
        self.connection.options = options
        self.connection.value = options[0][1] if options else None

    def _on_connection_change(self, change: dict[str, Any]) -> None:
        self._load_users()

    def _load_users(self) -> None:
        cid = self.connection.value
        self.sender.options = []
        self.recipient.options = []
        if not cid:
            return
        try:
            users = list(self._client.users.list(connection_id=cid))
        except Exception as exc:
            self.result.value = parts.error_box(exc, context="Could not list this connection's users")
            return
        # dispatchers usually send and drivers receive, so each list starts with the likely role
        self.sender.options = parts.user_options(users, drivers_first=False)
        self.recipient.options = parts.user_options(users, drivers_first=True)
        self.sender.value = self.sender.options[0][1] if self.sender.options else None
        self.recipient.value = self.recipient.options[0][1] if self.recipient.options else None

    # -- sending ----------------------------------------------------------------------------------
    def _clear_error_of(self, field: str) -> Any:
        def clear(change: dict[str, Any]) -> None:
            self.field_errors[field].value = ""

        return clear

    def _clear_errors(self) -> None:
        for box in self.field_errors.values():
            box.value = ""

    def _picked_user(self, field: str, dropdown: widgets.Dropdown, typed: widgets.Text) -> str | None:
        """The pasted id if there is one, checked as a UUID; else the dropdown's choice."""
        text = typed.value.strip()
        if not text:
            if dropdown.value is None:
                self.field_errors[field].value = parts.field_error("pick a user or paste a user id")
            return str(dropdown.value) if dropdown.value is not None else None
        try:
            return str(uuid.UUID(text))
        except ValueError:
            self.field_errors[field].value = parts.field_error(f"not a valid user id (a UUID): {text!r}")
            return None

    def request(self) -> dict[str, Any] | None:
        """The keyword arguments ``Send`` would pass to ``client.messages.create``, or None if a field is bad.

        A bad field gets its message in the HTML under it.
        """
        self._clear_errors()
        ok = True
        if not self.connection.value:
            self.field_errors["connection_id"].value = parts.field_error("pick a connection")
            ok = False
        sender = self._picked_user("sender_id", self.sender, self.sender_id)
        recipient = self._picked_user("recipient_id", self.recipient, self.recipient_id)
        if sender is None or recipient is None or not ok:
            return None
        priority = None if self.priority.value == "none" else self.priority.value
        return {
            "connection_id": self.connection.value,
            "sender_id": sender,
            "recipient_id": recipient,
            "message_text": self.message_text.value,
            "priority": priority,
            "sync": bool(self.sync.value),
        }

    def send(self) -> Any:
        """Send the message the form describes and show the outcome; the same as clicking Send.

        Returns:
            The ``ResourceOperation`` the API returned (a 502's failed operation included), or None when
            nothing was sent or an error was raised (then in ``last_error`` and shown in the form).
        """
        if self._busy:
            return None
        kwargs = self.request()
        if kwargs is None:
            self.result.value = parts.error_box_text("Nothing was sent: fix the fields marked above.")
            return None
        self._busy = True
        self.send_button.disabled = True
        self.result.value = parts.info_box("Sending…")
        self.last_error = None
        try:
            op = self._client.messages.create(**kwargs)
        # any error, not only CatenaError: raised from a click handler it would reach the log console only,
        # never the form the analyst is looking at
        except Exception as exc:
            logger.debug("send failed", exc_info=True)
            self.last_error = exc
            self._show_send_error(exc)
            return None
        finally:
            self._busy = False
            self.send_button.disabled = False
        self.last_operation = op
        self.result.value = parts.operation_result_html(op)
        return op

    def _on_send(self, _button: widgets.Button) -> None:
        self.send()

    def _show_send_error(self, exc: BaseException) -> None:
        field_errors = parts.request_field_errors(exc)
        if field_errors is None:
            context = (
                "The connection failed after the request left: the message may have been created; "
                "look it up before sending again"
                if parts.maybe_sent(exc)
                else "The message was not sent"
            )
            self.result.value = parts.error_box(exc, context=context)
            return
        unplaced = []
        for field, message in field_errors:
            box = self.field_errors.get(field)
            if box is None:
                unplaced.append(f"{field}: {message}")
            else:
                box.value = parts.field_error(message)
        text = (
            "Nothing was sent: the request is invalid (see the fields marked above)."
            if parts.refused_before_sending(exc)
            else "The API refused the request (see the fields marked above)."
        )
        if unplaced:
            text += " " + "; ".join(unplaced)
        self.result.value = parts.error_box_text(text)


class OperationBrowser(widgets.VBox):  # type: ignore[misc]
    """Look one resource operation up by id, or list operations by filters and page through them.

    A lookup calls ``client.operations.get(op_id, connection_id=...)``; a search calls
    ``client.operations.list(...)`` with the filters set (the status filter is applied by the client, as the
    API has none). The results are shown 20 rows a page; picking a row shows that operation with its logs.

    Args:
        client: a ``CatenaClient`` (or any object with ``connections`` and ``operations``).
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.results: list[Any] = []
        self.truncated = False
        self.page = 0
        self.last_error: BaseException | None = None
        try:
            connections = list(client.connections.list())
            load_error = ""
        except Exception as exc:
            connections = []
            load_error = parts.error_box(exc, context="Could not list the connections")
        conn_options = parts.connection_options(connections)
        self._n_connections = len(conn_options)
        tsps = parts.tsp_names(connections)

        label = parts.LABEL
        self.op_id = widgets.Text(
            description="Operation id",
            placeholder="resource operation UUID",
            layout=widgets.Layout(width="32em"),
            style=label,
        )
        # with one connection there is nothing to choose; otherwise the listed results may know it
        lookup_options = [("(from the listed results)", None), *conn_options]
        self.lookup_connection = widgets.Dropdown(
            description="Connection",
            options=lookup_options,
            value=conn_options[0][1] if len(conn_options) == 1 else None,
            style=label,
        )
        self.lookup_button = widgets.Button(description="Look up", icon="search")
        self.op_id_error = widgets.HTML(value="")

        self.status = widgets.Dropdown(description="Status", options=list(_STATUSES), value=_ANY)
        self.connection = widgets.Dropdown(description="Connection", options=[("any", None), *conn_options])
        self.source_name = widgets.Dropdown(
            description="TSP", options=[("any", None), *[(t, t) for t in tsps]]
        )
        self.resource = widgets.Dropdown(description="Resource", options=list(_RESOURCES), value="message")
        self.since = widgets.DatePicker(description="From", style=label)
        self.until = widgets.DatePicker(description="Until (incl.)", style=label)
        self.search_button = widgets.Button(description="Search", icon="list")

        self.table = widgets.HTML(value="")
        self.page_label = widgets.HTML(value="")
        self.prev_button = widgets.Button(description="Prev", disabled=True)
        self.next_button = widgets.Button(description="Next", disabled=True)
        self.picker = widgets.Dropdown(description="Operation", options=[], layout=parts.WIDE)
        self.detail = widgets.HTML(value=load_error)

        super().__init__(
            children=[
                widgets.HTML(value="<b>Look up one operation</b>"),
                widgets.HBox([self.op_id, self.lookup_connection, self.lookup_button]),
                self.op_id_error,
                widgets.HTML(value="<b>Or search</b>"),
                widgets.HBox([self.status, self.connection, self.source_name]),
                widgets.HBox([self.resource, self.since, self.until, self.search_button]),
                widgets.HTML(value=_DATES_HINT),
                self.table,
                widgets.HBox([self.prev_button, self.page_label, self.next_button]),
                self.picker,
                self.detail,
            ]
        )
        self.lookup_button.on_click(lambda _b: self.lookup())
        self.search_button.on_click(lambda _b: self.search())
        self.prev_button.on_click(lambda _b: self.show_page(self.page - 1))
        self.next_button.on_click(lambda _b: self.show_page(self.page + 1))
        self.picker.observe(self._on_pick, names="value")

    def __repr__(self) -> str:
        return f"OperationBrowser(connections={self._n_connections})"

    # -- one operation ----------------------------------------------------------------------------
    def lookup(self) -> Any:
        """Fetch the operation whose id is typed and show it with its logs.

        Returns:
            The operation, or None (the reason is shown under the id or in the detail pane).
        """
        self.op_id_error.value = ""
        text = self.op_id.value.strip()
        try:
            op_id = str(uuid.UUID(text))
        except ValueError:
            self.op_id_error.value = parts.field_error(
                f"not a valid operation id (a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6): {text!r}"
            )
            return None
        connection_id = self.lookup_connection.value or self._known_connection(op_id)
        if connection_id is None:
            self.op_id_error.value = parts.field_error(
                "pick the operation's connection: the API looks an operation up under its connection"
            )
            return None
        self.last_error = None
        try:
            op = self._client.operations.get(op_id, connection_id=connection_id)
        except Exception as exc:
            self.last_error = exc
            if parts.is_not_found(exc):
                self.detail.value = parts.error_box_text("No operation with that id on that connection.")
            else:
                self.detail.value = parts.error_box(exc, context="The lookup failed")
            return None
        self.detail.value = parts.operation_result_html(op)
        return op

    def _known_connection(self, op_id: str) -> str | None:
        for op in self.results:
            if str(parts.field(op, "id")) == op_id:
                return str(parts.field(op, "connection_id"))
        return None

    # -- searching and paging ---------------------------------------------------------------------
    def filters(self) -> dict[str, Any]:
        """The keyword arguments ``Search`` passes to ``client.operations.list`` (unset filters left out)."""
        kwargs: dict[str, Any] = {}
        if self.status.value != _ANY:
            kwargs["status"] = self.status.value
        if self.connection.value:
            kwargs["connection_id"] = self.connection.value
        if self.source_name.value:
            kwargs["source_name"] = self.source_name.value
        if self.resource.value != _ANY:
            kwargs["resource"] = self.resource.value
        if self.since.value is not None:
            kwargs["since"] = parts.day_start(self.since.value)
        if self.until.value is not None:
            # the picked day is included: the API's window ends before `to_datetime`
            kwargs["until"] = parts.day_start(self.until.value) + dt.timedelta(days=1)
        return kwargs

    def search(self) -> list[Any]:
        """List the operations matching the filters and show the first page.

        Returns:
            The operations fetched (at most ``MAX_BROWSE_RESULTS``).
        """
        self.last_error = None
        self.search_button.disabled = True
        self.table.value = parts.info_box("Searching…")
        try:
            # no progress bar: from a click handler it would print into the log console, not the form
            listing = self._client.operations.list(**self.filters(), progress=False)
            self.results, self.truncated = parts.take(listing, MAX_BROWSE_RESULTS)
        except Exception as exc:
            self.last_error = exc
            self.results, self.truncated = [], False
            self.table.value = parts.error_box(exc, context="The search failed")
            self.page = 0
            self.page_label.value = ""
            self.picker.options = []
            self._set_page_controls(0)
            return []
        finally:
            self.search_button.disabled = False
        self.detail.value = ""
        self.show_page(0)
        return self.results

    def _set_page_controls(self, n_pages: int) -> None:
        self.prev_button.disabled = self.page <= 0
        self.next_button.disabled = self.page >= n_pages - 1

    def show_page(self, page: int) -> None:
        """Show page ``page`` (0-based) of the fetched results in the table and the row picker."""
        n = len(self.results)
        n_pages = max(1, -(-n // PAGE_SIZE))
        self.page = min(max(page, 0), n_pages - 1)
        start = self.page * PAGE_SIZE
        rows = self.results[start : start + PAGE_SIZE]
        self._set_page_controls(n_pages)
        if not rows:
            self.table.value = parts.info_box("No operations match these filters.")
            self.page_label.value = "rows 0 of 0"
            self.picker.options = []
            return
        more = " (the first ones only: narrow the filters)" if self.truncated else ""
        self.page_label.value = html.escape(f"rows {start + 1}-{start + len(rows)} of {n}{more}")
        self.table.value = parts.operations_table_html(rows, first_row=start + 1)
        # the value is the row's index in the results, so two pages never share a picker value
        self.picker.options = [
            ("(pick a row to see its logs)", None),
            *[(parts.operation_label(op, start + i + 1), start + i) for i, op in enumerate(rows)],
        ]

    def _on_pick(self, change: dict[str, Any]) -> None:
        index = change["new"]
        if index is None:
            return
        self.detail.value = parts.operation_result_html(self.results[index])


class ReliabilityDashboard(widgets.VBox):  # type: ignore[misc]
    """Filters over an audit's frames that update the outcome-rates table, the error breakdown and charts.

    Filters: TSPs (multi-select), connection, date range and the group-by column (``source_name``,
    ``connection_id``, ``error_type``, ``priority`` or ``day``). Every change recomputes through
    ``catena_nb.reliability`` and redraws through ``catena_nb.charts``.

    Args:
        ops_df: ``operations_frame(...)`` of the operations to audit.
        logs_df: ``logs_frame(...)`` of the same operations.
        messages_df: optional ``messages_frame(...)``, for the delivery funnel.
    """

    GROUP_BY = ("source_name", "connection_id", "error_type", "priority", "day")
    _FILTERS = ("tsp", "connection", "since", "until", "group_by")

    def __init__(self, ops_df: Any, logs_df: Any, messages_df: Any = None) -> None:
        self._ops = ops_df
        self._logs = logs_df
        self._messages = messages_df
        self._paused = False
        self._timeline_for: tuple[Any, ...] | None = None
        tsps = parts.sorted_values(self._ops, "source_name")
        connections = parts.sorted_values(self._ops, "connection_id")
        first_day, last_day = parts.day_range(self._ops)

        self.tsp = widgets.SelectMultiple(description="TSP", options=tsps, value=tuple(tsps), rows=4)
        self.connection = widgets.Dropdown(
            description="Connection", options=[("any", None), *[(c, c) for c in connections]]
        )
        self.since = widgets.DatePicker(description="From", value=first_day)
        self.until = widgets.DatePicker(description="Until (incl.)", value=last_day)
        self.group_by = widgets.Dropdown(
            description="Group by", options=list(self.GROUP_BY), value="source_name"
        )
        self.summary = widgets.HTML(value="")
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
                *funnel_pane,
                self.outcomes_chart,
                self.timeline_chart,
            ]
        )
        for control in (self.tsp, self.connection, self.since, self.until, self.group_by):
            control.observe(self._on_filter_change, names="value")
        self.refresh()

    def __repr__(self) -> str:
        return f"ReliabilityDashboard(operations={len(self._ops)})"

    def filtered(self) -> Any:
        """The operations frame restricted to the current filters."""
        return parts.filter_operations(
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

    def refresh(self) -> None:
        """Recompute the tables and redraw the charts for the current filters."""
        ops = self.filtered()
        by = parts.group_key(self.group_by.value)
        self.summary.value = html.escape(f"{len(ops):,} of {len(self._ops):,} operations match the filters.")
        if len(ops) == 0:
            empty = parts.info_box("No operations match these filters.")
            self.rates.value = self.errors.value = empty
            self.funnel.value = empty if self._messages is not None else ""
            self.outcomes_chart.value = self.timeline_chart.value = ""
            self._timeline_for = None
            return
        logs = parts.logs_of(self._logs, ops)
        self._render(self.rates, lambda: parts.outcome_rates_html(ops, by))
        self._render(self.errors, lambda: parts.error_breakdown_html(ops, logs))
        if self._messages is not None:
            self._render(self.funnel, lambda: parts.delivery_funnel_html(ops, self._messages))
        self._render(self.outcomes_chart, lambda: parts.outcomes_chart_html(ops, by))
        # the timeline ignores the grouping: a group-by change need not redraw it (a chart costs ~0.5 s)
        selection = (tuple(self.tsp.value), self.connection.value, self.since.value, self.until.value)
        if selection != self._timeline_for:
            self._render(self.timeline_chart, lambda: parts.timeline_chart_html(ops))
            self._timeline_for = selection

    @staticmethod
    def _render(target: widgets.HTML, build: Callable[[], str]) -> None:
        # one failing pane (a grouping with no data, say) must not blank the whole dashboard
        try:
            target.value = build()
        except Exception as exc:
            logger.debug("dashboard pane failed", exc_info=True)
            target.value = parts.error_box(exc, context="Could not compute this view")
