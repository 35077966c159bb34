"""The form that looks operations up and pages through them (see :mod:`catena_nb.notebook`)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets

from catena_nb._html import escape_html
from catena_nb._time import as_utc
from catena_nb.errors import NotFoundError
from catena_nb.notebook import _panes as panes
from catena_nb.notebook._options import (
    LABEL,
    WIDE,
    connection_options,
    field,
    labelled,
    operation_label,
    tsp_names,
)

__all__ = ["MAX_BROWSE_RESULTS", "PAGE_SIZE", "OperationBrowser"]

PAGE_SIZE = 20
# assumed: a browser listing stops after this many operations; a wider search is a job for frames, not a table
MAX_BROWSE_RESULTS = 10_000
_STATUSES = ("any", "success", "failed", "pending")
_RESOURCES = ("any", "message", "group_message")
_ANY = "any"
_DATES_HINT = (
    '<span style="font-size:90%;color:#57606a">Without dates the API lists the last 24 hours; '
    "a window longer than 45 days is fetched in 45-day parts.</span>"
)


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
            load_error = panes.error_box(exc, context="Could not list the connections")
        conn_options = connection_options(connections)
        self._n_connections = len(conn_options)
        tsps = tsp_names(connections)

        label = LABEL
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
        self.source_name = widgets.Dropdown(description="TSP", options=[("any", None), *labelled(tsps)])
        self.resource = widgets.Dropdown(description="Resource", options=list(_RESOURCES), value="message")
        self.since = widgets.DatePicker(description="From", style=label)
        self.until = widgets.DatePicker(description="Until (incl.)", style=label)
        self.search_button = widgets.Button(description="Search", icon="list")

        self.table = widgets.HTML(value="")
        self.page_label = widgets.HTML(value="")
        self.prev_button = widgets.Button(description="Prev", disabled=True)
        self.next_button = widgets.Button(description="Next", disabled=True)
        self.picker = widgets.Dropdown(description="Operation", options=[], layout=WIDE)
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
            self.op_id_error.value = panes.field_error(
                f"not a valid operation id (a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6): {text!r}"
            )
            return None
        connection_id = self.lookup_connection.value or self._known_connection(op_id)
        if connection_id is None:
            self.op_id_error.value = panes.field_error(
                "pick the operation's connection: the API looks an operation up under its connection"
            )
            return None
        self.last_error = None
        try:
            op = self._client.operations.get(op_id, connection_id=connection_id)
        except Exception as exc:
            self.last_error = exc
            if isinstance(exc, NotFoundError):
                self.detail.value = panes.error_box_text("No operation with that id on that connection.")
            else:
                self.detail.value = panes.error_box(exc, context="The lookup failed")
            return None
        self.detail.value = panes.operation_result_html(op)
        return op

    def _known_connection(self, op_id: str) -> str | None:
        for op in self.results:
            if str(field(op, "id")) == op_id:
                return str(field(op, "connection_id"))
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
            kwargs["since"] = as_utc(self.since.value)
        if self.until.value is not None:
            # the picked day is included: the API's window ends before `to_datetime`
            kwargs["until"] = as_utc(self.until.value) + dt.timedelta(days=1)
        return kwargs

    def search(self) -> list[Any]:
        """List the operations matching the filters and show the first page.

        Returns:
            The operations fetched (at most ``MAX_BROWSE_RESULTS``).
        """
        self.last_error = None
        self.search_button.disabled = True
        self.table.value = panes.info_box("Searching…")
        try:
            # no progress bar: from a click handler it would print into the log console, not the form
            listing = self._client.operations.list(**self.filters(), progress=False)
            self.results, self.truncated = _take(listing, MAX_BROWSE_RESULTS)
        except Exception as exc:
            self.last_error = exc
            self.results, self.truncated = [], False
            self.table.value = panes.error_box(exc, context="The search failed")
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
            self.table.value = panes.info_box("No operations match these filters.")
            self.page_label.value = "rows 0 of 0"
            self.picker.options = []
            return
        more = " (the first ones only: narrow the filters)" if self.truncated else ""
        self.page_label.value = escape_html(f"rows {start + 1}-{start + len(rows)} of {n}{more}")
        self.table.value = panes.operations_table_html(rows, first_row=start + 1)
        # the value is the row's index in the results, so two pages never share a picker value
        self.picker.options = [
            ("(pick a row to see its logs)", None),
            *[(operation_label(op, start + i + 1), start + i) for i, op in enumerate(rows)],
        ]

    def _on_pick(self, change: dict[str, Any]) -> None:
        index = change["new"]
        if index is None:
            return
        self.detail.value = panes.operation_result_html(self.results[index])


def _take(items: Iterable[Any], limit: int) -> tuple[list[Any], bool]:
    """The first ``limit`` items, and whether there were more."""
    got = list(itertools.islice(iter(items), limit + 1))
    return got[:limit], len(got) > limit
