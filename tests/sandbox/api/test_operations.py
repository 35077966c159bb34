"""The resource-operation routes: lookup by id, and the list with its filters, window and cursor pages."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.sim.timestamps import iso
from tests.support.sandbox import message_body, synthetic_operation

LIST = "/v2/integrations/connections/resource-operations"
BASE = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
# query parameters as the tests send them
Params = dict[str, str | int | list[str]]
WINDOW = {"from_datetime": "2026-03-01T00:00:00Z", "to_datetime": "2026-03-10T00:00:00Z"}


@pytest.fixture(scope="module")
def loaded() -> Iterator[Sandbox]:
    """A sandbox holding 2,500 synthetic operations in March 2026 on two connections."""
    with Sandbox(seed=11, tsp_latency=0.0, time_scale=0.001) as sandbox:
        a, b = sandbox.connections[0], sandbox.connections[1]
        ops = []
        for i in range(2500):
            conn = a if i % 5 else b
            # every 7th pair shares a timestamp, so the id must break ties
            at = iso(BASE + dt.timedelta(minutes=5 * (i - i % 2 * (i % 7 == 0))))
            ops.append(
                synthetic_operation(
                    conn.id,
                    at,
                    source_name=conn.source_name,
                    fleet_ref=conn.fleet_ref,
                    operation_type="update" if i % 10 == 3 else "create",
                    resource="group_message" if i % 50 == 1 else "message",
                    source_id=f"S{i}" if i % 4 == 0 else None,
                )
            )
        sandbox.state.add_operations(ops)
        yield sandbox


@pytest.fixture
def lc(loaded: Sandbox) -> Iterator[httpx.Client]:
    """A client of the loaded sandbox."""
    with httpx.Client(
        base_url=loaded.url, headers={"Authorization": f"Bearer {loaded.token}"}, timeout=30
    ) as c:
        yield c


def _all_pages(client: httpx.Client, params: Params) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        page = client.get(LIST, params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        assert "total" not in body  # integrations pages have no total
        items += body["items"]
        cursor = body["next_page"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def test_lookup_returns_shape_b(client: httpx.Client, sb: Sandbox) -> None:
    """An operation looked up by connection and id has source_name and fleet_ref, and no deleted_at."""
    op = client.post("/v2/telematics/messages", params={"is_sync": "true"}, json=message_body(sb, 0)).json()
    r = client.get(f"/v2/integrations/connections/{op['connection_id']}/resource-operations/{op['id']}")
    assert r.status_code == 200
    got = r.json()
    assert got["source_name"] == sb.connections[0].source_name
    assert "deleted_at" not in got
    assert "fleet_ref" in got
    assert got["logs"]
    assert "response_headers" not in got["logs"][0]
    assert {k: got[k] for k in ("id", "status", "resource_id", "source_id")} == {
        k: op[k] for k in ("id", "status", "resource_id", "source_id")
    }


def test_lookup_404_when_unknown_or_on_another_connection(client: httpx.Client, sb: Sandbox) -> None:
    """An unknown id, or a known id under another connection, answers 404 with the documented body."""
    op = client.post("/v2/telematics/messages", json=message_body(sb, 0)).json()
    other = sb.connections[1].id
    for conn_id, op_id in ((op["connection_id"], str(uuid.uuid4())), (other, op["id"])):
        r = client.get(f"/v2/integrations/connections/{conn_id}/resource-operations/{op_id}")
        assert r.status_code == 404
        assert r.json() == {"code": 404, "message": "Not Found", "detail": r.json()["detail"]}
        assert isinstance(r.json()["detail"], str)
    r = client.get(f"/v2/integrations/connections/{other}/resource-operations/not-a-uuid")
    assert r.status_code == 422
    assert r.json()["detail"][0]["path"] == "path.resource_operation_id"


def test_cursor_pages_return_every_operation_once(lc: httpx.Client, loaded: Sandbox) -> None:
    """Following next_page with size 1000 yields each of the 2,500 operations exactly once, in order."""
    items = _all_pages(lc, {**WINDOW, "size": 1000})
    ids = [op["id"] for op in items]
    assert len(ids) == 2500
    assert len(set(ids)) == 2500
    keys = [(op["created_at"], op["id"]) for op in items]
    assert keys == sorted(keys)


def test_pages_are_stable_while_operations_arrive(lc: httpx.Client, loaded: Sandbox) -> None:
    """Operations added between two pages neither shift nor repeat what the pages show."""
    conn = loaded.connections[2]
    window = {"from_datetime": "2026-04-01T00:00:00Z", "to_datetime": "2026-04-02T00:00:00Z"}
    start = dt.datetime(2026, 4, 1, 1, tzinfo=dt.UTC)
    loaded.state.add_operations(
        synthetic_operation(conn.id, iso(start + dt.timedelta(seconds=i))) for i in range(30)
    )
    seen: list[str] = []
    cursor: str | None = None
    added = 0
    while True:
        params: Params = {
            **window,
            "size": 7,
            "connection_id": conn.id,
            **({"cursor": cursor} if cursor else {}),
        }
        body = lc.get(LIST, params=params).json()
        seen += [op["id"] for op in body["items"]]
        if added < 3:  # one before the cursor (never shown) and one after it (shown later)
            loaded.state.add_operation(
                synthetic_operation(conn.id, iso(start - dt.timedelta(minutes=1 + added)))
            )
            loaded.state.add_operation(
                synthetic_operation(conn.id, iso(start + dt.timedelta(hours=1 + added)))
            )
            added += 1
        cursor = body["next_page"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 33


def test_previous_page_walks_back(lc: httpx.Client) -> None:
    """previous_page of the second page gives the first page again."""
    first = lc.get(LIST, params={**WINDOW, "size": 100}).json()
    second = lc.get(LIST, params={**WINDOW, "size": 100, "cursor": first["next_page"]}).json()
    assert first["previous_page"] is None
    assert second["previous_page"] is not None
    again = lc.get(LIST, params={**WINDOW, "size": 100, "cursor": second["previous_page"]}).json()
    assert [o["id"] for o in again["items"]] == [o["id"] for o in first["items"]]
    same = lc.get(LIST, params={**WINDOW, "size": 100, "cursor": second["current_page"]}).json()
    assert [o["id"] for o in same["items"]] == [o["id"] for o in second["items"]]


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({}, 2500),
        ({"operation": "update"}, 250),
        ({"resource": "group_message"}, 50),
        ({"resource": "message", "source_id": "S8"}, 1),
        ({"fleet_refs": ["no-such-fleet"]}, 0),
    ],
)
def test_list_filters(lc: httpx.Client, loaded: Sandbox, params: Params, count: int) -> None:
    """Each documented filter keeps exactly the matching operations."""
    assert len(_all_pages(lc, {**WINDOW, "size": 1000, **params})) == count


def test_connection_source_name_and_fleet_filters(lc: httpx.Client, loaded: Sandbox) -> None:
    """connection_id, source_name and repeated fleet_refs select the operations of those connections."""
    a, b = loaded.connections[0], loaded.connections[1]
    assert len(_all_pages(lc, {**WINDOW, "size": 1000, "connection_id": b.id})) == 500
    by_name = _all_pages(lc, {**WINDOW, "size": 1000, "source_name": b.source_name})
    assert {op["source_name"] for op in by_name} == {b.source_name}
    both = _all_pages(lc, {**WINDOW, "size": 1000, "fleet_refs": [a.fleet_ref, b.fleet_ref]})
    assert len(both) == 2500
    narrow = {"from_datetime": "2026-03-01T00:00:00Z", "to_datetime": "2026-03-01T01:00:00Z"}
    assert len(_all_pages(lc, {**narrow, "size": 1000})) == 12


@pytest.mark.parametrize("size", [0, 1001, -1])
def test_size_out_of_bounds_is_422(lc: httpx.Client, size: int) -> None:
    """size must lie in 1..1000."""
    r = lc.get(LIST, params={"size": size})
    assert r.status_code == 422
    assert r.json()["detail"][0]["path"] == "query.size"


def test_size_default_is_300(lc: httpx.Client) -> None:
    """Without size a page has 300 operations."""
    assert len(lc.get(LIST, params=WINDOW).json()["items"]) == 300


def test_window_over_45_days_is_422(lc: httpx.Client) -> None:
    """A window longer than 45 days, or one that ends before it starts, is refused with 422."""
    r = lc.get(LIST, params={"from_datetime": "2026-01-01T00:00:00Z", "to_datetime": "2026-02-15T00:00:01Z"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["path"] == "query.to_datetime"
    ok = lc.get(LIST, params={"from_datetime": "2026-01-01T00:00:00Z", "to_datetime": "2026-02-15T00:00:00Z"})
    assert ok.status_code == 200
    r = lc.get(LIST, params={"from_datetime": "2026-02-01T00:00:00Z", "to_datetime": "2026-02-01T00:00:00Z"})
    assert r.status_code == 422


def test_default_window_is_the_last_day(lc: httpx.Client, loaded: Sandbox) -> None:
    """Without dates, only the last day's operations are listed (not March's)."""
    ids = {op["id"] for op in _all_pages(lc, {"size": 1000})}
    assert all(op["created_at"] >= iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=1, minutes=1))
               for op in loaded.state.iter_operations() if op["id"] in ids)  # fmt: skip
    assert len(ids) < 2500


def test_source_id_needs_resource(lc: httpx.Client) -> None:
    """source_id without resource is a 422 naming source_id."""
    r = lc.get(LIST, params={"source_id": "S8"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["path"] == "query.source_id"


def test_bad_filter_values_are_422(lc: httpx.Client) -> None:
    """An unknown resource or operation, or a malformed connection_id, is a 422 naming each."""
    r = lc.get(LIST, params={"resource": "spaceship", "operation": "delete", "connection_id": "x"})
    assert r.status_code == 422
    assert {d["path"] for d in r.json()["detail"]} == {
        "query.resource",
        "query.operation",
        "query.connection_id",
    }


def test_bad_cursor_is_400(lc: httpx.Client) -> None:
    """A cursor the sandbox did not issue answers 400 with the documented body."""
    r = lc.get(LIST, params={"cursor": "garbage!"})
    assert r.status_code == 400
    assert r.json()["code"] == 400
    assert r.json()["message"] == "Bad Request"
