"""The async client's namespaces: the same requests as the sync ones, awaited."""

from __future__ import annotations

import asyncio
import builtins
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from catena_nb import _config
from catena_nb.client._requests import (
    CONNECTIONS_PATH,
    GROUP_MESSAGES_PATH,
    MESSAGES_PATH,
    Checker,
    Ids,
    When,
    connections_spec,
    messages_spec,
    operation_path,
    operations_spec,
    recipient_list,
    users_spec,
    wait_inputs,
)
from catena_nb.client._retry import Pacer
from catena_nb.client.batch import (
    BatchResult,
    OnInvalid,
    normalize_rows,
    progress_bar,
    run_async,
    validate_rows,
)
from catena_nb.client.pagination import AsyncPaginator, ListSpec
from catena_nb.errors import InvalidRequestError, WaitTimeoutError
from catena_nb.models import (
    Connection,
    GroupMessage,
    GroupMessageCreate,
    Message,
    MessageCreate,
    ResourceOperation,
    User,
)

if TYPE_CHECKING:
    from catena_nb.client._client import AsyncCatenaClient

__all__ = ["AsyncConnections", "AsyncGroupMessages", "AsyncMessages", "AsyncOperations", "AsyncUsers"]


def _paginator(client: AsyncCatenaClient, spec: ListSpec[Any], progress: bool | None) -> AsyncPaginator[Any]:
    model = spec.model
    return AsyncPaginator(
        lambda path, params: client._get_page(path, params, model),
        spec,
        progress=client._show_progress(progress),
    )


class AsyncMessages:
    """`client.messages` of the async client: see `Messages` for the arguments."""

    def __init__(self, client: AsyncCatenaClient) -> None:
        self._client = client
        self.last_batch: BatchResult | None = None

    async def create(
        self,
        *,
        connection_id: str | uuid.UUID,
        sender_id: str | uuid.UUID,
        recipient_id: str | uuid.UUID,
        message_text: str | None = None,
        priority: str | None = None,
        reply_to_message_id: str | uuid.UUID | None = None,
        sync: bool = False,
    ) -> ResourceOperation:
        """Send one message; returns its resource operation (200, 202 and 502 alike).

        Raises:
            InvalidRequestError: a bad field, before anything is sent.
            APIStatusError: the API refused the request.
            APIConnectionError: the API could not be reached (never resent).
        """
        body = MessageCreate.build(
            connection_id=connection_id,
            sender_id=sender_id,
            recipient_id=recipient_id,
            message_text=message_text,
            priority=priority,
            reply_to_message_id=reply_to_message_id,
        )
        return await self._client._create(MESSAGES_PATH, body.to_json(), sync=sync)

    async def create_many(
        self,
        rows: Iterable[Mapping[str, Any]] | Any,
        *,
        sync: bool = False,
        concurrency: int = 8,
        progress: bool | None = None,
        on_invalid: OnInvalid = "report",
    ) -> BatchResult:
        """Send many messages with at most `concurrency` in flight; one outcome per row, in input order.

        When the task is cancelled, rows not yet started are not sent, those in flight finish, the partial
        result is kept in `client.messages.last_batch`, and the cancellation propagates.

        Raises:
            InvalidRequestError: with `on_invalid="raise"`, when any row is bad (nothing is sent).
        """
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequestError(
                [{"field": "concurrency", "message": "must be >= 1", "input": concurrency}]
            )
        client = self._client
        table = normalize_rows(rows)
        valid, invalid = validate_rows(table, MessageCreate, on_invalid)

        def keep(result: BatchResult) -> None:
            self.last_batch = result

        return await run_async(
            table,
            valid,
            invalid,
            lambda req: client._create(MESSAGES_PATH, req.to_json(), sync=sync),
            concurrency=concurrency,
            pacer=Pacer(client.policy),
            sleep=client.sleep,
            max_resends=client.max_retries,
            progress=client._show_progress(progress),
            on_done=keep,
            label="sending messages",
        )

    def list(
        self,
        *,
        connection_id: str | uuid.UUID | None = None,
        since: When | None = None,
        until: When | None = None,
        fleet_ids: Ids | None = None,
        fleet_refs: str | Iterable[str] | None = None,
        sender_ids: Ids | None = None,
        recipient_ids: Ids | None = None,
        source_sender_ids: str | Iterable[str] | None = None,
        source_recipient_ids: str | Iterable[str] | None = None,
        include_source_data: bool | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        status: str | Iterable[str] | None = None,
        size: int = _config.DEFAULT_PAGE_SIZE,
        progress: bool | None = None,
    ) -> AsyncPaginator[Message]:
        """The messages with their delivery status, lazily (`async for`); `status` applied client-side."""
        args = dict(locals())
        args.pop("self")
        ids = ("sender_ids", "recipient_ids", "source_sender_ids", "source_recipient_ids")
        return _paginator(
            self._client, messages_spec(Message, MESSAGES_PATH, args, ids, "messages"), progress
        )


