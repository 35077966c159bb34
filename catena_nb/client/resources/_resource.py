"""The base of every namespace: the client it sends through, and its lazy listings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import pydantic

from catena_nb.client._transport import SharedPause
from catena_nb.client.pagination import AsyncPaginator, ListSpec, Page, Paginator

if TYPE_CHECKING:
    from catena_nb.client._client import AsyncCatenaClient, CatenaClient

__all__ = ["AsyncResource", "SyncResource"]

M = TypeVar("M", bound=pydantic.BaseModel)


class SyncResource:
    """A namespace of `CatenaClient`: each method builds a call, then runs it on the client."""

    def __init__(self, client: CatenaClient) -> None:
        self._client = client

    def _listing(self, spec: ListSpec[M], progress: bool | None = False) -> Paginator[M]:
        """A lazy listing of `spec` (`progress=None`: the client's setting)."""
        client, model = self._client, spec.model

        def fetch(path: str, params: dict[str, Any], pause: SharedPause | None = None) -> Page[M]:
            return client._get_page(path, params, model, pause)

        return Paginator(fetch, spec, progress=client._show_progress(progress), pacer=client._pacer)


class AsyncResource:
    """A namespace of `AsyncCatenaClient`, whose calls are awaited."""

    def __init__(self, client: AsyncCatenaClient) -> None:
        self._client = client

    def _listing(self, spec: ListSpec[M], progress: bool | None = False) -> AsyncPaginator[M]:
        """An async lazy listing of `spec`."""
        client, model = self._client, spec.model

        async def fetch(path: str, params: dict[str, Any], pause: SharedPause | None = None) -> Page[M]:
            return await client._get_page(path, params, model, pause)

        return AsyncPaginator(
            fetch,
            spec,
            progress=client._show_progress(progress),
            pacer=client._pacer,
        )
