"""The audit store's tables, and the conversions between them and the frames of :mod:`catena_nb.frames`.

Each table holds the frame's own columns, typed for SQL (``TIMESTAMPTZ``, ``VARCHAR``, ``BIGINT``,
``BOOLEAN``, ``DOUBLE``), so that ad-hoc queries need no JSON. What has no fixed column is kept as JSON
text: the payload (``payload``, as it came; the ``payload_*`` columns read from it come in the API's key
order, as the frames' do), and fields unknown to the frames (``extra``).

DuckDB hands pandas back other dtypes than it was given (``Etc/UTC`` timestamps, ``str`` with NaN, ...):
:func:`read_frame` rebuilds every column with the converters the frames use, so a frame read from the store
equals the frame built from the same records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from catena_nb.frames import LOG_COLUMNS, MESSAGE_COLUMNS, OPERATION_COLUMNS, _columns, _records
from catena_nb.frames._operations import OP_KEYS
from catena_nb.frames._status import SOURCE_DTYPE, http_statuses, source_column
from catena_nb.frames.checks import Kind, mark

SCHEMA_VERSION = "1"

# column -> SQL type; the kind of conversion on the way out follows from the SQL type and _CATEGORIES.
_TS, _TEXT, _INT, _BOOL, _FLOAT = "TIMESTAMPTZ", "VARCHAR", "BIGINT", "BOOLEAN", "DOUBLE"
# the SQL type of every column of the operations and logs frames (a name both have means the same in each)
_COLUMN_TYPES: dict[str, str] = {
    "operation_id": _TEXT, "created_at": _TS, "updated_at": _TS, "deleted_at": _TS, "partner_id": _TEXT,
    "connection_id": _TEXT, "source_name": _TEXT, "fleet_ref": _TEXT, "resource": _TEXT,
    "operation_type": _TEXT, "status": _TEXT, "resource_id": _TEXT, "source_id": _TEXT, "attempts": _INT,
    "first_attempt_ok": _BOOL, "error_type": _TEXT, "error_details": _TEXT, "http_status": _INT,
    "http_status_source": _TEXT, "duration_s": _FLOAT, "log_id": _TEXT, "attempt": _INT,
}  # fmt: skip
# in the frames' column order; a frame column without a type here fails at import, not in a write
_OP_TYPES = {name: _COLUMN_TYPES[name] for name in OPERATION_COLUMNS}
_LOG_TYPES = {name: _COLUMN_TYPES[name] for name in LOG_COLUMNS}
_MESSAGE_TIMES = {"created_at", "updated_at", "deleted_at", "occurred_at", "delivered_at", "read_at"}
_MESSAGE_TYPES: dict[str, str] = {
    name: _TS if name in _MESSAGE_TIMES else _BOOL if name == "sent_by_driver" else _TEXT
    for name in MESSAGE_COLUMNS
}
_CATEGORIES = {
    "operations": {"source_name", "resource", "operation_type", "status", "error_type"},
    "logs": {"status", "error_type", "source_name", "resource", "operation_type"},
    "messages": {"source_name", "tsp_slug", "status"},
}


# Columns added after the first stores were written: a store opened for writing gains them (NULL in its old
# rows), a read-only one is read without them, and :func:`read_frame` fills them in as the frames would.
ADDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "operations": ("http_status_source",),
    "logs": ("http_status_source",),
    "messages": (),
}


class Table:
    """One stored table: its frame columns with SQL types, its key, and its JSON text columns."""

    def __init__(self, name: str, types: Mapping[str, str], key: str, json_columns: Sequence[str]) -> None:
        self.name = name
        self.types = dict(types)
        self.key = key
        self.json_columns = tuple(json_columns)
        self.categories = _CATEGORIES[name]
        self.kind = cast("Kind", name)  # each table is named after its frame
        self.added = ADDED_COLUMNS[name]
        self.columns = (*self.types, *self.json_columns)

    def migrations(self) -> list[str]:
        """The ``ALTER TABLE`` statements that give a store written before them the :data:`ADDED_COLUMNS`."""
        alter = f"ALTER TABLE {self.name} ADD COLUMN IF NOT EXISTS"
        return [f"{alter} {name} {self.types[name]}" for name in self.added]

    def ddl(self) -> str:
        """The ``CREATE TABLE IF NOT EXISTS`` statement."""
        cols = [f"{name} {sql}" for name, sql in self.types.items()]
        cols[0] += " PRIMARY KEY"
        cols += [f"{name} VARCHAR" for name in self.json_columns]
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  " + ",\n  ".join(cols) + "\n)"


OPERATIONS = Table("operations", _OP_TYPES, "operation_id", ("payload", "extra"))
LOGS = Table("logs", _LOG_TYPES, "log_id", ("extra",))
MESSAGES = Table("messages", _MESSAGE_TYPES, "message_id", ("extra",))

STATE_DDL = "CREATE TABLE IF NOT EXISTS sync_state (name VARCHAR PRIMARY KEY, value VARCHAR)"
# The webhook deliveries merged into the store, by the envelope's id: what the listener dedupes on, and
# which subscriptions deliver here (the listener replays their dead-letter queues on start).
EVENTS_DDL = """CREATE TABLE IF NOT EXISTS webhook_events (
  event_id VARCHAR PRIMARY KEY,
  webhook_id VARCHAR,
  event_name VARCHAR,
  received_at TIMESTAMPTZ,
  records BIGINT
)"""
# Where each operation was seen: ``listing`` (a sync's pages), ``webhook`` (a delivery) or ``lookup`` (a
# get by id), with the status and updated_at that source last reported: what reconciliation compares.
PROVENANCE_DDL = """CREATE TABLE IF NOT EXISTS provenance (
  operation_id VARCHAR,
  source VARCHAR,
  status VARCHAR,
  updated_at TIMESTAMPTZ,
  seen_at TIMESTAMPTZ,
  PRIMARY KEY (operation_id, source)
)"""
SOURCES = ("listing", "webhook", "lookup")
# Tables added after the first version of the schema; a store without them gains them when next written.
ADDED_DDL = (EVENTS_DDL, PROVENANCE_DDL)
# The sync bookkeeping in ``sync_state``, one row per name. Each followed table (``SYNCED_TABLES``) has the
# span it covers: ``<table>.covered_from`` .. ``<table>.high_water`` (ISO 8601 UTC). ``sync.requested_from``
# is the earliest start any sync of the store was asked for, written before the first request, so that a
# table without a mark yet (a sync stopped before reaching it) starts there. A store written before that
# name existed has none: the earliest ``covered_from`` of its tables stands in.
SYNCED_TABLES = ("operations", "messages")
REQUESTED_FROM = "sync.requested_from"


def covered_from_key(table: str) -> str:
    """The ``sync_state`` name of the earliest time ``table`` is covered from."""
    return f"{table}.covered_from"


def covered_to_key(table: str) -> str:
    """The ``sync_state`` name of the time ``table`` is covered up to (its high-water mark)."""
    return f"{table}.high_water"


# No secondary indexes: DuckDB's zone maps serve the time filters, and an ART index per column would cost
# more on every insert than it saves on the scans of an audit.


# ----------------------------------------------------------------------------------------- into the store


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    """A JSON-able stand-in for a value json cannot write (numpy scalars from a frame, datetimes)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _unknown(record: Mapping[str, Any], known: frozenset[str]) -> str | None:
    extra = {k: v for k, v in record.items() if k not in known}
    return _json_text(extra) if extra else None


