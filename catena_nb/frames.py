"""Typed pandas frames of resource operations, their attempt logs, and messages.

Every function here is pure (no I/O) and accepts the same inputs: pydantic models (anything with
``model_dump``), raw dicts in wire form, raw page bodies (``bytes``/``str`` holding a cursor page
``{"items": [...]}``, or a JSON list), or any iterable or generator mixing these. Columns are built
directly, one array per field, then converted in bulk (see :mod:`catena_nb._wire`): quicker than
``pandas.json_normalize`` on large pulls, and with declared dtypes (UTC datetimes, ``category`` for
enum-like fields, nullable ``string``, ``Int64`` and ``boolean``). Missing keys, ``logs: null``, unknown
enum values and unknown fields become NA, new categories or extra columns, never an error.

Example:
    >>> ops = client.operations.wait(batch.operations)  # doctest: +SKIP
    >>> ops_df, logs_df = operation_frames(ops)  # both in one pass  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb import _wire as w
from catena_nb._jsonio import collector_paused

__all__ = [
    "LOG_COLUMNS",
    "MESSAGE_COLUMNS",
    "OPERATION_COLUMNS",
    "logs_frame",
    "messages_frame",
    "operation_frames",
    "operations_frame",
]


# One resolution for every datetime column, whatever the input (ISO strings or datetimes) or pandas version.
DATETIME_DTYPE = "datetime64[us, UTC]"

_OP_FIELDS = (
    "id", "created_at", "updated_at", "deleted_at", "partner_id", "connection_id", "source_name", "fleet_ref",
    "resource", "operation_type", "payload", "resource_id", "source_id", "status", "logs",
)  # fmt: skip
_LOG_FIELDS = (
    "id", "created_at", "updated_at", "resource_operation_id", "status", "error_type", "error_details",
    "response_status_code",
)  # fmt: skip

OPERATION_COLUMNS: tuple[str, ...] = (
    "operation_id", "created_at", "updated_at", "deleted_at", "partner_id", "connection_id", "source_name",
    "fleet_ref", "resource", "operation_type", "status", "resource_id", "source_id", "attempts",
    "first_attempt_ok", "error_type", "error_details", "http_status", "duration_s",
)  # fmt: skip
LOG_COLUMNS: tuple[str, ...] = (
    "log_id", "operation_id", "attempt", "created_at", "updated_at", "status", "error_type", "error_details",
    "http_status", "connection_id", "source_name", "resource", "operation_type",
)  # fmt: skip
MESSAGE_COLUMNS: tuple[str, ...] = (
    "message_id", "created_at", "updated_at", "deleted_at", "occurred_at", "fleet_id", "fleet_ref",
    "connection_id", "source_name", "tsp_id", "tsp_slug", "source_id", "sender_id", "recipient_id",
    "source_sender_id", "source_recipient_id", "sender_name", "recipient_name", "message_text", "status",
    "delivered_at", "read_at", "sent_by_driver", "thread_id", "source_thread_id", "reply_to_message_id",
    "source_reply_to_message_id", "message_hash", "source_data_hash", "execution_id", "schedule_id",
)  # fmt: skip

# Wire keys each frame understands; any other key becomes an extra column.
_OP_KEYS = frozenset(_OP_FIELDS)
# assumed: response_headers are left out of the logs frame (free-form per TSP, rarely useful in a table).
_LOG_KEYS = frozenset({*_LOG_FIELDS, "response_headers"})
_MESSAGE_DATETIMES = frozenset(
    {"created_at", "updated_at", "deleted_at", "occurred_at", "delivered_at", "read_at"}
)
_MESSAGE_CATEGORIES = frozenset({"source_name", "tsp_slug", "status"})
_MESSAGE_KEYS = frozenset({"id", *MESSAGE_COLUMNS[1:]})


# ------------------------------------------------------------------------------------------ helpers


def _connection_names(connections: Any) -> dict[str, str]:
    """connection_id -> source_name from a mapping, or from objects/dicts with ``id`` and ``source_name``."""
    if connections is None:
        return {}
    if isinstance(connections, Mapping):
        if w.is_page(connections):
            connections = connections.get("items") or []
        else:
            return {str(k): str(v) for k, v in connections.items() if v is not None}
    names: dict[str, str] = {}
    for conn in connections:
        if isinstance(conn, Mapping):
            cid, name = conn.get("id"), conn.get("source_name")
        else:
            cid, name = getattr(conn, "id", None), getattr(conn, "source_name", None)
        if cid is not None and name is not None:
            names[str(cid)] = str(name)
    return names


def _extra_columns(
    rows: Sequence[w.Row], keys: Sequence[str], present: set[str], prefix: str, taken: set[str]
) -> dict[str, Any]:
    """Typed columns for free-form keys, named ``prefix + key`` (``extra_`` in front on a name clash)."""
    return _typed_columns(w.columns(rows, keys, present), prefix, taken)


def _typed_columns(wire: dict[str, Any], prefix: str, taken: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, values in wire.items():
        name = f"{prefix}{key}"
        if name in taken:
            name = f"extra_{name}"
        taken.add(name)
        out[name] = w.infer(values)
    return out


def _payload_columns(values: w.Values, taken: set[str]) -> dict[str, Any]:
    """One ``payload_<name>`` column per payload field: the first payload's fields in their order, then any
    field seen later in name order (stable across pulls)."""
    payloads: Sequence[w.Row] = values  # type: ignore[assignment]
    first: w.Row = next((p for p in payloads if p and isinstance(p, Mapping)), {})
    try:
        wire, present = w.read_columns(payloads, list(first))
    except TypeError:  # a payload that is not a mapping (None, a stray string) counts as empty
        payloads = w.mappings(values)
        wire, present = w.read_columns(payloads, list(first))
    later = sorted(present - first.keys())
    if later:
        wire.update(w.columns(payloads, later, present))
    return _typed_columns(wire, "payload_", taken)


class _Flat:
    """The wire records read once into columns, with their logs put in attempt order."""

    def __init__(self, ops: Any, connections: Any, log_fields: Sequence[str] = _LOG_FIELDS) -> None:
        recs = self.recs = w.records(ops)
        n = self.n = len(recs)
        self.op, self.keys = w.read_columns(recs, _OP_FIELDS)
        op = self.op
        self._strings: dict[str, Any] = {}
        sources: w.Values = op["source_name"]
        names = _connection_names(connections)
        if names:  # the write shape has no source_name: take it from the connections given
            sources = [
                s if s is not None else names.get(str(c))
                for s, c in zip(sources, op["connection_id"], strict=True)
            ]
        self.source_name = w.category(sources)
        self.resource = w.category(op["resource"])
        self.operation_type = w.category(op["operation_type"])

        lists: w.Values = op["logs"]
        try:
            counts = np.fromiter(map(len, lists), dtype=np.int64, count=n)
        except TypeError:  # logs: null
            lists = [v if isinstance(v, list | tuple) else [] for v in lists]
            counts = np.fromiter(map(len, lists), dtype=np.int64, count=n)
        log_recs = list(chain.from_iterable(lists))
        try:
            self.log, log_keys = w.read_columns(log_recs, log_fields)
        except TypeError:  # something in a logs list is not a mapping: drop it, keeping the op index
            lists = [
                [x for x in v if isinstance(x, Mapping)] if isinstance(v, list | tuple) else [] for v in lists
            ]
            counts = np.fromiter(map(len, lists), dtype=np.int64, count=n)
            log_recs = list(chain.from_iterable(lists))
            self.log, log_keys = w.read_columns(log_recs, log_fields)
        self.counts = counts
        self.log_recs = log_recs
        self.log_keys = log_keys
        # operations_frame asks for few log fields; the others are read if a frame asks for them

        # The wire order of logs is not guaranteed: order them by created_at within each operation (lexsort
        # is stable, so ties keep the wire order).
        op_idx = np.repeat(np.arange(n, dtype=np.int64), self.counts)
        created = w.datetimes(self.log["created_at"])
        sort_keys = created.asi8.copy()
        # assumed: a log without a time is the latest attempt
        sort_keys[np.asarray(created.isna())] = np.iinfo(np.int64).max
        order = np.lexsort((sort_keys, op_idx))
        self.in_order = bool(np.array_equal(order, np.arange(len(order))))
        self.log_order = order
        self.log_op = op_idx[order]
        self.log_created = created if self.in_order else created[order]
        starts = np.cumsum(self.counts) - self.counts
        self.attempt = np.arange(len(order), dtype=np.int64) - starts[self.log_op] + 1

    def strings(self, key: str) -> Any:
        """An operation field as a nullable string column, converted once for both frames."""
        if key not in self._strings:
            self._strings[key] = w.strings(self.op[key])
        return self._strings[key]

    def read_logs(self, keys: Sequence[str]) -> None:
        """Read these log fields now, together (quicker than one by one)."""
        missing = [k for k in keys if k not in self.log]
        if missing:
            self.log.update(w.columns(self.log_recs, missing, self.log_keys))

    def log_column(self, key: str) -> npt.NDArray[Any]:
        """The values of one log field, in attempt order (read once, then kept)."""
        self.read_logs([key])
        arr = w.objects(self.log[key])
        return arr if self.in_order else arr[self.log_order]

    @functools.cached_property
    def log_status(self) -> pd.Categorical:
        """The logs' status in attempt order, as a categorical: compared through its codes, since comparing
        decoded JSON text would read every string again."""
        return w.category(self.log_column("status"))

    def log_status_is(self, value: str) -> npt.NDArray[np.bool_]:
        """Which logs (in attempt order) have this status."""
        status = self.log_status
        if value not in status.categories:
            return np.zeros(len(status), dtype=bool)
        return np.asarray(status.codes == status.categories.get_loc(value))

    def first_attempt_ok(self) -> pd.api.extensions.ExtensionArray:
        """True/False from the first log's status; NA without logs or with a status other than the two."""
        values = np.zeros(self.n, dtype=bool)
        missing = np.ones(self.n, dtype=bool)
        first = self.attempt == 1
        ops = self.log_op[first]
        success, failed = self.log_status_is("success")[first], self.log_status_is("failed")[first]
        values[ops[success]] = True
        missing[ops[success | failed]] = False
        return pd.arrays.BooleanArray(values, missing)

    def last_failed(self) -> dict[str, npt.NDArray[Any]]:
        """error_type, error_details and response_status_code of each operation's last failed log."""
        failed = np.flatnonzero(self.log_status_is("failed"))
        ops = self.log_op[failed]
        # the logs are ordered within each operation, so the last failed one is where the op changes next
        last = np.concatenate((ops[1:] != ops[:-1], [True])) if len(ops) else np.zeros(0, dtype=bool)
        pick, who = failed[last], ops[last]
        wire = pick if self.in_order else self.log_order[pick]
        keys = ("error_type", "error_details", "response_status_code")
        if all(key in self.log for key in keys):
            values = {key: w.objects(self.log[key])[wire] for key in keys}
        else:  # only the chosen logs are looked at
            values = w.columns([self.log_recs[i] for i in wire], keys, self.log_keys)
        out = {}
        for key in keys:
            out[key] = col = np.full(self.n, None, dtype=object)
            col[who] = values[key]
        return out