class AsyncGroupMessages:
    """`client.group_messages` of the async client."""

    def __init__(self, client: AsyncCatenaClient) -> None:
        self._client = client

    async def create(
        self,
        *,
        connection_id: str | uuid.UUID,
        sender_id: str | uuid.UUID,
        recipient_ids: Iterable[str | uuid.UUID],
        message_text: str | None = None,
        priority: str | None = None,
        sync: bool = False,
    ) -> ResourceOperation:
        """Send one group message; returns its resource operation (200, 202 and 502 alike)."""
        body = GroupMessageCreate.build(
            connection_id=connection_id,
            sender_id=sender_id,
            recipient_ids=recipient_list(recipient_ids),
            message_text=message_text,
            priority=priority,
        )
        return await self._client._create(GROUP_MESSAGES_PATH, body.to_json(), sync=sync)

    def list(
        self,
        *,
        connection_id: str | uuid.UUID | None = None,
        since: When | None = None,
        until: When | None = None,
        fleet_ids: Ids | None = None,
        fleet_refs: str | Iterable[str] | None = None,
        sender_ids: Ids | None = None,
        group_ids: Ids | None = None,
        source_sender_ids: str | Iterable[str] | None = None,
        source_group_ids: str | Iterable[str] | None = None,
        include_source_data: bool | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        status: str | Iterable[str] | None = None,
        size: int = _config.DEFAULT_PAGE_SIZE,
        progress: bool | None = None,
    ) -> AsyncPaginator[GroupMessage]:
        """The group messages, lazily (`async for`)."""
        args = dict(locals())
        args.pop("self")
        ids = ("sender_ids", "group_ids", "source_sender_ids", "source_group_ids")
        spec = messages_spec(GroupMessage, GROUP_MESSAGES_PATH, args, ids, "group messages")
        return _paginator(self._client, spec, progress)


class AsyncOperations:
    """`client.operations` of the async client."""

    def __init__(self, client: AsyncCatenaClient) -> None:
        self._client = client

    async def get(
        self, op_or_id: ResourceOperation | str | uuid.UUID, connection_id: str | uuid.UUID | None = None
    ) -> ResourceOperation:
        """One operation with its logs (see `Operations.get`)."""
        return await self._client._get_model(operation_path(op_or_id, connection_id), ResourceOperation)

    def list(
        self,
        *,
        resource: str | None = None,
        connection_id: str | uuid.UUID | None = None,
        source_name: str | None = None,
        fleet_refs: str | Iterable[str] | None = None,
        operation: str | None = None,
        source_id: str | None = None,
        since: When | None = None,
        until: When | None = None,
        status: str | Iterable[str] | None = None,
        size: int = _config.DEFAULT_PAGE_SIZE,
        progress: bool | None = None,
    ) -> AsyncPaginator[ResourceOperation]:
        """The operations matching the filters, lazily; `status=` is applied client-side (no API filter)."""
        spec = operations_spec(
            resource=resource,
            connection_id=connection_id,
            source_name=source_name,
            fleet_refs=fleet_refs,
            operation=operation,
            source_id=source_id,
            since=since,
            until=until,
            status=status,
            size=size,
        )
        return _paginator(self._client, spec, progress)

    async def wait(
        self,
        ops: Iterable[ResourceOperation] | BatchResult,
        *,
        timeout: float = 120.0,
        poll_interval: float = 1.0,
        max_interval: float = 10.0,
        progress: bool | None = None,
    ) -> builtins.list[ResourceOperation]:
        """Poll the pending operations until none is pending; the final operations in input order.

        Raises:
            WaitTimeoutError: some are still pending after `timeout` seconds.
        """
        current = wait_inputs(ops)
        client = self._client
        start, waited, interval = time.monotonic(), 0.0, poll_interval
        semaphore = asyncio.Semaphore(8)
        bar = progress_bar(client._show_progress(progress), len(current), "waiting for operations")
        bar.update(sum(1 for op in current if not op.pending))

        async def poll(op: ResourceOperation) -> ResourceOperation:
            async with semaphore:
                return await self.get(op)

        try:
            while True:
                pending = [i for i, op in enumerate(current) if op.pending]
                if not pending:
                    return current
                elapsed = max(time.monotonic() - start, waited)
                if elapsed >= timeout:
                    raise WaitTimeoutError(timeout, [current[i] for i in pending], current)
                pause = min(interval, timeout - elapsed)
                await client.sleep(pause)
                waited += pause
                interval = min(interval * 1.5, max_interval)
                fresh = await asyncio.gather(*(poll(current[i]) for i in pending))
                for i, op in zip(pending, fresh, strict=True):
                    current[i] = op
                    if not op.pending:
                        bar.update(1)
        finally:
            bar.close()


class AsyncConnections:
    """`client.connections` of the async client."""

    def __init__(self, client: AsyncCatenaClient) -> None:
        self._client = client

    def list(
        self,
        *,
        tsp_id: str | None = None,
        fleet_ids: Ids | None = None,
        fleet_refs: str | Iterable[str] | None = None,
        size: int = _config.DEFAULT_PAGE_SIZE,
    ) -> AsyncPaginator[Connection]:
        """The connections, lazily across pages."""
        spec = connections_spec(
            {"tsp_id": tsp_id, "fleet_ids": fleet_ids, "fleet_refs": fleet_refs, "size": size}
        )
        return _paginator(self._client, spec, False)

    async def get(self, connection_id: str | uuid.UUID) -> Connection:
        """One connection by id."""
        check = Checker()
        cid = check.uuid("connection_id", connection_id)
        check.done("connection lookup")
        return await self._client._get_model(f"{CONNECTIONS_PATH}/{cid}", Connection)


class AsyncUsers:
    """`client.users` of the async client."""

    def __init__(self, client: AsyncCatenaClient) -> None:
        self._client = client

    def list(
        self,
        *,
        connection_id: str | uuid.UUID | None = None,
        is_driver: bool | None = None,
        fleet_ids: Ids | None = None,
        fleet_refs: str | Iterable[str] | None = None,
        user_ids: Ids | None = None,
        source_ids: str | Iterable[str] | None = None,
        include_source_data: bool | None = None,
        size: int = _config.DEFAULT_PAGE_SIZE,
    ) -> AsyncPaginator[User]:
        """The users, lazily across pages."""
        args = dict(locals())
        args.pop("self")
        return _paginator(self._client, users_spec(args), False)
