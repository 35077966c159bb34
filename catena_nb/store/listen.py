"""A webhook receiver that writes Catena's deliveries into an :class:`~catena_nb.store.AuditStore`.

Production learns the outcome of async sends by webhook (``resource_operation.created``, ``.succeeded``,
``.failed``). ``create_app(store, secret)`` is a small Starlette app that checks each delivery with
:func:`catena_nb.webhooks.verify` and upserts its operations (``message.*`` events: its messages). Answers:

- ``202`` once the delivery is verified and queued for the writer (Catena wants an answer within 3 s, and
  retries a slow receiver); with ``ack_timeout`` > 0, only after the commit, or after that many seconds;
- ``401`` for a missing or wrong signature, or a timestamp outside the tolerance (a replayed delivery);
- ``400`` for a body that is not gzip, not JSON, or not an event envelope; ``413`` for a body over
  ``MAX_BODY_BYTES``, refused while it streams in (or unread, when its ``Content-Length`` says so), before
  any verification.

Deliveries are written by one thread in batches (one transaction each), so that a burst of deliveries costs
a few commits rather than one per request. A duplicate delivery changes nothing, and a late one never rolls
an operation back: the store keeps the newer record (see :meth:`AuditStore.upsert`). Stopping the receiver
(Ctrl-C, SIGTERM) commits what is queued; deliveries queued in the last moments before a crash are lost to
the webhook path, and the next ``catena-nb sync`` brings their operations in.

Example:
    >>> store = AuditStore("audit.duckdb")  # doctest: +SKIP
    >>> app = create_app(store, secret=os.environ["CATENA_WEBHOOK_SECRET"])  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import json
import logging
import queue
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
from catena_nb.store.writes import UpsertResult
from catena_nb.webhooks import DEFAULT_TOLERANCE_S, MAX_PAYLOAD_BYTES, parse, verify

__all__ = ["ACK_TIMEOUT_S", "Receiver", "create_app"]

logger = logging.getLogger("catena_nb.store.listen")

# assumed: answering at once (the delivery queued) is what keeps up with Catena's bursts: its delivery lanes
# wait for each answer, so waiting for every commit would cost one transaction per delivery.
ACK_TIMEOUT_S = 0.0
MAX_BODY_BYTES = 8 * 1024 * 1024  # gzipped; a delivery holds a few records
BATCH_LIMIT = 2000  # records per transaction

_Job = tuple[str, list[dict[str, Any]], "cf.Future[UpsertResult]"]


class Receiver:
    """The writer behind the app: a thread that commits queued deliveries to the store in batches.

    Args:
        store: the audit store to write to.

    Attributes:
        counts: deliveries by outcome (``stored``, ``ignored``, ``unauthorized``, ``bad_request``), and
            records by what the store made of them (``inserted``, ``updated``, ``unchanged``, ``failed``).
    """

    def __init__(self, store: AuditStore) -> None:
        self.store = store
        self.counts: Counter[str] = Counter()
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._idle = threading.Condition(self._lock)
        self._queued = 0

    def __repr__(self) -> str:
        return f"Receiver({self.store!r}, {dict(self.counts)})"

    def count(self, key: str, n: int = 1) -> None:
        """Add to one of :attr:`counts` (thread-safe)."""
        with self._lock:
            self.counts[key] += n

    def submit(self, kind: str, records: list[dict[str, Any]]) -> cf.Future[UpsertResult]:
        """Queue ``records`` (``kind``: ``operations`` or ``messages``); resolves once they are committed."""
        future: cf.Future[UpsertResult] = cf.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the receiver is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="catena-listen-writer", daemon=True)
                self._thread.start()
            self._queued += 1
        self._queue.put((kind, records, future))
        return future

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued delivery is committed; False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._queued == 0, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the writer (safe to call twice)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs = [job]
            stop = False
            size = len(job[1])
            while size < BATCH_LIMIT:  # take whatever else is waiting into the same transaction
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                jobs.append(more)
                size += len(more[1])
            try:
                self._write(jobs)
            finally:
                with self._idle:
                    self._queued -= len(jobs)
                    self._idle.notify_all()
            if stop:
                return

    def _write(self, jobs: list[_Job]) -> None:
        for kind in ("operations", "messages"):
            mine = [job for job in jobs if job[0] == kind]
            if not mine:
                continue
            records = [rec for job in mine for rec in job[1]]
            try:
                if kind == "operations":
                    result = self.store.upsert(records)
                else:
                    result = self.store.upsert_messages(records)
            except Exception as exc:  # waiting requests answer 500, and Catena delivers again
                logger.exception("could not store %d webhook records", len(records))
                self.count("failed", len(records))
                for job in mine:
                    job[2].set_exception(exc)
                continue
            self.count("inserted", result.inserted)
            self.count("updated", result.updated)
            self.count("unchanged", result.unchanged)
            for job in mine:
                job[2].set_result(result)


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


def create_app(
    store: AuditStore,
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    ack_timeout: float = ACK_TIMEOUT_S,
) -> Starlette:
    """A Starlette app receiving Catena webhook deliveries into ``store`` (on any path, by POST).

    Args:
        store: the audit store to write to.
        secret: the webhook subscription's secret (never logged, never shown).
        tolerance: the largest accepted age of a delivery's timestamp, in seconds.
        ack_timeout: how long a request waits for its records to be committed before answering 202 anyway
            (0: answer once queued). While waiting, a failed write answers 500 so that Catena delivers again.

    Returns:
        The app; ``app.state.receiver`` is its :class:`Receiver` (``.counts``, ``.close()``).

    Raises:
        ValueError: an empty secret.
    """
    if not secret:
        raise ValueError("a webhook secret is required to verify deliveries")
    receiver = Receiver(store)

    async def receive(request: Request) -> JSONResponse:
        body = await _read_body(request)
        if body is None:
            receiver.count("bad_request")
            return _problem(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        try:
            payload = _inflate(body, request.headers)
        except ValueError as exc:
            receiver.count("bad_request")
            return _problem(400, str(exc))
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-encoding"}
        try:
            verify(payload, headers, secret, tolerance=tolerance)
        except WebhookVerificationError as exc:
            receiver.count("unauthorized")
            logger.warning("refused a webhook delivery: %s", exc)
            return _problem(401, str(exc))
        try:
            event = parse(payload)
            data = json.loads(payload).get("data")
        except (WebhookParseError, ValueError, AttributeError) as exc:
            receiver.count("bad_request")
            return _problem(400, str(exc))
        records = [d for d in (data if isinstance(data, list) else [data]) if isinstance(d, dict)]
        name = event.event_name
        if name.startswith("resource_operation."):
            kind = "operations"
        elif name.startswith("message."):
            kind = "messages"
        else:
            receiver.count("ignored")
            return JSONResponse({"received": 0, "event": name}, status_code=202)
        future = receiver.submit(kind, records)
        if ack_timeout > 0:
            try:
                await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), ack_timeout)
            except TimeoutError:
                logger.info("delivery %s acknowledged before its commit (the store is slow)", event.id)
            except Exception:
                return _problem(500, "the delivery could not be stored; please deliver it again")
        receiver.count("stored")
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
