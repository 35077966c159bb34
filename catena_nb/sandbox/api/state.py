"""The sandbox's in-memory store: resource operations, messages, webhook subscriptions.

Operations and messages are plain dicts in the wire format (the operation record is the union of the two
shapes described in ``sim/records.py``), with ISO timestamp strings ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC).
Strings of that one format sort like the instants they name, so the indexes below are sorted lists of
``(timestamp, id)`` keys searched with ``bisect``: a date window over 100,000 operations costs two binary
searches, and a cursor is just the last key a page showed.

Every method takes the one lock: the simulation's worker threads write while the event loop reads.
"""

from __future__ import annotations

import bisect
import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec

from catena_nb.sandbox.api.pagination import Cursor, Key, PageSlice, dumps, page
from catena_nb.sandbox.sim.delivery import message_view
from catena_nb.sandbox.sim.records import lookup_shape
from catena_nb.sandbox.sim.timestamps import utcnow_iso
from catena_nb.sandbox.sim.types import AttemptRecord, World
from catena_nb.sandbox.sim.webhook_book import DeliveryBook

_encode = msgspec.json.Encoder().encode  # several times quicker than json.dumps on a page of messages


def _settled(msg: dict[str, Any], now: str) -> bool:
    """Whether every event planned for the message (sent, delivered, read) has happened by ``now``."""
    return all(
        at is None or at <= now for at in (msg.get("_sent_at"), msg.get("delivered_at"), msg.get("read_at"))
    )


def _message_json(msg: dict[str, Any], now: str, source_data: bool) -> bytes:
    view = message_view(msg, now)
    if not source_data:
        view["source_data"] = None
    return _encode(view)


class _Index:
    """A sorted list of keys; appends are the common case (records arrive in time order)."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: list[Key] = []

    def add(self, key: Key) -> None:
        if not self.keys or key >= self.keys[-1]:
            self.keys.append(key)
        else:
            bisect.insort(self.keys, key)

    def extend(self, keys: Iterable[Key]) -> None:
        self.keys.extend(keys)
        self.keys.sort()


def _op_key(op: dict[str, Any]) -> Key:
    return (op["created_at"], op["id"])


def _msg_key(msg: dict[str, Any]) -> Key:
    # The list endpoints filter and order messages by occurred_at (catena-api.md §3, §6).
    return (msg.get("occurred_at") or msg["created_at"], msg["id"])


def message_kind(msg: dict[str, Any]) -> str:
    """``group_message`` for a GroupMessageRead record, else ``message``."""
    # assumed: part of the record itself says which list it belongs to; a group message names its recipients
    # in `recipient_ids` (GroupMessageRead), a direct message in `recipient_id`.
    return "group_message" if "recipient_ids" in msg else "message"


def _clone(value: Any) -> Any:
    """A copy of nested dicts and lists (leaves shared); several times faster than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _clone_dict(value: dict[str, Any]) -> dict[str, Any]:
    return {k: _clone(v) for k, v in value.items()}


def _copy_op(op: dict[str, Any]) -> dict[str, Any]:
    out = dict(op)
    out["payload"] = _clone(op.get("payload"))
    out["logs"] = [dict(log) for log in op.get("logs") or []]
    return out


def _own_op(op: dict[str, Any]) -> dict[str, Any]:
    # The store never mutates a payload or a log in place (record_attempt replaces the list), so a record
    # handed over needs only its top level and its log list copied.
    out = dict(op)
    out["logs"] = list(op.get("logs") or [])
    return out


