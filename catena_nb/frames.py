"""Typed pandas frames of resource operations, their attempt logs, and messages.

Every function here is pure (no I/O) and accepts the same inputs: pydantic models (anything with
``model_dump``), raw dicts in wire form, raw page bodies (``bytes``/``str`` holding a cursor page
``{"items": [...]}``, or a JSON list), or any iterable or generator mixing these. Columns are built directly,
one list per column, then converted in bulk: far quicker than ``pandas.json_normalize`` on large pulls, and
the result has declared dtypes (UTC datetimes, ``category`` for enum-like fields, nullable ``string``,
``Int64`` and ``boolean``). Missing keys, ``logs: null``, unknown enum values and unknown fields become NA,
new categories or extra columns, never an error.

Example:
    >>> ops_df = operations_frame(client.operations.list(since="2026-10-01"))  # doctest: +SKIP
    >>> logs_df = logs_frame(ops_df_source)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["OPERATION_COLUMNS", "LOG_COLUMNS", "MESSAGE_COLUMNS", "logs_frame", "messages_frame", "operations_frame"]

logger = logging.getLogger("catena_nb.frames")

# One resolution for every datetime column, whatever the input (ISO strings or datetimes) or pandas version.
DATETIME_DTYPE = "datetime64[us, UTC]"

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
_OP_KEYS = frozenset(
    {"id", "created_at", "updated_at", "deleted_at", "partner_id", "connection_id", "source_name", "fleet_ref",
     "resource", "operation_type", "payload", "resource_id", "source_id", "status", "logs"}
)  # fmt: skip
# assumed: response_headers are left out of the logs frame (free-form per TSP, rarely useful in a table).
_LOG_KEYS = frozenset(
    {"id", "created_at", "updated_at", "resource_operation_id", "status", "error_type", "error_details",
     "response_status_code", "response_headers"}
)  # fmt: skip
_MESSAGE_DATETIMES = frozenset({"created_at", "updated_at", "deleted_at", "occurred_at", "delivered_at", "read_at"})
_MESSAGE_CATEGORIES = frozenset({"source_name", "tsp_slug", "status"})
_MESSAGE_KEYS = frozenset({"id", *MESSAGE_COLUMNS[1:]})


# --------------------------------------------------------------------------------------------- input


def _collect(data: Any, out: list[Mapping[str, Any]]) -> None:
    """Append every record found in ``data`` (see the module docstring for the accepted forms) to ``out``."""
    if data is None:
        return
    if isinstance(data, bytes | bytearray | memoryview | str):
        _collect(json.loads(bytes(data) if isinstance(data, memoryview) else data), out)
        return
    if isinstance(data, Mapping):
        if _is_page(data):
            _collect(data.get("items"), out)
        else:
            out.append(data)
        return
    dump = getattr(data, "model_dump", None)
    if callable(dump):
        # mode="json" gives the wire form: ISO strings and plain enum values, exactly like raw dicts.
        out.append(dump(mode="json"))
        return
    if isinstance(data, Iterable):
        append = out.append
        for item in data:
            # The common case (a list of wire dicts) skips the recursive call.
            if type(item) is dict and not _is_page(item):
                append(item)
            else:
                _collect(item, out)
        return
    raise TypeError(f"cannot read records from a {type(data).__name__}")


def _is_page(obj: Mapping[str, Any]) -> bool:
    return "items" in obj and "id" not in obj


def _records(data: Any) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    _collect(data, out)
    return out


def _connection_names(connections: Any) -> dict[str, str]:
    """connection_id -> source_name from a mapping, or from objects/dicts with ``id`` and ``source_name``."""
    if connections is None:
        return {}
    if isinstance(connections, Mapping):
        if _is_page(connections):
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


# ------------------------------------------------------------------------------------ column builders


def _datetimes(values: list[Any]) -> pd.DatetimeIndex:
    """UTC datetimes from ISO strings with any offset (or datetimes); unparseable values become NaT."""
    idx = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601", errors="coerce")
    return pd.DatetimeIndex(idx).as_unit("us")


def _strings(values: list[Any] | npt.NDArray[Any]) -> pd.api.extensions.ExtensionArray:
    return pd.array(values, dtype="string")


def _category(values: list[Any] | npt.NDArray[Any]) -> pd.Categorical:
    try:
        return pd.Categorical(values)
    except TypeError:  # an unhashable value (a dict where an enum was expected): keep its text
        return pd.Categorical([None if v is None else str(v) for v in values])


def _integers(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    whole = numbers.where(numbers.isna() | (numbers % 1 == 0))  # 400.5 is no HTTP status
    return pd.array(whole, dtype="Int64")


def _infer(values: list[Any]) -> Any:
    """A typed column for free-form values (payload fields, unknown keys): strings, flags, numbers, or objects."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds or kinds <= {str}:
        return pd.array(values, dtype="string")
    if kinds <= {bool}:
        return pd.array(values, dtype="boolean")
    if kinds <= {int}:
        return pd.array(values, dtype="Int64")
    if kinds <= {int, float}:
        return pd.array(values, dtype="Float64")
    return pd.array(values, dtype=object)


