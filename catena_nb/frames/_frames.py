"""The last stage of the frames: typed columns into frames with declared columns, in a declared order.

Every function here is pure (no I/O) and accepts the same inputs: pydantic models (anything with
``model_dump``), raw dicts in wire form, raw page bodies (``bytes``/``str`` holding a cursor page
``{"items": [...]}``, or a JSON list), or any iterable or generator mixing these. Missing keys,
``logs: null``, unknown enum values and unknown fields become NA, new categories or extra columns, never an
error.

Example:
    >>> ops = client.operations.wait(batch.operations)  # doctest: +SKIP
    >>> ops_df, logs_df = operation_frames(ops)  # both in one pass  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catena_nb._jsonio import collector_paused
from catena_nb.frames import _cache
from catena_nb.frames import _columns as c
from catena_nb.frames import _operations as reading
from catena_nb.frames._operations import OperationColumns
from catena_nb.frames._records import (
    MESSAGES,
    OPERATIONS,
    check_kind,
    connection_names,
    fields,
    listing_chunks,
    records,
)
from catena_nb.frames.checks import mark

OPERATION_COLUMNS: tuple[str, ...] = (
    "operation_id", "created_at", "updated_at", "deleted_at", "partner_id", "connection_id", "source_name",
    "fleet_ref", "resource", "operation_type", "status", "resource_id", "source_id", "attempts",
    "first_attempt_ok", "error_type", "error_details", "http_status", "http_status_source", "duration_s",
)  # fmt: skip
LOG_COLUMNS: tuple[str, ...] = (
    "log_id", "operation_id", "attempt", "created_at", "updated_at", "status", "error_type", "error_details",
    "http_status", "http_status_source", "connection_id", "source_name", "resource", "operation_type",
)  # fmt: skip
MESSAGE_COLUMNS: tuple[str, ...] = (
    "message_id", "created_at", "updated_at", "deleted_at", "occurred_at", "fleet_id", "fleet_ref",
    "connection_id", "source_name", "tsp_id", "tsp_slug", "source_id", "sender_id", "recipient_id",
    "source_sender_id", "source_recipient_id", "sender_name", "recipient_name", "message_text", "status",
    "delivered_at", "read_at", "sent_by_driver", "thread_id", "source_thread_id", "reply_to_message_id",
    "source_reply_to_message_id", "message_hash", "source_data_hash", "execution_id", "schedule_id",
)  # fmt: skip

_LOG_PARENT_COLUMNS = ("source_name", "resource", "operation_type")  # the logs frame takes from the ops'
_MESSAGE_DATETIMES = frozenset(
    {"created_at", "updated_at", "deleted_at", "occurred_at", "delivered_at", "read_at"}
)
_MESSAGE_CATEGORIES = frozenset({"source_name", "tsp_slug", "status"})
# Wire keys the messages frame understands; any other key becomes an extra column.
_MESSAGE_KEYS = frozenset({"id", *MESSAGE_COLUMNS[1:]})


def operations_frame(ops: Any, connections: Any = None) -> pd.DataFrame:
    """One row per resource operation, with its attempts summarised.

    Columns, in order: ``operation_id, created_at, updated_at, deleted_at, partner_id, connection_id,
    source_name, fleet_ref, resource, operation_type, status, resource_id, source_id, attempts,
    first_attempt_ok, error_type, error_details, http_status, http_status_source, duration_s``, then one
    ``payload_<name>`` column per payload field (in the order Catena keeps a payload's keys, shorter first,
    whatever order they came in), then any unknown top-level field under its own name.

    The summaries give the same values whether Catena logged the successful attempt or not (the seed's sync
    200 answer has ``logs: []``, the same page says one entry per attempt):

    - ``attempts``: the failed (not-success) attempts logged, plus one when the operation succeeded;
    - ``first_attempt_ok``: True when the operation succeeded with no failed attempt before, False when its
      first attempt failed (a failed operation without logs counts as one failed attempt), NA while it is
      pending with no log, or when its first log is neither ``success`` nor ``failed``;
    - ``error_type``, ``error_details``, ``http_status``: those of the last failed attempt (so an operation
      rescued by a retry keeps the error it overcame);
    - ``http_status``: that attempt's ``response_status_code`` where the log has one (the write answers),
      else the status its ``error_details`` names (``"Client error '401 Unauthorized' for url …"``, the
      lookup logs have no status field), else NA; ``http_status_source`` says which: ``"response"``,
      ``"error_details"`` or NA;
    - ``duration_s``: ``updated_at - created_at`` in seconds.

    The frame is marked ``df.attrs["catena_nb"] == "operations"``, which the analysis, charts and widgets
    check (see :mod:`catena_nb.frames.checks`).

    Args:
        ops: models, wire dicts, page bodies (bytes/str), or an iterable of any of these.
        connections: for the write shape, which has no ``source_name``: a mapping ``connection_id ->
            source_name``, or connections (objects or dicts with ``id`` and ``source_name``).

    Returns:
        A DataFrame with UTC ``datetime64[us, UTC]`` times, ``category`` enums, nullable ``string``,
        ``Int64`` and ``boolean`` columns.

    Raises:
        TypeError: if ``ops`` holds something that is neither a record, a page nor an iterable.
        ResponseValidationError: if a page body is not JSON, or a record is not a resource operation (it
            holds none of ``id``, ``status``, ``resource``... or is a message).

    Example:
        >>> ops_df = operations_frame(client.operations.list(source_name="samsara"))  # doctest: +SKIP
    """
    with collector_paused():  # see _jsonio: the records read here are many and acyclic
        op, _ = _columns(ops, connections, logs=False, function="operations_frame", part="operations")
        return _operations(op)


def logs_frame(ops: Any, connections: Any = None) -> pd.DataFrame:
    """One row per logged attempt of each operation, ``attempt`` numbered from 1 in ``created_at`` order.

    Columns: ``log_id, operation_id, attempt, created_at, updated_at, status, error_type, error_details,
    http_status, http_status_source, connection_id, source_name, resource, operation_type``, then any unknown
    log field under its own name. The operation's fields are repeated on each of its attempts so that the
    frame groups on its own. Rows follow the operations' order, then the attempt number, whatever the wire
    order of the logs. ``http_status`` and ``http_status_source`` are read as in :func:`operations_frame`.

    The frame holds the logs as Catena gave them, and no more: when the successful attempt was not logged it
    has no row (none is made up). Since a success is the last attempt, the failed attempts are numbered
    1, 2, ... either way, and a logged success comes after them; counts of attempts, and whether the first
    succeeded, are the operations frame's (``attempts``, ``first_attempt_ok``), which do not depend on it.
    The analyses that read this frame answer the same either way: :func:`catena_nb.error_breakdown` counts
    only its failed attempts, and :func:`catena_nb.retry_effect` reads attempt 1 where it has a row and the
    operation's status where it has none (a success with nothing logged before it succeeded at once). A
    made-up row would state what Catena did not (its times, its id), and would have to be told apart in
    every count of rows.

    The frame is marked ``df.attrs["catena_nb"] == "logs"``.

    Args:
        ops: models, wire dicts, page bodies (bytes/str), or an iterable of any of these.
        connections: as for :func:`operations_frame`, to name the TSP of write-shape operations.

    Returns:
        A DataFrame with the dtypes of :func:`operations_frame`.

    Raises:
        TypeError: if ``ops`` holds something that is neither a record, a page nor an iterable.
        ResponseValidationError: if a page body is not JSON, or a record is not a resource operation (it
            holds none of ``id``, ``status``, ``resource``... or is a message).
    """
    with collector_paused():
        op, log = _columns(ops, connections, logs=True, function="logs_frame", part="logs")
        return _logs(op, log)


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
        ResponseValidationError: if a page body is not JSON, or a record is not a resource operation (it
            holds none of ``id``, ``status``, ``resource``... or is a message).
    """
    with collector_paused():
        op, log = _columns(ops, connections, logs=True, function="operation_frames")
        return _operations(op), _logs(op, log)


