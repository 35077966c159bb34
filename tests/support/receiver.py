"""A webhook receiver for tests: a tiny HTTP server on 127.0.0.1 that records each delivery and answers
with the status its ``status`` attribute holds (202 by default; set 503 to play a receiver that is down)."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Records ``(headers, envelope)`` of every delivery in ``.deliveries``."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status = 202
        lock = self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                with lock:
                    outer.deliveries.append((dict(self.headers), json.loads(body)))
                    status = outer.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
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

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
