"""The batch engine, written once for both clients: every row sent at most once, a pause shared after a 429,
a clean stop, a progress bar.

A `Batch` holds the rows and their requests, the outcomes so far, the shared `Pacer`, whether it was stopped,
and the progress bar; each row's sends are decided by its `_RowSends`, without I/O. `run_sync` (a thread
pool; Ctrl-C stops new sends) and `run_async` (tasks under a semaphore; a cancellation stops new sends) only
wait, send and report.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from catena_nb._progress import progress_bar
from catena_nb.client._transport import RetryPolicy
from catena_nb.client.batch import (
    BATCH_DEFAULTS,
    BatchOptions,
    BatchResult,
    RowOutcome,
    normalize_rows,
    validate_rows,
)
from catena_nb.errors import (
    APIConnectionError,
    APIStatusError,
    CatenaError,
    InvalidRequestError,
    RateLimitError,
)
from catena_nb.models import ResourceOperation, _Request

__all__ = ["Batch", "Pacer", "run_async", "run_sync"]

logger = logging.getLogger("catena_nb.batch")

R = TypeVar("R", bound=_Request)


def _failure(i: int, row: dict[str, Any], exc: Exception, sends: int) -> RowOutcome:
    if isinstance(exc, APIConnectionError):
        status, created = ("unknown", None) if exc.maybe_sent else ("error", False)
    elif isinstance(exc, APIStatusError) and exc.status_code >= 500:
        status, created = "unknown", None
    elif isinstance(exc, CatenaError):
        status, created = "error", False
    else:  # a bug or an unexpected exception in one row must not lose the others' outcomes
        status, created = "unknown", None
    return RowOutcome(i, row, error=exc, status=status, created=created, sends=sends)


def _resend_hint(exc: Exception) -> tuple[bool, float | None]:
    """Whether the API certainly did not act on the request, and its wait hint."""
    if isinstance(exc, RateLimitError):
        return True, exc.retry_after
    if isinstance(exc, APIConnectionError) and not exc.maybe_sent:
        return True, None
    return False, None


class Pacer:
    """A pause shared by the workers of a batch: after a 429 every worker waits until the pause ends.

    Thread-safe; the clock is injectable so tests take no time.
    """

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self._streak = 0
        self.pauses = 0

    def pause(self) -> tuple[float, float]:
        """Seconds left in the current pause (0 when none), and the pause's end for `resumed`."""
        with self._lock:
            return max(0.0, self._resume_at - self._clock()), self._resume_at

    def resumed(self, end: float) -> None:
        """Note that a worker slept until `end`: that pause is over (unless it was extended meanwhile)."""
        with self._lock:
            if self._resume_at == end:
                self._resume_at = min(end, self._clock())

    def slow_down(self, hint: float | None) -> float:
        """Start (or extend) a pause after a 429 or a refused connection; returns its length."""
        with self._lock:
            delay = self._policy.delay(self._streak, hint)
            self._streak = min(self._streak + 1, 16)
            self._resume_at = max(self._resume_at, self._clock() + delay)
            self.pauses += 1
        logger.debug("batch paused for %.2f s (server hint %s)", delay, hint)
        return delay

    def ok(self) -> None:
        """Note a success: the next pause starts from the initial delay again."""
        with self._lock:
            self._streak = 0


class Batch(Generic[R]):
    """One batch, without I/O: its rows and their requests, the outcomes so far, the pause the workers share,
    whether it was stopped, and its progress bar.

    Raises:
        InvalidRequestError: a `concurrency` below 1; with `on_invalid="raise"`, any bad row (none is sent).
    """

    def __init__(
        self,
        rows: Iterable[Mapping[str, Any]] | Any,
        model: type[R],
        *,
        options: BatchOptions,
        pacer: Pacer,
        max_resends: int,
        progress: bool,
        label: str,
    ) -> None:
        concurrency = options.get("concurrency", BATCH_DEFAULTS["concurrency"])
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequestError(
                [{"field": "concurrency", "message": "must be >= 1", "input": concurrency}]
            )
        self.concurrency = concurrency
        self.rows = normalize_rows(rows)
        self.requests, invalid = validate_rows(
            self.rows, model, options.get("on_invalid", BATCH_DEFAULTS["on_invalid"])
        )
        self.outcomes: dict[int, RowOutcome] = dict(invalid)
        self.pacer = pacer
        self.max_resends = max_resends
        self.stopped = False  # set by Ctrl-C or a cancellation: no row is sent, or sent again, after it
        self._bar = progress_bar(progress, total=len(self.requests), desc=label, unit=" rows")

    def sends(self) -> Iterator[_RowSends[R]]:
        """The sends of each valid row, in input order."""
        for i, request in self.requests.items():
            yield _RowSends(self, i, request)

    def record(self, i: int, outcome: RowOutcome | None) -> None:
        """Keep a row's outcome (None: the row was not sent, as the batch had stopped)."""
        if outcome is not None:
            self.outcomes[i] = outcome
            self._bar.update(1)

    def finish(self, interrupted: bool) -> BatchResult:
        """The result: rows without an outcome were not sent."""
        self._bar.close()
        for i, row in enumerate(self.rows):
            if i not in self.outcomes:
                self.outcomes[i] = RowOutcome(i, row, status="not_sent", created=False)
        result = BatchResult(
            [self.outcomes[i] for i in range(len(self.rows))],
            interrupted=interrupted,
            pauses=self.pacer.pauses,
        )
        if interrupted:
            logger.warning("batch interrupted: %s", result)
        return result


