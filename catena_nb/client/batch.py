"""Batch sends: one outcome per row, each row sent at most once, bounded concurrency, a clean stop.

Every row is validated first; a bad row becomes an `invalid` outcome and is never sent. A create is never
resent after the API may have acted on it. Two answers prove it did not: a 429 (the API refused the request)
and a connection that could not even be opened; only those rows are sent again, after a pause shared by all
workers (the batch slows down as a whole). A connection lost after the request left is reported as
`unknown`: the message may have been created.

This module holds what a batch gives back (`BatchResult`, one `RowOutcome` per row) and how rows are read
and checked; `_batching` sends them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

from catena_nb.errors import APIStatusError, InvalidRequestError
from catena_nb.models import ResourceOperation, _Request

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BATCH_DEFAULTS",
    "BatchOptions",
    "BatchResult",
    "OnInvalid",
    "RowOutcome",
    "normalize_rows",
    "validate_rows",
]

R = TypeVar("R", bound=_Request)
OnInvalid = Literal["report", "raise"]


class BatchOptions(TypedDict, total=False):
    """The options of `create_many`: `sync` sends, at most `concurrency` in flight, a `progress` bar, and
    `on_invalid="report"` (bad rows become `invalid` outcomes) or `"raise"` (before anything is sent)."""

    sync: bool
    concurrency: int
    progress: bool | None
    on_invalid: OnInvalid


BATCH_DEFAULTS: dict[str, Any] = {"sync": False, "concurrency": 8, "on_invalid": "report"}


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
        if last is not None and last.http_status is not None:
            http_status = last.http_status
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
    rows: list[dict[str, Any]], model: type[R], on_invalid: OnInvalid
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
