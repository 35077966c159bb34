"""`client.connections` and `client.users`: the Fleet/TSP connections the credentials can use, and the
fleet users whose ids a message names as sender and recipient.

The filters are declared once (the `TypedDict`s below) and each request is checked and built once; the sync
and async classes then send it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TypedDict, Unpack

from catena_nb import _config
from catena_nb.client._base import lookup
from catena_nb.client._keywords import keywords
from catena_nb.client.pagination import AsyncPaginator, ListSpec, Paginator
from catena_nb.client.resources._checks import LIST_DEFAULTS, Checker, FleetFilters, Ids, Paged, clean_params
from catena_nb.client.resources._resource import AsyncResource, SyncResource
from catena_nb.client.resources.operations import CONNECTIONS_PATH
from catena_nb.models import Connection, User

__all__ = [
    "USERS_PATH",
    "AsyncConnections",
    "AsyncUsers",
    "ConnectionFilters",
    "Connections",
    "UserFilters",
    "Users",
]

USERS_PATH = "/v2/telematics/users"


class _Tsp(TypedDict, total=False):
    tsp_id: str | None


class ConnectionFilters(_Tsp, FleetFilters, Paged, total=False):
    """The filters of `connections.list`: the TSP (`tsp_id`), the fleets, the page size."""


class _UserKeys(TypedDict, total=False):
    connection_id: str | uuid.UUID | None
    is_driver: bool | None
    user_ids: Ids | None
    source_ids: str | Iterable[str] | None
    include_source_data: bool | None


class UserFilters(_UserKeys, FleetFilters, Paged, total=False):
    """The filters of `users.list`: the connection, drivers only, Catena or TSP user ids, the fleets."""


# ------------------------------------------------------------------------------------ requests, built once


def _connections(filters: ConnectionFilters) -> ListSpec[Connection]:
    check = Checker()
    params = {
        "tsp_id": filters.get("tsp_id"),
        "fleet_ids": check.many("fleet_ids", filters.get("fleet_ids"), uuids=True),
        "fleet_refs": check.many("fleet_refs", filters.get("fleet_refs")),
        "size": check.size(filters.get("size", _config.DEFAULT_PAGE_SIZE)),
    }
    check.done("connections listing")
    return ListSpec(CONNECTIONS_PATH, clean_params(params), Connection, None, None, "connections")


def _connection_path(connection_id: str | uuid.UUID) -> str:
    check = Checker()
    cid = check.uuid("connection_id", connection_id)
    check.done("connection lookup")
    return f"{CONNECTIONS_PATH}/{cid}"


def _users(filters: UserFilters) -> ListSpec[User]:
    check = Checker()
    params = {
        "connection_id": check.uuid("connection_id", filters.get("connection_id")),
        "is_driver": filters.get("is_driver"),
        "fleet_ids": check.many("fleet_ids", filters.get("fleet_ids"), uuids=True),
        "fleet_refs": check.many("fleet_refs", filters.get("fleet_refs")),
        "user_ids": check.many("user_ids", filters.get("user_ids"), uuids=True),
        "source_ids": check.many("source_ids", filters.get("source_ids")),
        "include_source_data": filters.get("include_source_data"),
        "size": check.size(filters.get("size", _config.DEFAULT_PAGE_SIZE)),
    }
    check.done("users listing")
    return ListSpec(USERS_PATH, clean_params(params), User, None, None, "users")


# -------------------------------------------------------------------------------------------- namespaces


class Connections(SyncResource):
    """`client.connections`: the Fleet/TSP connections the credentials can use."""

    @keywords(ConnectionFilters, **LIST_DEFAULTS)
    def list(self, **filters: Unpack[ConnectionFilters]) -> Paginator[Connection]:
        """The connections, lazily across pages.

        Raises:
            InvalidRequestError: a bad filter, before any I/O.
        """
        return self._listing(_connections(filters))

    def get(self, connection_id: str | uuid.UUID) -> Connection:
        """One connection by id."""
        return self._client._run(lookup(_connection_path(connection_id), Connection))


class AsyncConnections(AsyncResource):
    """`client.connections` of the async client."""

    async def get(self, connection_id: str | uuid.UUID) -> Connection:
        """One connection by id."""
        return await self._client._run(lookup(_connection_path(connection_id), Connection))

    @keywords(ConnectionFilters, **LIST_DEFAULTS)
    def list(self, **filters: Unpack[ConnectionFilters]) -> AsyncPaginator[Connection]:
        """The connections, lazily (`async for`)."""
        return self._listing(_connections(filters))


class Users(SyncResource):
    """`client.users`: the fleet users whose ids a message names as sender and recipient."""

    @keywords(UserFilters, **LIST_DEFAULTS)
    def list(self, **filters: Unpack[UserFilters]) -> Paginator[User]:
        """The users, lazily across pages; `is_driver=True` keeps the drivers (the recipients of messages),
        `False` the others (dispatchers, who send them). Raises `InvalidRequestError` on a bad filter."""
        return self._listing(_users(filters))


class AsyncUsers(AsyncResource):
    """`client.users` of the async client."""

    @keywords(UserFilters, **LIST_DEFAULTS)
    def list(self, **filters: Unpack[UserFilters]) -> AsyncPaginator[User]:
        """The users, lazily (`async for`)."""
        return self._listing(_users(filters))