def _operations(flat: _Flat) -> pd.DataFrame:
    op = flat.op
    created = w.datetimes(op["created_at"])
    updated = w.datetimes(op["updated_at"])
    failed = flat.last_failed()
    duration = (updated.asi8 - created.asi8) / 1e6
    duration[np.asarray(created.isna()) | np.asarray(updated.isna())] = np.nan
    columns: dict[str, Any] = {
        "operation_id": flat.strings("id"),
        "created_at": created,
        "updated_at": updated,
        "deleted_at": w.datetimes(op["deleted_at"]),
        "partner_id": w.strings(op["partner_id"]),
        "connection_id": flat.strings("connection_id"),
        "source_name": flat.source_name,
        "fleet_ref": w.strings(op["fleet_ref"]),
        "resource": flat.resource,
        "operation_type": flat.operation_type,
        "status": w.category(op["status"]),
        "resource_id": w.strings(op["resource_id"]),
        "source_id": w.strings(op["source_id"]),
        "attempts": pd.array(flat.counts, dtype="Int64"),
        "first_attempt_ok": flat.first_attempt_ok(),
        "error_type": w.category(failed["error_type"]),
        "error_details": w.strings(failed["error_details"]),
        "http_status": w.integers(failed["response_status_code"]),
        "duration_s": duration.astype(np.float64),
    }
    taken = set(columns)
    if "payload" in flat.keys:
        columns.update(_payload_columns(op["payload"], taken))
    columns.update(_extra_columns(flat.recs, sorted(flat.keys - _OP_KEYS), flat.keys, "", taken))
    # every column is new and belongs to this frame alone: no need for pandas' defensive copy
    return pd.DataFrame(columns, index=pd.RangeIndex(flat.n), copy=False)


