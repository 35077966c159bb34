"""The retry loop: which answers are retried, how long each client waits, that only lookups retry, and
that the loop decides without doing any I/O."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random

import httpx
import pytest

from catena_nb.client._deadline import Deadline
from catena_nb.client._transport import RetryLoop, RetryPolicy, Target, retry_after_s
from catena_nb.errors import APIConnectionError, RateLimitError, ServerError
from tests.client.conftest import MakeDriver
from tests.support.client_mock import CONN, FAILED_OP, MockAPI, op, page, row


def test_retry_after_header_seconds_then_body() -> None:
    """`Retry-After` in seconds wins over the body's `retry_after_seconds`, which is used otherwise."""
    body = json.dumps({"detail": {"retry_after_seconds": 9}})
    assert retry_after_s({"retry-after": "3"}, body) == 3.0
    assert retry_after_s({}, body) == 9.0
    assert retry_after_s({}, "not json") is None
    assert retry_after_s({}, json.dumps({"detail": "text"})) is None


def test_retry_after_http_date() -> None:
    """`Retry-After` as an HTTP date gives the seconds until then."""
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    hint = retry_after_s({"Retry-After": email.utils.format_datetime(when, usegmt=True)})
    assert hint is not None
    assert 100 < hint <= 120


def test_backoff_is_jittered_exponential_and_capped() -> None:
    """Backoff draws from [0, initial * 2**n], capped at max_delay; hints are capped too."""
    policy = RetryPolicy(max_retries=5, initial_delay=0.5, max_delay=4.0, rng=random.Random(1))
    for attempt in range(8):
        for _ in range(50):
            assert 0 <= policy.backoff(attempt) <= min(4.0, 0.5 * 2**attempt)
    assert policy.delay(0, hint=100.0) == 4.0
    assert policy.delay(0, hint=1.5) == 1.5


def test_the_loop_decides_without_io() -> None:
    """Driven by hand, the loop asks for a retry after a 503 (its hint as the wait), then returns the 200."""
    built: list[httpx.Timeout] = []

    def build(timeout: httpx.Timeout) -> httpx.Request:
        built.append(timeout)
        return httpx.Request("GET", "http://api.test/x")

    loop = RetryLoop(
        Target("GET", "/x"), build, Deadline.start(60), policy=RetryPolicy(), timeout=httpx.Timeout(5.0)
    )
    answers = [httpx.Response(503, headers={"retry-after": "2"}), httpx.Response(200)]
    waits = []
    for attempt in loop:
        waits.append(attempt.wait)
        attempt.response = answers.pop(0)
        attempt.start(None)
    assert waits == [None, 2.0]
    assert loop.response.status_code == 200
    assert len(built) == 2
    assert all(t.read is not None and t.read <= 5.0 for t in built)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_lookup_is_retried_on_retryable_status(drive: MakeDriver, status: int) -> None:
    """A GET answered 429/500/502/503/504 is retried, then succeeds."""
    api = MockAPI()
    api.script = [httpx.Response(status, json={"message": "x"}), httpx.Response(200, json=op())]
    d = drive(api)
    got = d(lambda c: c.operations.get(op()["id"], connection_id=CONN))
    assert got.succeeded
    assert len(api.api_requests()) == 2
    assert len(d.slept) == 1


def test_lookup_honours_retry_after_and_logs_each_decision(
    drive: MakeDriver, caplog: pytest.LogCaptureFixture
) -> None:
    """The wait after a 429 is its Retry-After; each retry decision is logged at debug level."""
    api = MockAPI()
    api.script = [
        httpx.Response(429, headers={"Retry-After": "2"}, json={"code": 429, "message": "Too Many Requests"}),
        httpx.Response(429, json={"code": 429, "detail": {"retry_after_seconds": 3}}),
        page([op()]),
    ]
    caplog.set_level(logging.DEBUG, logger="catena_nb")
    d = drive(api)
    items = d(lambda c: c.operations.list().to_list())
    assert len(items) == 1
    assert d.slept == [2.0, 3.0]
    decisions = [r for r in caplog.records if r.name == "catena_nb.retry" and "retrying" in r.message]
    assert len(decisions) == 2
    assert all(r.levelno == logging.DEBUG for r in decisions)


def test_lookup_gives_up_after_max_retries(drive: MakeDriver) -> None:
    """After max_retries the last error is raised."""
    api = MockAPI()
    api.script = [httpx.Response(500, json={"message": "Internal Server Error"})] * 4
    d = drive(api, max_retries=3)
    with pytest.raises(ServerError):
        d(lambda c: c.operations.get(op()["id"], connection_id=CONN))
    assert len(api.api_requests()) == 4
    assert len(d.slept) == 3


def test_lookup_retried_on_dropped_connection(drive: MakeDriver) -> None:
    """A GET whose connection drops is sent again."""
    api = MockAPI()
    api.script = [httpx.RemoteProtocolError("Server disconnected"), httpx.ReadTimeout("slow"), page([])]
    assert drive(api)(lambda c: c.operations.list().to_list()) == []
    assert len(api.api_requests()) == 3


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"message": "Internal Server Error"}),
        (503, {"message": "Unavailable"}),
        (429, {"code": 429, "detail": {"retry_after_seconds": 1}}),
    ],
)
def test_create_is_never_retried(drive: MakeDriver, status: int, body: dict[str, object]) -> None:
    """A single create is sent once whatever the answer."""
    api = MockAPI()
    api.script = [httpx.Response(status, json=body), httpx.Response(200, json=FAILED_OP)]
    with pytest.raises((ServerError, RateLimitError)):
        drive(api)(lambda c: c.messages.create(**row(), sync=True))
    assert len(api.api_requests()) == 1


def test_create_connection_error_is_not_retried(drive: MakeDriver) -> None:
    """A create whose connection drops raises at once, saying the API may have received it."""
    api = MockAPI()
    api.script = [httpx.RemoteProtocolError("Server disconnected")]
    with pytest.raises(APIConnectionError) as info:
        drive(api)(lambda c: c.messages.create(**row()))
    assert info.value.maybe_sent
    assert "may have received" in str(info.value)
    assert len(api.api_requests()) == 1


def test_create_whose_connection_was_refused_says_it_was_not_sent(drive: MakeDriver) -> None:
    """A create whose connection could not be opened raises at once, saying the request was not sent."""
    api = MockAPI()
    api.script = [httpx.ConnectError("refused")]
    with pytest.raises(APIConnectionError) as info:
        drive(api)(lambda c: c.messages.create(**row()))
    assert not info.value.maybe_sent
    assert "it was not sent" in str(info.value)
