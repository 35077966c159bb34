"""Forged, replayed, truncated, non-gzip, oversized deliveries to `catena-nb listen`: refused with a 5xx.

A refusal answers 5xx, never 4xx: Catena counts any other answer as delivered, so a 4xx would lose a
genuine event sent with a rotated secret; with a 5xx Catena retries and keeps it in its dead-letter queue.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from catena_nb.store import AuditStore
from catena_nb.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.support.listener import SECRET, delivery, listening, operation

Abuse = Callable[[], tuple[bytes, dict[str, str]]]


def _forged_secret() -> tuple[bytes, dict[str, str]]:
    return delivery([operation()], secret="whsec-guessed-by-an-attacker")


def _tampered_body() -> tuple[bytes, dict[str, str]]:
    op = operation(status="failed")
    body, headers = delivery([op])
    forged = json.loads(gzip.decompress(body))
    forged["data"][0]["status"] = "success"  # the signature was made over the original payload
    return gzip.compress(json.dumps(forged).encode()), headers


def _signature_of_another_delivery() -> tuple[bytes, dict[str, str]]:
    body, _ = delivery([operation()])
    _, other = delivery([operation()])
    return body, other


def _stale() -> tuple[bytes, dict[str, str]]:
    then = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    return delivery([operation()], timestamp=then)


def _future() -> tuple[bytes, dict[str, str]]:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    return delivery([operation()], timestamp=later)


def _stale_with_fresh_header() -> tuple[bytes, dict[str, str]]:
    # a captured old delivery whose timestamp header is rewritten to now: the signature no longer matches
    body, headers = _stale()
    return body, {**headers, TIMESTAMP_HEADER: dt.datetime.now(dt.UTC).isoformat()}


def _no_signature() -> tuple[bytes, dict[str, str]]:
    body, headers = delivery([operation()])
    return body, {k: v for k, v in headers.items() if k != SIGNATURE_HEADER}


def _truncated() -> tuple[bytes, dict[str, str]]:
    body, headers = delivery([operation() for _ in range(20)])
    return body[: len(body) // 2], headers


def _not_gzip() -> tuple[bytes, dict[str, str]]:
    body, headers = delivery([operation()])
    return gzip.decompress(body)[::-1], headers  # says gzip, is not


def _garbage_claiming_gzip() -> tuple[bytes, dict[str, str]]:
    _, headers = delivery([operation()])
    return b"\x1f\x8b" + os.urandom(200), headers


def _oversized() -> tuple[bytes, dict[str, str]]:
    _, headers = delivery([operation()])
    return os.urandom(9 * 1024 * 1024), headers


def _gzip_bomb() -> tuple[bytes, dict[str, str]]:
    _, headers = delivery([operation()])
    return gzip.compress(b" " * (40 * 1024 * 1024), compresslevel=9), headers


def _signed_not_an_envelope() -> tuple[bytes, dict[str, str]]:
    return sign(b'{"data": "no event name"}', SECRET)


ABUSES: dict[str, tuple[Abuse, int]] = {
    "forged with a guessed secret": (_forged_secret, 503),
    "body altered after signing": (_tampered_body, 503),
    "signature of another delivery": (_signature_of_another_delivery, 503),
    "replayed after 10 minutes": (_stale, 503),
    "timestamp 10 minutes ahead": (_future, 503),
    "replayed with a rewritten timestamp": (_stale_with_fresh_header, 503),
    "no signature header": (_no_signature, 503),
    "truncated gzip": (_truncated, 500),
    "says gzip, is not": (_not_gzip, 500),
    "gzip magic then garbage": (_garbage_claiming_gzip, 500),
    "oversized body (9 MiB)": (_oversized, 500),
    "gzip bomb (40 MiB inflated)": (_gzip_bomb, 500),
    "signed, not an envelope": (_signed_not_an_envelope, 500),
}


@pytest.mark.slow
def test_abusive_deliveries_are_refused_and_change_nothing(tmp_path: Path) -> None:
    """Each abusive delivery gets its 5xx, the receiver keeps serving, and only genuine ones are stored."""
    path = tmp_path / "hooks.duckdb"
    genuine = operation(status="pending")
    answers: dict[str, int] = {}
    with listening(path) as url, httpx.Client(timeout=60) as http:
        body, headers = delivery([genuine])
        assert http.post(url, content=body, headers=headers).status_code == 202
        for name, (make, _) in ABUSES.items():
            body, headers = make()
            answers[name] = http.post(url, content=body, headers=headers).status_code
            # the receiver is still up and still takes a genuine delivery after each abuse
            ok_body, ok_headers = delivery([genuine])
            assert http.post(url, content=ok_body, headers=ok_headers).status_code == 202, name
        # an exact replay of a genuine delivery inside the tolerance is accepted and changes nothing
        body, headers = delivery([genuine])
        assert http.post(url, content=body, headers=headers).status_code == 202
        assert http.post(url, content=body, headers=headers).status_code == 202
        assert http.get(url).status_code == 405
    assert answers == {name: status for name, (_, status) in ABUSES.items()}
    with AuditStore(path, read_only=True) as store:
        stored = store.query("SELECT operation_id, status FROM operations")
    assert stored["operation_id"].tolist() == [genuine["id"]]
    assert stored["status"].tolist() == ["pending"]