class _RowSends(Generic[R]):
    """The sends of one row, without I/O. Iterate it for the pause before each send (None: no pause); the
    driver then sends `begin()` and reports `answered(operation)` or `failed(exception)`."""

    def __init__(self, batch: Batch[R], index: int, request: R) -> None:
        self._batch = batch
        self.index = index
        self._request = request
        self._end: float | None = None
        self.sends = 0
        self.outcome: RowOutcome | None = None

    def __iter__(self) -> Iterator[float | None]:
        if self._batch.stopped:
            return
        while self.outcome is None:
            remaining, end = self._batch.pacer.pause()
            self._end = end if remaining > 0 else None
            before = self.sends
            yield remaining if remaining > 0 else None
            if self.sends == before:
                raise RuntimeError("a row's send was neither begun nor reported")

    def begin(self) -> R:
        """The request to send now (after the pause, which is then over for this worker)."""
        if self._end is not None:
            self._batch.pacer.resumed(self._end)
        self.sends += 1
        return self._request

    def answered(self, op: ResourceOperation) -> None:
        self._batch.pacer.ok()
        row = self._batch.rows[self.index]
        self.outcome = RowOutcome(
            self.index, row, operation=op, status=str(op.status), created=True, sends=self.sends
        )

    def failed(self, exc: Exception) -> None:
        resend, hint = _resend_hint(exc)
        batch = self._batch
        if resend and self.sends <= batch.max_resends and not batch.stopped:
            batch.pacer.slow_down(hint)  # and the row is sent again, once the pause is over
            return
        self.outcome = _failure(self.index, batch.rows[self.index], exc, self.sends)


def run_sync(
    batch: Batch[R], send: Callable[[R], ResourceOperation], *, sleep: Callable[[float], None]
) -> BatchResult:
    """Send the valid rows on a thread pool of `batch.concurrency` workers; Ctrl-C stops new sends cleanly
    (the rows in flight finish, so that their outcomes are known)."""

    def send_row(row: _RowSends[R]) -> RowOutcome | None:
        for pause in row:
            if pause is not None:
                sleep(pause)
            try:
                row.answered(send(row.begin()))
            except Exception as exc:
                row.failed(exc)
        return row.outcome

    queue = batch.sends()
    in_flight: dict[cf.Future[RowOutcome | None], int] = {}

    def collect(done: Iterable[cf.Future[RowOutcome | None]]) -> None:
        for fut in done:
            i = in_flight.pop(fut)
            exc = fut.exception()
            if isinstance(exc, KeyboardInterrupt):
                batch.stopped = True
                batch.record(i, RowOutcome(i, batch.rows[i], status="unknown", created=None, sends=1))
            elif exc is not None:
                failure = exc if isinstance(exc, Exception) else RuntimeError(exc)
                batch.record(i, _failure(i, batch.rows[i], failure, 1))
            else:
                batch.record(i, fut.result())

    pool = cf.ThreadPoolExecutor(max_workers=batch.concurrency, thread_name_prefix="catena-batch")
    try:
        while True:
            while not batch.stopped and len(in_flight) < batch.concurrency:
                row = next(queue, None)
                if row is None:
                    break
                in_flight[pool.submit(send_row, row)] = row.index
            if not in_flight:
                break
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            collect(done)
    except KeyboardInterrupt:
        batch.stopped = True
        collect(list(cf.as_completed(list(in_flight))))
    finally:
        pool.shutdown(wait=True)
    return batch.finish(batch.stopped)


async def run_async(
    batch: Batch[R],
    send: Callable[[R], Awaitable[ResourceOperation]],
    *,
    sleep: Callable[[float], Awaitable[None]],
    on_done: Callable[[BatchResult], None] | None = None,
) -> BatchResult:
    """Send the valid rows with at most `batch.concurrency` in flight (a semaphore).

    When the calling task is cancelled, rows not yet started are not sent, the rows in flight finish, the
    partial result goes to `on_done`, and the cancellation propagates.
    """
    semaphore = asyncio.Semaphore(batch.concurrency)

    async def send_row(row: _RowSends[R]) -> None:
        async with semaphore:
            for pause in row:
                if pause is not None:
                    await sleep(pause)
                try:
                    row.answered(await send(row.begin()))
                except Exception as exc:
                    row.failed(exc)
            batch.record(row.index, row.outcome)

    everything = asyncio.gather(*(send_row(row) for row in batch.sends()))
    try:
        await asyncio.shield(everything)
    except asyncio.CancelledError:
        batch.stopped = True
        await everything
        result = batch.finish(True)
        if on_done is not None:
            on_done(result)
        raise
    result = batch.finish(False)
    if on_done is not None:
        on_done(result)
    return result
