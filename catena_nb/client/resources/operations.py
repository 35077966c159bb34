"""`client.operations`: look resource operations up, list them, and wait for pending ones to settle.

The arguments are declared once (the `TypedDict`s below), each request is checked and built once, and the
rounds of a wait are decided once (`_Polling`, without I/O); the sync and async classes then send and sleep.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures as cf
import time
import uuid
from collections.abc import Awaitable, Iterable, Iterator
from typing import Any, Self, TypedDict, TypeVar, Unpack

from catena_nb import _config
from catena_nb._progress import progress_bar
from catena_nb.client._base import lookup
from catena_nb.client._keywords import keywords
from catena_nb.client.batch import BatchResult
from catena_nb.client.pagination import AsyncPaginator, ListSpec, Paginator
from catena_nb.client.resources._checks import (
    WINDOW_LIST_DEFAULTS,
    Checker,
    Paged,
    WindowFilters,
    clean_params,
    status_filter,
)
from catena_nb.client.resources._resource import AsyncResource, SyncResource
from catena_nb.errors import InvalidRequestError, WaitTimeoutError
from catena_nb.models import OperationStatus, OperationType, ResourceOperation

__all__ = [
    "CONNECTIONS_PATH",
    "OPERATIONS_PATH",
    "AsyncOperations",
    "OperationFilters",
    "Operations",
    "WaitOptions",
    "operation_path",
]

CONNECTIONS_PATH = "/v2/integrations/connections"
OPERATIONS_PATH = "/v2/integrations/connections/resource-operations"
POLLERS = 8  # lookups in flight at once while waiting

T = TypeVar("T")
OpOrId = ResourceOperation | str | uuid.UUID


class _OperationKeys(TypedDict, total=False):
    resource: str | None
    connection_id: str | uuid.UUID | None
    source_name: str | None
    fleet_refs: str | Iterable[str] | None
    operation: str | None
    source_id: str | None


class OperationFilters(_OperationKeys, WindowFilters, Paged, total=False):
    """The filters of `operations.list` (see `Operations.list`)."""


class WaitOptions(TypedDict, total=False):
    """The options of `operations.wait`: give up after `timeout` s; poll every `poll_interval` s, growing
    by half each round up to `max_interval`; a `progress` bar."""

    timeout: float
    poll_interval: float
    max_interval: float
    progress: bool | None


WAIT_DEFAULTS: dict[str, Any] = {"timeout": 120.0, "poll_interval": 1.0, "max_interval": 10.0}

# ------------------------------------------------------------------------------------ requests, built once


def operation_path(op_or_id: OpOrId, connection_id: str | uuid.UUID | None) -> str:
    """The lookup path of one operation; its connection id is part of the path."""
    check = Checker()
    if isinstance(op_or_id, ResourceOperation):
        op_id, connection_id = op_or_id.id, connection_id or op_or_id.connection_id
    else:
        op_id = str(op_or_id)
    oid = check.uuid("id", op_id)
    if connection_id is None:
        check.add("connection_id", "is required (the lookup path carries it): pass connection_id=...", None)
    cid = check.uuid("connection_id", connection_id)
    check.done("operation lookup")
    return f"{CONNECTIONS_PATH}/{cid}/resource-operations/{oid}"


def _listing_spec(filters: OperationFilters) -> ListSpec[ResourceOperation]:
    """The request of an operations listing (the API has no status filter: `status` is applied here)."""
    check = Checker()
    resource, source_id = filters.get("resource"), filters.get("source_id")
    if source_id is not None and resource is None:
        check.add("source_id", "needs resource= as well (the API requires both)", source_id)
    operation = filters.get("operation")
    params = {
        "resource": str(resource) if resource is not None else None,
        "connection_id": check.uuid("connection_id", filters.get("connection_id")),
        "source_name": filters.get("source_name"),
        "fleet_refs": check.many("fleet_refs", filters.get("fleet_refs")),
        "operation": check.choice("operation", operation, [t.value for t in OperationType]),
        "source_id": source_id,
        "size": check.size(filters.get("size", _config.DEFAULT_PAGE_SIZE)),
    }
    windows = check.windows(filters.get("since"), filters.get("until"))
    concurrency = check.concurrency(filters.get("concurrency", _config.DEFAULT_LIST_CONCURRENCY))
    check.done("operations listing")
    keep = status_filter(filters.get("status"), default=OperationStatus.PENDING.value)
    return ListSpec(
        OPERATIONS_PATH,
        clean_params(params),
        ResourceOperation,
        windows,
        keep,
        "operations",
        concurrency=concurrency,
        time_field="created_at",  # the API lists operations by creation time
    )


class _Polling:
    """The rounds of a wait, without I/O: iterate it for the pause before each round and the operations to
    poll then; hand the fresh ones to `update`. A context manager: it owns the progress bar.

    Raises (while iterating):
        WaitTimeoutError: some are still pending after the timeout (`.pending` lists them).
    """

    def __init__(self, ops: Iterable[ResourceOperation] | BatchResult, options: WaitOptions, progress: bool):
        self.current = _wait_inputs(ops)
        self._timeout = options.get("timeout", WAIT_DEFAULTS["timeout"])
        self._interval = options.get("poll_interval", WAIT_DEFAULTS["poll_interval"])
        self._max_interval = options.get("max_interval", WAIT_DEFAULTS["max_interval"])
        self._due: list[int] = []
        self._bar = progress_bar(
            progress, total=len(self.current), desc="waiting for operations", unit=" rows"
        )
        self._bar.update(sum(1 for op in self.current if not op.pending))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()

    def __iter__(self) -> Iterator[tuple[float, list[ResourceOperation]]]:
        start, waited, interval = time.monotonic(), 0.0, self._interval
        while True:
            self._due = [i for i, op in enumerate(self.current) if op.pending]
            if not self._due:
                return
            # the time the injected sleep says it waited counts too, so a test's sleep ends a wait as well
            elapsed = max(time.monotonic() - start, waited)
            if elapsed >= self._timeout:
                raise WaitTimeoutError(self._timeout, [self.current[i] for i in self._due], self.current)
            pause = min(interval, self._timeout - elapsed)
            yield pause, [self.current[i] for i in self._due]
            waited += pause
            interval = min(interval * 1.5, self._max_interval)

    def update(self, fresh: Iterable[ResourceOperation]) -> None:
        """The operations of the round just polled, in the order they were given."""
        for i, op in zip(self._due, fresh, strict=True):
            self.current[i] = op
            if not op.pending:
                self._bar.update(1)


def _wait_inputs(ops: Iterable[ResourceOperation] | BatchResult) -> list[ResourceOperation]:
    """The operations to wait for, checked to carry an id and a connection id."""
    items = ops.operations if isinstance(ops, BatchResult) else list(ops)
    bad = [i for i, op in enumerate(items) if not isinstance(op, ResourceOperation) or op.id is None]
    if bad:
        raise InvalidRequestError(
            [
                {"field": f"ops[{i}]", "message": "is not a ResourceOperation with an id", "input": None}
                for i in bad
            ],
            what="wait",
        )
    return items


async def _gathered(limit: int, calls: Iterable[Awaitable[T]]) -> list[T]:
    """The results of `calls`, in order, with at most `limit` running at once."""
    semaphore = asyncio.Semaphore(limit)

    async def bounded(call: Awaitable[T]) -> T:
        async with semaphore:
            return await call

    return list(await asyncio.gather(*(bounded(call) for call in calls)))


# -------------------------------------------------------------------------------------------- namespaces


class Operations(SyncResource):
    """`client.operations`: look resource operations up, list them, wait for pending ones."""

    def get(self, op_or_id: OpOrId, connection_id: str | uuid.UUID | None = None) -> ResourceOperation:
        """One operation with its logs, by id and connection id, or from an operation already at hand.

        Raises:
            InvalidRequestError: a bad or missing id (before any I/O).
            NotFoundError: no such operation on that connection.
        """
        return self._client._run(lookup(operation_path(op_or_id, connection_id), ResourceOperation))

    @keywords(OperationFilters, **WINDOW_LIST_DEFAULTS)
    def list(self, **filters: Unpack[OperationFilters]) -> Paginator[ResourceOperation]:
        """The operations matching the filters, lazily: iterate for items, `.pages()` for pages.

        Args:
            resource: `message`, `group_message`, ...; source_id (the TSP's id of the resource) needs it.
            connection_id, source_name, fleet_refs: the connection, TSP or fleets.
            operation: `create`, `update` or `delete`.
            since, until: map to `from_datetime`/`to_datetime`; a span over 45 days is sent as consecutive
                windows of at most 45 days.
            status: the API has no status filter: `status=` ("failed", or several) is applied on the client
                side, after each page arrives.
            concurrency: how many sub-windows are listed side by side (default 8; 1 lists one cursor at a
                time). When the first page of a window says there is more, the rest of the window is cut
                into sub-windows on `created_at`, each following its own cursors; the items come out exactly
                as one cursor at a time gives them (the same, once each, in creation order), and a 429 on
                any request pauses them all.
            size: the page size, 1 to 1000.
            progress: show a progress bar (default: the client's setting).

        Raises:
            InvalidRequestError: a bad filter (e.g. `source_id` without `resource`), before any I/O.
        """
        return self._listing(_listing_spec(filters), filters.get("progress"))

    @keywords(WaitOptions, **WAIT_DEFAULTS)
    def wait(
        self, ops: Iterable[ResourceOperation] | BatchResult, **options: Unpack[WaitOptions]
    ) -> builtins.list[ResourceOperation]:
        """Poll the pending operations until none is pending; the final operations in input order.

        The interval grows by half each round up to `max_interval`.

        Raises:
            WaitTimeoutError: some are still pending after `timeout` seconds (`.pending` lists them).
        """
        client = self._client
        with (
            _Polling(ops, options, client._show_progress(options.get("progress"))) as polling,
            cf.ThreadPoolExecutor(max_workers=POLLERS, thread_name_prefix="catena-wait") as pool,
        ):
            for pause, due in polling:
                client.sleep(pause)
                polling.update(pool.map(self.get, due))
        return polling.current


class AsyncOperations(AsyncResource):
    """`client.operations` of the async client."""

    async def get(self, op_or_id: OpOrId, connection_id: str | uuid.UUID | None = None) -> ResourceOperation:
        """One operation with its logs (see `Operations.get`)."""
        return await self._client._run(lookup(operation_path(op_or_id, connection_id), ResourceOperation))

    @keywords(OperationFilters, **WINDOW_LIST_DEFAULTS)
    def list(self, **filters: Unpack[OperationFilters]) -> AsyncPaginator[ResourceOperation]:
        """The operations matching the filters, lazily (`async for`); see `Operations.list`."""
        return self._listing(_listing_spec(filters), filters.get("progress"))

    @keywords(WaitOptions, **WAIT_DEFAULTS)
    async def wait(
        self, ops: Iterable[ResourceOperation] | BatchResult, **options: Unpack[WaitOptions]
    ) -> builtins.list[ResourceOperation]:
        """Poll the pending operations until none is pending (see `Operations.wait`)."""
        client = self._client
        with _Polling(ops, options, client._show_progress(options.get("progress"))) as polling:
            for pause, due in polling:
                await client.sleep(pause)
                polling.update(await _gathered(POLLERS, [self.get(op) for op in due]))
        return polling.current
