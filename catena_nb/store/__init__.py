"""The audit store: operations, logs and messages in DuckDB, synced from the API or received by webhook."""

from __future__ import annotations

from catena_nb.store.audit import AuditStore
from catena_nb.store.errors import NotAStoreError, StoreError, StoreLockedError, StoreNotFoundError
from catena_nb.store.sync import SyncSummary
from catena_nb.store.writes import UpsertResult

__all__ = [
    "AuditStore",
    "NotAStoreError",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "SyncSummary",
    "UpsertResult",
]