def _logs(flat: _Flat) -> pd.DataFrame:
    extra = sorted(flat.log_keys - _LOG_KEYS)
    flat.read_logs([*_LOG_FIELDS, *extra])
    op = flat.log_op
    # taking from the operations' typed columns spares a second check of 600,000 strings
    parent: Any = flat.strings("id").take(op)
    if pd.isna(w.objects(flat.op["id"])).any():  # an operation without an id still names its logs
        missing = np.asarray(parent.isna(), dtype=bool)
        parent = w.strings(
            np.where(missing, flat.log_column("resource_operation_id"), w.objects(flat.op["id"])[op])
        )
    columns: dict[str, Any] = {
        "log_id": w.strings(flat.log_column("id")),
        "operation_id": parent,
        "attempt": pd.array(flat.attempt, dtype="Int64"),
        "created_at": flat.log_created,
        "updated_at": w.datetimes_like(
            flat.log_column("updated_at"), flat.log_column("created_at"), flat.log_created
        ),
        "status": flat.log_status,
        "error_type": w.category(flat.log_column("error_type")),
        "error_details": w.strings(flat.log_column("error_details")),
        "http_status": w.integers(flat.log_column("response_status_code")),
        "connection_id": flat.strings("connection_id").take(op),
        "source_name": flat.source_name.take(op),
        "resource": flat.resource.take(op),
        "operation_type": flat.operation_type.take(op),
    }
    taken = set(columns)
    columns.update(_typed_columns({key: flat.log_column(key) for key in extra}, "", taken))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(op)), copy=False)


