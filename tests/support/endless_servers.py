"""Servers on 127.0.0.1 that never finish an answer, and scripted APIs whose listings never end.

`EndlessServer(kind)` accepts connections and reads each request, then:
- `trickle`: sends a 200's headers (with a large Content-Length) and then one byte of body every `interval`
  seconds, forever;
- `trickle-headers`: sends the status line and then one byte of a header every `interval` seconds, forever;
- `silent`: sends nothing, and keeps the connection open.
It counts the requests it received. Used by `test_endless_servers.py` and `benchmarks/deadline.py`.

`looping_api(kind)` is an `httpx.MockTransport` handler whose list pages never reach a null `next_page`:
`cursor` hands out the same cursor again after a few pages (each with fresh items), `page` answers the same
items under a fresh cursor each time. `LoopingServer(kind)` serves it over HTTP, for `catena-nb sync`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import httpx

KINDS = ("trickle", "trickle-headers", "silent")


class EndlessServer:
    """A server that never completes an answer (see the module docstring for the kinds)."""

    def __init__(self, kind: str, *, interval: float = 1.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.kind = kind
        self.interval = interval
        self.requests = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._threads = [threading.Thread(target=self._accept, daemon=True)]

    def __enter__(self) -> Self:
        self._threads[0].start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in list(self._threads):
            thread.join(10)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read_request(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            body += chunk
        with self._lock:
            self.requests += 1
        return True

    def _serve(self, conn: socket.socket) -> None:
        try:
            if not self._read_request(conn):
                return
            if self.kind == "trickle":
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n"
                )
            elif self.kind == "trickle-headers":
                conn.sendall(b"HTTP/1.1 200 OK\r\nx-slow: ")
            while not self._stop.wait(self.interval):
                if self.kind != "silent":
                    conn.sendall(b"a")
        except OSError:
            return


def _op(n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=n)),
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:00:05Z",
        "partner_id": "p1",
        "connection_id": "019ddd87-eedd-710f-967c-1c6cc72ac985",
        "source_name": "samsara",
        "resource": "message",
        "operation_type": "create",
        "payload": {"message_text": "hello"},
        "status": "success",
        "logs": [],
    }


def looping_api(
    kind: str, *, first_pages: int = 3
) -> tuple[Callable[[httpx.Request], httpx.Response], list[str]]:
    """A handler whose listings never end, and the list of cursors it was asked for (None as "")."""
    asked: list[str] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor", "")
        with lock:
            asked.append(cursor)
            n = len(asked)
        if kind == "cursor":
            # a few good pages, then a cursor that repeats (each page with items of its own)
            next_page = f"c{n}" if n < first_pages else "stuck"
            items = [_op(n * 10 + i) for i in range(3)]
        elif kind == "page":
            next_page = f"fresh-{uuid.uuid4()}"
            items = [_op(i) for i in range(3)] if n >= first_pages else [_op(n * 10 + i) for i in range(3)]
        else:
            raise ValueError(f"unknown kind {kind!r}")
        body = {"items": items, "next_page": next_page, "total": 10**9}
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    return handler, asked


class LoopingServer:
    """`looping_api(kind)` over real HTTP on 127.0.0.1 (for a command run in a child process)."""

    def __init__(self, kind: str) -> None:
        self.handler, self.asked = looping_api(kind)
        looping = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                answer = looping.handler(httpx.Request("GET", "http://server" + self.path))
                self.send_response(answer.status_code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)
