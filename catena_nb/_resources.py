"""The sync client's namespaces, and the request building both clients share.

Each listing's arguments are checked before any I/O, every bad one named in one `InvalidRequestError`.
"""

from __future__ import annotations

import builtins
import concurrent.futures as cf
import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from catena_nb import _config
from catena_nb._batch import BatchResult, OnInvalid, normalize_rows, run_sync, validate_rows
from catena_nb._pagination import ListSpec, Paginator, Window, as_utc, clean_params, split_windows
from catena_nb._retry import Pacer
from catena_nb.errors import InvalidRequestError, WaitTimeoutError
from catena_nb.models import (
    Connection,
    GroupMessage,
    GroupMessageCreate,
    Message,
    MessageCreate,
    OperationType,
    ResourceOperation,
    User,
)

if TYPE_CHECKING:
    from catena_nb.client import CatenaClient

__all__ = ["Connections", "GroupMessages", "Messages", "Operations", "Users"]

MESSAGES_PATH = "/v2/telematics/messages"
GROUP_MESSAGES_PATH = "/v2/telematics/group-messages"
USERS_PATH = "/v2/telematics/users"
CONNECTIONS_PATH = "/v2/integrations/connections"
OPERATIONS_PATH = "/v2/integrations/connections/resource-operations"

Ids = str | uuid.UUID | Iterable[str | uuid.UUID]
When = dt.datetime | dt.date | str


