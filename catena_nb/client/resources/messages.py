"""`client.messages` and `client.group_messages`: send driver messages, one by one or in batches, and list
them with their delivery status.

The arguments are declared once (the `TypedDict`s below), each request is checked and built once (the
functions below), and the sync and async classes then send it.
"""

from __future__ import annotations

import uuid
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict, Unpack

from catena_nb import _config
from catena_nb.client._base import BaseClient, Call, create_call
from catena_nb.client._batching import Batch, Pacer, run_async, run_sync
from catena_nb.client._keywords import keywords
from catena_nb.client.batch import BATCH_DEFAULTS, BatchOptions, BatchResult
from catena_nb.client.pagination import AsyncPaginator, ListSpec, Paginator
from catena_nb.client.resources._checks import (
    WINDOW_LIST_DEFAULTS,
    Checker,
    FleetFilters,
    Ids,
    Paged,
    WindowFilters,
    clean_params,
    listed,
    status_filter,
)
from catena_nb.client.resources._resource import AsyncResource, SyncResource
from catena_nb.client.resources.tsps import Found, write_warning
from catena_nb.errors import UnsupportedResourceWarning
from catena_nb.models import GroupMessage, GroupMessageCreate, Message, MessageCreate, ResourceOperation

__all__ = [
    "GROUP_MESSAGES_PATH",
    "MESSAGES_PATH",
    "AsyncGroupMessages",
    "AsyncMessages",
    "GroupMessageFields",
    "GroupMessageFilters",
    "GroupMessages",
    "MessageFields",
    "MessageFilters",
    "Messages",
]

MESSAGES_PATH = "/v2/telematics/messages"
GROUP_MESSAGES_PATH = "/v2/telematics/group-messages"

Rows = Iterable[Mapping[str, Any]] | Any  # dicts, or a DataFrame


class _From(TypedDict):
    connection_id: str | uuid.UUID
    sender_id: str | uuid.UUID


class _ToOne(_From):
    recipient_id: str | uuid.UUID


class MessageFields(_ToOne, total=False):
    """The fields of a message: `connection_id`, `sender_id`, `recipient_id` (required), `message_text`,
    `priority` (`low`, `medium` or `high`) and `reply_to_message_id`."""

    message_text: str | None
    priority: str | None
    reply_to_message_id: str | uuid.UUID | None


class _ToGroup(_From):
    recipient_ids: Iterable[str | uuid.UUID]


class GroupMessageFields(_ToGroup, total=False):
    """The fields of a group message: `connection_id`, `sender_id`, `recipient_ids` (required), then
    `message_text` and `priority`."""

    message_text: str | None
    priority: str | None


class _ListKeys(TypedDict, total=False):
    connection_id: str | uuid.UUID | None
    sender_ids: Ids | None
    source_sender_ids: str | Iterable[str] | None
    include_source_data: bool | None
    sort_by: str | None
    sort_order: str | None


class _Recipients(TypedDict, total=False):
    recipient_ids: Ids | None
    source_recipient_ids: str | Iterable[str] | None


class _Groups(TypedDict, total=False):
    group_ids: Ids | None
    source_group_ids: str | Iterable[str] | None


class MessageFilters(_ListKeys, _Recipients, WindowFilters, FleetFilters, Paged, total=False):
    """The filters of `messages.list` (see `Messages.list`)."""


class GroupMessageFilters(_ListKeys, _Groups, WindowFilters, FleetFilters, Paged, total=False):
    """The filters of `group_messages.list`: those of `messages.list`, with groups for recipients."""


# ------------------------------------------------------------------------------------ requests, built once


def _send(request: MessageCreate, sync: bool) -> Call[ResourceOperation]:
    return create_call(MESSAGES_PATH, request.to_json(), sync=sync)


def _send_group(fields: GroupMessageFields, sync: bool) -> Call[ResourceOperation]:
    body = GroupMessageCreate.build({**fields, "recipient_ids": listed(fields["recipient_ids"])})
    return create_call(GROUP_MESSAGES_PATH, body.to_json(), sync=sync)


def _batch(client: BaseClient, rows: Rows, options: BatchOptions) -> Batch[MessageCreate]:
    return Batch(
        rows,
        MessageCreate,
        options=options,
        pacer=Pacer(client.policy),
        max_resends=client.max_retries,
        progress=client._show_progress(options.get("progress")),
        label="sending messages",
    )


