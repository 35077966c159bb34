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
from catena_nb.store import schema

__all__ = ["MESSAGE_FURTHER", "OPERATION_FURTHER", "UpsertResult", "merge_rows", "newest", "write_state"]

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
