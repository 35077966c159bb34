"""How the store reaches its DuckDB file: a connection held for one call only, waiting while another holds it.

DuckDB lets one process at a time write a database file, and a process that has the file open for writing
locks every other process out, readers included ("Could not set lock on file"). So an
:class:`~catena_nb.store.AuditStore` on a file never keeps a connection between calls: each read opens the
file read-only (several processes may read at once), each write opens it for writing, and both close it at
the end of the call. While another process holds the file, the call waits, retrying with a growing pause,
up to ``lock_wait`` seconds (:data:`LOCK_WAIT_S`), and only then raises :class:`StoreLockedError`. Every
hold is short (one page of a sync, one merge of the listener's spool, one query), so the wait is too.

Within one process, the calls on one file take turns (DuckDB refuses a read-only connection to a file the
same process has open for writing); a call made while the same thread already holds a connection to the
file (a read inside a write) uses that connection. A ``":memory:"`` store keeps its one connection.

DuckDB's commit writes the transaction to the file's write-ahead log and syncs it to disk before it
returns (``WriteAheadLog::Flush`` ends with the writer's ``Sync``), so a committed write survives a crash.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from catena_nb.store.errors import StoreLockedError, open_error

__all__ = ["LOCK_WAIT_S", "Opener"]

logger = logging.getLogger("catena_nb.store")

# assumed: a minute covers any single hold of the file (a sync's page, a merge of the spool, a report's read);
# CATENA_STORE_LOCK_WAIT (seconds) sets another default for every store of the process, the commands' too
LOCK_WAIT_ENV = "CATENA_STORE_LOCK_WAIT"


def _default_wait() -> float:
    text = os.environ.get(LOCK_WAIT_ENV, "")
    try:
        return float(text) if text.strip() else 60.0
    except ValueError:
        logger.warning("%s=%r is not a number of seconds: waiting 60 s", LOCK_WAIT_ENV, text[:40])
        return 60.0


LOCK_WAIT_S = _default_wait()
_FIRST_PAUSE_S = 0.005
_MAX_PAUSE_S = 0.25
# assumed: no DuckDB extension is ever fetched from the network (JSON stays plain text here)
_CONFIG: dict[str, str | bool | int | float | list[str]] = {"autoinstall_known_extensions": False}

_registry_lock = threading.Lock()
_file_locks: dict[str, threading.RLock] = {}
_held = threading.local()  # path -> (connection, writable) held by this thread


def _file_lock(path: str) -> threading.RLock:
    with _registry_lock:
        lock = _file_locks.get(path)
        if lock is None:
            lock = _file_locks[path] = threading.RLock()
        return lock


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return "Could not set lock" in str(exc) or "Conflicting lock" in str(exc)


class Opener:
    """Opens one store file for the length of a call, waiting (bounded) while another process holds it.

    Args:
        path: the database file, or ``":memory:"`` (then one connection is kept until :meth:`close`).
        lock_wait: the longest wait for another process to let go of the file, in seconds.
    """

    def __init__(self, path: str, *, lock_wait: float = LOCK_WAIT_S) -> None:
        self.path = path
        self.memory = path == ":memory:"
        self.key = path if self.memory else os.path.realpath(path)
        self.lock_wait = lock_wait
        self.waits = 0  # how many opens had to wait for another process (for the benchmarks)
        self._lock = threading.RLock() if self.memory else _file_lock(self.key)
        self._kept: duckdb.DuckDBPyConnection | None = None
        self.closed = False
        if self.memory:
            self._kept = duckdb.connect(":memory:", config=_CONFIG)

    def close(self) -> None:
        """Drop the kept connection of a memory store (a file store keeps none)."""
        with self._lock:
            self.closed = True
            if self._kept is not None:
                self._kept.close()
                self._kept = None

    @contextmanager
    def connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one call: read-only unless ``write``; closed again when the block ends.

        Raises:
            StoreLockedError: another process held the file for longer than ``lock_wait``.
            StoreError: the file cannot be opened for another reason.
        """
        if self.closed:
            raise RuntimeError(f"the audit store {self.path!r} is closed")
        with self._lock:
            if self._kept is not None:
                yield self._kept
                return
            held: dict[str, tuple[duckdb.DuckDBPyConnection, bool]] = _held.__dict__.setdefault("map", {})
            mine = held.get(self.key)
            if mine is not None and (mine[1] or not write):
                yield mine[0]
                return
            if mine is not None:
                raise RuntimeError("a write to the audit store was started inside one of its reads")
            con = self._open(write)
            held[self.key] = (con, write)
            try:
                yield con
            finally:
                del held[self.key]
                con.close()

    def _open(self, write: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_wait
        pause = _FIRST_PAUSE_S
        waited = False
        while True:
            try:
                if write:
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                return duckdb.connect(self.path, read_only=not write, config=_CONFIG)
            except duckdb.IOException as exc:
                if not _is_lock_conflict(exc):
                    raise open_error(self.path, exc) from exc
                error = open_error(self.path, exc)
                if time.monotonic() + pause > deadline:
                    pid = error.pid if isinstance(error, StoreLockedError) else None
                    raise StoreLockedError(self.path, pid, waited=self.lock_wait) from exc
                if not waited:
                    waited = True
                    self.waits += 1
                    logger.debug("waiting for another process to let go of %s", self.path)
                time.sleep(pause)
                pause = min(pause * 2, _MAX_PAUSE_S)
