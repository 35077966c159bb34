"""The sync client's namespaces: messages, group messages, operations, connections and users.

Their requests are built and checked in `_requests` before any I/O.
"""

from __future__ import annotations

import builtins
import concurrent.futures as cf
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
    run_sync,
    validate_rows,
)
from catena_nb.client.pagination import ListSpec, Paginator
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
    from catena_nb.client._client import CatenaClient

__all__ = ["Connections", "GroupMessages", "Messages", "Operations", "Users"]

# ------------------------------------------------------------------------------------------ namespaces


class Messages:
    """`client.messages`: send driver messages one by one or in batches, and list them."""

    def __init__(self, client: CatenaClient) -> None:
        self._client = client
        self.last_batch: BatchResult | None = None

    def create(
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
        """Send one message; returns its resource operation (200 success, 202 pending, 502 failed alike).

        Args:
            connection_id: the Fleet/TSP connection to send through.
            sender_id: the Catena user id of the sender.
            recipient_id: the Catena user id of the recipient.
            message_text: the text.
            priority: `low`, `medium` or `high`.
            reply_to_message_id: the message this one answers.
            sync: wait for the TSP's answer (`is_sync=true`) instead of queueing the send.

        Returns:
            The `ResourceOperation`; a failed sync send returns the failed operation, it does not raise.

        Raises:
            InvalidRequestError: a bad field, before anything is sent.
            APIStatusError: the API refused the request (401, 403, 404, 422, 429, 5xx...).
            APIConnectionError: the API could not be reached; never resent, as the API has no idempotency key.
        """
        body = MessageCreate.build(
            connection_id=connection_id,
            sender_id=sender_id,
            recipient_id=recipient_id,
            message_text=message_text,
            priority=priority,
            reply_to_message_id=reply_to_message_id,
        )
        return self._client._create(MESSAGES_PATH, body.to_json(), sync=sync)

    def create_many(
        self,
        rows: Iterable[Mapping[str, Any]] | Any,
        *,
        sync: bool = False,
        concurrency: int = 8,
        progress: bool | None = None,
        on_invalid: OnInvalid = "report",
    ) -> BatchResult:
        """Send many messages with bounded concurrency; one outcome per row, in input order.

        Args:
            rows: dicts or a DataFrame with the fields of `create` (`connection_id`, `sender_id`, ...).
            sync: send each with `is_sync=true`.
            concurrency: the most sends in flight at once.
            progress: show a progress bar (default: the client's setting).
            on_invalid: `"report"` bad rows as `invalid` outcomes, or `"raise"` before sending anything.

        Returns:
            A `BatchResult`. Each row is sent at most once (a row refused with 429 is sent again after a
            pause, since the API did not act on it). Ctrl-C stops new sends, waits for those in flight, and
            returns the partial result with `.interrupted` set.

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
        result = run_sync(
            table,
            valid,
            invalid,
            lambda req: client._create(MESSAGES_PATH, req.to_json(), sync=sync),
            concurrency=concurrency,
            pacer=Pacer(client.policy, sleep=client.sleep),
            max_resends=client.max_retries,
            progress=client._show_progress(progress),
            label="sending messages",
        )
        self.last_batch = result
        return result

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
    ) -> Paginator[Message]:
        """The messages with their delivery status, lazily, across pages and 45-day windows.

        `status` (pending, sent, delivered, read) is applied on the client side. Raises `InvalidRequestError`
        on a bad argument before any I/O.
        """
        args = dict(locals())
        args.pop("self")
        ids = ("sender_ids", "recipient_ids", "source_sender_ids", "source_recipient_ids")
        spec = messages_spec(Message, MESSAGES_PATH, args, ids, "messages")
        return _paginator(self._client, spec, progress)


def _paginator(client: CatenaClient, spec: ListSpec[Any], progress: bool | None) -> Paginator[Any]:
    model = spec.model
    return Paginator(
        lambda path, params: client._get_page(path, params, model),
        spec,
        progress=client._show_progress(progress),
    )


class GroupMessages:
    """`client.group_messages`: send group messages and list them."""

    def __init__(self, client: CatenaClient) -> None:
        self._client = client

    def create(
        self,
        *,
        connection_id: str | uuid.UUID,
        sender_id: str | uuid.UUID,
        recipient_ids: Iterable[str | uuid.UUID],
        message_text: str | None = None,
        priority: str | None = None,
        sync: bool = False,
    ) -> ResourceOperation:
        """Send one group message; returns its resource operation (200, 202 and 502 alike).

        Raises:
            InvalidRequestError: a bad field, before anything is sent.
            APIStatusError: the API refused the request.
            APIConnectionError: the API could not be reached (never resent).
        """
        body = GroupMessageCreate.build(
            connection_id=connection_id,
            sender_id=sender_id,
            recipient_ids=recipient_list(recipient_ids),
            message_text=message_text,
            priority=priority,
        )
        return self._client._create(GROUP_MESSAGES_PATH, body.to_json(), sync=sync)

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
    ) -> Paginator[GroupMessage]:
        """The group messages, lazily, across pages and 45-day windows (`status` applied client-side)."""
        args = dict(locals())
        args.pop("self")
        ids = ("sender_ids", "group_ids", "source_sender_ids", "source_group_ids")
        spec = messages_spec(GroupMessage, GROUP_MESSAGES_PATH, args, ids, "group messages")
        return _paginator(self._client, spec, progress)


class Operations:
    """`client.operations`: look resource operations up, list them, wait for pending ones."""

    def __init__(self, client: CatenaClient) -> None:
        self._client = client

    def get(
        self, op_or_id: ResourceOperation | str | uuid.UUID, connection_id: str | uuid.UUID | None = None
    ) -> ResourceOperation:
        """One operation with its logs, by id and connection id, or from an operation already at hand.

        Raises:
            InvalidRequestError: a bad or missing id (before any I/O).
            NotFoundError: no such operation on that connection.
        """
        return self._client._get_model(operation_path(op_or_id, connection_id), ResourceOperation)

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
    ) -> Paginator[ResourceOperation]:
        """The operations matching the filters, lazily: iterate for items, `.pages()` for pages.

        `since`/`until` map to `from_datetime`/`to_datetime`; a span over 45 days is sent as consecutive
        windows of at most 45 days. The API has no status filter: `status=` ("failed", or several) is
        applied on the client side, after each page arrives. Raises `InvalidRequestError` before any I/O
        on a bad argument (e.g. `source_id` without `resource`).
        """
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

    def wait(
        self,
        ops: Iterable[ResourceOperation] | BatchResult,
        *,
        timeout: float = 120.0,
        poll_interval: float = 1.0,
        max_interval: float = 10.0,
        progress: bool | None = None,
    ) -> builtins.list[ResourceOperation]:
        """Poll the pending operations until none is pending; the final operations in input order.

        The interval grows by half each round up to `max_interval`.

        Raises:
            WaitTimeoutError: some are still pending after `timeout` seconds (`.pending` lists them).
        """
        current = wait_inputs(ops)
        client = self._client
        start, waited, interval = time.monotonic(), 0.0, poll_interval
        bar = progress_bar(client._show_progress(progress), len(current), "waiting for operations")
        bar.update(sum(1 for op in current if not op.pending))
        try:
            with cf.ThreadPoolExecutor(max_workers=8, thread_name_prefix="catena-wait") as pool:
                while True:
                    pending = [i for i, op in enumerate(current) if op.pending]
                    if not pending:
                        return current
                    elapsed = max(time.monotonic() - start, waited)
                    if elapsed >= timeout:
                        raise WaitTimeoutError(timeout, [current[i] for i in pending], current)
                    pause = min(interval, timeout - elapsed)
                    client.sleep(pause)
                    waited += pause
                    interval = min(interval * 1.5, max_interval)
                    for i, op in zip(pending, pool.map(self.get, [current[i] for i in pending]), strict=True):
                        current[i] = op
                        if not op.pending:
                            bar.update(1)
        finally:
            bar.close()


class Connections:
    """`client.connections`: the Fleet/TSP connections the credentials can use."""

    def __init__(self, client: CatenaClient) -> None:
        self._client = client

    def list(
        self,
        *,
        tsp_id: str | None = None,
        fleet_ids: Ids | None = None,
        fleet_refs: str | Iterable[str] | None = None,
        size: int = _config.DEFAULT_PAGE_SIZE,
    ) -> Paginator[Connection]:
        """The connections, lazily across pages."""
        spec = connections_spec(
            {"tsp_id": tsp_id, "fleet_ids": fleet_ids, "fleet_refs": fleet_refs, "size": size}
        )
        return _paginator(self._client, spec, False)

    def get(self, connection_id: str | uuid.UUID) -> Connection:
        """One connection by id."""
        check = Checker()
        cid = check.uuid("connection_id", connection_id)
        check.done("connection lookup")
        return self._client._get_model(f"{CONNECTIONS_PATH}/{cid}", Connection)


class Users:
    """`client.users`: the fleet users whose ids a message names as sender and recipient."""

    def __init__(self, client: CatenaClient) -> None:
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
    ) -> Paginator[User]:
        """The users, lazily across pages."""
        args = dict(locals())
        args.pop("self")
        return _paginator(self._client, users_spec(args), False)