def _rows_per_connection(batch: Batch[MessageCreate]) -> Counter[str]:
    """How many of the batch's valid rows go through each connection."""
    return Counter(request.connection_id for request in batch.requests.values())


def _warn(found: Found | None, rows: int, stacklevel: int) -> None:
    """Warn (`UnsupportedResourceWarning`) when the connection's TSP takes no message writes."""
    if found is None:
        return
    text = write_warning(found[0], found[1], "message", rows=rows)
    if text is not None:
        warnings.warn(text, UnsupportedResourceWarning, stacklevel=stacklevel + 1)


def _listing_spec(
    filters: Mapping[str, Any], model: type[Any], path: str, id_filters: Sequence[str], label: str
) -> ListSpec[Any]:
    """The request of a messages or group-messages listing; raises `InvalidRequestError` on a bad filter."""
    check = Checker()
    params: dict[str, Any] = {
        "connection_id": check.uuid("connection_id", filters.get("connection_id")),
        "fleet_ids": check.many("fleet_ids", filters.get("fleet_ids"), uuids=True),
        "fleet_refs": check.many("fleet_refs", filters.get("fleet_refs")),
        "include_source_data": filters.get("include_source_data"),
        "sort_by": filters.get("sort_by"),
        "sort_order": check.choice("sort_order", filters.get("sort_order"), ["asc", "desc"]),
        "size": check.size(filters.get("size", _config.DEFAULT_PAGE_SIZE)),
    }
    for name in id_filters:
        params[name] = check.many(name, filters.get(name), uuids=not name.startswith("source_"))
    windows = check.windows(filters.get("since"), filters.get("until"))
    concurrency = check.concurrency(filters.get("concurrency", _config.DEFAULT_LIST_CONCURRENCY))
    check.done(f"{label} listing")
    # the API lists by occurred_at, oldest first: only in that order can the window be cut side by side
    in_order = filters.get("sort_by") in (None, "occurred_at") and filters.get("sort_order") in (None, "asc")
    return ListSpec(
        path,
        clean_params(params),
        model,
        windows,
        status_filter(filters.get("status")),
        label,
        concurrency=concurrency,
        time_field="occurred_at" if in_order else None,
    )


def _messages(filters: MessageFilters) -> ListSpec[Message]:
    ids = ("sender_ids", "recipient_ids", "source_sender_ids", "source_recipient_ids")
    return _listing_spec(filters, Message, MESSAGES_PATH, ids, "messages")


def _group_messages(filters: GroupMessageFilters) -> ListSpec[GroupMessage]:
    ids = ("sender_ids", "group_ids", "source_sender_ids", "source_group_ids")
    return _listing_spec(filters, GroupMessage, GROUP_MESSAGES_PATH, ids, "group messages")


# ---------------------------------------------------------------------------------------------- messages


