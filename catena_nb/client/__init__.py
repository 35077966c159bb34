"""The Catena API clients: `CatenaClient` (sync) and `AsyncCatenaClient`, their listings and batches."""

from __future__ import annotations

from catena_nb.client._client import AsyncCatenaClient, CatenaClient
from catena_nb.client.batch import BatchResult, RowOutcome

__all__ = [
    "AsyncCatenaClient",
    "BatchResult",
    "CatenaClient",
    "RowOutcome",
]