def _unknowns(
    records: Sequence[Mapping[str, Any]], known: frozenset[str]
) -> pd.api.extensions.ExtensionArray:
    """The fields of each record unknown to the frames, as JSON text (NA for a record without any)."""
    if _records.key_union(records) <= known:  # the usual case, checked without a dict per record
        return pd.array([None] * len(records), dtype="string")
    return pd.array([_unknown(r, known) for r in records], dtype="string")


def operation_rows(records: Sequence[Mapping[str, Any]], ops_df: pd.DataFrame) -> pd.DataFrame:
    """The ``operations`` table rows of ``records``, from their frame ``ops_df`` (same order)."""
    out = ops_df.loc[:, list(OPERATION_COLUMNS)].copy()
    out["payload"] = pd.array([_json_text(r.get("payload") or None) for r in records], dtype="string")
    out["extra"] = _unknowns(records, OP_KEYS)
    return out


def log_rows(logs_df: pd.DataFrame) -> pd.DataFrame:
    """The ``logs`` table rows of a logs frame: its columns, and its unknown log fields as JSON text."""
    out = logs_df.loc[:, list(LOG_COLUMNS)].copy()
    extra_names = [c for c in logs_df.columns if c not in LOG_COLUMNS]
    if not extra_names:
        out["extra"] = pd.array([None] * len(out), dtype="string")
    else:
        # the frame named an unknown field after itself, or extra_<field> when that clashed with a column
        keys = [c[6:] if c.startswith("extra_") and c[6:] in LOG_COLUMNS else c for c in extra_names]
        values = [_objects(logs_df[c]) for c in extra_names]
        out["extra"] = pd.array(
            [_json_text(dict(zip(keys, row, strict=True))) for row in zip(*values, strict=True)],
            dtype="string",
        )
    # assumed: a log without an id is keyed by its operation and attempt number, which is stable as long as
    # the API keeps the attempts it has already reported
    missing = out["log_id"].isna().to_numpy()
    if missing.any():
        synth = out["operation_id"].astype("string") + "#" + out["attempt"].astype("string")
        out["log_id"] = out["log_id"].where(~missing, synth)
    return out