class _Checker:
    """Collects every problem with a request's arguments, then raises them together."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, field: str, message: str, value: Any) -> None:
        self.errors.append({"field": field, "message": message, "input": value})

    def uuid(self, field: str, value: Any) -> str | None:
        if value is None:
            return None
        try:
            return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value).strip()))
        except ValueError:
            self.add(field, "must be a UUID", value)
            return None

    def many(self, field: str, values: Any, *, uuids: bool = False) -> list[str] | None:
        if values is None:
            return None
        if isinstance(values, str | uuid.UUID):
            items = [values]
        elif isinstance(values, Iterable) and not isinstance(values, bytes | Mapping):
            items = list(values)
        else:
            self.add(field, "must be a value or a list of values", values)
            return None
        if len(items) > _config.MAX_LIST_PARAM_VALUES:
            self.add(
                field, f"takes at most {_config.MAX_LIST_PARAM_VALUES} values, got {len(items)}", len(items)
            )
            return None
        if uuids:
            checked = [self.uuid(f"{field}[{i}]", v) for i, v in enumerate(items)]
            return [c for c in checked if c is not None]
        return [str(v) for v in items]

    def choice(self, field: str, value: Any, choices: Sequence[str]) -> str | None:
        if value is None:
            return None
        if str(value) not in choices:
            self.add(field, f"must be one of {', '.join(choices)}", value)
            return None
        return str(value)

    def size(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _config.MAX_PAGE_SIZE:
            self.add("size", f"must be an integer from 1 to {_config.MAX_PAGE_SIZE}", value)
            return _config.DEFAULT_PAGE_SIZE
        return value

    def when(self, field: str, value: Any) -> dt.datetime | None:
        if value is None:
            return None
        try:
            return as_utc(value)
        except (TypeError, ValueError, AttributeError):
            self.add(field, "must be a datetime, a date or an ISO 8601 string", value)
            return None

    def windows(self, since: Any, until: Any) -> list[Window] | None:
        start, end = self.when("since", since), self.when("until", until)
        if since is None and until is None:
            return None  # the API's own default: the last day
        if start is None and end is None:
            return None
        # assumed: with one bound given the other is the API's default span of one day (or now)
        end = end or dt.datetime.now(dt.UTC)
        start = start or end - dt.timedelta(days=1)
        if start >= end:
            self.add("until", "must be later than since", until)
            return None
        return split_windows(start, end)

    def done(self, what: str) -> None:
        if self.errors:
            raise InvalidRequestError(self.errors, what=what)


def _status_filter(status: str | Iterable[str] | None) -> Callable[[Any], bool] | None:
    if status is None:
        return None
    wanted = {status} if isinstance(status, str) else {str(s) for s in status}
    return lambda item: str(item.status) in wanted


def recipient_list(value: Any) -> Any:
    """A group message's recipients as a list when they are an iterable of ids; anything else is passed on
    as it is, so that the request model names the bad field instead of ``list()`` raising a TypeError."""
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        return list(value)
    return value


def operation_path(
    op_or_id: ResourceOperation | str | uuid.UUID, connection_id: str | uuid.UUID | None
) -> str:
    """The lookup path of one operation; its connection id is part of the path."""
    check = _Checker()
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


def operations_spec(
    *,
    resource: str | None,
    connection_id: str | uuid.UUID | None,
    source_name: str | None,
    fleet_refs: str | Iterable[str] | None,
    operation: str | None,
    source_id: str | None,
    since: When | None,
    until: When | None,
    status: str | Iterable[str] | None,
    size: int,
) -> ListSpec[ResourceOperation]:
    """The request of an operations listing (the API has no status filter: `status` is applied here)."""
    check = _Checker()
    if source_id is not None and resource is None:
        check.add("source_id", "needs resource= as well (the API requires both)", source_id)
    params = {
        "resource": str(resource) if resource is not None else None,
        "connection_id": check.uuid("connection_id", connection_id),
        "source_name": source_name,
        "fleet_refs": check.many("fleet_refs", fleet_refs),
        "operation": check.choice("operation", operation, [t.value for t in OperationType]),
        "source_id": source_id,
        "size": check.size(size),
    }
    windows = check.windows(since, until)
    check.done("operations listing")
    return ListSpec(
        OPERATIONS_PATH,
        clean_params(params),
        ResourceOperation,
        windows,
        _status_filter(status),
        "operations",
    )


def messages_spec(
    model: type[Message] | type[GroupMessage],
    path: str,
    args: Mapping[str, Any],
    id_filters: Sequence[str],
    label: str,
) -> ListSpec[Any]:
    """The request of a messages or group-messages listing."""
    check = _Checker()
    params: dict[str, Any] = {
        "connection_id": check.uuid("connection_id", args.get("connection_id")),
        "fleet_ids": check.many("fleet_ids", args.get("fleet_ids"), uuids=True),
        "fleet_refs": check.many("fleet_refs", args.get("fleet_refs")),
        "include_source_data": args.get("include_source_data"),
        "sort_by": args.get("sort_by"),
        "sort_order": check.choice("sort_order", args.get("sort_order"), ["asc", "desc"]),
        "size": check.size(args.get("size", _config.DEFAULT_PAGE_SIZE)),
    }
    for name in id_filters:
        params[name] = check.many(name, args.get(name), uuids=not name.startswith("source_"))
    windows = check.windows(args.get("since"), args.get("until"))
    check.done(f"{label} listing")
    return ListSpec(path, clean_params(params), model, windows, _status_filter(args.get("status")), label)


def users_spec(args: Mapping[str, Any]) -> ListSpec[User]:
    """The request of a users listing."""
    check = _Checker()
    params = {
        "connection_id": check.uuid("connection_id", args.get("connection_id")),
        "is_driver": args.get("is_driver"),
        "fleet_ids": check.many("fleet_ids", args.get("fleet_ids"), uuids=True),
        "fleet_refs": check.many("fleet_refs", args.get("fleet_refs")),
        "user_ids": check.many("user_ids", args.get("user_ids"), uuids=True),
        "source_ids": check.many("source_ids", args.get("source_ids")),
        "include_source_data": args.get("include_source_data"),
        "size": check.size(args.get("size", _config.DEFAULT_PAGE_SIZE)),
    }
    check.done("users listing")
    return ListSpec(USERS_PATH, clean_params(params), User, None, None, "users")


def connections_spec(args: Mapping[str, Any]) -> ListSpec[Connection]:
    """The request of a connections listing."""
    check = _Checker()
    params = {
        "tsp_id": args.get("tsp_id"),
        "fleet_ids": check.many("fleet_ids", args.get("fleet_ids"), uuids=True),
        "fleet_refs": check.many("fleet_refs", args.get("fleet_refs")),
        "size": check.size(args.get("size", _config.DEFAULT_PAGE_SIZE)),
    }
    check.done("connections listing")
    return ListSpec(CONNECTIONS_PATH, clean_params(params), Connection, None, None, "connections")


def wait_inputs(ops: Iterable[ResourceOperation] | BatchResult) -> builtins.list[ResourceOperation]:
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


def _progress(enabled: bool, total: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    kwargs: dict[str, Any] = {} if enabled else {"disable": True}
    return tqdm(total=total, desc=desc, unit=" ops", **kwargs)


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
        bar = _progress(client._show_progress(progress), len(current), "waiting for operations")
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
        check = _Checker()
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
