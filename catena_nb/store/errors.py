"""The errors of the audit store: a file that another process holds, that is missing, or that is no store.

DuckDB reports all of these as ``duckdb.IOException``, which is not an ``OSError``; :func:`open_error`
turns its message into the store's own error, which names the file and says what to do.

```
CatenaError
└── StoreError (also RuntimeError)       the store file cannot be used
    ├── StoreLockedError                 another process held the file for longer than the store waits
    ├── StoreNotFoundError (also FileNotFoundError)  no file to open read-only
    └── NotAStoreError                   the file is not a DuckDB database with the store's tables
```
"""

from __future__ import annotations

import re

import duckdb

from catena_nb.errors import CatenaError

__all__ = ["NotAStoreError", "StoreError", "StoreLockedError", "StoreNotFoundError", "open_error"]


class StoreError(CatenaError, RuntimeError):
    """The audit store file cannot be used: ``.path`` names it, the message says why and what to do."""

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(message)


class StoreLockedError(StoreError):
    """Another process holds the store file (DuckDB lets one process write a file); ``.pid`` when known."""

    def __init__(self, path: str, pid: int | None = None, *, waited: float | None = None) -> None:
        self.pid = pid
        self.waited = waited
        holder = f"another process (PID {pid})" if pid is not None else "another process"
        how_long = f" for more than {waited:g} s" if waited else ""
        super().__init__(
            f"the audit store {path} is held by {holder}{how_long}: a program other than catena-nb, or an "
            "older catena-nb, keeps it open (catena-nb itself holds a store only for the length of a call). "
            "Stop that process or wait for it to end, or use another file",
            path=path,
        )


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No store file to open read-only (a read never creates one)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"no audit store at {path}: check the path, or create the store with "
            f"`catena-nb sync --store {path}`",
            path=path,
        )


class NotAStoreError(StoreError):
    """The file exists but is not a DuckDB database (or is a folder)."""

    def __init__(self, path: str, why: str = "not a DuckDB database file") -> None:
        super().__init__(
            f"{path} is not an audit store ({why}): give the path of a store written by catena-nb, or the "
            "name of a new file to create one",
            path=path,
        )


_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")


def open_error(path: str, exc: duckdb.Error) -> StoreError:
    """The store's own error for DuckDB's failure to open ``path`` (an IOException is not an OSError)."""
    text = str(exc)
    if "Could not set lock" in text:
        found = _LOCK_HOLDER.search(text)
        return StoreLockedError(path, int(found.group(1)) if found else None)
    if "not a valid DuckDB database" in text:
        return NotAStoreError(path)
    if "Is a directory" in text:
        return NotAStoreError(path, "a folder")
    if "database does not exist" in text:
        return StoreNotFoundError(path)
    return StoreError(f"cannot open the audit store {path}: {text.removeprefix('IO Error: ')}", path=path)