# ------------------------------------------------------------------------------------------ public


def operations_frame(ops: Any, connections: Any = None) -> pd.DataFrame:
    """One row per resource operation, with its attempts summarised.

    Columns, in order: ``operation_id, created_at, updated_at, deleted_at, partner_id, connection_id,
    source_name, fleet_ref, resource, operation_type, status, resource_id, source_id, attempts,
    first_attempt_ok, error_type, error_details, http_status, duration_s``, then one ``payload_<name>`` column
    per payload field, then any unknown top-level field under its own name. ``error_type``, ``error_details``
    and ``http_status`` come from the last failed attempt (so an operation rescued by a retry keeps the error
    it overcame); ``attempts`` counts the logs; ``first_attempt_ok`` is NA for an operation without logs;
    ``duration_s`` is ``updated_at - created_at`` in seconds.

    Args:
        ops: models, wire dicts, page bodies (bytes/str), or an iterable of any of these.
        connections: for the write shape, which has no ``source_name``: a mapping ``connection_id ->
            source_name``, or connections (objects or dicts with ``id`` and ``source_name``).

    Returns:
        A DataFrame with UTC ``datetime64[us, UTC]`` times, ``category`` enums, nullable ``string``,
        ``Int64`` and ``boolean`` columns.

    Raises:
        TypeError: if ``ops`` holds something that is neither a record, a page nor an iterable.
        json.JSONDecodeError: if a page body is not JSON.

    Example:
        >>> ops_df = operations_frame(client.operations.list(source_name="samsara"))  # doctest: +SKIP
    """
    with collector_paused():  # see _jsonio: the records read here are many and acyclic
        return _operations(_Flat(ops, connections, log_fields=("created_at", "status")))


