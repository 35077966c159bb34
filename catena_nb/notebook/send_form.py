"""The form that sends one driver message (see :mod:`catena_nb.notebook`)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import ipywidgets as widgets

from catena_nb._html import escape_html
from catena_nb.client.resources.tsps import write_warning
from catena_nb.errors import APIConnectionError, InvalidRequestError, ValidationError
from catena_nb.notebook import _panes as panes
from catena_nb.notebook._options import LABEL, WIDE, connection_options, user_options

logger = logging.getLogger("catena_nb.notebook")

__all__ = ["SendMessageForm"]

_PRIORITIES = ("none", "low", "medium", "high")


class SendMessageForm(widgets.VBox):  # type: ignore[misc]
    """A form that sends one driver message through the client and shows the operation that came back.

    The connection dropdown is filled from ``client.connections.list()``; the sender and recipient dropdowns
    from ``client.users.list(connection_id=...)`` whenever the connection changes. A user id may also be
    pasted by hand; a malformed one is refused beside its field and nothing is sent. A connection whose TSP
    does not take message writes (``client.tsps``) gets a warning under it; Send still sends.

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

        wide, label = WIDE, LABEL
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
        self.tsp_warning = widgets.HTML(value="")  # shown before a send the connection's TSP cannot take

        super().__init__(
            children=[
                self.connection,
                self.field_errors["connection_id"],
                self.tsp_warning,
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
            options = connection_options(self._client.connections.list())
        except Exception as exc:
            self.result.value = panes.error_box(exc, context="Could not list the connections")
            return
        self.connection.options = options
        self.connection.value = options[0][1] if options else None

    def _on_connection_change(self, change: dict[str, Any]) -> None:
        self._load_users()

    def _check_tsp(self) -> None:
        self.tsp_warning.value = ""
        tsps = getattr(self._client, "tsps", None)
        if not self.connection.value or tsps is None:
            return
        found = tsps.cached_for(self.connection.value)
        text = None if found is None else write_warning(found[0], found[1], "message")
        if text is not None:
            self.tsp_warning.value = (
                '<div role="alert" style="background:#fff4e5;border-left:4px solid #ff7f0e;padding:4px 8px">'
                f"<b>Warning</b>: {escape_html(text)}</div>"
            )

    def _load_users(self) -> None:
        cid = self.connection.value
        self.sender.options = []
        self.recipient.options = []
        self._check_tsp()
        if not cid:
            return
        try:
            users = list(self._client.users.list(connection_id=cid))
        except Exception as exc:
            self.result.value = panes.error_box(exc, context="Could not list this connection's users")
            return
        # dispatchers usually send and drivers receive, so each list starts with the likely role
        self.sender.options = user_options(users, drivers_first=False)
        self.recipient.options = user_options(users, drivers_first=True)
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
                self.field_errors[field].value = panes.field_error("pick a user or paste a user id")
            return str(dropdown.value) if dropdown.value is not None else None
        try:
            return str(uuid.UUID(text))
        except ValueError:
            self.field_errors[field].value = panes.field_error(f"not a valid user id (a UUID): {text!r}")
            return None

    def request(self) -> dict[str, Any] | None:
        """The keyword arguments ``Send`` would pass to ``client.messages.create``, or None if a field is bad.

        A bad field gets its message in the HTML under it.
        """
        self._clear_errors()
        ok = True
        if not self.connection.value:
            self.field_errors["connection_id"].value = panes.field_error("pick a connection")
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
            self.result.value = panes.error_box_text("Nothing was sent: fix the fields marked above.")
            return None
        self._busy = True
        self.send_button.disabled = True
        self.result.value = panes.info_box("Sending…")
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
        self.result.value = panes.operation_result_html(op)
        return op

    def _on_send(self, _button: widgets.Button) -> None:
        self.send()

    def _show_send_error(self, exc: BaseException) -> None:
        field_errors = _field_errors(exc)
        if field_errors is None:
            context = (
                "The connection failed after the request left: the message may have been created; "
                "look it up before sending again"
                if isinstance(exc, APIConnectionError) and exc.maybe_sent
                else "The message was not sent"
            )
            self.result.value = panes.error_box(exc, context=context)
            return
        unplaced = []
        for field, message in field_errors:
            box = self.field_errors.get(field)
            if box is None:
                unplaced.append(f"{field}: {message}")
            else:
                box.value = panes.field_error(message)
        text = (
            "Nothing was sent: the request is invalid (see the fields marked above)."
            if isinstance(exc, InvalidRequestError)  # the client's own check: nothing left
            else "The API refused the request (see the fields marked above)."
        )
        if unplaced:
            text += " " + "; ".join(unplaced)
        self.result.value = panes.error_box_text(text)


def _field_errors(exc: BaseException) -> list[tuple[str, str]] | None:
    """``(field, message)`` pairs when ``exc`` is a validation error that names fields, else None: the
    client's own check before sending (``InvalidRequestError.errors``) or the server's 422
    (``ValidationError.field_errors``)."""
    if isinstance(exc, InvalidRequestError):
        items = exc.errors
    elif isinstance(exc, ValidationError):
        items = exc.field_errors
    else:
        return None
    return [(str(e.get("field") or ""), str(e.get("message") or "invalid")) for e in items]
