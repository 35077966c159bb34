"""The write-ahead spool: webhook deliveries made durable in plain files before the store has them.

The listener answers Catena only once a delivery is on disk, and it must answer within 3 s whoever holds
the DuckDB file at that moment (a sync, a report, a notebook). So it never writes the database on the
request path: it appends the delivery as one JSON line to a segment file in ``<store>.spool/``, syncs the
file (``os.fsync``), and only then answers 2xx. Appending and syncing one line takes 0.2-0.4 ms here,
against 70-100 ms to open, write and close the DuckDB file, and no lock is shared with any other process.

- A segment is written by one process, which holds an exclusive ``flock`` on it while it appends; it is
  created under a temporary name and renamed once locked (the folder synced), so nobody sees it unlocked
  before its first line. The writer seals a segment by closing it (every second or so); a process that
  dies (SIGKILL included) lets go of its lock with its last breath, so its segment is sealed too.
- Whoever merges the spool into the store (the listener itself, ``sync``, ``reconcile``) takes a sealed
  segment's lock, upserts its deliveries, commits, and only then deletes the segment. A crash in between
  merges it again next time, which changes nothing: the store keeps the newest record of each id.
- Readers (``AuditStore(path, read_only=True)``) read the database: they see a delivery once it is
  merged, about a second after the listener answered it (:meth:`Spool.pending` lists the rest).
- A line is a delivery only when it is whole (ends with a newline and parses): a line cut short by a crash
  was never answered 2xx, so Catena delivers it again.

Each line holds the envelope's ``id`` (the dedupe key), ``webhook_id``, ``event_name``, the ``kind`` of
records (``operations`` or ``messages``), ``received_at``, and the ``records`` as received.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Delivery", "Spool", "spool_dir"]

logger = logging.getLogger("catena_nb.store.spool")

SEGMENT_SUFFIX = ".jsonl"
FAILED_DIR = "failed"  # deliveries the store refused to take, kept until a merge takes them
# assumed: a segment is sealed after this many deliveries even if the writer goes on without a pause
SEGMENT_DELIVERIES = 5000


def spool_dir(store_path: str | os.PathLike[str]) -> Path:
    """The spool folder of a store file: ``<store>.spool`` beside it."""
    return Path(f"{os.fspath(store_path)}.spool")


@dataclass(frozen=True)
class Delivery:
    """One verified webhook delivery, as the spool keeps it."""

    id: str | None
    webhook_id: str | None
    event_name: str
    kind: str  # operations | messages
    received_at: str
    records: list[dict[str, Any]] = field(repr=False)

    def to_line(self) -> bytes:
        """The delivery as one JSON line."""
        body = {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "event_name": self.event_name,
            "kind": self.kind,
            "received_at": self.received_at,
            "records": self.records,
        }
        return (json.dumps(body, separators=(",", ":"), default=str) + "\n").encode()

    @classmethod
    def from_line(cls, line: bytes) -> Delivery | None:
        """The delivery of a whole line; None for anything else (cut short, not JSON, not a delivery)."""
        try:
            body = json.loads(line)
            records = body["records"]
            if not isinstance(records, list):
                return None
            return cls(
                id=body.get("id"),
                webhook_id=body.get("webhook_id"),
                event_name=str(body["event_name"]),
                kind=str(body["kind"]),
                received_at=str(body["received_at"]),
                records=[r for r in records if isinstance(r, dict)],
            )
        except (ValueError, KeyError, TypeError):
            return None


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_segment(path: Path) -> list[Delivery]:
    """The whole deliveries of a segment file (none if it has gone)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    out: list[Delivery] = []
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break  # cut short: never answered 2xx
        found = Delivery.from_line(line)
        if found is not None:
            out.append(found)
    return out


class Spool:
    """The spool folder of one store: append deliveries durably, list and take sealed segments.

    Args:
        directory: the folder (created on the first append).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._name: Path | None = None
        self._written = 0
        self._seq = 0

    def __repr__(self) -> str:
        return f"Spool({str(self.dir)!r})"

    # -- the writer ------------------------------------------------------------------------------------------

    def append(self, delivery: Delivery) -> None:
        """Write one delivery and sync it to disk; when this returns, the delivery survives a crash.

        Raises:
            OSError: the disk refused (full, read-only, gone): the delivery is not stored.
        """
        line = delivery.to_line()
        with self._lock:
            if self._fd is None or self._written >= SEGMENT_DELIVERIES:
                self._seal_locked()
                self._open_locked()
            fd = self._fd
            if fd is None:  # pragma: no cover - _open_locked raises instead
                raise OSError("the spool segment is not open")
            view = memoryview(line)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
            self._written += 1

    def seal(self) -> None:
        """Close the segment being written, so that a merge may take it (safe to call at any time)."""
        with self._lock:
            self._seal_locked()

    def _open_locked(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        stem = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}"
        temp = self.dir / f".{stem}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held while this process appends; a merge waits for the seal
            final = self.dir / f"{stem}{SEGMENT_SUFFIX}"
            os.rename(temp, final)
            _sync_dir(self.dir)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        self._fd, self._name, self._written = fd, final, 0

    def _seal_locked(self) -> None:
        if self._fd is None:
            return
        fd, name, written = self._fd, self._name, self._written
        self._fd, self._name, self._written = None, None, 0
        os.close(fd)  # lets go of the lock
        if written == 0 and name is not None:
            with contextlib.suppress(OSError):
                name.unlink()

    # -- readers and mergers ---------------------------------------------------------------------------------

    def segments(self) -> list[Path]:
        """Every segment, oldest first, sealed or not, then the deliveries kept after a failed merge."""
        if not self.dir.is_dir():
            return []
        found = sorted(p for p in self.dir.glob(f"*{SEGMENT_SUFFIX}") if not p.name.startswith("."))
        failed = self.dir / FAILED_DIR
        if failed.is_dir():
            found += sorted(failed.glob(f"*{SEGMENT_SUFFIX}"))
        return found

    def pending(self) -> list[Delivery]:
        """Every delivery in the spool, oldest first (what a reader lays over the store)."""
        return [d for path in self.segments() for d in read_segment(path)]

    @contextlib.contextmanager
    def take(self, path: Path) -> Iterator[list[Delivery] | None]:
        """The deliveries of a sealed segment, held against other mergers; None while a writer has it.

        Delete the segment (:meth:`done`) inside the block once its deliveries are committed.
        """
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            yield None
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield None
                return
            if not path.exists():  # merged and deleted by another process meanwhile
                yield None
                return
            yield read_segment(path)
        finally:
            os.close(fd)

    def done(self, path: Path) -> None:
        """Delete a merged segment (inside :meth:`take`)."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(OSError):
            _sync_dir(path.parent)

    def keep_failed(self, deliveries: list[Delivery]) -> Path:
        """Write deliveries the store refused into the ``failed`` folder (synced), for a later merge."""
        folder = self.dir / FAILED_DIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{time.time_ns():020d}-{os.getpid()}{SEGMENT_SUFFIX}"
        temp = folder / f".{path.name}.tmp"
        with open(temp, "wb") as fh:
            for d in deliveries:
                fh.write(d.to_line())
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(temp, path)
        _sync_dir(folder)
        return path


def now_iso() -> str:
    """The current UTC time, ISO 8601 with microseconds."""
    return dt.datetime.now(dt.UTC).isoformat()
