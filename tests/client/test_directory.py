"""`client.connections`, `client.users` and the messages listing, sync and async, against a scripted API."""

from __future__ import annotations

import httpx
import pytest

from catena_nb.errors import InvalidRequestError
from tests.client.conftest import MakeDriver
from tests.support.client_mock import CONN, SENDER, MockAPI, page


def test_messages_users_connections_listings(drive: MakeDriver) -> None:
    """The messages, users and connections listings hit their paths with their filters."""
    seen: list[httpx.Request] = []
    api = MockAPI()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/messages"):
            return page([{"id": "m", "status": "delivered"}, {"id": "n", "status": "read"}])
        return page([{"id": "x", "source_name": "samsara"}])

    api.handler = handler
    d = drive(api)
    msgs = d(lambda c: c.messages.list(connection_id=CONN, sender_ids=[SENDER], status="read").to_list())
    users = d(lambda c: c.users.list(connection_id=CONN, is_driver=True).to_list())
    conns = d(lambda c: c.connections.list().to_list())
    assert [m.id for m in msgs] == ["n"]
    assert seen[0].url.params.get_list("sender_ids") == [SENDER]
    assert seen[1].url.path == "/v2/telematics/users"
    assert seen[1].url.params["is_driver"] == "true"
    assert seen[2].url.path == "/v2/integrations/connections"
    assert users[0].id == "x"
    assert conns[0].source_name == "samsara"


def test_connection_get_by_id(drive: MakeDriver) -> None:
    """`connections.get` looks one connection up by its id, and refuses a bad id before any I/O."""
    api = MockAPI()
    api.intercept_directory = False
    api.handler = lambda r: httpx.Response(200, json={"id": CONN, "source_name": "samsara"})
    d = drive(api)
    got = d(lambda c: c.connections.get(CONN))
    with pytest.raises(InvalidRequestError):
        d(lambda c: c.connections.get("not-a-uuid"))
    assert got.source_name == "samsara"
    assert [r.url.path for r in api.requests] == [f"/v2/integrations/connections/{CONN}"]
