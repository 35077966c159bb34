"""A webhook receiver for tests: a tiny HTTP server on 127.0.0.1 that records each delivery and answers
with the status ``status_for`` gives for it, else the one its ``status`` attribute holds (202 by default; set
503 to play a receiver that is down)."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Records every delivery in ``.requests`` (``headers``, the un-gzipped ``body``, its ``json``) and
    ``(headers, envelope)`` in ``.deliveries``."""

    def __init__(self, status_for: Callable[[dict[str, Any]], int] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.deliveries: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status = 202
        lock = self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                record = {"headers": dict(self.headers), "body": body, "json": json.loads(body)}
                with lock:
                    outer.requests.append(record)
                    outer.deliveries.append((record["headers"], record["json"]))
                    status = outer.status if status_for is None else status_for(record)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def event_ids(self) -> list[str]:
        """The envelope ids received, in order (duplicates included)."""
        with self.lock:
            return [envelope["id"] for _, envelope in self.deliveries]

    def bodies(self) -> list[dict[str, Any]]:
        """The envelopes received, in order."""
        with self.lock:
            return [envelope for _, envelope in self.deliveries]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
