"""A counting HTTP proxy that kills a client process at a chosen request, for the resumed-sync tests.

It forwards each request to an upstream server and records it; before forwarding, it asks its ``kill_at``
rule whether this request is the moment: if so it SIGKILLs the process registered with it and drops the
request, so that the client dies having committed everything up to the answer before.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


@dataclass(frozen=True)
class Seen:
    """One request the proxy received: method, path and query (each parameter's first value)."""

    method: str
    path: str
    query: dict[str, str]


Rule = Callable[[Seen, list[Seen]], bool]


@dataclass
class KillingProxy:
    """The proxy's state: this run's requests, the rule, the process to kill, and where it killed it."""

    upstream: str
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    kill_at: Rule | None = None
    pid: int | None = None
    killed_at: Seen | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, pid: int, rule: Rule | None) -> None:
        """Watch a new run: forget its predecessor's requests, kill ``pid`` when ``rule`` says so."""
        with self.lock:
            self.seen, self.kill_at, self.pid, self.killed_at = [], rule, pid, None

    def _decide(self, request: Seen) -> bool:
        with self.lock:
            if self.killed_at is not None:
                return True  # the client is dead or dying: nothing more goes through
            self.seen.append(request)
            if self.kill_at is None or self.pid is None or not self.kill_at(request, self.seen):
                return False
            self.killed_at = request
            os.kill(self.pid, signal.SIGKILL)
            return True


def _handler(proxy: KillingProxy, http: httpx.Client) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _forward(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if proxy._decide(Seen(self.command, parts.path, query)):
                self.close_connection = True
                return
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            answer = http.request(self.command, proxy.upstream + self.path, headers=headers, content=body)
            self.send_response(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    return Handler


@contextmanager
def killing_proxy(upstream: str) -> Iterator[KillingProxy]:
    """Serve a :class:`KillingProxy` of ``upstream`` on a free port of 127.0.0.1 while the block runs."""
    proxy = KillingProxy(upstream.rstrip("/"))
    with httpx.Client(timeout=120) as http:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy, http))
        server.daemon_threads = True
        proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, name="killing-proxy", daemon=True)
        thread.start()
        try:
            yield proxy
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)
