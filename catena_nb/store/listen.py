"""A webhook receiver that loses nothing: Catena's deliveries into an :class:`~catena_nb.store.AuditStore`.

Production learns the outcome of async sends by webhook (``resource_operation.created``, ``.succeeded``,
``.failed``; ``message.*`` for delivery and read receipts). Catena counts any answer but a 5xx (or a
timeout after 3 s) as delivered, retries the others up to 3 times within about 5 s and then parks the event
in its dead-letter queue, from which only a replay brings it back. So ``create_app(store, secret)`` answers:

- ``202`` only once the delivery is durably stored: appended to the store's write-ahead spool as one line
  and synced to disk (``os.fsync``; :mod:`catena_nb.store.spool`), each delivery on its own, so that one
  bad delivery never takes its neighbours down. A delivery whose envelope ``id`` was stored before (a
  retry, a replay, a duplicate of at-least-once delivery) answers 202 and is not stored again; the store
  keeps the newest record per id and ``updated_at`` (see :meth:`AuditStore.upsert`).
- ``503`` for a missing or wrong signature, or a timestamp outside the tolerance: never stored, so that
  Catena retries and then keeps the event in its dead-letter queue (a rotated or mistyped secret must not
  lose a day of events: fix the secret, then replay). Each one is logged as a warning with the subscription
  id and counted; the summary says how many (``refused_signature``, ``refused_stale``).
- ``500`` for a delivery it cannot read (not gzip, not JSON, not an envelope, a record the frames cannot
  take), one over ``MAX_BODY_BYTES`` (refused while it streams in, or unread when its ``Content-Length``
  says so, before any verification), or one the disk refused: Catena delivers it again, and the dead-letter
  queue keeps it until the cause is fixed.
- ``202`` for a verified event of another kind (``connection.created``, ...), which is not stored.

The spool is merged into the database by one thread of the receiver about once a second (a merge holds the
DuckDB file for one transaction), and whatever opens the store for writing next merges what a killed
receiver left. Nothing on the request path waits for the database, so a sync or a report holding the file
never delays an answer past Catena's 3 s.

Example:
    >>> store = AuditStore("audit.duckdb")  # doctest: +SKIP
    >>> app = create_app(store, secret=os.environ["CATENA_WEBHOOK_SECRET"])  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from catena_nb import _jsonio
from catena_nb.errors import WebhookParseError, WebhookVerificationError
from catena_nb.store.audit import AuditStore
from catena_nb.store.merge import MergeResult
from catena_nb.store.spool import Delivery, Spool, now_iso
from catena_nb.store.writes import prepare_messages, prepare_operations
from catena_nb.webhooks import DEFAULT_TOLERANCE_S, MAX_PAYLOAD_BYTES, parse, verify

__all__ = ["MERGE_EVERY_S", "Receiver", "create_app"]

logger = logging.getLogger("catena_nb.store.listen")

MAX_BODY_BYTES = 8 * 1024 * 1024  # gzipped; a delivery holds a few records
# assumed: a second between merges keeps the file free for readers most of the time (a merge holds it for
# 50-100 ms) while the store lags the answers by about that much
MERGE_EVERY_S = 1.0
_HEADER_SHOWN = 80  # characters of an unverified header value shown in a log line


def _shown(value: str | None) -> str:
    """An unverified header value for a log line: cut short, quoted (no line breaks get through)."""
    return repr((value or "?")[:_HEADER_SHOWN])


class Receiver:
    """The state behind the app: the spool it appends to, the event ids stored, the merging thread.

    Args:
        store: the audit store (a file store: its spool is beside it).
        merge_every: seconds between merges of the spool into the database.

    Attributes:
        counts: deliveries by outcome (``stored``, ``duplicate``, ``ignored``, ``refused_signature``,
            ``refused_stale``, ``unreadable``, ``unstorable``), and records by what the merges made of them
            (``inserted``, ``updated``, ``unchanged``, ``kept_back``).
    """

    def __init__(self, store: AuditStore, *, merge_every: float = MERGE_EVERY_S) -> None:
        if store.spool is None:
            raise ValueError("the listener needs a store file (its spool lives beside it), not ':memory:'")
        if store.read_only:
            raise ValueError(f"the listener writes to its store: {store.path} was opened read-only")
        self.store = store
        self.spool: Spool = store.spool
        self.merge_every = merge_every
        self.counts: Counter[str] = Counter()
        self.webhook_ids: set[str] = set()
        self._lock = threading.Lock()
        self._merge_lock = threading.Lock()
        self._seen: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        found = store.query("SELECT event_id, webhook_id FROM webhook_events")
        self._seen.update(str(v) for v in found["event_id"])
        self.webhook_ids.update(str(v) for v in found["webhook_id"].dropna())
        self._seen.update(d.id for d in self.spool.pending() if d.id)

    def __repr__(self) -> str:
        return f"Receiver({self.store!r}, {dict(self.counts)})"

    def count(self, key: str, n: int = 1) -> None:
        """Add to one of :attr:`counts` (thread-safe)."""
        with self._lock:
            self.counts[key] += n

    def claim(self, event_id: str | None) -> bool:
        """Mark an event id as being stored; False when it was stored (or is being stored) already."""
        if not event_id:
            return True
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen.add(event_id)
            return True

    def release(self, event_id: str | None) -> None:
        """Forget a claimed event id whose delivery could not be stored (Catena delivers it again)."""
        if event_id:
            with self._lock:
                self._seen.discard(event_id)

    def store_delivery(self, delivery: Delivery) -> None:
        """Append one delivery to the spool and sync it; when this returns it survives a crash."""
        self.spool.append(delivery)
        if delivery.webhook_id:
            with self._lock:
                self.webhook_ids.add(delivery.webhook_id)
        self.count("stored")
        if self._thread is None:
            self._start()
        self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="catena-listen-merge", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            if self._stop.wait(self.merge_every):  # let a burst gather into one merge
                return
            self._wake.clear()
            try:
                self.merge()
            except Exception:  # the store is busy or broken: the deliveries wait in the spool
                logger.exception(
                    "could not merge the webhook spool into %s (will try again)", self.store.path
                )

    def merge(self) -> MergeResult:
        """Seal the segment being written and merge the spool into the store now."""
        with self._merge_lock:
            self.spool.seal()
            result = self.store.merge_spool()
        self.count("inserted", result.operations.inserted + result.messages.inserted)
        self.count("updated", result.operations.updated + result.messages.updated)
        self.count("unchanged", result.operations.unchanged + result.messages.unchanged)
        self.count("kept_back", result.failed)
        return result

    def flush(self) -> bool:
        """Merge what the spool holds now; False if deliveries stay in it (a merge failed: see the log).

        A merge waits at most the store's ``lock_wait`` for another process to let go of the file.
        """
        self.merge()
        return not self.spool.pending()

    def close(self) -> None:
        """Stop the merging thread and merge what is left (safe to call twice)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(60)
        try:
            self.merge()
        except Exception:
            logger.exception("could not merge the webhook spool on stopping; the next writer merges it")

    def summary(self) -> str:
        """The counts in words, refusals first and loudly (they are events Catena keeps in its DLQ)."""
        c = self.counts
        parts = [f"{c['stored']} deliveries stored", f"{c['duplicate']} duplicates"]
        if c["refused_signature"]:
            parts.append(
                f"{c['refused_signature']} deliveries refused for a bad signature: check the webhook secret, "
                "then replay the subscription's dead-letter queue"
            )
        if c["refused_stale"]:
            parts.append(
                f"{c['refused_stale']} deliveries refused for a stale or future timestamp: check this "
                "machine's clock, then replay"
            )
        if c["unreadable"] or c["unstorable"]:
            parts.append(f"{c['unreadable'] + c['unstorable']} deliveries could not be read or stored")
        if c["kept_back"]:
            parts.append(f"{c['kept_back']} kept in the spool's failed folder")
        return "; ".join(parts) + "."