class SandboxState:
    """Everything the sandbox remembers, behind one lock.

    Args:
        world: the seeded partner, connections and users.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self._lock = threading.RLock()
        self._ops: dict[str, dict[str, Any]] = {}
        self._op_index = _Index()
        self._op_by_conn: dict[str, _Index] = {}
        self._op_json: dict[str, bytes] = {}
        self._msgs: dict[str, dict[str, Any]] = {}
        self._msg_index: dict[str, _Index] = {"message": _Index(), "group_message": _Index()}
        self._msg_by_conn: dict[tuple[str, str], _Index] = {}
        self._msg_version = 0
        # (message id, with source_data) -> its list JSON, once nothing more is planned to happen to it
        self._msg_json: dict[tuple[str, bool], bytes] = {}
        self._webhooks: dict[str, dict[str, Any]] = {}
        # the notifications service's logs, dead-letter queues and metrics (the engine sets its pace)
        self.deliveries = DeliveryBook()

    # -- resource operations -------------------------------------------------------------------------------

    def add_operation(self, op: dict[str, Any]) -> None:
        """Store a new operation record (the store keeps its own copy)."""
        self.add_operations([op])

    def add_operations(self, ops: Iterable[dict[str, Any]]) -> None:
        """Store many operation records at once (a history of 100,000 takes one sort, not 100,000 inserts)."""
        # The collector would walk the whole (large, acyclic) history again and again while it is copied.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._add_operations(ops)
        finally:
            if was_enabled:
                gc.enable()

    def _add_operations(self, ops: Iterable[dict[str, Any]]) -> None:
        records = [_own_op(op) for op in ops]
        with self._lock:
            if len(records) < 64:
                for op in records:
                    self._ops[op["id"]] = op
                    key = _op_key(op)
                    self._op_index.add(key)
                    self._op_by_conn.setdefault(op["connection_id"], _Index()).add(key)
                return
            by_conn: dict[str, list[Key]] = {}
            for op in records:
                self._ops[op["id"]] = op
                by_conn.setdefault(op["connection_id"], []).append(_op_key(op))
            self._op_index.extend(k for keys in by_conn.values() for k in keys)
            for conn_id, keys in by_conn.items():
                self._op_by_conn.setdefault(conn_id, _Index()).extend(keys)

    def get_operation(self, op_id: str) -> dict[str, Any] | None:
        """A copy of the operation record, or None if no operation has that id."""
        with self._lock:
            op = self._ops.get(op_id)
            return None if op is None else _copy_op(op)

    def operation_count(self) -> int:
        """How many operations the store holds."""
        with self._lock:
            return len(self._ops)

    def record_attempt(self, op_id: str, attempt: AttemptRecord) -> dict[str, Any]:
        """Append one attempt's log to an operation (unless it is not ``logged``) and set its outcome.

        Returns:
            A copy of the updated record.

        Raises:
            KeyError: no operation has that id.
        """
        with self._lock:
            op = self._ops[op_id]
            if attempt.logged:
                op["logs"] = [*(op.get("logs") or []), dict(attempt.log)]
            op["status"] = attempt.status
            op["resource_id"] = attempt.resource_id
            op["source_id"] = attempt.source_id
            op["updated_at"] = attempt.log["updated_at"]
            self._op_json.pop(op_id, None)
            return _copy_op(op)

    def operation_json(self, op_id: str) -> bytes:
        """The operation in the lookup shape, as JSON bytes (cached until the record changes)."""
        with self._lock:
            return self._operation_json_locked(op_id)

    def _operation_json_locked(self, op_id: str) -> bytes:
        cached = self._op_json.get(op_id)
        if cached is None:
            shape = lookup_shape(self._ops[op_id])
            try:
                # the same bytes as dumps for ASCII text, four times quicker: the history's 60,000 lookups
                # are rendered while the first listing waits for them
                cached = _encode(shape)
            except Exception:  # a lone surrogate from a request's \ud800 escape (JSON escapes it), say
                cached = dumps(shape)
            self._op_json[op_id] = cached
        return cached

    def warm_json_cache(self, chunk: int = 2000) -> int:
        """Render the lookup JSON of every operation not yet cached, then the list JSON (without
        ``source_data``, as listed by default) of every message already settled: a history's first listings
        are then fast.

        Works in chunks, releasing the lock between them so requests and the worker are not held up.

        Returns:
            How many records were rendered.
        """
        with self._lock:
            todo = [k for k in self._ops if k not in self._op_json]
        for start in range(0, len(todo), chunk):
            with self._lock:
                for op_id in todo[start : start + chunk]:
                    if op_id in self._ops:
                        self._operation_json_locked(op_id)
            time.sleep(0)  # let other threads in between chunks
        now, cache = utcnow_iso(), self._msg_json
        with self._lock:
            msgs = list(self._msgs.values())
        for start in range(0, len(msgs), chunk):
            for msg in msgs[start : start + chunk]:  # never changed in place: read without the lock
                if (msg["id"], False) not in cache and _settled(msg, now):
                    cache[msg["id"], False] = _message_json(msg, now, False)
            time.sleep(0)
        return len(todo) + len(msgs)

    def page_operations(
        self,
        *,
        connection_id: str | None,
        lo: Key | None,
        hi: Key | None,
        cursor: Cursor | None,
        size: int,
        accept: Callable[[dict[str, Any]], bool] | None = None,
    ) -> tuple[list[bytes], PageSlice]:
        """One page of operations in (created_at, id) order, each as its cached lookup JSON."""
        with self._lock:
            index = self._op_index if connection_id is None else self._op_by_conn.get(connection_id, _Index())
            ops = self._ops
            test = None if accept is None else (lambda key: accept(ops[key[1]]))
            cut = page(index.keys, lo=lo, hi=hi, cursor=cursor, size=size, accept=test)
            return [self._operation_json_locked(k[1]) for k in cut.keys], cut

    # -- messages ------------------------------------------------------------------------------------------

    def add_message(self, msg: dict[str, Any]) -> None:
        """Store a message record (MessageRead or GroupMessageRead)."""
        self.add_messages([msg])

    def add_messages(self, msgs: Iterable[dict[str, Any]]) -> None:
        """Store many message records at once."""
        # As in add_operations: the collector's passes over the history took most of a second here.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._add_messages(msgs)
        finally:
            if was_enabled:
                gc.enable()

    def _add_messages(self, msgs: Iterable[dict[str, Any]]) -> None:
        # the store never changes a stored message, so its top level is all that needs copying
        records = [dict(m) for m in msgs]
        with self._lock:
            self._msg_version += 1
            bulk = len(records) >= 64
            for msg in records:
                self._msgs[msg["id"]] = msg
                kind = message_kind(msg)
                key = _msg_key(msg)
                by_conn = self._msg_by_conn.setdefault((kind, msg["connection_id"]), _Index())
                if bulk:
                    self._msg_index[kind].keys.append(key)
                    by_conn.keys.append(key)
                else:
                    self._msg_index[kind].add(key)
                    by_conn.add(key)
            if bulk:
                for index in [*self._msg_index.values(), *self._msg_by_conn.values()]:
                    index.keys.sort()

    def get_message(self, message_id: str) -> dict[str, Any] | None:
        """A copy of the message record, or None."""
        with self._lock:
            msg = self._msgs.get(message_id)
            return None if msg is None else _clone_dict(msg)

    def page_messages(
        self,
        kind: str,
        *,
        connection_id: str | None,
        lo: Key | None,
        hi: Key | None,
        cursor: Cursor | None,
        size: int,
        descending: bool = False,
        accept: Callable[[dict[str, Any]], bool] | None = None,
        copies: bool = True,
    ) -> tuple[list[dict[str, Any]], PageSlice, int]:
        """One page of messages of ``kind`` in occurred_at order, and the total that match the filters.

        ``copies=False`` hands out the stored records themselves, to be read and not changed (for
        :meth:`message_json`).
        """
        with self._lock:
            if connection_id is None:
                index = self._msg_index[kind]
            else:
                index = self._msg_by_conn.get((kind, connection_id), _Index())
            msgs = self._msgs
            test = None if accept is None else (lambda key: accept(msgs[key[1]]))
            cut = page(index.keys, lo=lo, hi=hi, cursor=cursor, size=size, descending=descending, accept=test)
            lo_i = 0 if lo is None else bisect.bisect_left(index.keys, lo)
            hi_i = len(index.keys) if hi is None else bisect.bisect_left(index.keys, hi)
            total = max(0, hi_i - lo_i) if test is None else sum(1 for k in index.keys[lo_i:hi_i] if test(k))
            page_msgs = [msgs[k[1]] for k in cut.keys]
        return ([_clone_dict(m) for m in page_msgs] if copies else page_msgs), cut, total

    def message_json(self, msgs: list[dict[str, Any]], *, now: str, source_data: bool) -> list[bytes]:
        """Each stored message's list JSON at ``now`` (``message_view``; ``source_data`` null unless asked
        for). A message whose planned sends, deliveries and reads have all happened by ``now`` shows the
        same from then on: its JSON is kept and handed out again."""
        cache, out = self._msg_json, []
        for msg in msgs:  # stored messages are never changed in place: read without a copy
            key = (msg["id"], source_data)
            body = cache.get(key)
            if body is None:
                body = _message_json(msg, now, source_data)
                if _settled(msg, now):
                    cache[key] = body
            out.append(body)
        return out

    # -- webhook subscriptions -----------------------------------------------------------------------------

    def add_webhook(self, sub: dict[str, Any]) -> dict[str, Any] | None:
        """Store a subscription unless one with the same (event_name, url, filters) exists.

        Returns:
            None if stored, else a copy of the existing duplicate.
        """
        with self._lock:
            for existing in self._webhooks.values():
                if (existing["event_name"], existing["url"], existing["filters"]) == (
                    sub["event_name"],
                    sub["url"],
                    sub["filters"],
                ):
                    return _clone_dict(existing)
            self._webhooks[sub["id"]] = _clone_dict(sub)
            return None

    def get_webhook(self, webhook_id: str) -> dict[str, Any] | None:
        """A copy of one subscription (with its real secret), or None."""
        with self._lock:
            sub = self._webhooks.get(webhook_id)
            return None if sub is None else _clone_dict(sub)

    def delete_webhook(self, webhook_id: str) -> bool:
        """Remove a subscription and what is known of its deliveries; False if there was none."""
        with self._lock:
            found = self._webhooks.pop(webhook_id, None) is not None
        if found:
            self.deliveries.forget(webhook_id)
        return found

    def update_webhook(self, webhook_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Apply ``changes`` to a subscription (its grace period starts again); the updated copy, or None."""
        with self._lock:
            sub = self._webhooks.get(webhook_id)
            if sub is None:
                return None
            sub.update(_clone_dict(changes))
            sub["updated_at"] = utcnow_iso()
            return _clone_dict(sub)

    def set_webhook_status(self, webhook_id: str, status: str) -> None:
        """Mark a subscription active, inactive or stale (the delivery circuit breaker uses it)."""
        with self._lock:
            sub = self._webhooks.get(webhook_id)
            if sub is not None:
                sub["status"] = status
                sub["updated_at"] = utcnow_iso()

    def webhook_subscriptions(self) -> list[dict[str, Any]]:
        """Copies of every subscription, oldest first, each with its real secret."""
        with self._lock:
            subs = sorted(self._webhooks.values(), key=lambda s: (s["created_at"], s["id"]))
            return [_clone_dict(s) for s in subs]

    def iter_operations(self) -> Iterator[dict[str, Any]]:
        """Copies of every operation in (created_at, id) order (for tests and exports)."""
        with self._lock:
            keys = list(self._op_index.keys)
        for _, op_id in keys:
            op = self.get_operation(op_id)
            if op is not None:
                yield op
