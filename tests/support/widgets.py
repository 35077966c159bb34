"""What the widget tests share: the create route, a hostile text, and a send form on a sandbox connection."""

from __future__ import annotations

from typing import Any

from catena_nb.client import CatenaClient
from catena_nb.notebook import SendMessageForm
from catena_nb.sandbox import Sandbox

CREATE = ("POST", "/v2/telematics/messages")
SCRIPT = "<script>alert(1)</script>"


def creates(sandbox: Sandbox) -> int:
    """How many create requests the sandbox has answered."""
    return sandbox.requests[CREATE]


def send_form(client: CatenaClient, sandbox: Sandbox, *, connection: Any = None) -> SendMessageForm:
    """A send form with a connection picked (the sandbox's first unless given)."""
    form = SendMessageForm(client)
    conn = connection or sandbox.connections[0]
    form.connection.value = conn.id
    return form
