"""Resource operations and their attempt logs into typed columns, a chunk of operations at a time.

Each chunk of operation records is read with its payloads and logs (:func:`~._records.fields`), its logs
are put in attempt order, and every value is converted (:mod:`~._columns`) before the next chunk is read:
on a large pull this keeps each record in the CPU cache from its first read to its last conversion, which
is most of the speed of :mod:`catena_nb.frames`. The per-operation summaries of the logs (attempts, first
attempt, last error) are taken in the same pass.

Attempt order is that of :attr:`catena_nb.models.ResourceOperation.sorted_logs`: by ``created_at``, a log
without a time first, ties in wire order; the last error is that of its ``last_error``, the last failed
attempt in that order.

Whether Catena logs a successful attempt is not settled (the seed's sync 200 answer has ``logs: []``, the
same page says one entry per attempt), so the summaries read the failed attempts and the operation's own
``status``, never the success log: ``attempts`` is the attempts not logged as a success, plus one when the
operation succeeded, and ``first_attempt_ok`` falls back on the status when nothing is logged. The same
operations give the same summaries whether their successes were logged or not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb.frames import _columns as c
from catena_nb.frames._records import OPERATIONS, ObjectArray, Row, check_kind, fields, objects
from catena_nb.frames._status import http_statuses, source_column

# Operations read and converted together: with their payloads and logs, a few MB of records, small enough
# to stay in the CPU cache, large enough that the per-chunk work of pandas is a small share. Chunks of 500
# to 4,096 of a listing's records measure alike, each size the quickest in some runs
# (``benchmarks/chunk_size.py``).
CHUNK = 4096

OP_FIELDS = (
    "id", "created_at", "updated_at", "deleted_at", "partner_id", "connection_id", "source_name", "fleet_ref",
    "resource", "operation_type", "payload", "resource_id", "source_id", "status", "logs",
)  # fmt: skip
OP_KEYS = frozenset(OP_FIELDS)  # any other top-level key becomes an extra column
_OP_TEXT = ("id", "partner_id", "connection_id", "fleet_ref", "resource_id", "source_id")
_OP_TIMES = ("created_at", "updated_at", "deleted_at")
_OP_ENUMS = ("resource", "operation_type", "status")

_LAST_ERROR = ("error_type", "error_details", "response_status_code")
_LOG_FIELDS_FOR_OPS = ("created_at", "status", *_LAST_ERROR)
_LOG_FIELDS = ("id", "created_at", "updated_at", "resource_operation_id", "status", *_LAST_ERROR)
# assumed: response_headers are left out of the logs frame (free-form per TSP, rarely useful in a table).
_LOG_KEYS = frozenset({*_LOG_FIELDS, "response_headers"})


class OperationColumns:
    """Builds the typed columns of operations and, with ``logs``, of their attempt logs.

    :meth:`read` takes the operation records, a chunk at a time; :meth:`finish` joins the chunks into the
    columns of each frame.

    Args:
        capacity: how many operations will be read (room is made for them).
        names: ``connection_id -> source_name``, for the write shape, which has no ``source_name``.
        logs: whether to keep the logs' own columns (the operations' summaries of them are always taken).
        function: the public function reading them (named when a record is not an operation).
    """

    def __init__(
        self, capacity: int, names: Mapping[str, str], *, logs: bool, function: str = "operations_frame"
    ) -> None:
        self.names = names
        self.function = function
        self.with_logs = logs
        self.n = 0  # operations read so far
        n = capacity
        self._text = {key: c.Strings(n) for key in _OP_TEXT}
        self._times = {key: c.Datetimes() for key in _OP_TIMES}
        self._enums = {key: c.Categories() for key in ("source_name", *_OP_ENUMS)}
        self._error_type, self._error_details, self._http_status = c.Categories(), c.Strings(n), c.Integers()
        self._http_source: list[npt.NDArray[np.int8]] = []
        self._first_ok = c.Flags()
        self._counts: list[npt.NDArray[np.int64]] = []
        self._payload = c.Payloads(n)
        self._extra = c.FreeForm(n)
        self._log_text = {
            key: c.Strings() for key in ("id", "operation_id", "error_details", "connection_id")
        }
        self._log_times = (c.Datetimes(), c.Datetimes())
        self._log_enums = (c.Categories(), c.Categories())
        self._log_http_status = c.Integers()
        self._log_http_source: list[npt.NDArray[np.int8]] = []
        self._log_extra = c.FreeForm()
        self._log_ops: list[npt.NDArray[np.int64]] = []
        self._attempts: list[npt.NDArray[np.int64]] = []
        self._logs_read = 0
        self._statuses_read: dict[str, int | None] = {}  # the HTTP status each error text names

    def read(self, recs: Sequence[Row]) -> None:
        """Read and convert the operation records, :data:`CHUNK` at a time."""
        n = len(recs)
        for start in range(0, n, CHUNK):
            self._read(recs[start : start + CHUNK])
            if not start and n > CHUNK:  # room for the logs, guessed from the first chunk's
                self._reserve_logs(self._logs_read * n // self.n + CHUNK)

    def finish(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The columns of the operations and of their logs (empty without ``logs``), by field: each
        declared field, ``payload`` and ``extra`` (dicts of free-form columns), and for the logs ``op``
        (the row of each log's operation) and ``attempt``."""
        return self._finish_operations(), self._finish_logs() if self.with_logs else {}

    def _reserve_logs(self, capacity: int) -> None:
        for column in self._log_text.values():
            column.reserve(capacity)
        self._log_extra.reserve(capacity)

    # ------------------------------------------------------------------------------------------ reading

    def _read(self, chunk: Sequence[Row]) -> None:
        m = len(chunk)
        known_extra = list(self._extra.columns)
        wire, keys = fields(chunk, (*OP_FIELDS, *known_extra))
        check_kind(chunk, wire, keys, OPERATIONS, self.function, self.n)
        new_extra = sorted(keys - OP_KEYS - set(known_extra))
        if new_extra:
            wire.update(fields(chunk, new_extra, find_keys=False)[0])

        sources = wire["source_name"]
        if self.names:  # the write shape has no source_name: take it from the connections given
            names = self.names
            pairs = zip(sources, wire["connection_id"], strict=True)
            sources = objects([s if isinstance(s, str) else names.get(str(k), s) for s, k in pairs])
        self._enums["source_name"].add(sources)
        factorized = {key: self._enums[key].add(wire[key]) for key in _OP_ENUMS}
        for key in _OP_TIMES:
            self._times[key].add(wire[key])
        stored = {key: self._text[key].add(wire[key]) for key in _OP_TEXT}  # checked: NA where missing
        self._extra.add({key: wire[key] for key in (*known_extra, *new_extra)}, m)
        self._payload.add_payloads(wire["payload"])
        status = wire["status"]
        self._read_logs(wire["logs"], stored["id"], stored["connection_id"], status, factorized["status"])
        self.n += m

    def _read_logs(
        self,
        lists: Any,
        ids: ObjectArray,
        connection_ids: ObjectArray,
        op_status: ObjectArray,
        op_factorized: c.Factorized | None,
    ) -> None:
        m = len(lists)
        if self.with_logs:
            wanted, find_keys = (*_LOG_FIELDS, *self._log_extra.columns), True
        else:  # unknown log fields are of no use to the operations: no need to look for them
            wanted, find_keys = _LOG_FIELDS_FOR_OPS, False
        try:
            counts = np.fromiter(map(len, lists), dtype=np.int64, count=m)
        except TypeError:  # logs: null
            lists = [v if isinstance(v, list | tuple) else [] for v in lists]
            counts = np.fromiter(map(len, lists), dtype=np.int64, count=m)
        rows = list(chain.from_iterable(lists))
        try:
            log, keys = fields(rows, wanted, find_keys=find_keys)
        except TypeError:  # something in a logs list is not a mapping: drop it, keeping the operation
            lists = [[x for x in v if isinstance(x, Mapping)] for v in lists]
            counts = np.fromiter(map(len, lists), dtype=np.int64, count=m)
            rows = list(chain.from_iterable(lists))
            log, keys = fields(rows, wanted, find_keys=find_keys)

        # The wire order of logs is not guaranteed: order them by created_at within each operation.
        op = np.repeat(np.arange(m, dtype=np.int64), counts)
        created = c.microseconds(log["created_at"])
        order = _attempt_order(op, created)
        attempt = np.arange(len(op), dtype=np.int64) - (np.cumsum(counts) - counts)[op] + 1
        status = _ordered(log["status"], order)
        # hashed once: for the logs frame's column, and to tell successes and failures by their codes
        factorized = self._log_enums[0].add(status) if self.with_logs else c.factorize(status)
        success = c.where_equal(status, factorized, "success")
        failed = c.where_equal(status, factorized, "failed")

        # A success need not be logged (the seed's sync 200 answer has `logs: []`), so the answers below read
        # the failed attempts and the operation's own status, and come out the same whether it was or not.
        op_success = c.where_equal(op_status, op_factorized, "success")
        op_failed = c.where_equal(op_status, op_factorized, "failed")
        # attempts: every logged attempt that is not a success, and one for the success itself
        self._counts.append(np.bincount(op[~success], minlength=m).astype(np.int64) + op_success)
        # first_attempt_ok: the first logged attempt's status; without logs, the operation's (a success made
        # at once, or - assumed - a failure of its one unlogged attempt); NA while pending without logs, or
        # for a status other than the two.
        first = attempt == 1
        values, missing = op_success.copy(), ~(op_success | op_failed)
        logged = counts > 0
        values[logged], missing[logged] = False, True
        values[op[first & success]] = True
        missing[op[first & (success | failed)]] = False
        self._first_ok.add(values, missing)

        # The last failed attempt of each operation: where the operation changes after a failed log.
        failed_at = np.flatnonzero(failed)
        failed_op = op[failed_at]
        last = np.append(failed_op[1:] != failed_op[:-1], True) if len(failed_op) else np.zeros(0, dtype=bool)
        pick, who = failed_at[last], failed_op[last]
        pick_wire = pick if order is None else order[pick]
        summaries = {}
        for key in _LAST_ERROR:
            summaries[key] = summary = np.full(m, None, dtype=object)
            summary[who] = log[key][pick_wire]
        self._error_type.add(summaries["error_type"])
        self._error_details.add(summaries["error_details"])
        http_status, source = http_statuses(
            summaries["response_status_code"], summaries["error_details"], self._statuses_read
        )
        self._http_status.add_typed(http_status)
        self._http_source.append(source)

        if self.with_logs:
            self._add_logs(log, keys, rows, order, op, attempt, created, ids, connection_ids)

    def _add_logs(
        self,
        log: dict[str, ObjectArray],
        keys: set[str],
        rows: Sequence[Row],
        order: npt.NDArray[np.intp] | None,
        op: npt.NDArray[np.int64],
        attempt: npt.NDArray[np.int64],
        created: npt.NDArray[np.int64],
        ids: ObjectArray,
        connection_ids: ObjectArray,
    ) -> None:
        def wire_of(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return _ordered(values, order)

        created_at, updated = self._log_times
        created_i8 = created_at.add_parsed(wire_of(created))
        updated.add_like(wire_of(log["updated_at"]), wire_of(log["created_at"]), created_i8)
        text = self._log_text
        text["id"].add(wire_of(log["id"]))
        # the operation's own values, checked as text with it unless it turned out not to be text
        parent, parent_checked = ids[op], self._text["id"].all_text
        lacking = np.asarray(pd.isna(ids), dtype=bool)[op]  # per operation, fewer than its logs
        if lacking.any():  # an operation without an id still names its logs
            parent, parent_checked = np.where(lacking, wire_of(log["resource_operation_id"]), parent), False
        text["operation_id"].add(parent, checked=parent_checked)
        text["connection_id"].add(connection_ids[op], checked=self._text["connection_id"].all_text)
        text["error_details"].add(wire_of(log["error_details"]))
        self._log_enums[1].add(wire_of(log["error_type"]))  # the status was added with the summaries
        codes, details = wire_of(log["response_status_code"]), wire_of(log["error_details"])
        http_status, source = http_statuses(codes, details, self._statuses_read)
        self._log_http_status.add_typed(http_status)
        self._log_http_source.append(source)
        known = list(self._log_extra.columns)
        extra = {key: log[key] for key in known}
        new = sorted(keys - _LOG_KEYS - set(known))
        if new:
            extra.update(fields(rows, new, find_keys=False)[0])
        self._log_extra.add({key: wire_of(values) for key, values in extra.items()}, len(op))
        self._logs_read += len(op)
        self._log_ops.append(op + self.n)
        self._attempts.append(attempt)

    # ------------------------------------------------------------------------------------------ results

    def _finish_operations(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: column.finish() for key, column in self._text.items()}
        out.update((key, column.finish()) for key, column in self._times.items())
        out.update((key, column.finish()) for key, column in self._enums.items())
        out["error_type"] = self._error_type.finish()
        out["error_details"] = self._error_details.finish()
        out["http_status"] = self._http_status.finish()
        out["http_status_source"] = source_column(_join_codes(self._http_source))
        out["first_attempt_ok"] = self._first_ok.finish()
        out["attempts"] = _join_ints(self._counts)
        out["payload"] = self._payload.finish()
        out["extra"] = self._extra.finish()
        return out

    def _finish_logs(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: column.finish() for key, column in self._log_text.items()}
        out["created_at"], out["updated_at"] = (column.finish() for column in self._log_times)
        out["status"], out["error_type"] = (column.finish() for column in self._log_enums)
        out["http_status"] = self._log_http_status.finish()
        out["http_status_source"] = source_column(_join_codes(self._log_http_source))
        out["op"] = _join_ints(self._log_ops)
        out["attempt"] = _join_ints(self._attempts)
        out["extra"] = self._log_extra.finish()
        return out


def _attempt_order(op: npt.NDArray[np.int64], created: npt.NDArray[np.int64]) -> npt.NDArray[np.intp] | None:
    """The order that puts each operation's logs by ``created_at`` (None when they already are): ``op`` is
    sorted, so only the times within an operation are compared. NaT, the smallest int64, sorts first; ties
    keep the wire order."""
    if len(created) < 2 or bool(np.all((created[1:] >= created[:-1]) | (op[1:] != op[:-1]))):
        return None
    return np.lexsort((created, op))


def _ordered(values: npt.NDArray[Any], order: npt.NDArray[np.intp] | None) -> npt.NDArray[Any]:
    """A chunk's log values in attempt order."""
    return values if order is None else values[order]


def _join_codes(pieces: list[npt.NDArray[np.int8]]) -> npt.NDArray[np.int8]:
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int8)


def _join_ints(pieces: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
