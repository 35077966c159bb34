"""AuditStore: the local DuckDB record of resource operations, their attempt logs, and messages.

An audit spans weeks and months, across notebook restarts, while the API answers 45 days at a time. The
store keeps every operation seen (by a sync, a webhook, or a batch of sends) in one DuckDB file, so that an
analyst downloads each operation once and asks SQL or pandas questions offline.

Every write is one transaction. Operations are keyed on their id and logs on theirs: a record seen again
replaces the stored one only when it is newer (a later ``updated_at``, or a settled status at the same
time), so a duplicate or late webhook delivery never rolls an operation back, and nothing is stored twice.

Several processes share one store file: a listener, syncs, reports and any number of notebooks. DuckDB
lets one process write a file and locks every other one out while it has it open, readers included, so:

- the store holds the file only for the length of a call (:mod:`catena_nb.store.connect`): a read opens it
  read-only, a write for writing, and a call that finds it held waits (retrying, up to ``lock_wait``
  seconds) instead of failing. Each hold is short: one page of a sync, one merge, one query.
- the webhook listener never writes the database on its request path: it appends each delivery to the
  store's write-ahead spool (``<store>.spool/``, fsync'd JSON lines, :mod:`catena_nb.store.spool`) and
  answers only then, and merges the spool into the database about once a second. A store opened for
  writing (a sync, a reconciliation, the listener after a crash) merges what a dead listener left.
- readers see what has been merged: a running listener's deliveries a second or so after it answered.

Measured on a 2-core machine: opening the file, upserting one operation, committing and closing costs
70-100 ms, a read-only open and query 20-25 ms, appending and syncing one spool line 0.2-0.4 ms. A listener
taking 20 deliveries a second merges once a second and holds the file under a tenth of the time, so the
others rarely wait: with a sync, a report and 3 readers at once, no lock error and no delivery lost
(``benchmarks/store_concurrency.py``). Not chosen: holding the file per call in the listener too (a 70-100 ms
open on every answer, and an answer that waits past Catena's 3 s while a sync holds the file); DuckLake (a
catalog database beside the data files, whose DuckDB catalog has the same one-writer lock, and an extension
that DuckDB fetches from the network at run time).

Example:
    >>> with AuditStore("audit.duckdb") as store:  # doctest: +SKIP
    ...     store.sync(client, since="2026-09-01")
    ...     ops_df = store.operations_frame(since="2026-10-01", status="failed")
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Unpack

import duckdb
import pandas as pd

from catena_nb._time import as_utc
from catena_nb.store import schema
from catena_nb.store.connect import LOCK_WAIT_S, Opener
from catena_nb.store.errors import NotAStoreError, StoreError, StoreNotFoundError
from catena_nb.store.reads import StoredFilters, select
from catena_nb.store.spool import Spool, spool_dir
from catena_nb.store.sync import SyncSummary
from catena_nb.store.sync import sync as _sync
from catena_nb.store.writes import (
    UpsertResult,
    prepare_messages,
    prepare_operations,
    write_messages,
    write_operations,
    write_state,
)

if TYPE_CHECKING:
    from catena_nb.client import CatenaClient
    from catena_nb.store.merge import MergeResult

__all__ = ["AuditStore"]

logger = logging.getLogger("catena_nb.store")

When = dt.datetime | dt.date | str


def _sql_text(text: str) -> str:
    """``text`` inside a SQL string literal."""
    return text.replace("'", "''")


class AuditStore:
    """A DuckDB file holding operations, their attempt logs and messages, with the frames' columns.

    Any number of processes may use one store file at once (see the module's docstring): each call holds
    the file only while it runs, and waits while another process holds it. Within a process the store may
    be used from several threads (calls on one file take turns).

    Args:
        path: the database file (created with its tables if missing); ``":memory:"`` for a throwaway store.
        read_only: open an existing file without write access (for notebooks and reports).
        lock_wait: the longest wait, in seconds, for another process to let go of the file in one call.

    Raises:
        StoreLockedError: another process held the file for longer than ``lock_wait``.
        StoreNotFoundError: ``read_only`` and no such file.
        NotAStoreError: the file is not a DuckDB database.
        StoreError: any other reason the file cannot be opened (its schema is of another version, ...).

    Example:
        >>> with AuditStore("audit.duckdb") as store:  # doctest: +SKIP
        ...     summary = store.sync(client, since="2026-09-01")
        ...     logs_df = store.logs_frame(source_name="samsara")
    """

    def __init__(
        self, path: str | os.PathLike[str], *, read_only: bool = False, lock_wait: float = LOCK_WAIT_S
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        memory = self.path == ":memory:"
        if not memory and read_only and not Path(self.path).exists():
            raise StoreNotFoundError(self.path)
        self._opener = Opener(self.path, lock_wait=lock_wait)
        self.spool: Spool | None = None if memory else Spool(spool_dir(self.path))
        try:
            if read_only and not self._has_tables():
                raise NotAStoreError(self.path, "a DuckDB file without the audit store's tables")
            if not read_only:
                self._create()
                self.merge_spool()
        except BaseException:
            self.close()
            raise

    def _has_tables(self) -> bool:
        names = [t.name for t in (schema.OPERATIONS, schema.LOGS, schema.MESSAGES)] + ["sync_state"]
        with self._read() as con:
            found = con.execute(
                "SELECT count(DISTINCT table_name) FROM information_schema.tables "
                "WHERE table_name IN (?, ?, ?, ?)",
                names,
            ).fetchone()
        return found is not None and int(found[0]) == len(names)

    def _create(self) -> None:
        with self._transaction() as con:
            for table in (schema.OPERATIONS, schema.LOGS, schema.MESSAGES):
                con.execute(table.ddl())
                for statement in table.migrations():
                    con.execute(statement)
            con.execute(schema.STATE_DDL)
            for ddl in schema.ADDED_DDL:
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
        """Let go of the store (safe to call twice); a file store holds nothing between calls anyway."""
        self._opener.close()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._opener.closed:
            return f"AuditStore({self.path!r}, closed)"
        mode = ", read-only" if self.read_only else ""
        try:
            return f"AuditStore({self.path!r}{mode}, {self.count('operations')} operations)"
        except StoreError:  # a repr never raises: the file is held, or gone
            return f"AuditStore({self.path!r}{mode})"

    @contextmanager
    def _read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._opener.connect(write=False) as con:
            yield con

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.read_only:
            raise StoreError(f"the audit store {self.path} was opened read-only", path=self.path)
        with self._opener.connect(write=True) as con:
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()  # DuckDB syncs its write-ahead log to disk before the commit returns

    def merge_spool(self) -> MergeResult:
        """Merge the webhook deliveries waiting in the store's spool (a listener's, a dead one's).

        Returns:
            What the merge did: deliveries merged, duplicates, deliveries it could not store (kept).
        """
        from catena_nb.store.merge import MergeResult, merge_spool

        if self.spool is None or self.read_only:
            return MergeResult()
        return merge_spool(self, self.spool)

    # -- writes --------------------------------------------------------------------------------------------

    def upsert(
        self,
        ops: Any,
        *,
        connections: Any = None,
        state: Mapping[str, str | None] | None = None,
        source: str | None = None,
    ) -> UpsertResult:
        """Store operations with their logs, in one transaction; newer records replace older ones.

        Args:
            ops: ``ResourceOperation`` models, wire dicts, page bodies, or iterables of these.
            connections: for write-shape operations without ``source_name`` (see ``operations_frame``).
            state: sync bookkeeping (``name -> value``, None deletes) committed with the rows.
            source: where the records come from (``listing``, ``webhook``, ``lookup``), kept per operation
                for :meth:`reconcile`; None for anything else (a batch of sends).

        Returns:
            How many operations were inserted, updated (a newer version replaced the stored one), or left
            unchanged (the same record, or an older one).
        """
        prepared = prepare_operations(ops, connections)
        with self._transaction() as con:
            result = write_operations(con, prepared, source)
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
        prepared = prepare_messages(messages)
        with self._transaction() as con:
            result = write_messages(con, prepared)
            if state:
                write_state(con, state)
        return result

    # -- sync bookkeeping ----------------------------------------------------------------------------------

    def state(self) -> dict[str, str]:
        """The sync bookkeeping: high-water marks and the span covered, by name."""
        with self._read() as con:
            return dict(con.execute("SELECT name, value FROM sync_state ORDER BY name").fetchall())

    def count(self, table: str = "operations") -> int:
        """How many rows a table (``operations``, ``logs`` or ``messages``) holds."""
        if table not in ("operations", "logs", "messages"):
            raise ValueError(f"no table {table!r} in the store (operations, logs, messages)")
        with self._read() as con:
            found = con.execute(f"SELECT count(*) FROM {table}").fetchone()
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
        with self._read() as con:
            return con.execute(sql, params).df()

    def export_parquet(self, directory: str | os.PathLike[str]) -> dict[str, Path]:
        """Write each table as Hive-partitioned Parquet by UTC date, for DuckDB, Spark, Polars or BigQuery.

        Layout: ``<directory>/<table>/date=YYYY-MM-DD/part-N.parquet`` for ``operations`` (by
        ``created_at``), ``logs`` (by the attempt's ``created_at``) and ``messages`` (by ``occurred_at``);
        a row without that time goes under ``date=__HIVE_DEFAULT_PARTITION__``, Hive's folder for a null
        key. Readers take the partition as a ``date`` column of type DATE (``read_parquet(...,
        hive_partitioning=true)``, ``spark.read.parquet``, a BigQuery external table with Hive
        partitioning). Each table's folder is replaced as a whole, so an export is never mixed with files
        of an earlier one (exports before this version wrote ``day=`` folders and a ``day`` column).

        Args:
            directory: where to write (created if missing).

        Returns:
            The folder of each table.
        """
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        out: dict[str, Path] = {}
        times = {"operations": "created_at", "logs": "created_at", "messages": "occurred_at"}
        with self._read() as con:
            for table, column in times.items():
                target = root / table
                date = f"CAST(timezone('UTC', {column}) AS DATE)"
                con.execute(
                    f"COPY (SELECT *, {date} AS date FROM {table} ORDER BY {column}) "
                    f"TO '{_sql_text(str(target))}' "
                    "(FORMAT PARQUET, PARTITION_BY (date), OVERWRITE, FILENAME_PATTERN 'part-{i}')"
                )
                out[table] = target
        return out

    def rates(
        self,
        by: str | Sequence[str] | None = None,
        freq: str | None = None,
        *,
        since: When | None = None,
        until: When | None = None,
    ) -> pd.DataFrame:
        """Outcome rates with 95% Wilson intervals, computed in SQL inside DuckDB (no frame of operations).

        The result equals :func:`catena_nb.outcome_rates` (``freq`` None) or
        :func:`catena_nb.rates_over_time` on the operations frame, in the columns both have (see
        :mod:`catena_nb.store.rates`, whose SQL also runs on Spark).

        Args:
            by: operation columns to group by (``source_name``, ``error_type``, ``connection_id``, ...).
            freq: a time bucket of ``created_at``: ``"h"``, ``"D"``, ``"W"``, ``"MS"`` (or None).
            since: the earliest ``created_at``.
            until: the end of the window (exclusive).

        Returns:
            One row per group (and period): the group columns, ``period`` with ``freq``, then ``n``,
            ``successes``, ``failures``, ``pending``, ``settled``, ``rate``, ``ci_low``, ``ci_high``,
            ``failure_rate``, ``failure_ci_low``, ``failure_ci_high``, ``small_sample``.
        """
        from catena_nb.store.rates import store_rates

        with self._read() as con:
            return store_rates(con, by=by, freq=freq, since=since, until=until)

    def reconcile(
        self,
        client: CatenaClient,
        *,
        fix: bool = True,
        settle_after: dt.timedelta | None = None,
        now: When | None = None,
    ) -> pd.DataFrame:
        """Compare what webhooks, listings and lookups reported, fill the gaps, and report what remains.

        See :mod:`catena_nb.store.reconcile`.

        Args:
            client: a ``CatenaClient``.
            fix: look up and re-list what is missing or disagrees (False: only report).
            settle_after: how long after its creation a pending operation is overdue (default an hour).
            now: the current time (default: now).

        Returns:
            One row per finding: ``kind``, ``operation_id``, ``connection_id``, ``detail``, ``fixed``.
        """
        from catena_nb.store.reconcile import SETTLE_AFTER, reconcile

        return reconcile(
            self,
            client,
            fix=fix,
            settle_after=settle_after or SETTLE_AFTER,
            now=as_utc(now) if now is not None else None,
        )

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
        return self._frame(schema.OPERATIONS, "created_at", filters, since, until)

    def logs_frame(
        self, since: When | None = None, until: When | None = None, **filters: Unpack[StoredFilters]
    ) -> pd.DataFrame:
        """The stored attempt logs, as :func:`catena_nb.logs_frame` has them.

        ``since``/``until`` select the operations by their ``created_at`` (so that every attempt of an
        operation in the window is there); ``source_name`` and ``connection_id`` are the operation's,
        ``status`` is the attempt's. Rows follow the operations' order, then the attempt number.
        """
        return self._frame(schema.LOGS, "created_at", filters, since, until)

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
        return self._frame(schema.MESSAGES, "occurred_at", filters, since, until)

    def _frame(
        self, table: schema.Table, time_column: str, filters: StoredFilters, since: Any, until: Any
    ) -> pd.DataFrame:
        unknown = set(filters) - set(StoredFilters.__annotations__)
        if unknown:
            raise TypeError(
                f"unknown filter {', '.join(sorted(unknown))}: a store read takes "
                f"{', '.join(StoredFilters.__annotations__)}"
            )
        with self._read() as con:
            return select(con, table, time_column, dict(filters), since, until)
