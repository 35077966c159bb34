"""AuditStore: the local DuckDB record of resource operations, their attempt logs, and messages.

An audit spans weeks and months, across notebook restarts, while the API answers 45 days at a time. The
store keeps every operation seen (by a sync, a webhook, or a batch of sends) in one DuckDB file, so that an
analyst downloads each operation once and asks SQL or pandas questions offline.

Every write is one transaction. Operations are keyed on their id and logs on theirs: a record seen again
replaces the stored one only when it is newer (a later ``updated_at``, or a settled status at the same
time), so a duplicate or late webhook delivery never rolls an operation back, and nothing is stored twice.

Example:
    >>> with AuditStore("audit.duckdb") as store:  # doctest: +SKIP
    ...     store.sync(client, since="2026-09-01")
    ...     ops_df = store.operations_frame(since="2026-10-01", status="failed")
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from catena_nb._time import as_utc
from catena_nb.frames import _records, messages_frame, operation_frames
from catena_nb.store import schema as schema
from catena_nb.store.errors import (
    NotAStoreError,
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
    open_error,
)
from catena_nb.store.sync import SyncSummary
from catena_nb.store.sync import sync as _sync

if TYPE_CHECKING:
    from catena_nb.client import CatenaClient

__all__ = [
    "AuditStore",
    "NotAStoreError",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "SyncSummary",
    "UpsertResult",
]

logger = logging.getLogger("catena_nb.store")

When = dt.datetime | dt.date | str

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
_OP_FURTHER = f"{_OP_RANK.format(t='b')} > {_OP_RANK.format(t='o')}"
# assumed: a message's delivery status only moves forward, pending < sent < delivered < read
_MSG_RANK = "CASE {t}.status WHEN 'read' THEN 3 WHEN 'delivered' THEN 2 WHEN 'sent' THEN 1 ELSE 0 END"
_MSG_FURTHER = f"{_MSG_RANK.format(t='b')} > {_MSG_RANK.format(t='o')}"


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


def _newest(records: Iterable[Mapping[str, Any]], key: str) -> list[Mapping[str, Any]]:
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


def _sql_text(text: str) -> str:
    """``text`` inside a SQL string literal."""
    return text.replace("'", "''")


class AuditStore:
    """A DuckDB file holding operations, their attempt logs and messages, with the frames' columns.

    One process at a time may open a store file (DuckDB locks it); within the process the store may be used
    from several threads (calls are serialised).

    Args:
        path: the database file (created with its tables if missing); ``":memory:"`` for a throwaway store.
        read_only: open an existing file without write access (several readers may share it).

    Raises:
        StoreLockedError: another process holds the file.
        StoreNotFoundError: ``read_only`` and no such file.
        NotAStoreError: the file is not a DuckDB database.
        StoreError: any other reason the file cannot be opened (its schema is of another version, ...).

    Example:
        >>> with AuditStore("audit.duckdb") as store:  # doctest: +SKIP
        ...     summary = store.sync(client, since="2026-09-01")
        ...     logs_df = store.logs_frame(source_name="samsara")
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        if self.path != ":memory:":
            if read_only and not Path(self.path).exists():
                raise StoreNotFoundError(self.path)
            if not read_only:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # assumed: no DuckDB extension is ever fetched from the network (JSON stays plain text here)
            self._con = duckdb.connect(
                self.path, read_only=read_only, config={"autoinstall_known_extensions": False}
            )
        except duckdb.IOException as exc:
            raise open_error(self.path, exc) from exc
        if read_only and not self._has_tables():
            self.close()
            raise NotAStoreError(self.path, "a DuckDB file without the audit store's tables")
        if not read_only:
            try:
                self._create()
            except BaseException:
                self.close()
                raise

    def _has_tables(self) -> bool:
        names = [t.name for t in (schema.OPERATIONS, schema.LOGS, schema.MESSAGES)] + ["sync_state"]
        found = self.con.execute(
            "SELECT count(DISTINCT table_name) FROM information_schema.tables "
            "WHERE table_name IN (?, ?, ?, ?)",
            names,
        ).fetchone()
        return found is not None and int(found[0]) == len(names)

    def _create(self) -> None:
        with self._transaction() as con:
            for table in (schema.OPERATIONS, schema.LOGS, schema.MESSAGES):
                con.execute(table.ddl())
            con.execute(schema.STATE_DDL)
            for ddl in schema.INDEX_DDL:
                con.execute(ddl)
            found = con.execute("SELECT value FROM sync_state WHERE name = 'schema_version'").fetchone()
            if found is None:
                con.execute("INSERT INTO sync_state VALUES ('schema_version', ?)", [schema.SCHEMA_VERSION])
            elif found[0] != schema.SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} holds a store of schema {found[0]}, this version reads schema "
                    f"{schema.SCHEMA_VERSION}: sync into a new file",
                    path=self.path,
                )

    # -- life cycle ----------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database file (safe to call twice)."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._con is None:
            return f"AuditStore({self.path!r}, closed)"
        return f"AuditStore({self.path!r}, {self.count('operations')} operations)"

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (raises once closed)."""
        if self._con is None:
            raise RuntimeError(f"the audit store {self.path!r} is closed")
        return self._con

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            con = self.con
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()

    # -- writes --------------------------------------------------------------------------------------------

    def upsert(
        self, ops: Any, *, connections: Any = None, state: Mapping[str, str | None] | None = None
    ) -> UpsertResult:
        """Store operations with their logs, in one transaction; newer records replace older ones.

        Args:
            ops: ``ResourceOperation`` models, wire dicts, page bodies, or iterables of these.
            connections: for write-shape operations without ``source_name`` (see ``operations_frame``).
            state: sync bookkeeping (``name -> value``, None deletes) committed with the rows.

        Returns:
            How many operations were inserted, updated (a newer version replaced the stored one), or left
            unchanged (the same record, or an older one).
        """
        records = _newest(_records.records(ops), "id")
        if not records:
            if state:
                with self._transaction() as con:
                    self._write_state(con, state)
            return UpsertResult()
        ops_df, logs_df = operation_frames(records, connections)
        rows = schema.operation_rows(records, ops_df)
        logs = schema.log_rows(logs_df)
        with self._transaction() as con:
            result, accepted = self._merge(con, schema.OPERATIONS, rows, _OP_FURTHER)
            if accepted:
                cols = ", ".join(schema.LOGS.columns)
                con.register("_batch_logs", logs)
                try:
                    if result.updated:  # a replaced operation's logs are those of the newer record
                        con.execute(
                            "DELETE FROM logs WHERE operation_id IN "
                            "(SELECT k FROM _accepted WHERE NOT is_new)"
                        )
                    where = (
                        "" if accepted == len(rows) else " WHERE operation_id IN (SELECT k FROM _accepted)"
                    )
                    con.execute(f"INSERT INTO logs ({cols}) SELECT {cols} FROM _batch_logs{where}")
                finally:
                    con.unregister("_batch_logs")
            con.execute("DROP TABLE IF EXISTS _accepted")
            if state:
                self._write_state(con, state)
        return result

    def upsert_messages(
        self, messages: Any, *, state: Mapping[str, str | None] | None = None
    ) -> UpsertResult:
        """Store message records (``MessageRead``), in one transaction; newer records replace older ones.

        Args:
            messages: ``Message`` models, wire dicts, page bodies, or iterables of these.
            state: sync bookkeeping committed with the rows.

        Returns:
            How many messages were inserted, updated, or left unchanged.
        """
        records = _newest(_records.records(messages), "id")
        with self._transaction() as con:
            result = UpsertResult()
            if records:
                rows = schema.message_rows(records, messages_frame(records))
                result, _ = self._merge(con, schema.MESSAGES, rows, _MSG_FURTHER)
                con.execute("DROP TABLE IF EXISTS _accepted")
            if state:
                self._write_state(con, state)
        return result

    def _merge(
        self, con: duckdb.DuckDBPyConnection, table: schema.Table, rows: pd.DataFrame, further: str
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
                con.execute(
                    f"DELETE FROM {table.name} WHERE {key} IN (SELECT k FROM _accepted WHERE NOT is_new)"
                )
            if accepted:
                where = "" if accepted == len(rows) else f" WHERE {key} IN (SELECT k FROM _accepted)"
                con.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM _batch{where}")
        finally:
            con.unregister("_batch")
        return UpsertResult(inserted, accepted - inserted, len(rows) - accepted), accepted

    @staticmethod
    def _write_state(con: duckdb.DuckDBPyConnection, state: Mapping[str, str | None]) -> None:
        for name, value in state.items():
            if value is None:
                con.execute("DELETE FROM sync_state WHERE name = ?", [name])
            else:
                con.execute(
                    "INSERT INTO sync_state VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    [name, value],
                )

    # -- sync bookkeeping ----------------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        """The sync bookkeeping: high-water marks and the span covered, by name."""
        with self._lock:
            return dict(self.con.execute("SELECT name, value FROM sync_state ORDER BY name").fetchall())

    def count(self, table: str = "operations") -> int:
        """How many rows a table (``operations``, ``logs`` or ``messages``) holds."""
        if table not in ("operations", "logs", "messages"):
            raise ValueError(f"no table {table!r} in the store (operations, logs, messages)")
        with self._lock:
            found = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(found[0]) if found else 0

    def sync(
        self,
        client: CatenaClient,
        since: When | None = None,
        until: When | None = None,
        *,
        messages: bool = True,
        progress: bool | None = None,
    ) -> SyncSummary:
        """Fetch into the store what changed in the API since the last sync.

        Each table (operations, messages) resumes from its own high-water mark (committed with each page,
        so that a crash loses at most the page in flight), in windows of at most 45 days; a table without
        a mark yet starts from the earliest ``since`` the store was given. Operations the store holds as
        pending are then re-checked.

        Args:
            client: a ``CatenaClient``.
            since: the earliest creation time to hold: the start of a first sync (default: 45 days before
                ``until``), later only to reach further back than the store was asked to before.
            until: the end of what to fetch (default: now).
            messages: also follow the messages listing (delivery status, delivered and read times).
            progress: show a ``tqdm.auto`` progress bar (default: tqdm's own setting).

        Returns:
            A ``SyncSummary``: fetched, inserted, updated, unchanged, still pending, pages, lookups, and
            the span each table covers (``operations_from``/``_to``, ``messages_from``/``_to``).

        Raises:
            CatenaError: the API failed; what was committed stays, and the next sync resumes from there.
        """
        return _sync(self, client, since=since, until=until, messages=messages, progress=progress)

    # -- reads ---------------------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run SQL over the tables ``operations``, ``logs``, ``messages`` and return the result as a frame.

        Args:
            sql: a DuckDB query; ``?`` or ``$name`` placeholders take ``params``.
            params: the placeholder values.

        Returns:
            The result, with DuckDB's own dtypes (use the ``*_frame`` methods for the frames' dtypes).
        """
        with self._lock:
            return self.con.execute(sql, params).df()

    def export_parquet(self, directory: str | os.PathLike[str]) -> dict[str, Path]:
        """Write each table as Parquet files partitioned by UTC day, for DuckDB, Spark, Polars or BigQuery.

        Layout: ``<directory>/<table>/day=YYYY-MM-DD/*.parquet`` for ``operations`` (by ``created_at``),
        ``logs`` (by the attempt's ``created_at``) and ``messages`` (by ``occurred_at``). Each table's
        folder is replaced as a whole, so an export is never mixed with files of an earlier one.

        Args:
            directory: where to write (created if missing).

        Returns:
            The folder of each table.
        """
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        out: dict[str, Path] = {}
        days = {"operations": "created_at", "logs": "created_at", "messages": "occurred_at"}
        with self._lock:
            for table, column in days.items():
                target = root / table
                day = f"strftime({column} AT TIME ZONE 'UTC', '%Y-%m-%d')"
                self.con.execute(
                    f"COPY (SELECT *, coalesce({day}, 'unknown') AS day FROM {table} ORDER BY {column}) "
                    f"TO '{_sql_text(str(target))}' "
                    "(FORMAT PARQUET, PARTITION_BY (day), OVERWRITE, FILENAME_PATTERN 'part-{i}')"
                )
                out[table] = target
        return out

    def _select(
        self,
        table: schema.Table,
        time_column: str,
        filters: Mapping[str, Any],
        since: Any,
        until: Any,
    ) -> pd.DataFrame:
        """Rows of ``table`` in the frames' order, filtered, converted to the frames' dtypes."""
        op_where: list[str] = []  # conditions on the operation (for logs: on the operation they belong to)
        op_params: list[Any] = []
        where: list[str] = []
        params: list[Any] = []
        logs = table is schema.LOGS
        if logs:
            # logs are chosen by their operation's creation time, and ordered like the operations frame
            source = "logs t JOIN operations o ON o.operation_id = t.operation_id"
            alias, order = "o", "o.created_at, o.operation_id, t.attempt"
        else:
            source = f"{table.name} t"
            alias, order = "t", f"t.{time_column}, t.{table.key}"
        if since is not None:
            op_where.append(f"{alias}.{time_column} >= ?")
            op_params.append(as_utc(since))
        if until is not None:
            op_where.append(f"{alias}.{time_column} < ?")
            op_params.append(as_utc(until))
        for column, value in filters.items():
            if value is None:
                continue
            values = [value] if isinstance(value, str) else [str(v) for v in value]
            test = f"{column} IN ({', '.join('?' * len(values))})"
            if logs and column != "status":
                op_where.append(f"o.{test}")
                op_params.extend(values)
            else:
                where.append(f"t.{test}")
                params.extend(values)
        cols = ", ".join(f"t.{c}" for c in table.columns)
        sql = f"SELECT {cols} FROM {source}"
        if op_where or where:
            sql += " WHERE " + " AND ".join(op_where + where)
        with self._lock:
            raw = self.con.execute(f"{sql} ORDER BY {order}", op_params + params).df()
            frame = schema.read_frame(table, raw)
            if logs:
                # the logs frame takes these categories from the operations, those without logs included
                for column in ("source_name", "resource", "operation_type"):
                    found = self.con.execute(
                        f"SELECT DISTINCT o.{column} FROM operations o "
                        f"{'WHERE ' + ' AND '.join(op_where) if op_where else ''}",
                        op_params,
                    ).fetchall()
                    names = sorted(str(v) for (v,) in found if v is not None)
                    frame[column] = frame[column].cat.set_categories(names)
        return frame

    def operations_frame(
        self,
        since: When | None = None,
        until: When | None = None,
        *,
        source_name: str | Iterable[str] | None = None,
        connection_id: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """The stored operations created in ``[since, until)``, as :func:`catena_nb.operations_frame` gives.

        Rows are in ``created_at`` order (then id); the columns and dtypes are those of the frame of the
        same records, ``payload_*`` and unknown fields included.

        Args:
            since: the earliest ``created_at`` (a datetime, date or ISO string; naive means UTC).
            until: the end of the window (exclusive).
            source_name: one TSP or several.
            connection_id: one connection or several.
            status: ``pending``, ``success``, ``failed``, or several.
        """
        filters = {"source_name": source_name, "connection_id": connection_id, "status": status}
        return self._select(schema.OPERATIONS, "created_at", filters, since, until)

    def logs_frame(
        self,
        since: When | None = None,
        until: When | None = None,
        *,
        source_name: str | Iterable[str] | None = None,
        connection_id: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """The stored attempt logs, as :func:`catena_nb.logs_frame` has them.

        ``since``/``until`` select the operations by their ``created_at`` (so that every attempt of an
        operation in the window is there); ``status`` is the attempt's status. Rows follow the operations'
        order, then the attempt number.
        """
        filters = {"source_name": source_name, "connection_id": connection_id, "status": status}
        return self._select(schema.LOGS, "created_at", filters, since, until)

    def messages_frame(
        self,
        since: When | None = None,
        until: When | None = None,
        *,
        source_name: str | Iterable[str] | None = None,
        connection_id: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """The stored messages that occurred in ``[since, until)``, as :func:`catena_nb.messages_frame` gives.

        Args:
            since: the earliest ``occurred_at``.
            until: the end of the window (exclusive).
            source_name: one TSP or several.
            connection_id: one connection or several.
            status: the delivery status (``pending``, ``sent``, ``delivered``, ``read``), or several.
        """
        filters = {"source_name": source_name, "connection_id": connection_id, "status": status}
        return self._select(schema.MESSAGES, "occurred_at", filters, since, until)