def _free_columns(
    rows: list[Mapping[str, Any]], keys: Iterable[str], prefix: str, taken: set[str]
) -> dict[str, Any]:
    """Typed columns for the given keys of ``rows``, named ``prefix + key`` (``extra_`` on a name clash)."""
    out: dict[str, Any] = {}
    for key in keys:
        name = f"{prefix}{key}"
        if name in taken:
            name = f"extra_{name}"
        taken.add(name)
        out[name] = _infer([row.get(key) for row in rows])
    return out


def _ordered_keys(maps: Iterable[Mapping[str, Any] | None], skip: frozenset[str] = frozenset()) -> list[str]:
    """Union of the keys of ``maps`` in first-seen order, without ``skip``."""
    seen: dict[str, None] = {}
    for m in maps:
        if m and not m.keys() <= seen.keys():
            for k in m:
                if k not in seen and k not in skip:
                    seen[k] = None
    return [k for k in seen if k not in skip]


def _unknown_keys(rows: list[Mapping[str, Any]], known: frozenset[str]) -> list[str]:
    extra: dict[str, None] = {}
    for row in rows:
        for k in row.keys() - known:
            extra.setdefault(k, None)
    return sorted(extra)


# ---------------------------------------------------------------------------------------- operations


class _Flat:
    """The columns shared by the operations and logs frames, computed once from the records."""

    def __init__(self, ops: Any, connections: Any = None) -> None:
        recs = self.recs = _records(ops)
        n = self.n = len(recs)
        names = _connection_names(connections)
        self.op_ids = [r.get("id") for r in recs]
        self.connection_ids = [r.get("connection_id") for r in recs]
        sources = [r.get("source_name") for r in recs]
        if names:  # the write shape has no source_name: take it from the connections given
            sources = [s if s is not None else names.get(str(c)) for s, c in zip(sources, self.connection_ids)]
        self.source_name = _category(sources)
        self.resource = _category([r.get("resource") for r in recs])
        self.operation_type = _category([r.get("operation_type") for r in recs])

        # Logs: flattened once, then ordered by created_at within each operation (the wire order is not
        # guaranteed; ties keep the wire order because lexsort is stable).
        log_recs: list[Mapping[str, Any]] = []
        log_op: list[int] = []
        for i, r in enumerate(recs):
            logs = r.get("logs")
            if logs:
                good = [log for log in logs if isinstance(log, Mapping)]
                log_recs.extend(good)
                log_op.extend([i] * len(good))
        created = _datetimes([log.get("created_at") for log in log_recs])
        keys = created.asi8.copy()
        keys[created.isna()] = np.iinfo(np.int64).max  # assumed: a log without a time is the latest attempt
        op_idx = np.asarray(log_op, dtype=np.int64)
        order = np.lexsort((keys, op_idx))
        self.log_order = order
        self.log_recs = log_recs
        self.log_op = op_idx[order]
        self.log_created = created[order]
        m = len(order)
        counts = np.bincount(self.log_op, minlength=n) if n else np.zeros(0, dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if n else np.zeros(0, dtype=np.int64)
        self.attempt = np.arange(m, dtype=np.int64) - starts[self.log_op] + 1 if m else np.zeros(0, np.int64)
        self.counts = counts
        statuses = np.asarray([log.get("status") for log in log_recs], dtype=object)[order]
        self.log_status = statuses
        self.log_error_type = np.asarray([log.get("error_type") for log in log_recs], dtype=object)[order]
        self.log_details = np.asarray([log.get("error_details") for log in log_recs], dtype=object)[order]
        self.log_http = np.asarray([log.get("response_status_code") for log in log_recs], dtype=object)[order]

    def first_attempt_ok(self) -> pd.api.extensions.ExtensionArray:
        """True/False from the first log's status; NA without logs or with a status other than the two."""
        out = np.full(self.n, None, dtype=object)
        first = self.attempt == 1
        ops = self.log_op[first]
        status = self.log_status[first]
        out[ops[status == "success"]] = True
        out[ops[status == "failed"]] = False
        return pd.array(out, dtype="boolean")

    def last_failed(self) -> tuple[list[Any], list[Any], list[Any]]:
        """error_type, error_details and response_status_code of each operation's last failed log."""
        failed = np.flatnonzero(self.log_status == "failed")
        ops = self.log_op[failed]
        # the logs are ordered within each operation, so the last failed one is where the op changes next
        last = np.concatenate((ops[1:] != ops[:-1], [True])) if len(ops) else np.zeros(0, dtype=bool)
        pick, who = failed[last], ops[last]
        et = np.full(self.n, None, dtype=object)
        det = np.full(self.n, None, dtype=object)
        http = np.full(self.n, None, dtype=object)
        et[who] = self.log_error_type[pick]
        det[who] = self.log_details[pick]
        http[who] = self.log_http[pick]
        return list(et), list(det), list(http)


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
    """
    flat = _Flat(ops, connections)
    recs = flat.recs
    created = _datetimes([r.get("created_at") for r in recs])
    updated = _datetimes([r.get("updated_at") for r in recs])
    error_type, error_details, http = flat.last_failed()
    duration = (updated.asi8 - created.asi8) / 1e6
    duration[np.asarray(created.isna() | updated.isna())] = np.nan
    columns: dict[str, Any] = {
        "operation_id": _strings(flat.op_ids),
        "created_at": created,
        "updated_at": updated,
        "deleted_at": _datetimes([r.get("deleted_at") for r in recs]),
        "partner_id": _strings([r.get("partner_id") for r in recs]),
        "connection_id": _strings(flat.connection_ids),
        "source_name": flat.source_name,
        "fleet_ref": _strings([r.get("fleet_ref") for r in recs]),
        "resource": flat.resource,
        "operation_type": flat.operation_type,
        "status": _category([r.get("status") for r in recs]),
        "resource_id": _strings([r.get("resource_id") for r in recs]),
        "source_id": _strings([r.get("source_id") for r in recs]),
        "attempts": pd.array(flat.counts, dtype="Int64"),
        "first_attempt_ok": flat.first_attempt_ok(),
        "error_type": _category(error_type),
        "error_details": _strings(error_details),
        "http_status": _integers(http),
        "duration_s": duration.astype(np.float64),
    }
    payloads = [p if isinstance(p := r.get("payload"), Mapping) else None for r in recs]
    taken = set(columns)
    present = [p if p is not None else {} for p in payloads]
    columns.update(_free_columns(present, _ordered_keys(payloads), "payload_", taken))
    columns.update(_free_columns(recs, _unknown_keys(recs, _OP_KEYS), "", taken))
    return pd.DataFrame(columns, index=pd.RangeIndex(flat.n))


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
    """
    flat = _Flat(ops, connections)
    order, op = flat.log_order, flat.log_op
    logs = [flat.log_recs[i] for i in order]
    op_ids = np.asarray(flat.op_ids, dtype=object)
    parent = op_ids[op] if len(op) else np.zeros(0, dtype=object)
    own = np.asarray([log.get("resource_operation_id") for log in logs], dtype=object)
    parent = np.where(pd.isna(parent), own, parent)  # an operation without an id still names its logs
    columns: dict[str, Any] = {
        "log_id": _strings([log.get("id") for log in logs]),
        "operation_id": _strings(parent),
        "attempt": pd.array(flat.attempt, dtype="Int64"),
        "created_at": flat.log_created,
        "updated_at": _datetimes([log.get("updated_at") for log in logs]),
        "status": _category(flat.log_status),
        "error_type": _category(flat.log_error_type),
        "error_details": _strings(flat.log_details),
        "http_status": _integers(list(flat.log_http)),
        "connection_id": _strings(np.asarray(flat.connection_ids, dtype=object)[op] if len(op) else []),
        "source_name": flat.source_name.take(op),
        "resource": flat.resource.take(op),
        "operation_type": flat.operation_type.take(op),
    }
    columns.update(_free_columns(logs, _unknown_keys(logs, _LOG_KEYS), "", set(columns)))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(logs)))


# ------------------------------------------------------------------------------------------ messages


def messages_frame(messages: Any) -> pd.DataFrame:
    """One row per message record (``MessageRead``), with its delivery ``status``, ``delivered_at``, ``read_at``.

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
    recs = _records(messages)
    columns: dict[str, Any] = {}
    for name in MESSAGE_COLUMNS:
        values = [r.get("id" if name == "message_id" else name) for r in recs]
        if name in _MESSAGE_DATETIMES:
            columns[name] = _datetimes(values)
        elif name in _MESSAGE_CATEGORIES:
            columns[name] = _category(values)
        elif name == "sent_by_driver":
            columns[name] = pd.array([v if isinstance(v, bool) else None for v in values], dtype="boolean")
        else:
            columns[name] = _strings(values)
    columns.update(_free_columns(recs, _unknown_keys(recs, _MESSAGE_KEYS), "", set(columns)))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(recs)))
