"""How a batch of records enters the store: one row per id, and a stored row replaced only by a newer one.

A record seen again replaces the stored one only when it is newer: a later ``updated_at`` (a record without
one is older than any with one), or, at the same ``updated_at``, further along (settled after pending, more
attempts; for messages, further in pending < sent < delivered < read). An equal record (a duplicate webhook
delivery, say) is left alone, and nothing is stored twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from catena_nb._time import as_utc
from catena_nb.frames import _records, messages_frame, operation_frames
from catena_nb.store import schema

__all__ = [
    "MESSAGE_FURTHER",
    "OPERATION_FURTHER",
    "Prepared",
    "UpsertResult",
    "merge_rows",
    "newest",
    "prepare_messages",
    "prepare_operations",
    "write_messages",
    "write_operations",
    "write_provenance",
    "write_state",
]

logger = logging.getLogger("catena_nb.store")

# A batch record replaces the stored one only if it is newer: a later updated_at (a record without one is
# older than any with one), or, at the same updated_at, further along (see the ranks below). An equal record,
# a duplicate webhook delivery say, is left alone.
_NEWER = """
    o.{key} IS NULL
    OR (o.updated_at IS NULL AND b.updated_at IS NOT NULL)
    OR b.updated_at > o.updated_at
    OR (b.updated_at IS NOT DISTINCT FROM o.updated_at AND {further})
"""
# assumed: an operation only moves from pending to settled, and gains attempts; never the other way round
_OP_RANK = "(CASE WHEN {t}.status = 'pending' THEN 0 ELSE 1 END, coalesce({t}.attempts, 0))"
OPERATION_FURTHER = f"{_OP_RANK.format(t='b')} > {_OP_RANK.format(t='o')}"
# assumed: a message's delivery status only moves forward, pending < sent < delivered < read
_MSG_RANK = "CASE {t}.status WHEN 'read' THEN 3 WHEN 'delivered' THEN 2 WHEN 'sent' THEN 1 ELSE 0 END"
MESSAGE_FURTHER = f"{_MSG_RANK.format(t='b')} > {_MSG_RANK.format(t='o')}"


@dataclass(frozen=True)
class UpsertResult:
    """What one upsert did: records new to the store, records replaced, and records left as they were."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )


def newest(records: Iterable[Mapping[str, Any]], key: str) -> list[Mapping[str, Any]]:
    """One record per id, the newest when a batch holds the same one twice; records without an id dropped."""
    chosen: dict[str, Mapping[str, Any]] = {}
    dropped = 0
    for rec in records:
        rid = rec.get(key)
        if rid is None:
            dropped += 1
            continue
        rid = str(rid)
        old = chosen.get(rid)
        if old is None or _rank(rec) >= _rank(old):
            chosen[rid] = rec
    if dropped:
        logger.warning("%d records without an id were not stored", dropped)
    return list(chosen.values())


def _rank(rec: Mapping[str, Any]) -> tuple[dt.datetime, int]:
    stamp = rec.get("updated_at")
    try:
        when = as_utc(stamp) if stamp is not None else dt.datetime.min.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        when = dt.datetime.min.replace(tzinfo=dt.UTC)
    return when, int(rec.get("status") != "pending")


def merge_rows(
    con: duckdb.DuckDBPyConnection, table: schema.Table, rows: pd.DataFrame, further: str
) -> tuple[UpsertResult, int]:
    """Insert the new rows and replace the older ones; leaves the accepted keys in ``_accepted``."""
    key = table.key
    cols = ", ".join(table.columns)
    con.register("_batch", rows)
    try:
        newer = _NEWER.format(key=key, further=further)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _accepted AS SELECT b.{key} AS k, o.{key} IS NULL AS is_new "
            f"FROM _batch b LEFT JOIN {table.name} o ON o.{key} = b.{key} WHERE {newer}"
        )
        found = con.execute("SELECT count(*), count(*) FILTER (WHERE is_new) FROM _accepted").fetchall()
        accepted, inserted = int(found[0][0]), int(found[0][1])
        if accepted > inserted:
            # delete and insert in one transaction: quicker than ON CONFLICT DO UPDATE of every column
            con.execute(f"DELETE FROM {table.name} WHERE {key} IN (SELECT k FROM _accepted WHERE NOT is_new)")
        if accepted:
            where = "" if accepted == len(rows) else f" WHERE {key} IN (SELECT k FROM _accepted)"
            con.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM _batch{where}")
    finally:
        con.unregister("_batch")
    return UpsertResult(inserted, accepted - inserted, len(rows) - accepted), accepted


