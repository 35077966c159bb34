"""`client.tsps`: each TSP's write support per resource, connections linked by `tsp_id`, and the
`UnsupportedResourceWarning` of `create_many` before a send through a TSP that takes no messages."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from catena_nb.errors import InvalidRequestError, NotFoundError, UnsupportedResourceWarning
from catena_nb.models import Connection, IntegrationStatus, Tsp
from catena_nb.sandbox import Sandbox
from tests.client.conftest import MakeDriver
from tests.support.client_mock import CONN, MockAPI, row
from tests.support.drivers import Driver


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A fast sandbox with its seeded TSPs, one of which takes no message writes."""
    with Sandbox(seed=7, tsp_latency=0.0, time_scale=0.001) as sandbox:
        yield sandbox


@pytest.fixture
def d(sb: Sandbox, kind: str) -> Iterator[Driver]:
    """A sync or async client of the sandbox."""
    with Driver(kind, base_url=sb.url, token=sb.token, progress=False) as driver:
        yield driver


def _unsupported(sb: Sandbox) -> str:
    return next(c.id for c in sb.connections if c not in sb.message_connections)


def test_list_and_get_give_each_tsps_support(d: Driver, sb: Sandbox) -> None:
    """tsps.list() gives a Tsp per seeded TSP, tsps.get(id) the same one; every connection's tsp_id is
    listed; statuses are IntegrationStatus values, and one TSP's message writes are not implemented."""
    tsps = d(lambda c: c.tsps.list().to_list())
    assert all(isinstance(t, Tsp) for t in tsps)
    by_id = {t.tsp_id: t for t in tsps}
    assert {t.id for t in sb.tsps} == set(by_id)
    connections = d(lambda c: c.connections.list().to_list())
    assert {c.tsp_id for c in connections} <= set(by_id)
    got = {t.tsp_id: d(lambda c, tid=t.tsp_id: c.tsps.get(tid)) for t in tsps}  # type: ignore[misc]
    assert got == by_id
    for tsp in tsps:
        assert tsp.support("message") in set(IntegrationStatus)
    no_messages = [t for t in tsps if not t.writes("message")]
    assert no_messages
    assert all(t.support("message") != IntegrationStatus.IMPLEMENTED for t in no_messages)
    assert "message=" in repr(no_messages[0])


def test_for_connection_follows_the_tsp_id(d: Driver, sb: Sandbox) -> None:
    """tsps.for_connection(id) finds the connection's TSP by its tsp_id."""
    conn_id = _unsupported(sb)
    tsp = d(lambda c: c.tsps.for_connection(conn_id))
    conn = next(c for c in sb.connections if c.id == conn_id)
    assert tsp.tsp_id == conn.tsp_id
    assert not tsp.writes("message")


def test_bad_and_unknown_tsp_ids(drive: MakeDriver, d: Driver) -> None:
    """A tsp_id that is not a UUID is refused before any request; an unknown one raises NotFoundError."""
    api = MockAPI()
    mocked = drive(api)
    with pytest.raises(InvalidRequestError, match="tsp_id"):
        mocked(lambda c: c.tsps.get("samsara"))
    assert api.requests == []
    assert api.directory_requests == []
    with pytest.raises(NotFoundError):
        d(lambda c: c.tsps.get("00000000-0000-4000-8000-000000000000"))


def test_the_model_is_tolerant() -> None:
    """Tsp keeps unknown fields and unknown statuses, and reads null integrations as none."""
    tsp = Tsp.model_validate(
        {"tsp_id": "t1", "integrations": {"message": "beta", "vehicle": "implemented"}, "extra": 1}
    )
    assert tsp.support("message") == "beta"
    assert not tsp.writes("message")
    assert tsp.writes("vehicle")
    assert tsp.support("trailer") is None
    assert tsp.name == "t1"
    assert Tsp.model_validate({"tsp_id": "t2", "integrations": None}).integrations == {}


def test_create_many_warns_then_sends_and_catena_fails_the_rows(d: Driver, sb: Sandbox) -> None:
    """Rows through a connection whose TSP takes no messages: one UnsupportedResourceWarning naming the
    connection, the TSP and the row count; the rows are still sent, and fail with a validation log saying
    the TSP does not support message writes. Rows through other connections warn nothing."""
    bad = next(c for c in sb.connections if c.id == _unsupported(sb))
    good = sb.message_connections[0]
    rows = [
        {
            "connection_id": conn.id,
            "sender_id": conn.users[0],
            "recipient_id": conn.users[1],
            "message_text": f"Dock {i}",
        }
        for i, conn in enumerate([bad, bad, good])
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = d(lambda c: c.messages.create_many(rows, sync=True, progress=False))
    unsupported = [w for w in caught if issubclass(w.category, UnsupportedResourceWarning)]
    assert len(unsupported) == 1
    text = str(unsupported[0].message)
    assert bad.id in text
    assert "2 rows of this batch go" in text
    assert "message writes not_supported" in text
    assert len(batch.operations) == 3
    failed = [batch[i].operation for i in (0, 1)]
    assert all(op is not None and op.status == "failed" for op in failed)
    for op in failed:
        assert op is not None
        assert op.logs[-1].error_type == "validation"
        assert "does not support message writes" in (op.logs[-1].error_details or "")


def test_create_many_without_such_rows_warns_nothing(d: Driver, sb: Sandbox) -> None:
    """A batch through connections that take messages raises no UnsupportedResourceWarning."""
    conn = sb.message_connections[0]
    rows = [{"connection_id": conn.id, "sender_id": conn.users[0], "recipient_id": conn.users[1]}]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsupportedResourceWarning)
        batch = d(lambda c: c.messages.create_many(rows, sync=True, progress=False))
    assert len(batch.operations) == 1


def test_a_failed_tsp_lookup_only_means_no_warning(drive: MakeDriver) -> None:
    """When the connection or its TSP cannot be looked up (404 here), create_many warns nothing and sends."""
    api = MockAPI()
    d = drive(api)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsupportedResourceWarning)
        d(lambda c: c.messages.create_many([row()], sync=True))
    assert api.counts["POST /v2/telematics/messages"] == 1
    assert [r.url.path for r in api.directory_requests] == [f"/v2/integrations/connections/{CONN}"]


def test_lookups_are_made_once_per_connection(drive: MakeDriver) -> None:
    """The connection and its TSP are looked up once per client, whatever the number of rows and batches."""
    api = MockAPI()
    tsp_id = "5f0e4a57-4b5e-4c55-9f0a-3d6c1ab0a1f2"
    api.directory = {
        f"/v2/integrations/connections/{CONN}": Connection.model_validate(
            {"id": CONN, "source_name": "hos247", "tsp_id": tsp_id, "fleet_ref": "F1"}
        ).model_dump(mode="json"),
        f"/v2/integrations/tsps/{tsp_id}": {"tsp_id": tsp_id, "integrations": {"message": "not_implemented"}},
    }
    d = drive(api)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d(lambda c: c.messages.create_many([row(), row()], sync=True))
        d(lambda c: c.messages.create_many([row()], sync=True))
    assert len(api.directory_requests) == 2
    texts = [str(w.message) for w in caught if issubclass(w.category, UnsupportedResourceWarning)]
    assert len(texts) == 2
    assert "message writes not_implemented (Catena does not write it)" in texts[0]
    assert api.counts["POST /v2/telematics/messages"] == 3
