"""The asynchronous worker: makes the TSP attempts of queued operations, with retries and rate limits.

One dispatcher thread owns the schedule: a heap of jobs waiting for their time (new ones at once, retries
after their backoff) and, per connection, a FIFO of jobs that are due. It hands a due job to a worker thread
only when a thread is free *and* the connection's rate-limit gate admits the call, so the TSP never sees more
than its limit and no thread blocks on a bucket. Worker threads make the call (sleeping the TSP's latency),
report the attempt and, for a retryable failure below the attempt limit, put the job back on the heap.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catena_nb.sandbox.sim.threads import ThreadGroup
from catena_nb.sandbox.sim.types import AttemptOutcome, Pace

logger = logging.getLogger("catena_nb.sandbox.sim.worker")

# assumed: Catena documents neither its attempt limit nor its backoff (catena-api.md §11); five attempts with
# exponential backoff from 2 s (2, 4, 8, 16 s, each stretched by up to 50% of seeded jitter) is a common
# queue-worker default.
MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 2.0
BACKOFF_FACTOR = 2.0
BACKOFF_JITTER = 0.5


@dataclass
class Job:
    """One queued operation: its record, the attempt to make next, and its occurrence number."""

    op: dict[str, Any]
    connection_id: str
    occurrence: int
    attempt: int = 1


@dataclass(frozen=True)
class RetryPolicy:
    """When and after how long a failed attempt is retried (waits in simulated seconds)."""

    max_attempts: int = MAX_ATTEMPTS
    base_s: float = BACKOFF_BASE_S
    factor: float = BACKOFF_FACTOR
    jitter: float = BACKOFF_JITTER

    def should_retry(self, outcome: AttemptOutcome, attempt: int) -> bool:
        """Only retryable errors (network, TSP 5xx/429) are retried, and only below the attempt limit."""
        # assumed: Catena retries network errors and the TSP's 5xx and 429 (error_type network or tsp), and
        # never auth or validation errors, which another attempt would repeat; the docs name no rule.
        return not outcome.ok and outcome.retryable and attempt < self.max_attempts

    def delay_s(self, attempt: int, u: float) -> float:
        """The simulated wait after failed attempt ``attempt`` (1-based), given a uniform draw ``u``."""
        return self.base_s * self.factor ** (attempt - 1) * (1.0 + self.jitter * u)


class AsyncWorker:
    """Runs queued jobs on a few threads, never calling a connection's TSP faster than its gate allows.

    Args:
        call: makes one TSP attempt for a job (blocking for the latency).
        report: records an attempt; ``final`` is True for the operation's last one.
        gate: ``gate(connection_id)`` takes a rate-limit token: 0.0 when admitted, else seconds to wait.
        jitter: a uniform draw in [0, 1) for the backoff after a job's current attempt.
        pace: turns the policy's simulated backoffs into real seconds.
        policy: the retry policy.
        threads: how many calls may be in flight at once.
    """

    def __init__(
        self,
        *,
        call: Callable[[Job], AttemptOutcome],
        report: Callable[[Job, AttemptOutcome, bool], None],
        gate: Callable[[str], float],
        jitter: Callable[[Job], float],
        pace: Pace,
        policy: RetryPolicy | None = None,
        threads: int = 8,
    ) -> None:
        self._call = call
        self._report = report
        self._gate = gate
        self._jitter = jitter
        self._pace = pace
        self.policy = policy or RetryPolicy()
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._ready: dict[str, deque[Job]] = {}
        self._n_workers = threads
        self._free = threads
        self._pending = 0
        self._work: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads = ThreadGroup(
            [("sandbox-dispatch", self._dispatch_loop)]
            + [(f"sandbox-worker-{i}", self._work_loop) for i in range(threads)]
        )
        self.retries = 0
        self.throttled = 0  # times a due job found its connection's bucket empty and waited

    @property
    def pending(self) -> int:
        """Operations queued or in flight whose final attempt has not been reported."""
        with self._cond:
            return self._pending

    def start(self) -> None:
        """Start the dispatcher and worker threads (idempotent)."""
        self._threads.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and join every thread (idempotent); jobs still queued are dropped."""
        self._threads.stop(self._wake_all, timeout)

    def _wake_all(self) -> None:
        with self._cond:
            self._cond.notify_all()
        for _ in range(self._n_workers):
            self._work.put(None)

    def submit(self, job: Job) -> None:
        """Queue a new operation's job; its first attempt is due at once."""
        with self._cond:
            self._pending += 1
            heapq.heappush(self._heap, (time.monotonic(), next(self._seq), job))
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no operation is pending; False if ``timeout`` seconds passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def _dispatch_loop(self) -> None:
        rotation: deque[str] = deque()
        with self._cond:
            while not self._threads.stopping:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    job = heapq.heappop(self._heap)[2]
                    ready = self._ready.get(job.connection_id)
                    if ready is None:
                        ready = self._ready[job.connection_id] = deque()
                        rotation.append(job.connection_id)
                    ready.append(job)
                wake = self._heap[0][0] if self._heap else now + 0.5
                handed = False
                # Round-robin over connections, one job each per pass, so one busy connection cannot starve
                # the others of threads.
                for _ in range(len(rotation)):
                    if not self._free:
                        break
                    conn_id = rotation[0]
                    rotation.rotate(-1)
                    ready = self._ready[conn_id]
                    if not ready:
                        continue
                    wait = self._gate(conn_id)
                    if wait > 0.0:
                        self.throttled += 1
                        wake = min(wake, now + wait)
                        continue
                    self._free -= 1
                    self._work.put(ready.popleft())
                    handed = True
                if handed:
                    continue
                self._cond.wait(max(0.0, min(wake - time.monotonic(), 0.5)))

    def _work_loop(self) -> None:
        while True:
            job = self._work.get()
            if job is None:
                return
            final = True
            delay = 0.0
            try:
                outcome = self._call(job)
                final = not self.policy.should_retry(outcome, job.attempt)
                if not final:
                    delay = self._pace.real(self.policy.delay_s(job.attempt, self._jitter(job)))
                self._report(job, outcome, final)
            except Exception:  # a bug must not leave the operation pending forever
                logger.exception(
                    "attempt %d of operation %s failed in the worker", job.attempt, job.op.get("id")
                )
                final = True
            with self._cond:
                self._free += 1
                if final:
                    self._pending -= 1
                else:
                    self.retries += 1
                    job.attempt += 1
                    heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job))
                self._cond.notify_all()
