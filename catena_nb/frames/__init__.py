"""Operations, logs and messages into typed pandas frames: records -> columns -> frames.

One batch, from what the caller holds to the frames, goes through three stages: records (``_records``),
columns (``_operations`` reads a chunk, ``_columns`` types it) and frames (``_frames``)::

    models, dicts, page bodies, pages, listings
        │  _records.records: one list of plain wire records (models dumped, pages opened, JSON decoded)
        ▼
    plain records
        │  _operations.OperationColumns.read, a chunk of 4,096 operations at a time:
        │      _records.fields: the chunk's fields, one object array each (its logs' too)
        │      _columns: typed while still in the CPU cache (text checked, enums hashed, times
        │                parsed), the logs put in attempt order, the last error taken
        ▼
    typed columns, joined chunk after chunk (OperationColumns.finish)
        │  _frames: the declared columns in their order, payload_* and unknown fields after them
        ▼
    operations_frame, logs_frame, operation_frames (both in one pass), messages_frame

Messages take the same path in one piece (``_frames.messages_frame``). The private pandas the stages use
live in ``_pandas``, each with a public fallback. Five to seven times quicker than ``pandas.json_normalize``
on large pulls (``benchmarks/frames.py``), with declared dtypes: UTC datetimes, ``category`` for enum-like
fields, nullable ``string``, ``Int64`` and ``boolean``.
"""

from __future__ import annotations

from catena_nb.frames._frames import (
    LOG_COLUMNS,
    MESSAGE_COLUMNS,
    OPERATION_COLUMNS,
    logs_frame,
    messages_frame,
    operation_frames,
    operations_frame,
)
from catena_nb.frames.webhooks import webhook_logs_frame, webhook_metrics_frame

__all__ = [
    "LOG_COLUMNS",
    "MESSAGE_COLUMNS",
    "OPERATION_COLUMNS",
    "logs_frame",
    "messages_frame",
    "operation_frames",
    "operations_frame",
    "webhook_logs_frame",
    "webhook_metrics_frame",
]
