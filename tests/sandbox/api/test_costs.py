"""What the API costs: a latency per request and per item listed, and a rate limit on listings (429)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.api.costs import ApiCosts, CostMiddleware, RateLimiter
from tests.support.sandbox import authed_client

OPERATIONS = "/v2/integrations/connections/resource-operations"
WINDOW = {"from_datetime": "2026-10-25T00:00:00Z", "to_datetime": "2026-11-02T00:00:00Z"}


def _timed(client: httpx.Client, path: str, **params: str | int) -> tuple[httpx.Response, float]:
    t0 = time.perf_counter()
    response = client.get(path, params=params)
    return response, time.perf_counter() - t0


def test_every_answer_takes_at_least_the_latency() -> None:
    """With api_latency=0.2 a lookup and a list page each take at least 0.2 s."""
    with Sandbox(seed=3, api_latency=0.2) as sandbox, authed_client(sandbox) as c:
        conn = sandbox.connections[0].id
        answer, seconds = _timed(c, f"/v2/integrations/connections/{conn}")
        assert answer.status_code == 200
        assert seconds >= 0.2
        page, seconds = _timed(c, "/v2/integrations/connections", size=1)
        assert page.status_code == 200
        assert seconds >= 0.2


def test_a_page_of_1000_costs_more_than_a_page_of_10() -> None:
    """A full page waits for its items too: 1,000 items twice the latency, 10 items just over it.

    The answers are held for at least their cost; how much longer a busy machine takes is not compared
    (a page of 10 sent while the tests' other worker is busy can arrive after a page of 1,000).
    """
    costs = ApiCosts(latency=0.2)
    assert costs.delay(1000) == pytest.approx(0.4)
    assert costs.delay(10) == pytest.approx(0.202)
    with (
        Sandbox(seed=3, history=8, anchor="2026-11-01", api_latency=0.2, time_scale=0.002) as sandbox,
        authed_client(sandbox) as c,
    ):
        c.get(OPERATIONS, params={**WINDOW, "size": 1000})  # the server's JSON of these records is warm now
        small, small_s = _timed(c, OPERATIONS, **WINDOW, size=10)
        big, big_s = _timed(c, OPERATIONS, **WINDOW, size=1000)
        assert len(small.json()["items"]) == 10
        assert len(big.json()["items"]) == 1000
        assert small_s >= costs.delay(10)
        assert big_s >= costs.delay(1000)


def test_the_sandbox_refuses_a_bad_latency() -> None:
    """A negative api_latency is refused before anything starts."""
    with pytest.raises(ValueError, match="api_latency"):
        Sandbox(api_latency=-1)


def test_the_rate_limiter_refills_at_its_rate() -> None:
    """A bucket of 2 at 1 a second lets 2 requests through, then asks for the time until the next token."""
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=2.0, clock=lambda: now[0])
    assert limiter.take(b"a") == 0.0
    assert limiter.take(b"a") == 0.0
    assert limiter.take(b"a") == pytest.approx(1.0)
    assert limiter.take(b"b") == 0.0  # each token has its own bucket
    now[0] = 0.5
    assert limiter.take(b"a") == pytest.approx(0.5)
    now[0] = 1.0
    assert limiter.take(b"a") == 0.0


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b'{"items": [1, 2, 3]}'})


def test_listings_past_the_limit_get_the_documented_429() -> None:
    """Past the burst, a list request is answered 429 with `detail.retry_after_seconds`; lookups are not."""
    app = CostMiddleware(_ok, ApiCosts(0.0, rate=0.5, burst=2.0), lambda path: False)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
            lists = [await http.get(OPERATIONS, headers={"Authorization": "Bearer x"}) for _ in range(3)]
            lookup = await http.get(f"{OPERATIONS}/abc", headers={"Authorization": "Bearer x"})
            return [*lists, lookup]

    first, second, refused, lookup = asyncio.run(run())
    assert [first.status_code, second.status_code, lookup.status_code] == [200, 200, 200]
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == 429
    assert body["message"] == "Too Many Requests"
    assert body["detail"]["retry_after_seconds"] == 2  # a whole number of seconds, rounded up


def test_the_command_takes_an_api_latency() -> None:
    """`catena-nb sandbox --api-latency 0.05` parses to the sandbox's api_latency."""
    from catena_nb.cli import build_parser

    args = build_parser().parse_args(["sandbox", "--api-latency", "0.05"])
    assert args.api_latency == 0.05


def test_a_page_is_charged_by_its_items_read_or_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page the routes built says how many items it holds (it is not decoded again); any other listing
    body is counted by reading it. Both are charged the same per item."""
    from catena_nb.sandbox.api.pagination import PageSlice, envelope

    waits: list[float] = []

    async def recorded(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("catena_nb.sandbox.api.costs.anyio.sleep", recorded)
    built = envelope([b'{"id":"a"}', b'{"id":"b"}', b'{"id":"c"}'], PageSlice([], None, None, None, None))
    assert built.item_count == 3

    def app_sending(body: bytes) -> CostMiddleware:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})

        return CostMiddleware(app, ApiCosts(latency=0.1), exempt=lambda path: False)

    async def nothing() -> dict[str, object]:
        return {}

    async def ignore(message: object) -> None:
        return None

    scope = {"type": "http", "method": "GET", "path": OPERATIONS, "headers": []}
    for body in (built, bytes(built)):
        asyncio.run(app_sending(body)(scope, nothing, ignore))
    assert waits == [ApiCosts(latency=0.1).delay(3)] * 2
