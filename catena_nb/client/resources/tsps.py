"""`client.tsps`: the TSPs and what each one's integration supports, resource by resource
(`GET /v2/integrations/tsps`): `implemented`, `not_implemented` (the TSP has the API, Catena not yet) or
`not_supported` (the TSP has no such API). A connection names its TSP by `tsp_id`.

Catena's integrations spec lists no `security` for these two paths: they need no scope. The client sends
its token all the same, as it does on every request.

`create_many` and the send form look a connection's TSP up before sending (`cached_for`), so that they can
warn about a TSP that does not take message writes; those lookups are kept for the client's life, and a
lookup that fails only means no warning.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Unpack

from catena_nb import _config
from catena_nb.client._base import lookup
from catena_nb.client._keywords import keywords
from catena_nb.client.pagination import AsyncPaginator, ListSpec, Paginator
from catena_nb.client.resources._checks import LIST_DEFAULTS, Checker, Paged, clean_params
from catena_nb.client.resources._resource import AsyncResource, SyncResource
from catena_nb.errors import ResponseValidationError
from catena_nb.models import Connection, IntegrationStatus, Tsp

if TYPE_CHECKING:
    from catena_nb.client._client import AsyncCatenaClient, CatenaClient

__all__ = ["TSPS_PATH", "AsyncTsps", "TspFilters", "Tsps", "write_warning"]

logger = logging.getLogger("catena_nb.client")

TSPS_PATH = "/v2/integrations/tsps"
Found = tuple[Connection, Tsp]


class TspFilters(Paged, total=False):
    """The options of `tsps.list`: the page size."""


# ------------------------------------------------------------------------------------ requests, built once


def _tsps(filters: TspFilters) -> ListSpec[Tsp]:
    check = Checker()
    params = {"size": check.size(filters.get("size", _config.DEFAULT_PAGE_SIZE))}
    check.done("TSP listing")
    return ListSpec(TSPS_PATH, clean_params(params), Tsp, None, None, "TSPs")


def _tsp_path(tsp_id: str | uuid.UUID) -> str:
    check = Checker()
    tid = check.uuid("tsp_id", tsp_id)
    check.done("TSP lookup")
    return f"{TSPS_PATH}/{tid}"


def _connection_id(connection: Connection | str | uuid.UUID) -> str | uuid.UUID:
    return connection.id if isinstance(connection, Connection) else connection


def write_warning(connection: Connection, tsp: Tsp, resource: str, *, rows: int | None = None) -> str | None:
    """The warning for writes of `resource` through `connection`, or None when its TSP takes them."""
    if tsp.writes(resource):
        return None
    status = tsp.support(resource)
    shown = "not listed" if status is None else str(status)
    why = (
        "the TSP has no such API" if status == IntegrationStatus.NOT_SUPPORTED else "Catena does not write it"
    )
    what = (
        "this send goes"
        if rows is None
        else f"{rows} row{'s' * (rows != 1)} of this batch {'goes' if rows == 1 else 'go'}"
    )
    where = f"connection {connection.id} ({connection.source_name}, {connection.fleet_ref})"
    return (
        f"{what} through {where}, whose TSP {tsp.name} has {resource} writes {shown} ({why}): "
        f"Catena will fail {'them' if rows is not None else 'it'}. See client.tsps.get({tsp.tsp_id!r})."
    )


# -------------------------------------------------------------------------------------------- namespaces


def _no_tsp(conn: Connection) -> ResponseValidationError:
    return ResponseValidationError(f"connection {conn.id} names no tsp_id", body=None)


class Tsps(SyncResource):
    """`client.tsps`: the TSPs and the status of each resource's integration."""

    def __init__(self, client: CatenaClient) -> None:
        super().__init__(client)
        self._known: dict[str, Found] = {}

    @keywords(TspFilters, **LIST_DEFAULTS)
    def list(self, **filters: Unpack[TspFilters]) -> Paginator[Tsp]:
        """The TSPs, lazily across pages, each with `integrations` (resource -> status).

        Raises:
            InvalidRequestError: a bad page size, before any I/O.
        """
        return self._listing(_tsps(filters))

    def get(self, tsp_id: str | uuid.UUID) -> Tsp:
        """One TSP by id (a connection's `tsp_id`).

        Raises:
            InvalidRequestError: `tsp_id` is not a UUID, before any I/O.
            NotFoundError: no TSP has that id.
        """
        return self._client._run(lookup(_tsp_path(tsp_id), Tsp))

    def for_connection(self, connection: Connection | str | uuid.UUID) -> Tsp:
        """The TSP behind a connection (a `Connection`, whose `tsp_id` is used, or a connection id)."""
        conn = connection
        if not isinstance(conn, Connection):
            conn = self._client.connections.get(conn)
        if not conn.tsp_id:
            raise _no_tsp(conn)
        return self.get(conn.tsp_id)

    def cached_for(self, connection: Connection | str | uuid.UUID) -> Found | None:
        """The connection and its TSP, looked up once per client; None when they cannot be looked up (the
        credentials may lack `connection:read`): then nothing is known, and nothing is raised."""
        key = str(_connection_id(connection))
        if key in self._known:
            return self._known[key]
        try:
            conn = connection if isinstance(connection, Connection) else self._client.connections.get(key)
            found = (conn, self.for_connection(conn))
        # any failure: a warning is a courtesy, and must never stop the send it is about
        except Exception as exc:
            logger.debug("no TSP support known for connection %s: %s", key, type(exc).__name__)
            return None
        self._known[key] = found
        return found


class AsyncTsps(AsyncResource):
    """`client.tsps` of the async client."""

    def __init__(self, client: AsyncCatenaClient) -> None:
        super().__init__(client)
        self._known: dict[str, Found] = {}

    @keywords(TspFilters, **LIST_DEFAULTS)
    def list(self, **filters: Unpack[TspFilters]) -> AsyncPaginator[Tsp]:
        """The TSPs, lazily (`async for`)."""
        return self._listing(_tsps(filters))

    async def get(self, tsp_id: str | uuid.UUID) -> Tsp:
        """One TSP by id (see `Tsps.get`)."""
        return await self._client._run(lookup(_tsp_path(tsp_id), Tsp))

    async def for_connection(self, connection: Connection | str | uuid.UUID) -> Tsp:
        """The TSP behind a connection (see `Tsps.for_connection`)."""
        conn = connection
        if not isinstance(conn, Connection):
            conn = await self._client.connections.get(conn)
        if not conn.tsp_id:
            raise _no_tsp(conn)
        return await self.get(conn.tsp_id)

    async def cached_for(self, connection: Connection | str | uuid.UUID) -> Found | None:
        """`Tsps.cached_for`, awaited."""
        key = str(_connection_id(connection))
        if key in self._known:
            return self._known[key]
        try:
            conn = (
                connection if isinstance(connection, Connection) else await self._client.connections.get(key)
            )
            found = (conn, await self.for_connection(conn))
        # any failure: a warning is a courtesy, and must never stop the send it is about
        except Exception as exc:
            logger.debug("no TSP support known for connection %s: %s", key, type(exc).__name__)
            return None
        self._known[key] = found
        return found
