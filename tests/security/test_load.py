"""Load: `catena-nb listen` takes 2,000 deliveries from 20 senders; the sandbox serves 100 listing clients."""

from __future__ import annotations

import concurrent.futures as cf
from collections import Counter
from pathlib import Path

import httpx
import pytest

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox
from catena_nb.store import AuditStore
from tests.support.listener import delivery, listening, operation

DELIVERIES = 2000
SENDERS = 20


@pytest.mark.slow
def test_listen_takes_2000_deliveries_from_20_concurrent_senders_losing_none(tmp_path: Path) -> None:
    """2,000 deliveries from 20 concurrent senders on 127.0.0.1: every one answered 202 and in the store."""
    path = tmp_path / "load.duckdb"
    ops = [operation() for _ in range(DELIVERIES)]
    payloads = [delivery([op]) for op in ops]

    def send(lane: int) -> Counter[int]:
        answers: Counter[int] = Counter()
        with httpx.Client(timeout=120) as http:
            for body, headers in payloads[lane::SENDERS]:
                answers[http.post(url, content=body, headers=headers).status_code] += 1
        return answers

    with listening(path) as url, cf.ThreadPoolExecutor(SENDERS) as pool:
        totals = sum((f.result() for f in [pool.submit(send, lane) for lane in range(SENDERS)]), Counter())
    assert totals == Counter({202: DELIVERIES})
    with AuditStore(path, read_only=True) as store:
        stored = set(store.query("SELECT operation_id FROM operations")["operation_id"])
    assert stored == {op["id"] for op in ops}


@pytest.mark.slow
def test_sandbox_serves_100_concurrent_listing_clients() -> None:
    """100 clients list operations at once (pages of 50, two connections): no error, the same answer each."""
    clients = 100
    with Sandbox(seed=4, history=1, anchor="2026-11-01", time_scale=0.001) as sb:
        conn = sb.connections[0].id

        def list_once(_: int) -> tuple[int, int]:
            with CatenaClient(base_url=sb.url, token=sb.token, progress=False, max_retries=0) as client:
                ops = client.operations.list(
                    connection_id=conn, size=50, since="2026-10-31", until="2026-11-02"
                ).to_list()
                users = client.users.list(connection_id=conn).to_list()
            return len(ops), len(users)

        with cf.ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(list_once, range(clients)))
    assert len(set(results)) == 1
    assert results[0][0] > 50  # more than one page each