class Messages(SyncResource):
    """`client.messages`: send driver messages one by one or in batches, and list them."""

    last_batch: BatchResult | None = None  # the last `create_many` result

    @keywords(MessageFields)
    def create(self, *, sync: bool = False, **fields: Unpack[MessageFields]) -> ResourceOperation:
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
        return self._client._run(_send(MessageCreate.build(fields), sync))

    @keywords(BatchOptions, **BATCH_DEFAULTS)
    def create_many(self, rows: Rows, **options: Unpack[BatchOptions]) -> BatchResult:
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

        Warns:
            UnsupportedResourceWarning: before sending, once per connection whose TSP does not take message
                writes (`client.tsps`); those rows are still sent, and Catena fails them.
        """
        client, sync = self._client, options.get("sync", False)
        batch = _batch(client, rows, options)
        for connection_id, count in _rows_per_connection(batch).items():
            _warn(client.tsps.cached_for(connection_id), count, stacklevel=3)
        self.last_batch = run_sync(batch, lambda req: client._run(_send(req, sync)), sleep=client.sleep)
        return self.last_batch

    @keywords(MessageFilters, **WINDOW_LIST_DEFAULTS)
    def list(self, **filters: Unpack[MessageFilters]) -> Paginator[Message]:
        """The messages with their delivery status, lazily, across pages and 45-day windows.

        Args:
            connection_id, fleet_ids, fleet_refs: the connection, or the fleets, whose messages to list.
            since, until: the window (datetimes, dates or ISO 8601 strings); a span over 45 days is sent as
                consecutive windows. With neither, the API's default: the last day.
            sender_ids, recipient_ids: Catena user ids; source_sender_ids, source_recipient_ids: the TSP's.
            include_source_data, sort_by, sort_order (`asc` or `desc`): passed to the API.
            status: pending, sent, delivered or read (or several), applied on the client side.
            size: the page size, 1 to 1000.
            concurrency: sub-windows listed side by side on `occurred_at` (default 8; 1: one cursor at a
                time), as for `operations.list`; a listing sorted otherwise goes one cursor at a time.
            progress: show a progress bar (default: the client's setting).

        Raises:
            InvalidRequestError: a bad filter, before any I/O.
        """
        return self._listing(_messages(filters), filters.get("progress"))


class AsyncMessages(AsyncResource):
    """`client.messages` of the async client: `Messages`, awaited."""

    last_batch: BatchResult | None = None  # the last `create_many` result, kept even when it is cancelled

    @keywords(MessageFields)
    async def create(self, *, sync: bool = False, **fields: Unpack[MessageFields]) -> ResourceOperation:
        """Send one message (see `Messages.create`)."""
        return await self._client._run(_send(MessageCreate.build(fields), sync))

    @keywords(BatchOptions, **BATCH_DEFAULTS)
    async def create_many(self, rows: Rows, **options: Unpack[BatchOptions]) -> BatchResult:
        """Send many messages with at most `concurrency` in flight (see `Messages.create_many`).

        When the task is cancelled, rows not yet started are not sent, those in flight finish, the partial
        result is kept in `client.messages.last_batch`, and the cancellation propagates.
        """
        client, sync = self._client, options.get("sync", False)

        def keep(result: BatchResult) -> None:
            self.last_batch = result

        batch = _batch(client, rows, options)
        for connection_id, count in _rows_per_connection(batch).items():
            _warn(await client.tsps.cached_for(connection_id), count, stacklevel=2)
        return await run_async(
            batch, lambda req: client._run(_send(req, sync)), sleep=client.sleep, on_done=keep
        )

    @keywords(MessageFilters, **WINDOW_LIST_DEFAULTS)
    def list(self, **filters: Unpack[MessageFilters]) -> AsyncPaginator[Message]:
        """The messages, lazily (`async for`); see `Messages.list` for the filters."""
        return self._listing(_messages(filters), filters.get("progress"))


# ---------------------------------------------------------------------------------------- group messages


class GroupMessages(SyncResource):
    """`client.group_messages`: send group messages and list them."""

    @keywords(GroupMessageFields)
    def create(self, *, sync: bool = False, **fields: Unpack[GroupMessageFields]) -> ResourceOperation:
        """Send one group message; returns its resource operation (200, 202 and 502 alike).

        Raises:
            InvalidRequestError: a bad field, before anything is sent.
            APIStatusError: the API refused the request.
            APIConnectionError: the API could not be reached (never resent).
        """
        return self._client._run(_send_group(fields, sync))

    @keywords(GroupMessageFilters, **WINDOW_LIST_DEFAULTS)
    def list(self, **filters: Unpack[GroupMessageFilters]) -> Paginator[GroupMessage]:
        """The group messages, lazily, across pages and 45-day windows (`status` applied client-side).

        The filters are those of `Messages.list`, with `group_ids` and `source_group_ids` for recipients.
        """
        return self._listing(_group_messages(filters), filters.get("progress"))


class AsyncGroupMessages(AsyncResource):
    """`client.group_messages` of the async client."""

    @keywords(GroupMessageFields)
    async def create(self, *, sync: bool = False, **fields: Unpack[GroupMessageFields]) -> ResourceOperation:
        """Send one group message (see `GroupMessages.create`)."""
        return await self._client._run(_send_group(fields, sync))

    @keywords(GroupMessageFilters, **WINDOW_LIST_DEFAULTS)
    def list(self, **filters: Unpack[GroupMessageFilters]) -> AsyncPaginator[GroupMessage]:
        """The group messages, lazily (`async for`)."""
        return self._listing(_group_messages(filters), filters.get("progress"))
