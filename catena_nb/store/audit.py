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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Unpack

import duckdb
import pandas as pd

from catena_nb.frames import _records, messages_frame, operation_frames
from catena_nb.store import schema
from catena_nb.store.errors import (
    NotAStoreError,
    StoreError,
    StoreNotFoundError,
    open_error,
)
from catena_nb.store.reads import StoredFilters, select
from catena_nb.store.sync import SyncSummary
from catena_nb.store.sync import sync as _sync
from catena_nb.store.writes import (
    MESSAGE_FURTHER,
    OPERATION_FURTHER,
    UpsertResult,
    merge_rows,
    newest,
    write_state,
)

if TYPE_CHECKING:
    from catena_nb.client import CatenaClient

__all__ = ["AuditStore"]

logger = logging.getLogger("catena_nb.store")

When = dt.datetime | dt.date | str


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
        records = newest(_records.records(ops), "id")
        if not records:
            if state:
                with self._transaction() as con:
                    write_state(con, state)
            return UpsertResult()
        ops_df, logs_df = operation_frames(records, connections)
        rows = schema.operation_rows(records, ops_df)
        logs = schema.log_rows(logs_df)
        with self._transaction() as con:
            result, accepted = merge_rows(con, schema.OPERATIONS, rows, OPERATION_FURTHER)
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
                write_state(con, state)
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
        records = newest(_records.records(messages), "id")
        with self._transaction() as con:
            result = UpsertResult()
            if records:
                rows = schema.message_rows(records, messages_frame(records))
                result, _ = merge_rows(con, schema.MESSAGES, rows, MESSAGE_FURTHER)
                con.execute("DROP TABLE IF EXISTS _accepted")
            if state:
                write_state(con, state)
        return result

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
        concurrency: int = 1,
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
            concurrency: sub-windows listed side by side. The default, 1, lists one cursor at a time, so
                that what a stopped sync fetched is what it committed; with 8, up to 16 sub-windows are
                fetched ahead of what is written (fetched again after a stop), and the pages are still
                written, with their marks, in time order.

        Returns:
            A ``SyncSummary``: fetched, inserted, updated, unchanged, still pending, pages, lookups, and
            the span each table covers (``operations_from``/``_to``, ``messages_from``/``_to``).

        Raises:
            CatenaError: the API failed; what was committed stays, and the next sync resumes from there.
        """
        return _sync(
            self,
            client,
            since=since,
            until=until,
            messages=messages,
            progress=progress,
            concurrency=concurrency,
        )

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

    def operations_frame(
        self, since: When | None = None, until: When | None = None, **filters: Unpack[StoredFilters]
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
        return self._read(schema.OPERATIONS, "created_at", filters, since, until)

    def logs_frame(
        self, since: When | None = None, until: When | None = None, **filters: Unpack[StoredFilters]
    ) -> pd.DataFrame:
        """The stored attempt logs, as :func:`catena_nb.logs_frame` has them.

        ``since``/``until`` select the operations by their ``created_at`` (so that every attempt of an
        operation in the window is there); ``source_name`` and ``connection_id`` are the operation's,
        ``status`` is the attempt's. Rows follow the operations' order, then the attempt number.
        """
        return self._read(schema.LOGS, "created_at", filters, since, until)

    def messages_frame(
        self, since: When | None = None, until: When | None = None, **filters: Unpack[StoredFilters]
    ) -> pd.DataFrame:
        """The stored messages that occurred in ``[since, until)``, as :func:`catena_nb.messages_frame` gives.

        Args:
            since: the earliest ``occurred_at``.
            until: the end of the window (exclusive).
            source_name: one TSP or several.
            connection_id: one connection or several.
            status: the delivery status (``pending``, ``sent``, ``delivered``, ``read``), or several.
        """
        return self._read(schema.MESSAGES, "occurred_at", filters, since, until)

    def _read(
        self, table: schema.Table, time_column: str, filters: StoredFilters, since: Any, until: Any
    ) -> pd.DataFrame:
        unknown = set(filters) - set(StoredFilters.__annotations__)
        if unknown:
            raise TypeError(
                f"unknown filter {', '.join(sorted(unknown))}: a store read takes "
                f"{', '.join(StoredFilters.__annotations__)}"
            )
        with self._lock:
            return select(self.con, table, time_column, dict(filters), since, until)
