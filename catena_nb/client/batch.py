"""Batch sends: one outcome per row, each row sent at most once, bounded concurrency, a clean stop.

Every row is validated first; a bad row becomes an `invalid` outcome and is never sent. A create is never
resent after the API may have acted on it. Two answers prove it did not: a 429 (the API refused the request)
and a connection that could not even be opened; only those rows are sent again, after a pause shared by all
workers (the batch slows down as a whole). A connection lost after the request left is reported as
`unknown`: the message may have been created.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from catena_nb.client._retry import Pacer
from catena_nb.errors import (
    APIConnectionError,
    APIStatusError,
    CatenaError,
    InvalidRequestError,
    RateLimitError,
)
from catena_nb.models import ResourceOperation, _Request

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BatchResult", "RowOutcome", "normalize_rows", "run_async", "run_sync"]

logger = logging.getLogger("catena_nb.batch")

R = TypeVar("R", bound=_Request)
OnInvalid = Literal["report", "raise"]


@dataclass(frozen=True)
class RowOutcome:
    """What became of one input row.

    `status` is the operation's status (`success`, `failed`, `pending`) when the API answered with one, else
    `invalid` (refused before sending), `error` (the API refused it: nothing was created), `unknown` (the
    connection failed after sending, or a 5xx: the message may have been created) or `not_sent` (the batch
    was stopped first). `created` is True, False, or None when it cannot be known.
    """

    index: int
    row: dict[str, Any]
    operation: ResourceOperation | None = None
    error: Exception | None = None
    status: str = "pending"
    created: bool | None = None
    sends: int = 0

    @property
    def ok(self) -> bool:
        """Whether the API answered with an operation (whatever its status)."""
        return self.operation is not None

    def summary(self) -> dict[str, Any]:
        """The outcome as a flat dict (no row fields): what the tables and frames show."""
        op = self.operation
        err = self.error
        http_status = err.status_code if isinstance(err, APIStatusError) else None
        last = op.last_error if op is not None else None
        if last is not None and last.response_status_code is not None:
            http_status = last.response_status_code
        return {
            "index": self.index,
            "status": self.status,
            "created": self.created,
            "operation_id": op.id if op is not None else None,
            "error_type": str(last.error_type) if last is not None and last.error_type is not None else None,
            "error": str(err) if err is not None else (last.error_details if last is not None else None),
            "error_class": type(err).__name__ if err is not None else None,
            "http_status": http_status,
            "sends": self.sends,
        }


@dataclass
class BatchResult:
    """The outcome of every row of a batch, in input order.

    `.outcomes` has one `RowOutcome` per row; `.operations` the operations the API answered; `.errors` the
    outcomes without an operation; `.counts` the number of rows per status; `.to_frame()` a pandas table.
    """

    outcomes: list[RowOutcome]
    interrupted: bool = False
    pauses: int = field(default=0, repr=False)

    @property
    def operations(self) -> list[ResourceOperation]:
        """The operations the API answered, in input order."""
        return [o.operation for o in self.outcomes if o.operation is not None]

    @property
    def errors(self) -> list[RowOutcome]:
        """The rows that got no operation (invalid, refused, unknown or not sent), in input order."""
        return [o for o in self.outcomes if o.operation is None]

    @property
    def counts(self) -> dict[str, int]:
        """Rows per status, in a fixed order."""
        order = ["success", "failed", "pending", "invalid", "error", "unknown", "not_sent"]
        counts = dict.fromkeys(order, 0)
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        return counts

    @property
    def sent(self) -> int:
        """Rows whose request reached (or may have reached) the API."""
        return sum(1 for o in self.outcomes if o.status not in ("invalid", "not_sent"))

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[RowOutcome]:
        return iter(self.outcomes)

    def __getitem__(self, index: int) -> RowOutcome:
        return self.outcomes[index]

    def to_frame(self) -> pd.DataFrame:
        """One row per input row: outcome columns, then the row's own fields."""
        import pandas as pd

        records = []
        for o in self.outcomes:
            rec = o.summary()
            for key, value in o.row.items():
                rec.setdefault(key, value)
            records.append(rec)
        frame = pd.DataFrame.from_records(records)
        if frame.empty:
            return frame
        frame["status"] = frame["status"].astype("category")
        frame["http_status"] = frame["http_status"].astype("Int64")
        return frame.set_index("index")

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.counts.items() if v)
        stop = ", interrupted" if self.interrupted else ""
        return f"BatchResult({len(self.outcomes)} rows: {parts}{stop})"

    def _repr_html_(self) -> str:
        from catena_nb._html import batch_html

        return batch_html(
            self.counts,
            [o.summary() for o in self.outcomes],
            total=len(self.outcomes),
            interrupted=self.interrupted,
        )


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    # pandas' NA and NaT, recognised without importing pandas
    return type(value).__name__ in ("NAType", "NaTType")


