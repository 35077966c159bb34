"""The HTTP status of an attempt: the log's field, else the status its error_details names, else NA."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from catena_nb import _http_status
from catena_nb._http_status import status_in_text
from catena_nb.frames import logs_frame, operations_frame
from catena_nb.frames._status import http_statuses

URL = "https://api.samsara.com/v1/fleet/messages"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        # httpx's raise_for_status (the seed's "Sync Write Operations" page)
        (f"Client error '401 Unauthorized' for url '{URL}'", 401),
        (
            f"Server error '503 Service Unavailable' for url '{URL}'\nFor more information check: "
            "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/503",
            503,
        ),
        (f"Redirect response '302 Found' for url '{URL}'", 302),
        # requests, urllib, aiohttp
        (f"401 Client Error: Unauthorized for url: {URL}", 401),
        (f"500 Server Error: Internal Server Error for url: {URL}", 500),
        ("HTTP Error 404: Not Found", 404),
        (f"503, message='Service Unavailable', url='{URL}'", 503),
        # plain phrasings
        ("HTTP 503", 503),
        ("HTTP/1.1 502 Bad Gateway", 502),
        ("HTTP status 504 from upstream", 504),
        ("HTTP status code: 429", 429),
        ("Request failed with status code 429", 429),
        ("status code 429", 429),
        ("status: 400", 400),
        ("status_code=422", 422),
        ("TSP returned 500", 500),
        ("the TSP responded with 502", 502),
        ("upstream answered with a 503", 503),
        ("got 504 from the TSP", 504),
        ("received HTTP 500", 500),
        # a JSON body
        ('{"status": 502, "error": "bad gateway"}', 502),
        ('{"statusCode": "429", "message": "slow down"}', 429),
        ('{"code": 400, "message": "recipient driver is deactivated"}', 400),
        # the status line beats a status quoted in the body
        (f"Client error '422 Unprocessable Entity' for url '{URL}'\nResponse: {{\"status\": 400}}", 422),
    ],
)
def test_a_status_is_read_from_each_phrasing(text: str, status: int) -> None:
    """Each common phrasing of an HTTP status gives that status."""
    assert status_in_text(text) == status


@pytest.mark.parametrize(
    "text",
    [
        "ReadTimeout: The read operation timed out",
        "ConnectError: [Errno 111] Connection refused",
        "ConnectError: [Errno -3] Temporary failure in name resolution",
        "recipient driver is deactivated",
        "message text longer than 160 characters",
        "https://api.samsara.com/v1/fleets/500/messages failed",  # a number in a URL
        "see https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/503",
        "driver 503-ab12 not found",  # an id
        "status code 4291",  # four digits
        "status 503.5",  # a decimal
        "returned 999",  # not an HTTP status
        "order 404 of 1000 returned",
        "",
    ],
)
def test_no_status_is_taken_from_text_that_names_none(text: str) -> None:
    """Numbers outside the phrasings (in URLs, ids, decimals, out of range) are never taken as a status."""
    assert status_in_text(text) is None


def test_the_field_wins_and_the_source_says_which() -> None:
    """response_status_code where there is one, else error_details, else NA; the source codes say which."""
    codes = np.array([401, None, None, "junk", None], dtype=object)
    details = np.array(
        ["Server error '503 x' for url 'u'", "HTTP 429", "timed out", "HTTP 500", None], dtype=object
    )
    statuses, source = http_statuses(codes, details)
    assert list(statuses.to_numpy(dtype=object, na_value=None)) == [401, 429, None, 500, None]
    assert source.tolist() == [0, 1, -1, 1, -1]


def _op(log: dict[str, Any]) -> dict[str, Any]:
    return {"id": "op-1", "status": "failed", "resource": "message", "logs": [log]}


def test_both_frames_say_where_http_status_came_from() -> None:
    """http_status_source is 'response', 'error_details' or NA, in the operations and the logs frame."""
    base: dict[str, Any] = {
        "id": "l1",
        "created_at": "2026-05-04T08:51:02Z",
        "status": "failed",
        "error_type": "auth",
    }
    text = f"Client error '401 Unauthorized' for url '{URL}'"
    ops = [
        _op(base | {"response_status_code": 403, "error_details": text}),
        _op(base | {"error_details": text}) | {"id": "op-2"},
        _op(base | {"error_details": "ReadTimeout"}) | {"id": "op-3"},
    ]
    for frame in (operations_frame(ops), logs_frame(ops)):
        assert frame["http_status"].tolist()[:2] == [403, 401]
        assert pd.isna(frame["http_status"].iloc[2])
        assert frame["http_status_source"].tolist()[:2] == ["response", "error_details"]
        assert pd.isna(frame["http_status_source"].iloc[2])
        assert list(frame["http_status_source"].cat.categories) == ["response", "error_details"]


def _by_the_phrasings_alone(text: str) -> int | None:
    """`status_in_text` without its two shortcuts: every phrasing tried, after the URLs are taken out."""
    best: tuple[int, int] | None = None
    for match in _http_status._TEXT.finditer(_http_status._URL.sub(" ", text)):
        phrasing = match.lastindex
        if phrasing is not None and (best is None or phrasing < best[0]):
            best = (phrasing, int(match.group(phrasing)))
    return None if best is None else best[1]


_PIECES = st.sampled_from(
    [
        "Client error '", "Server error '", "client ERROR  '", "Invalid status code '", "503", "401 ", "99",
        "4291", " Unauthorized' for url '", URL, "https://x.test/500/", " status: ", "HTTP/1.1 ", " 502 ",
        "ReadTimeout", ": ", "'", '{"status": 429}', "\n", " ", "-ab", ".5",
    ]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=8).map("".join))
def test_the_shortcuts_give_what_the_phrasings_give(text: str) -> None:
    """Text without three digits in a row, or opening with httpx's status line, is read by a shortcut: the
    status is the one every phrasing tried in turn would give."""
    assert status_in_text(text) == _by_the_phrasings_alone(text)
