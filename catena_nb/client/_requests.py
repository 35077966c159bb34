"""The requests both clients send: paths, argument checks and listing specs, built before any I/O.

Each request's arguments are checked together, and every bad one is named in one `InvalidRequestError`, so
that nothing is sent on bad input.
"""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from catena_nb import _config
from catena_nb._time import Window, as_utc, split_windows
from catena_nb.client.batch import BatchResult
from catena_nb.client.pagination import ListSpec, clean_params
from catena_nb.errors import InvalidRequestError
from catena_nb.models import Connection, GroupMessage, Message, OperationType, ResourceOperation, User

MESSAGES_PATH = "/v2/telematics/messages"
GROUP_MESSAGES_PATH = "/v2/telematics/group-messages"
USERS_PATH = "/v2/telematics/users"
CONNECTIONS_PATH = "/v2/integrations/connections"
OPERATIONS_PATH = "/v2/integrations/connections/resource-operations"

Ids = str | uuid.UUID | Iterable[str | uuid.UUID]
When = dt.datetime | dt.date | str


class Checker:
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
    check = Checker()
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
    check = Checker()
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
    check = Checker()
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
    check = Checker()
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