def normalize_rows(rows: Iterable[Mapping[str, Any]] | Any) -> list[dict[str, Any]]:
    """Rows as plain dicts: a DataFrame's records or the given mappings; NaN/NA cells become None."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        records = rows.to_dict(orient="records")
    else:
        # A mistaken argument (a number, a string, a list of lists) is named as such rather than failing in
        # dict() with a TypeError, or being read as pairs.
        if not isinstance(rows, Iterable) or isinstance(rows, str | bytes | Mapping):
            raise InvalidRequestError(
                [{"field": "rows", "message": "must be a DataFrame or a list of dicts", "input": type(rows)}],
                what="batch",
            )
        records = list(rows)
        bad = [i for i, r in enumerate(records) if not isinstance(r, Mapping)]
        if bad:
            raise InvalidRequestError(
                [
                    {"field": f"rows[{i}]", "message": "is not a dict of fields", "input": type(records[i])}
                    for i in bad[:10]
                ],
                what="batch",
            )
        records = [dict(r) for r in records]
    return [{str(k): (None if _missing(v) else v) for k, v in rec.items()} for rec in records]


def validate_rows(
    rows: Sequence[dict[str, Any]], model: type[R], on_invalid: OnInvalid
) -> tuple[dict[int, R], dict[int, RowOutcome]]:
    """Validate every row; bad rows become `invalid` outcomes (or one error when `on_invalid="raise"`)."""
    valid: dict[int, R] = {}
    invalid: dict[int, RowOutcome] = {}
    problems: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        try:
            valid[i] = model.build(row)
        except InvalidRequestError as exc:
            invalid[i] = RowOutcome(i, row, error=exc, status="invalid", created=False)
            problems += [{**e, "field": f"rows[{i}].{e.get('field')}"} for e in exc.errors]
    if invalid and on_invalid == "raise":
        raise InvalidRequestError(problems, what=f"batch ({len(invalid)} bad rows)")
    return valid, invalid


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


def progress_bar(enabled: bool, total: int, desc: str, unit: str = " rows") -> Any:
    """A tqdm bar (notebook or terminal), or a disabled one that callers update all the same."""
    from tqdm.auto import tqdm  # imported late: it probes for ipywidgets

    kwargs: dict[str, Any] = {} if enabled else {"disable": True}
    return tqdm(total=total, desc=desc, unit=unit, **kwargs)


def run_sync(
    rows: Sequence[dict[str, Any]],
    requests: Mapping[int, R],
    invalid: Mapping[int, RowOutcome],
    send: Callable[[R], ResourceOperation],
    *,
    concurrency: int,
    pacer: Pacer,
    max_resends: int,
    progress: bool,
    label: str = "sending",
) -> BatchResult:
    """Send the valid rows on a thread pool of `concurrency` workers; Ctrl-C stops new sends cleanly."""
    outcomes: dict[int, RowOutcome] = dict(invalid)

    def send_row(i: int, req: R) -> RowOutcome:
        sends = 0
        while True:
            pacer.wait()
            sends += 1
            try:
                op = send(req)
            except Exception as exc:
                resend, hint = _resend_hint(exc)
                if resend and sends <= max_resends:
                    pacer.slow_down(hint)
                    continue
                return _failure(i, rows[i], exc, sends)
            pacer.ok()
            return RowOutcome(i, rows[i], operation=op, status=str(op.status), created=True, sends=sends)

    queue = iter(requests.items())
    interrupted = False
    bar = progress_bar(progress, len(requests), label)
    in_flight: dict[cf.Future[RowOutcome], int] = {}

    def collect(done: Iterable[cf.Future[RowOutcome]]) -> bool:
        stop = False
        for fut in done:
            i = in_flight.pop(fut)
            exc = fut.exception()
            if isinstance(exc, KeyboardInterrupt):
                outcomes[i] = RowOutcome(i, rows[i], status="unknown", created=None, sends=1)
                stop = True
            elif exc is not None:
                outcomes[i] = _failure(
                    i, rows[i], exc if isinstance(exc, Exception) else RuntimeError(exc), 1
                )
            else:
                outcomes[i] = fut.result()
            bar.update(1)
        return stop

    pool = cf.ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="catena-batch")
    try:
        while True:
            while not interrupted and len(in_flight) < concurrency:
                nxt = next(queue, None)
                if nxt is None:
                    break
                in_flight[pool.submit(send_row, *nxt)] = nxt[0]
            if not in_flight:
                break
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            if collect(done):
                interrupted = True
    except KeyboardInterrupt:
        interrupted = True
        # stop submitting, but let the rows already sent finish so their outcomes are known
        collect(list(cf.as_completed(list(in_flight))))
    finally:
        pool.shutdown(wait=True)
        bar.close()
    for i in range(len(rows)):
        if i not in outcomes:
            outcomes[i] = RowOutcome(i, rows[i], status="not_sent", created=False)
    result = BatchResult(
        [outcomes[i] for i in range(len(rows))], interrupted=interrupted, pauses=pacer.pauses
    )
    if interrupted:
        logger.warning("batch interrupted: %s", result)
    return result


async def run_async(
    rows: Sequence[dict[str, Any]],
    requests: Mapping[int, R],
    invalid: Mapping[int, RowOutcome],
    send: Callable[[R], Awaitable[ResourceOperation]],
    *,
    concurrency: int,
    pacer: Pacer,
    sleep: Callable[[float], Awaitable[None]],
    max_resends: int,
    progress: bool,
    on_done: Callable[[BatchResult], None] | None = None,
    label: str = "sending",
) -> BatchResult:
    """Send the valid rows with at most `concurrency` in flight (a semaphore).

    When the calling task is cancelled, rows not yet started are not sent, the rows in flight finish, the
    partial result goes to `on_done`, and the cancellation propagates.
    """
    outcomes: dict[int, RowOutcome] = dict(invalid)
    semaphore = asyncio.Semaphore(max(1, concurrency))
    stop = asyncio.Event()
    bar = progress_bar(progress, len(requests), label)

    async def send_row(i: int, req: R) -> None:
        async with semaphore:
            if stop.is_set():
                return
            sends = 0
            while True:
                remaining, end = pacer.pause()
                if remaining > 0:
                    await sleep(remaining)
                    pacer.resumed(end)
                sends += 1
                try:
                    op = await send(req)
                except Exception as exc:
                    resend, hint = _resend_hint(exc)
                    if resend and sends <= max_resends and not stop.is_set():
                        pacer.slow_down(hint)
                        continue
                    outcomes[i] = _failure(i, rows[i], exc, sends)
                    break
                pacer.ok()
                outcomes[i] = RowOutcome(
                    i, rows[i], operation=op, status=str(op.status), created=True, sends=sends
                )
                break
            bar.update(1)

    def finish(interrupted: bool) -> BatchResult:
        bar.close()
        for i in range(len(rows)):
            if i not in outcomes:
                outcomes[i] = RowOutcome(i, rows[i], status="not_sent", created=False)
        result = BatchResult(
            [outcomes[i] for i in range(len(rows))], interrupted=interrupted, pauses=pacer.pauses
        )
        if on_done is not None:
            on_done(result)
        return result

    everything = asyncio.gather(*(send_row(i, req) for i, req in requests.items()))
    try:
        await asyncio.shield(everything)
    except asyncio.CancelledError:
        stop.set()
        await everything
        logger.warning("batch cancelled: %s", finish(True))
        raise
    return finish(False)