def logs_frame(ops: Any, connections: Any = None) -> pd.DataFrame:
    """One row per attempt (log) of each operation, ``attempt`` numbered from 1 in ``created_at`` order.

    Columns: ``log_id, operation_id, attempt, created_at, updated_at, status, error_type, error_details,
    http_status, connection_id, source_name, resource, operation_type``, then any unknown log field under its
    own name. The operation's fields are repeated on each of its attempts so that the frame groups on its own.
    Rows follow the operations' order, then the attempt number, whatever the wire order of the logs.

    Args:
        ops: models, wire dicts, page bodies (bytes/str), or an iterable of any of these.
        connections: as for :func:`operations_frame`, to name the TSP of write-shape operations.

    Returns:
        A DataFrame with the dtypes of :func:`operations_frame`.

    Raises:
        TypeError: if ``ops`` holds something that is neither a record, a page nor an iterable.
        json.JSONDecodeError: if a page body is not JSON.
    """
    with collector_paused():
        return _logs(_Flat(ops, connections))


def operation_frames(ops: Any, connections: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both :func:`operations_frame` and :func:`logs_frame` of ``ops``, reading the records once.

    Equal to ``(operations_frame(ops, connections), logs_frame(ops, connections))`` and about a third
    quicker on large pulls; it also accepts a generator, which only one of the two calls could consume.

    Args:
        ops: models, wire dicts, page bodies (bytes/str), or an iterable of any of these.
        connections: as for :func:`operations_frame`.

    Returns:
        ``(ops_df, logs_df)``.

    Raises:
        TypeError: if ``ops`` holds something that is neither a record, a page nor an iterable.
        json.JSONDecodeError: if a page body is not JSON.
    """
    with collector_paused():
        return _both_frames(ops, connections)


def _both_frames(ops: Any, connections: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    # A function of its own so that the records are freed on return, before the collector resumes.
    flat = _Flat(ops, connections)
    logs_df = _logs(flat)  # first: it reads every log field, which _operations then reuses
    return _operations(flat), logs_df


# ------------------------------------------------------------------------------------------ messages


def messages_frame(messages: Any) -> pd.DataFrame:
    """One row per message record (``MessageRead``): delivery ``status``, ``delivered_at`` and ``read_at``.

    Columns: ``message_id`` (the wire ``id``, which is the ``resource_id`` of the operation that created the
    message), then the other ``MessageRead`` fields in :data:`MESSAGE_COLUMNS`, then any other field (e.g.
    ``source_data``, group-message ``recipient_ids``) under its own name.

    Args:
        messages: models, wire dicts, page bodies (bytes/str), or an iterable of any of these.

    Returns:
        A DataFrame with UTC times, ``category`` for ``source_name``/``tsp_slug``/``status``, a ``boolean``
        ``sent_by_driver`` and nullable ``string`` for the rest.

    Raises:
        TypeError: if ``messages`` holds something that is neither a record, a page nor an iterable.
    """
    recs = w.records(messages)
    wire, present = w.read_columns(recs, ["id", *MESSAGE_COLUMNS[1:]])
    columns: dict[str, Any] = {}
    for name in MESSAGE_COLUMNS:
        values = wire["id" if name == "message_id" else name]
        if name in _MESSAGE_DATETIMES:
            columns[name] = w.datetimes(values)
        elif name in _MESSAGE_CATEGORIES:
            columns[name] = w.category(values)
        elif name == "sent_by_driver":
            columns[name] = pd.array([v if isinstance(v, bool) else None for v in values], dtype="boolean")
        else:
            columns[name] = w.strings(values)
    columns.update(_extra_columns(recs, sorted(present - _MESSAGE_KEYS), present, "", set(columns)))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(recs)))