def write_state(con: duckdb.DuckDBPyConnection, state: Mapping[str, str | None]) -> None:
    """Write the sync bookkeeping (``name -> value``; None deletes the name) in the open transaction."""
    for name, value in state.items():
        if value is None:
            con.execute("DELETE FROM sync_state WHERE name = ?", [name])
        else:
            con.execute(
                "INSERT INTO sync_state VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [name, value],
            )


def write_provenance(
    con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, source: str, seen_at: dt.datetime
) -> None:
    """Record that ``source`` reported these operations (one row per id), keeping each source's newest."""
    if source not in schema.SOURCES:
        raise ValueError(f"unknown source {source!r} ({', '.join(schema.SOURCES)})")
    seen = rows.loc[:, ["operation_id", "status", "updated_at"]].drop_duplicates("operation_id", keep="last")
    con.register("_seen", seen)
    try:
        con.execute(
            "INSERT INTO provenance SELECT CAST(operation_id AS VARCHAR), ?, CAST(status AS VARCHAR), "
            "updated_at, ? FROM _seen ON CONFLICT (operation_id, source) DO UPDATE SET "
            "status = excluded.status, updated_at = excluded.updated_at, seen_at = excluded.seen_at "
            "WHERE excluded.updated_at IS NOT DISTINCT FROM provenance.updated_at "
            "OR excluded.updated_at > provenance.updated_at OR provenance.updated_at IS NULL",
            [source, seen_at],
        )
    finally:
        con.unregister("_seen")


@dataclass(frozen=True)
class Prepared:
    """Records turned into the store's rows, outside any transaction (where a bad record shows first)."""

    rows: pd.DataFrame | None = None
    logs: pd.DataFrame | None = None

    @property
    def empty(self) -> bool:
        """No row to write."""
        return self.rows is None or self.rows.empty


def prepare_operations(ops: Any, connections: Any = None) -> Prepared:
    """The rows of operations and of their logs, one per id (the newest; a log listed twice once).

    Raises:
        ValueError, TypeError, KeyError: a record the frames cannot read.
    """
    records = newest(_records.records(ops), "id")
    if not records:
        return Prepared()
    ops_df, logs_df = operation_frames(records, connections)
    rows = schema.operation_rows(records, ops_df)
    logs = schema.log_rows(logs_df)
    # a log repeated within an operation (or one log under two ids) would break the logs' key for the whole
    # batch: the last copy stands
    logs = logs.drop_duplicates("log_id", keep="last").reset_index(drop=True)
    return Prepared(rows, logs)


def prepare_messages(messages: Any) -> Prepared:
    """The rows of message records, one per id (the newest)."""
    records = newest(_records.records(messages), "id")
    if not records:
        return Prepared()
    return Prepared(schema.message_rows(records, messages_frame(records)))


def write_operations(
    con: duckdb.DuckDBPyConnection, prepared: Prepared, source: str | None = None
) -> UpsertResult:
    """Merge prepared operations and their logs in the open transaction; newer records replace older."""
    if prepared.rows is None or prepared.rows.empty:
        return UpsertResult()
    rows, logs = prepared.rows, prepared.logs
    result, accepted = merge_rows(con, schema.OPERATIONS, rows, OPERATION_FURTHER)
    if accepted and logs is not None:
        cols = ", ".join(schema.LOGS.columns)
        con.register("_batch_logs", logs)
        try:
            # a replaced operation's logs are those of the newer record; a log id moved between operations
            # is taken by the newer one
            con.execute(
                "DELETE FROM logs WHERE operation_id IN (SELECT k FROM _accepted WHERE NOT is_new) "
                "OR log_id IN (SELECT log_id FROM _batch_logs "
                "WHERE operation_id IN (SELECT k FROM _accepted))"
            )
            where = "" if accepted == len(rows) else " WHERE operation_id IN (SELECT k FROM _accepted)"
            con.execute(f"INSERT INTO logs ({cols}) SELECT {cols} FROM _batch_logs{where}")
        finally:
            con.unregister("_batch_logs")
    con.execute("DROP TABLE IF EXISTS _accepted")
    if source is not None:
        write_provenance(con, rows, source, dt.datetime.now(dt.UTC))
    return result


def write_messages(con: duckdb.DuckDBPyConnection, prepared: Prepared) -> UpsertResult:
    """Merge prepared messages in the open transaction; newer records replace older ones."""
    if prepared.rows is None or prepared.rows.empty:
        return UpsertResult()
    result, _ = merge_rows(con, schema.MESSAGES, prepared.rows, MESSAGE_FURTHER)
    con.execute("DROP TABLE IF EXISTS _accepted")
    return result
