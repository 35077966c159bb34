"""The async worker: retries only retryable errors, with scaled backoff, and waits on the rate-limit gate."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from catena_nb.sandbox.sim.types import AttemptOutcome, Pace
from catena_nb.sandbox.sim.worker import AsyncWorker, Job, RetryPolicy

NETWORK = AttemptOutcome(ok=False, latency_s=0.0, error_type="network", retryable=True)
AUTH = AttemptOutcome(ok=False, latency_s=0.0, error_type="auth", response_status_code=401)
OK = AttemptOutcome(ok=True, latency_s=0.0, source_id="1")


def test_backoff_is_exponential_with_bounded_jitter():
    """Waits are 2, 4, 8, 16 s times 1 to 1.5 by the jitter draw."""
    policy = RetryPolicy()
    assert [policy.delay_s(n, 0.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert policy.delay_s(4, 0.999) == pytest.approx(16.0 * 1.4995)
    assert policy.should_retry(NETWORK, 4)
    assert not policy.should_retry(NETWORK, 5)
    assert not policy.should_retry(AUTH, 1)
    assert not policy.should_retry(OK, 1)


def _worker(
    outcome_for: Callable[[Job], AttemptOutcome], gate: Callable[[str], float] = lambda _c: 0.0
) -> tuple[AsyncWorker, list[tuple[str, int, bool]]]:
    reports: list[tuple[str, int, bool]] = []
    lock = threading.Lock()

    def report(job: Job, outcome: AttemptOutcome, final: bool) -> None:
        with lock:
            reports.append((job.op["id"], job.attempt, final))

    worker = AsyncWorker(
        call=lambda job: outcome_for(job),
        report=report,
        gate=gate,
        jitter=lambda _job: 0.5,
        pace=Pace(time_scale=0.0005),
        threads=4,
    )
    return worker, reports


def test_retryable_errors_retry_to_the_limit_and_others_stop_at_once():
    """A job that always times out gets 5 attempts; an auth failure gets 1; success ends it."""
    outcomes = {"net": NETWORK, "auth": AUTH, "ok": OK}
    worker, reports = _worker(lambda job: outcomes[job.op["id"]])
    worker.start()
    try:
        for name in outcomes:
            worker.submit(Job(op={"id": name}, connection_id="c", occurrence=1))
        assert worker.wait_idle(30)
    finally:
        worker.stop()
    by_op: dict[str, list[tuple[int, bool]]] = {}
    for op_id, attempt, final in reports:
        by_op.setdefault(op_id, []).append((attempt, final))
    assert by_op["net"] == [(1, False), (2, False), (3, False), (4, False), (5, True)]
    assert by_op["auth"] == [(1, True)]
    assert by_op["ok"] == [(1, True)]
    assert worker.retries == 4
    assert worker.pending == 0


def test_jobs_wait_for_the_gate_and_all_complete():
    """A gate that admits every other request makes jobs wait, and every job still completes once."""
    state = {"n": 0}
    lock = threading.Lock()

    def gate(_conn: str) -> float:
        with lock:
            state["n"] += 1
            return 0.0 if state["n"] % 2 else 0.001

    worker, reports = _worker(lambda _job: OK, gate)
    worker.start()
    try:
        for i in range(200):
            worker.submit(Job(op={"id": str(i)}, connection_id=f"c{i % 3}", occurrence=1))
        assert worker.wait_idle(60)
    finally:
        worker.stop()
        worker.stop()  # idempotent
    assert sorted(int(r[0]) for r in reports) == list(range(200))
    assert worker.throttled > 0