def _columns(
    ops: Any, connections: Any, *, logs: bool, function: str, part: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pipeline: records, read into typed columns a chunk at a time, then joined.

    For one frame (`part`) of a list of untouched listing models, the columns of both frames are read and
    the other's are kept for the call that asks for it next (`_cache`).
    """
    listed = _cache.records_of(ops, connections) if part is not None else None
    if listed is not None:
        kept = _cache.take(ops, listed, part or "")
        if kept is not None:
            return kept
        logs = True
    chunks = listing_chunks(ops, OPERATIONS, function, reading.CHUNK) if listed is None else None
    if chunks is not None:  # a client listing: each chunk read as soon as its pages are in
        reader = OperationColumns(0, connection_names(connections), logs=logs, function=function)
        for chunk in chunks:
            reader.read(chunk)
    else:
        recs = listed if listed is not None else records(ops, OPERATIONS, function, structs=True)
        reader = OperationColumns(len(recs), connection_names(connections), logs=logs, function=function)
        reader.read(recs)
        del recs  # freed here (when decoded from page bodies), before the columns are joined
    op, log = reader.finish()
    if listed is not None and part is not None:
        # the operations frame shares its arrays: the logs frame reads copies of the ones it takes from it
        shared = {key: op[key].copy() for key in _LOG_PARENT_COLUMNS} if part == "operations" else {}
        _cache.keep(ops, listed, ({**op, **shared}, log), taken=part)
    return op, log


def _operations(op: dict[str, Any]) -> pd.DataFrame:
    created, updated = op["created_at"], op["updated_at"]
    duration = (updated.asi8 - created.asi8) / 1e6
    duration[np.asarray(created.isna()) | np.asarray(updated.isna())] = np.nan
    columns: dict[str, Any] = {
        "operation_id": op["id"],
        "created_at": created,
        "updated_at": updated,
        "deleted_at": op["deleted_at"],
        "partner_id": op["partner_id"],
        "connection_id": op["connection_id"],
        "source_name": op["source_name"],
        "fleet_ref": op["fleet_ref"],
        "resource": op["resource"],
        "operation_type": op["operation_type"],
        "status": op["status"],
        "resource_id": op["resource_id"],
        "source_id": op["source_id"],
        "attempts": pd.array(op["attempts"], dtype="Int64"),
        "first_attempt_ok": op["first_attempt_ok"],
        "error_type": op["error_type"],
        "error_details": op["error_details"],
        "http_status": op["http_status"],
        "http_status_source": op["http_status_source"],
        "duration_s": duration.astype(np.float64),
    }
    taken = set(columns)
    columns.update(c.named(op["payload"], "payload_", taken))
    columns.update(c.named(op["extra"], "", taken))
    # every column is new and belongs to this frame alone: no need for pandas' defensive copy
    return mark(pd.DataFrame(columns, index=pd.RangeIndex(len(created)), copy=False), "operations")


def _logs(op: dict[str, Any], log: dict[str, Any]) -> pd.DataFrame:
    parent = log["op"]
    columns: dict[str, Any] = {
        "log_id": log["id"],
        "operation_id": log["operation_id"],
        "attempt": pd.array(log["attempt"], dtype="Int64"),
        "created_at": log["created_at"],
        "updated_at": log["updated_at"],
        "status": log["status"],
        "error_type": log["error_type"],
        "error_details": log["error_details"],
        "http_status": log["http_status"],
        "http_status_source": log["http_status_source"],
        "connection_id": log["connection_id"],
        # the operations' categoricals, taken through their codes
        "source_name": op["source_name"].take(parent),
        "resource": op["resource"].take(parent),
        "operation_type": op["operation_type"].take(parent),
    }
    columns.update(c.named(log["extra"], "", set(columns)))
    return mark(pd.DataFrame(columns, index=pd.RangeIndex(len(parent)), copy=False), "logs")


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
        ResponseValidationError: if a page body is not JSON, or a record is not a message (it holds none of
            ``id``, ``status``, ``message_text``... or is a resource operation).

    The frame is marked ``df.attrs["catena_nb"] == "messages"``.
    """
    recs = records(messages, MESSAGES, "messages_frame")
    wire, present = fields(recs, ["id", *MESSAGE_COLUMNS[1:]])
    check_kind(recs, wire, present, MESSAGES, "messages_frame")
    columns: dict[str, Any] = {}
    for name in MESSAGE_COLUMNS:
        values = wire["id" if name == "message_id" else name]
        if name in _MESSAGE_DATETIMES:
            columns[name] = c.datetimes(values)
        elif name in _MESSAGE_CATEGORIES:
            columns[name] = c.category(values)
        elif name == "sent_by_driver":
            columns[name] = pd.array([v if isinstance(v, bool) else None for v in values], dtype="boolean")
        else:
            columns[name] = c.strings(values)
    columns.update(c.free_form_columns(recs, sorted(present - _MESSAGE_KEYS), set(columns)))
    return mark(pd.DataFrame(columns, index=pd.RangeIndex(len(recs))), "messages")