def _inflate(body: bytes, headers: Any) -> bytes:
    """The body, gunzipped when it is gzip (by header or by its magic bytes)."""
    encoding = str(headers.get("content-encoding", "")).lower()
    if "gzip" not in encoding and body[:2] != b"\x1f\x8b":
        return body
    return _jsonio.gunzip(body, MAX_PAYLOAD_BYTES)


async def _read_body(request: Request) -> bytes | None:
    """The body, read as it streams in; None as soon as it passes ``MAX_BODY_BYTES`` (or says it will).

    Nothing is verified before the size: an unsigned upload of any length costs at most the limit in memory.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_BODY_BYTES:
        return None  # refused unread (the server has already checked the header is a number)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"code": status, "detail": detail}, status_code=status)


def _is_stale(exc: WebhookVerificationError) -> bool:
    text = str(exc)
    return "stale" in text or "in the future" in text


def create_app(
    store: AuditStore,
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    merge_every: float = MERGE_EVERY_S,
) -> Starlette:
    """A Starlette app receiving Catena webhook deliveries into ``store`` (on any path, by POST).

    Args:
        store: the audit store file to write to.
        secret: the webhook subscription's secret (never logged, never shown).
        tolerance: the largest accepted age of a delivery's timestamp, in seconds.
        merge_every: seconds between merges of the spool into the database.

    Returns:
        The app; ``app.state.receiver`` is its :class:`Receiver` (``.counts``, ``.summary()``,
        ``.flush()``, ``.close()``).

    Raises:
        ValueError: an empty secret, or a ``":memory:"`` or read-only store.
    """
    if not secret:
        raise ValueError("a webhook secret is required to verify deliveries")
    receiver = Receiver(store, merge_every=merge_every)

    async def receive(request: Request) -> JSONResponse:
        body = await _read_body(request)
        if body is None:
            receiver.count("unreadable")
            return _problem(500, f"the body is larger than {MAX_BODY_BYTES} bytes; not stored")
        try:
            payload = _inflate(body, request.headers)
        except ValueError as exc:
            receiver.count("unreadable")
            return _problem(500, f"{exc}; not stored")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-encoding"}
        try:
            verify(payload, headers, secret, tolerance=tolerance)
        except WebhookVerificationError as exc:
            stale = _is_stale(exc)
            receiver.count("refused_stale" if stale else "refused_signature")
            logger.warning(
                "refused a webhook delivery of subscription %s (%s): %s; not stored, Catena will retry and "
                "then keep it in its dead-letter queue",
                _shown(request.headers.get("x-webhook-id")),
                "check the clock" if stale else "check the webhook secret",
                exc,
            )
            return _problem(503, f"{exc}; not stored")
        try:
            event = parse(payload)
            data = json.loads(payload).get("data")
        except (WebhookParseError, ValueError, AttributeError) as exc:
            receiver.count("unreadable")
            return _problem(500, f"{exc}; not stored")
        records = [d for d in (data if isinstance(data, list) else [data]) if isinstance(d, dict)]
        name = event.event_name
        if name.startswith("resource_operation."):
            kind = "operations"
        elif name.startswith("message."):
            kind = "messages"
        else:
            receiver.count("ignored")
            return JSONResponse({"received": 0, "event": name}, status_code=202)
        event_id = str(event.id) if event.id else None
        if not receiver.claim(event_id):
            receiver.count("duplicate")
            return JSONResponse({"received": 0, "event": name, "duplicate": True}, status_code=202)
        webhook_id = event.webhook_id or request.headers.get("x-webhook-id")
        delivery = Delivery(event_id, str(webhook_id) if webhook_id else None, name, kind, now_iso(), records)
        try:
            await asyncio.to_thread(_check_and_store, receiver, delivery)
        except OSError as exc:
            receiver.release(event_id)
            receiver.count("unstorable")
            logger.error("could not write webhook delivery %s to the spool: %s", event_id, exc)
            return _problem(500, "the delivery could not be stored; please deliver it again")
        except Exception as exc:  # a record the frames cannot take: Catena retries, then keeps it in its DLQ
            receiver.release(event_id)
            receiver.count("unreadable")
            logger.error("webhook delivery %s holds a record that cannot be stored: %s", event_id, exc)
            return _problem(500, "the delivery holds a record that cannot be stored; not stored")
        return JSONResponse({"received": len(records), "event": name}, status_code=202)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(receiver.close)

    app = Starlette(
        routes=[Route("/", receive, methods=["POST"]), Route("/{path:path}", receive, methods=["POST"])],
        lifespan=lifespan,
    )
    app.state.receiver = receiver
    return app


def _check_and_store(receiver: Receiver, delivery: Delivery) -> None:
    """Build the store's rows of the delivery (a record that breaks them raises here), then spool it."""
    if delivery.kind == "operations":
        prepare_operations(delivery.records)
    else:
        prepare_messages(delivery.records)
    receiver.store_delivery(delivery)
