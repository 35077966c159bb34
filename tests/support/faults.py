"""One audit round against a sandbox that injects API faults, with every figure the reliability note reports.

A round: directory lookups, a batch of async sends (`create_many`), `operations.wait` until none is pending,
operation lookups and listings, and an `AuditStore.sync` of the window. It never stops at a failure: each
one surfaced to the caller (an exception, or a batch row without an operation) is counted, and the run goes
on, so that the figures show what an analyst would meet. Used by `test_faults.py` and `benchmarks/faults.py`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from catena_nb.errors import CatenaError
from catena_nb.sandbox import Sandbox
from catena_nb.store import AuditStore
from tests.support.rounds import client_for, rows_for, server_texts


class CountingTransport(httpx.BaseTransport):
    """Passes requests on to the network and counts them (the calls the client made, retries included)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.calls += 1
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class _RetryCounter(logging.Handler):
    """Counts the client's retry decisions, which `catena_nb.retry` logs at debug level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying "):
            self.retries += 1


@contextmanager
def _count_retries() -> Iterator[_RetryCounter]:
    log = logging.getLogger("catena_nb.retry")
    handler, level = _RetryCounter(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


@dataclass
class FaultFigures:
    """The figures of one round at one fault rate."""

    rate: float
    rows: int
    calls_made: int = 0  # HTTP requests the client sent, retries and token requests included
    calls_served: int = 0  # requests that reached the sandbox's routes
    faults_injected: dict[str, int] = field(default_factory=dict)
    retries: int = 0  # lookups and token requests retried after a fault
    resends: int = 0  # batch rows sent again after a 429 (the API had not acted on them)
    failures_surfaced: int = 0  # errors raised to the caller, plus batch rows without an operation
    surfaced: dict[str, int] = field(default_factory=dict)
    rows_answered: int = 0  # batch rows that got an operation back
    rows_unknown: int = 0  # rows whose answer was lost after sending: reported, never resent
    rows_refused: int = 0  # rows the API refused before acting (500/429 exhausted): nothing created
    messages_created: int = 0
    most_creates_of_a_row: int = 0  # at most once: 0 or 1
    refused_but_created: int = 0  # must be 0
    rows_with_outcome: int = 0  # must equal rows
    answered_not_created_once: int = 0  # rows answered with an operation, not exactly once on the server: 0
    still_pending_after_wait: int = 0
    operations_on_server: int = 0
    operations_in_store: int = 0
    records_lost: int = 0  # operations on the server missing from the store after the sync: must be 0

    def as_dict(self) -> dict[str, Any]:
        """The figures as a plain dict."""
        return asdict(self)


def run_round(
    rate: float, rows: int, store_path: Path, *, seed: int = 17, time_scale: float = 0.001
) -> FaultFigures:
    """Run one audit round against ``Sandbox(faults=rate)`` and return its figures."""
    figures = FaultFigures(rate=rate, rows=rows)
    surfaced: dict[str, int] = {}

    def attempt(what: str, call: Callable[..., Any]) -> Any:
        try:
            return call()
        except CatenaError as exc:
            key = f"{what}: {type(exc).__name__}"
            surfaced[key] = surfaced.get(key, 0) + 1
            return None

    transport = CountingTransport()
    tag = f"fault-{rate:g}"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    with (
        Sandbox(seed=seed, faults=rate, time_scale=time_scale, tsp_latency=0) as sb,
        _count_retries() as retry_log,
        client_for(sb, max_retries=8, transport=transport) as client,
    ):
        conns = attempt("connections.list", lambda: client.connections.list().to_list()) or []
        for conn in conns:
            attempt("users.list", lambda c=conn: client.users.list(connection_id=c.id).to_list())
            attempt("connections.get", lambda c=conn: client.connections.get(c.id))
        table = rows_for(sb, rows, tag)
        batch = client.messages.create_many(table, sync=False, concurrency=8)
        final = attempt(
            "operations.wait", lambda: client.operations.wait(batch, timeout=180, poll_interval=0.05)
        )
        settled = final if final is not None else batch.operations
        figures.still_pending_after_wait = sum(1 for op in settled if op.pending)
        for op in settled[:20]:
            attempt("operations.get", lambda o=op: client.operations.get(o))
        attempt(
            "operations.list", lambda: client.operations.list(connection_id=sb.connections[0].id).to_list()
        )
        sb.wait_idle(60)
        with AuditStore(store_path) as store:
            until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
            # A sync that fails part way is run again, as an analyst would: it resumes from its mark.
            for _ in range(3):
                if attempt(
                    "AuditStore.sync", lambda: store.sync(client, since=start, until=until, progress=False)
                ):
                    break
            stored = set(store.query("SELECT operation_id FROM operations")["operation_id"])
        truth = {op["id"] for op in sb.state.iter_operations()}
        on_server = server_texts(sb, tag)
        figures.calls_served = sb.requests.total()
        figures.faults_injected = dict(sb.fault_counts)
    figures.calls_made = transport.calls
    figures.retries = retry_log.retries
    figures.resends = sum(max(o.sends - 1, 0) for o in batch.outcomes)
    counts = batch.counts
    figures.rows_answered = len(batch.operations)
    figures.rows_unknown = counts["unknown"]
    figures.rows_refused = counts["error"]
    if batch.errors:
        surfaced["create_many rows"] = len(batch.errors)
    figures.surfaced = surfaced
    figures.failures_surfaced = sum(surfaced.values())
    figures.messages_created = sum(on_server.values())
    figures.most_creates_of_a_row = max(on_server.values(), default=0)
    figures.refused_but_created = sum(
        1 for o in batch.outcomes if o.status == "error" and on_server[str(o.row["message_text"])] > 0
    )
    figures.operations_on_server = len(truth)
    figures.operations_in_store = len(stored & truth)
    figures.records_lost = len(truth - stored)
    figures.rows_with_outcome = len(batch.outcomes)
    figures.answered_not_created_once = sum(
        1 for o in batch.outcomes if o.operation is not None and on_server[str(o.row["message_text"])] != 1
    )
    return figures
