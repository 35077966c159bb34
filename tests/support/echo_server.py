"""A hostile fake Catena on 127.0.0.1 that echoes every credential it knows, and a scan for them.

`EchoCatena` serves the API and the token endpoint over real HTTP (so that httpx's and httpcore's own debug
logs are part of what is scanned). Each route answers according to its mode: `ok`, or a failure that quotes
the bearer token it received, the client secret, the form of the token request and every token it issued,
in every form (raw, URL-encoded, JSON-escaped, HTML-escaped, base64, HTTP Basic), in JSON bodies, HTML pages,
broken JSON, and in response headers of every answer, `x-request-id` included.

`Texts` collects what a user can see (exception texts, chains and tracebacks, reprs, HTML, log lines) and
`Texts.leaks` scans them for every form of every secret, and for anything shaped like a JWT.
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import socket
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus

CLIENT_ID = "leak-scan-client"
CONN = "019ddd87-eedd-710f-967c-1c6cc72ac985"
OP_ID = "019df230-a1b2-7890-cdef-1234567890ab"
DRIVER = "b224f322-b3d2-57e0-b245-cda313f68a1d"
DISPATCHER = "f9c7ee1c-2e16-5858-9b7e-ff7c89a4dd04"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")

API_MODES = (
    "401", "403", "404", "422", "429", "500-json", "500-html", "502-html", "200-not-json", "200-bad-items",
    "200-html", "drop",
)  # fmt: skip
TOKEN_MODES = ("401-form", "400-html-form", "500-form", "200-no-token", "200-not-json", "200-bad-expires")


def _b64(raw: bytes) -> list[str]:
    std, url = base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()
    return [std, std.rstrip("="), url, url.rstrip("=")]


def leak_forms(value: str, user: str | None = None) -> dict[str, str]:
    """Each way `value` can be written in a text, by name."""
    forms = {
        "raw": value,
        "quote": quote(value, safe=""),
        "quote(/)": quote(value),
        "quote_plus": quote_plus(value),
        "json": json.dumps(value)[1:-1],
        "html": html.escape(value),
        "bytes repr": repr(value.encode())[2:-1],
    }
    for i, encoded in enumerate(_b64(value.encode())):
        forms[f"base64 {i}"] = encoded
    if user is not None:
        for i, encoded in enumerate(_b64(f"{user}:{value}".encode())):
            forms[f"basic {i}"] = encoded
    return forms


def _jwt() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"sub": CLIENT_ID, "jti": secrets.token_hex(8), "exp": 4102444800}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


def _route(path: str) -> str:
    if path.endswith("/protocol/openid-connect/token"):
        return "token"
    if "resource-operations" in path:
        return "operations"
    if path.startswith("/v2/integrations/connections"):
        return "connections"
    return path.rstrip("/").rsplit("/", 1)[-1]  # users, messages, group-messages


def _op(status: str = "success") -> dict[str, Any]:
    return {
        "id": OP_ID,
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:00:05Z",
        "partner_id": "p1",
        "connection_id": CONN,
        "source_name": "samsara",
        "resource": "message",
        "operation_type": "create",
        "payload": {"message_text": "hello"},
        "status": status,
        "logs": [],
    }


class EchoCatena:
    """The server: `modes[route]` (default `default_mode`) decides each answer; `echoes` counts them."""

    def __init__(self) -> None:
        self.static_token = "tok-" + secrets.token_urlsafe(12) + "+/=\"'"
        self.client_secret = "s3cr3t-" + secrets.token_urlsafe(12) + "+/=&\"'<>%"
        self.issued: list[str] = []
        self.used: list[str] = []  # the issued tokens that came back in an Authorization header
        self.modes: dict[str, str] = {}
        self.default_mode = "ok"
        self.echoes = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.app = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.auth_url = self.url + "/realms/catena"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> EchoCatena:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)

    @contextmanager
    def mode(self, default: str, **routes: str) -> Iterator[None]:
        """Answer with `default` (and per-route modes, `group_messages` for group-messages) meanwhile."""
        before = self.default_mode, dict(self.modes)
        self.default_mode = default
        self.modes.update({k.replace("_", "-"): v for k, v in routes.items()})
        try:
            yield
        finally:
            self.default_mode, self.modes = before[0], before[1]

    def secrets(self, *, every_token: bool = True) -> dict[str, tuple[str, str | None]]:
        """The secrets the server knows, by name: (value, the user of its HTTP Basic form).

        With `every_token=False`, of the tokens issued only the last one a client has sent back: an echo
        quotes what clients sent, not a token still on its way to one (which no redaction can know yet),
        and the echo of every token ever issued would outgrow the 16 KiB of headers httpx accepts.
        """
        known: dict[str, tuple[str, str | None]] = {
            "static token": (self.static_token, None),
            "client secret": (self.client_secret, CLIENT_ID),
        }
        tokens = self.issued if every_token else self.used[-1:]
        for token in tokens:
            known[f"token {self.issued.index(token) + 1}"] = (token, None)
        return known

    def echo(self, authorization: str, form: str) -> str:
        """A text quoting what the request carried and every secret known, in every form."""
        with self._lock:
            self.echoes += 1
        parts = [f"Authorization: {authorization}", f"request form: {form}", f"Bearer {self.static_token}"]
        for value, user in self.secrets(every_token=False).values():
            parts += list(leak_forms(value, user).values())
            parts += [f"access_token={value}", f'"refresh_token": "{value}"', f"client_secret={value}"]
        basic = base64.b64encode(f"{CLIENT_ID}:{self.client_secret}".encode()).decode()
        parts.append(f"Authorization: Basic {basic}")
        return " | ".join(parts)

    # ---------------------------------------------------------------------------------------- answers

    def answer(self, method: str, path: str, authorization: str, body: bytes) -> tuple[int, str, str, str]:
        """(status, content type, body, echo for the headers) of one request; status 0 drops the connection.

        The headers' echo is made before a token is issued: it quotes what the client sent and holds, not
        the token this very answer hands out (its body is the only place that token goes).
        """
        token = authorization.removeprefix("Bearer ")
        with self._lock:
            if token in self.issued and token not in self.used:
                self.used.append(token)
        header_echo = self.echo(authorization, body.decode("utf-8", "replace"))
        return (*self._answer(method, path, authorization, body), header_echo)

    def _answer(self, method: str, path: str, authorization: str, body: bytes) -> tuple[int, str, str]:
        route = _route(path)
        # the token endpoint fails only when asked to: the API's failures need a token first
        mode = self.modes.get(route, "ok" if route == "token" else self.default_mode)
        form = body.decode("utf-8", "replace")
        if route == "token":
            return self._token_answer(mode, form)
        if mode == "ok":
            return 200, "application/json", json.dumps(self._ok(method, route, path))
        return self._failure(mode, self.echo(authorization, form))

    def _ok(self, method: str, route: str, path: str) -> Any:
        if route == "connections":
            conn = {"id": CONN, "source_name": "samsara", "fleet_ref": "F1", "description": "Fleet one"}
            return conn if path.rstrip("/").endswith(CONN) else {"items": [conn], "next_page": None}
        if route == "users":
            users = [
                {"id": DRIVER, "first_name": "Dee", "is_driver": True, "connection_id": CONN},
                {"id": DISPATCHER, "first_name": "Sam", "is_driver": False, "connection_id": CONN},
            ]
            return {"items": users, "next_page": None, "total": 2}
        if method == "POST" or path.endswith(OP_ID):
            return _op()
        return {"items": [_op()], "next_page": None}

    def _failure(self, mode: str, echo: str) -> tuple[int, str, str]:
        if mode == "drop":
            return 0, "", ""
        if mode in ("401", "403", "404", "429", "500-json"):
            status = int(mode.split("-")[0])
            detail: Any = {"authorization": echo, "echo": echo, "retry_after_seconds": 0}
            return status, "application/json", json.dumps({"code": status, "message": echo, "detail": detail})
        if mode == "422":
            detail = [
                {"path": "message_text", "input": echo, "message": f"invalid: {echo}", "error_type": "value"},
                {"loc": ["body", "sender_id"], "msg": echo, "type": "value_error", "input": echo},
            ]
            return 422, "application/json", json.dumps({"code": 422, "message": echo, "detail": detail})
        if mode in ("500-html", "502-html", "200-html"):
            status = int(mode.split("-")[0])
            page = f"<html><body><h1>Error</h1><pre>{echo}</pre><p>{html.escape(echo)}</p></body></html>"
            return status, "text/html", page
        if mode == "200-not-json":
            return 200, "application/json", '{"items": [{"id": "' + echo + '", "status": '
        if mode == "200-bad-items":
            items = [{"id": 5, "created_at": echo, "status": [echo], "logs": echo}]
            return 200, "application/json", json.dumps({"items": items, "next_page": echo})
        raise ValueError(f"unknown mode {mode!r}")

    def _token_answer(self, mode: str, form: str) -> tuple[int, str, str]:
        fields = parse_qs(form)
        echo = self.echo("", form)
        if mode == "ok":
            if fields.get("client_secret") != [self.client_secret]:
                return 401, "application/json", json.dumps({"error": "invalid_client"})
            token = _jwt()
            with self._lock:
                self.issued.append(token)
            answer = {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
            return 200, "application/json", json.dumps(answer)
        if mode == "401-form":
            body = {"error": "invalid_client", "error_description": f"bad credentials in {form}: {echo}"}
            return 401, "application/json", json.dumps(body)
        if mode == "400-html-form":
            return 400, "text/html", f"<html><body><pre>{form}</pre>{echo}</body></html>"
        if mode == "500-form":
            return 500, "application/json", json.dumps({"error": "server_error", "error_description": echo})
        if mode == "200-no-token":
            return 200, "application/json", json.dumps({"token_type": "Bearer", "echo": echo, "form": form})
        if mode == "200-not-json":
            return 200, "application/json", "access_token=" + echo
        if mode == "200-bad-expires":
            return 200, "application/json", json.dumps({"access_token": echo, "expires_in": form})
        raise ValueError(f"unknown token mode {mode!r}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes: without this, Nagle's algorithm holds the second one back
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test output stays readable

    def do_GET(self) -> None:
        app: EchoCatena = self.server.app  # type: ignore[attr-defined]
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        authorization = self.headers.get("authorization") or ""
        status, content_type, text, echo = app.answer(
            self.command, self.path.split("?")[0], authorization, body
        )
        if status == 0:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = text.encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.send_header("x-echo", echo.encode("ascii", "replace").decode())
        self.send_header("x-request-id", f"req-{authorization}")
        self.send_header(
            "www-authenticate", f'Bearer error="invalid_token", error_description="{authorization}"'
        )
        if status == 429:
            self.send_header("retry-after", "0")
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET


class Texts:
    """What a user can see, collected with where it came from; `leaks` scans it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, text: Any) -> None:
        self.items.append((where, text if isinstance(text, str) else repr(text)))

    def exception(self, where: str, exc: BaseException, _seen: set[int] | None = None) -> None:
        """The exception's str, repr, args, attributes, traceback, and the same for its cause and context."""
        seen = _seen if _seen is not None else set()
        if id(exc) in seen:
            return
        seen.add(id(exc))
        name = f"{where}: {type(exc).__name__}"
        self.add(f"{name} str", str(exc))
        self.add(f"{name} repr", repr(exc))
        for i, arg in enumerate(exc.args):
            self.add(f"{name} args[{i}]", arg)
        for attr in ("body", "message", "detail", "json", "headers", "errors", "url", "request_id", "cursor"):
            if hasattr(exc, attr):
                self.add(f"{name} .{attr}", getattr(exc, attr))
        if hasattr(exc, "__dict__"):
            self.add(f"{name} vars", vars(exc))
        self.add(f"{name} traceback", "".join(traceback.format_exception(exc)))
        for link, linked in (("cause", exc.__cause__), ("context", exc.__context__)):
            if linked is not None:
                self.exception(f"{where} <{link}>", linked, seen)

    def leaks(self, known: dict[str, tuple[str, str | None]]) -> list[str]:
        """Each (text, secret form) found, and each JWT-shaped string, as a short description."""
        needles = [
            (f"{name} {form}", value)
            for name, (secret, user) in known.items()
            for form, value in leak_forms(secret, user).items()
        ]
        found = []
        for where, text in self.items:
            found += [f"{needle} in {where}" for needle, value in needles if value in text]
            found += [f"a JWT in {where}" for _ in JWT.findall(text)]
        return found