def message_rows(records: Sequence[Mapping[str, Any]], msgs_df: pd.DataFrame) -> pd.DataFrame:
    """The ``messages`` table rows of message ``records``, from their frame ``msgs_df``."""
    out = msgs_df.loc[:, list(MESSAGE_COLUMNS)].copy()
    known = frozenset({"id", *MESSAGE_COLUMNS[1:]})
    out["extra"] = _unknowns(records, known)
    return out


# ----------------------------------------------------------------------------------------- out of the store


def _objects(series: pd.Series) -> np.ndarray[Any, Any]:
    """The values as Python objects, every kind of missing value (NaN, NaT, NA) as None."""
    arr: np.ndarray[Any, Any] = series.to_numpy(dtype=object, copy=True)
    arr[np.asarray(pd.isna(arr), dtype=bool)] = None
    return arr


def _column(table: Table, name: str, series: pd.Series) -> Any:
    sql = table.types[name]
    if sql == _TS:
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            return pd.DatetimeIndex(series).tz_convert("UTC").as_unit("us")
        return _columns.datetimes(_objects(series))
    if name == "http_status_source":
        return pd.Categorical(_objects(series), dtype=SOURCE_DTYPE)
    if name in table.categories:
        return _columns.category(_objects(series))
    if sql == _TEXT:
        return _columns.strings(_objects(series))
    if sql == _INT:
        return pd.array(_objects(series), dtype="Int64")
    if sql == _BOOL:
        return pd.array(_objects(series), dtype="boolean")
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _decoded(series: pd.Series) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for text in _objects(series):
        value = json.loads(text) if text is not None else None
        out.append(value if isinstance(value, dict) else {})
    return out


def read_frame(table: Table, raw: pd.DataFrame) -> pd.DataFrame:
    """The frame of ``table``, as :mod:`catena_nb.frames` builds it, from DuckDB's ``.df()`` of its rows."""
    n = len(raw)
    lacking = pd.Series([None] * n, dtype=object)  # a column the store predates
    columns: dict[str, Any] = {
        name: _column(table, name, raw[name] if name in raw.columns else lacking) for name in table.types
    }
    if "http_status_source" in columns:
        _fill_http_status(columns)
    taken = set(columns)
    if "payload" in table.json_columns:
        columns.update(_columns.payload_columns(_decoded(raw["payload"]), taken))  # the frames' own rule
    extras = _decoded(raw["extra"])
    # unknown fields under their own names, as both frames put them
    columns.update(_columns.free_form_columns(extras, sorted(_records.key_union(extras)), taken))
    return mark(pd.DataFrame(columns, index=pd.RangeIndex(n)), table.kind)


def _fill_http_status(columns: dict[str, Any]) -> None:
    """Where a row has no ``http_status_source`` (written before the column was), say where its status came
    from: a stored ``http_status`` was the log's ``response_status_code`` (the only source then); without one,
    the status its ``error_details`` names, as :mod:`catena_nb.frames` reads it now."""
    source = columns["http_status_source"]
    unknown = np.asarray(pd.isna(source), dtype=bool)
    if not unknown.any():
        return
    status = columns["http_status"]
    codes = status.to_numpy(dtype=object, na_value=None)
    details = columns["error_details"].to_numpy(dtype=object, na_value=None)
    rows = np.flatnonzero(unknown)
    found, found_source = http_statuses(codes[rows], details[rows])
    data = status.to_numpy(dtype=np.int64, na_value=0)
    mask = np.asarray(status.isna(), dtype=bool)
    data[rows] = found.to_numpy(dtype=np.int64, na_value=0)
    mask[rows] = np.asarray(found.isna(), dtype=bool)
    codes_all = np.asarray(source.codes, dtype=np.int8).copy()
    codes_all[rows] = found_source
    columns["http_status"] = pd.arrays.IntegerArray(data, mask)
    columns["http_status_source"] = source_column(codes_all)
