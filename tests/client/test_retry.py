"""Retry policy: which answers are retried, how long the client waits, and that only lookups retry."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random

import httpx
import pytest

from catena_nb.client import CatenaClient
from catena_nb.client._retry import Pacer, RetryPolicy, retry_after_s
from catena_nb.errors import APIConnectionError, RateLimitError, ServerError
from tests.support.client_mock import BASE_URL, CONN, FAILED_OP, MockAPI, op, page, row


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


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_lookup_is_retried_on_retryable_status(status: int) -> None:
    """A GET answered 429/500/502/503/504 is retried, then succeeds."""
    api = MockAPI()
    api.script = [httpx.Response(status, json={"message": "x"}), httpx.Response(200, json=op())]
    slept: list[float] = []
    with CatenaClient(base_url=BASE_URL, token="t", transport=api.transport(), sleep=slept.append) as client:
        got = client.operations.get(op()["id"], connection_id=CONN)
    assert got.succeeded
    assert len(api.api_requests()) == 2
    assert len(slept) == 1


def test_lookup_honours_retry_after_and_logs_each_decision(caplog: pytest.LogCaptureFixture) -> None:
    """The wait after a 429 is its Retry-After; each retry decision is logged at debug level."""
    api = MockAPI()
    api.script = [
        httpx.Response(429, headers={"Retry-After": "2"}, json={"code": 429, "message": "Too Many Requests"}),
        httpx.Response(429, json={"code": 429, "detail": {"retry_after_seconds": 3}}),
        page([op()]),
    ]
    slept: list[float] = []
    caplog.set_level(logging.DEBUG, logger="catena_nb")
    with CatenaClient(base_url=BASE_URL, token="t", transport=api.transport(), sleep=slept.append) as client:
        items = client.operations.list().to_list()
    assert len(items) == 1
    assert slept == [2.0, 3.0]
    decisions = [r for r in caplog.records if r.name == "catena_nb.retry" and "retrying" in r.message]
    assert len(decisions) == 2
    assert all(r.levelno == logging.DEBUG for r in decisions)


def test_lookup_gives_up_after_max_retries() -> None:
    """After max_retries the last error is raised."""
    api = MockAPI()
    api.script = [httpx.Response(500, json={"message": "Internal Server Error"})] * 4
    slept: list[float] = []
    with (
        CatenaClient(
            base_url=BASE_URL, token="t", transport=api.transport(), sleep=slept.append, max_retries=3
        ) as client,
        pytest.raises(ServerError),
    ):
        client.operations.get(op()["id"], connection_id=CONN)
    assert len(api.api_requests()) == 4
    assert len(slept) == 3


def test_lookup_retried_on_dropped_connection() -> None:
    """A GET whose connection drops is sent again."""
    api = MockAPI()
    api.script = [httpx.RemoteProtocolError("Server disconnected"), httpx.ReadTimeout("slow"), page([])]
    with CatenaClient(
        base_url=BASE_URL, token="t", transport=api.transport(), sleep=lambda s: None
    ) as client:
        assert client.operations.list().to_list() == []
    assert len(api.api_requests()) == 3


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"message": "Internal Server Error"}),
        httpx.Response(503, json={"message": "Unavailable"}),
        httpx.Response(429, json={"code": 429, "detail": {"retry_after_seconds": 1}}),
    ],
)
def test_create_is_never_retried(answer: httpx.Response) -> None:
    """A single create is sent once whatever the answer."""
    api = MockAPI()
    api.script = [answer, httpx.Response(200, json=FAILED_OP)]
    with (
        CatenaClient(base_url=BASE_URL, token="t", transport=api.transport(), sleep=lambda s: None) as client,
        pytest.raises((ServerError, RateLimitError)),
    ):
        client.messages.create(**row(), sync=True)
    assert len(api.api_requests()) == 1


def test_create_connection_error_is_not_retried() -> None:
    """A create whose connection drops raises at once, saying the API may have received it."""
    api = MockAPI()
    api.script = [httpx.RemoteProtocolError("Server disconnected")]
    with (
        CatenaClient(base_url=BASE_URL, token="t", transport=api.transport(), sleep=lambda s: None) as client,
        pytest.raises(APIConnectionError) as info,
    ):
        client.messages.create(**row())
    assert info.value.maybe_sent
    assert "may have received" in str(info.value)
    assert len(api.api_requests()) == 1


def test_pacer_shares_one_pause() -> None:
    """A pause started by one worker delays every worker until it ends; a success resets the streak."""
    now = [100.0]
    slept: list[float] = []
    pacer = Pacer(RetryPolicy(initial_delay=1.0, max_delay=8.0), sleep=slept.append, clock=lambda: now[0])
    assert pacer.slow_down(5.0) == 5.0
    assert pacer.pause()[0] == 5.0
    pacer.wait()
    assert slept == [5.0]
    assert pacer.pause()[0] == 0.0  # the sleeper saw the pause through: it is over for everyone
    pacer.slow_down(None)
    now[0] = 200.0
    assert pacer.pause()[0] == 0.0
    pacer.ok()
    assert pacer.pauses == 2
