"""The leak scan: a fake Catena echoes the token and the secret in every way; no text a user sees has them.

Every call of both clients (lookups, listings, pages, creates, batches, waits, the directory, the token flow)
meets every hostile answer of `EchoCatena`; the widgets show the failures. Then every text a user could see
is scanned for every form of every secret: exception texts, attributes, chains and tracebacks, reprs, batch
tables, widget HTML, and each debug log record of catena_nb, httpx and httpcore as a notebook would print it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from catena_nb._redact import MASK
from catena_nb.client import AsyncCatenaClient, CatenaClient
from catena_nb.client.pagination import Page
from catena_nb.client.resources.operations import OPERATIONS_PATH
from catena_nb.models import ResourceOperation
from catena_nb.notebook import OperationBrowser, SendMessageForm
from tests.support.echo_server import (
    API_MODES,
    CLIENT_ID,
    CONN,
    DISPATCHER,
    DRIVER,
    OP_ID,
    TOKEN_MODES,
    EchoCatena,
    Texts,
)

LOGGERS = ("catena_nb", "httpx", "httpcore")
MESSAGE: dict[str, Any] = {
    "connection_id": CONN,
    "sender_id": DISPATCHER,
    "recipient_id": DRIVER,
    "message_text": "hi",
}
PENDING = ResourceOperation.model_validate(
    {
        "id": OP_ID,
        "connection_id": CONN,
        "status": "pending",
        "resource": "message",
        "operation_type": "create",
    }
)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def catena() -> Iterator[EchoCatena]:
    server = EchoCatena().start()
    yield server
    server.stop()


@pytest.fixture
def debug_log() -> Iterator[_Lines]:
    """Every record of catena_nb, httpx and httpcore at debug level, formatted with its traceback."""
    handler = _Lines()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.DEBUG)
        log.addHandler(handler)
    yield handler
    for log, level in zip(loggers, levels, strict=True):
        log.removeHandler(handler)
        log.setLevel(level)


def _sync_client(catena: EchoCatena, *, static: bool) -> CatenaClient:
    creds: dict[str, Any] = (
        {"token": catena.static_token}
        if static
        else {"client_id": CLIENT_ID, "client_secret": catena.client_secret, "auth_url": catena.auth_url}
    )
    return CatenaClient(base_url=catena.url, max_retries=1, sleep=lambda _s: None, progress=False, **creds)


def _async_client(catena: EchoCatena, *, static: bool) -> AsyncCatenaClient:
    creds: dict[str, Any] = (
        {"token": catena.static_token}
        if static
        else {"client_id": CLIENT_ID, "client_secret": catena.client_secret, "auth_url": catena.auth_url}
    )

    async def no_wait(_s: float) -> None:
        return None

    return AsyncCatenaClient(base_url=catena.url, max_retries=1, sleep=no_wait, progress=False, **creds)


def _sync_calls(c: CatenaClient) -> dict[str, Callable[[], Any]]:
    return {
        "operations.get": lambda: c.operations.get(OP_ID, connection_id=CONN),
        "operations.list": lambda: c.operations.list(connection_id=CONN).to_list(),
        "operations.list pages": lambda: [repr(p) for p in c.operations.list(connection_id=CONN).pages()],
        "a page": lambda: c._get_page(OPERATIONS_PATH, {}, ResourceOperation),
        "messages.create sync": lambda: c.messages.create(**MESSAGE, sync=True),
        "messages.create async": lambda: c.messages.create(**MESSAGE),
        "group_messages.create": lambda: c.group_messages.create(
            connection_id=CONN, sender_id=DISPATCHER, recipient_ids=[DRIVER], sync=True
        ),
        "messages.create_many": lambda: c.messages.create_many([MESSAGE, MESSAGE], sync=True),
        "operations.wait": lambda: c.operations.wait([PENDING], timeout=5, poll_interval=0),
        "messages.list": lambda: c.messages.list(connection_id=CONN).to_list(),
        "connections.list": lambda: c.connections.list().to_list(),
        "connections.get": lambda: c.connections.get(CONN),
        "users.list": lambda: c.users.list(connection_id=CONN).to_list(),
    }


def _async_calls(c: AsyncCatenaClient) -> dict[str, Callable[[], Awaitable[Any]]]:
    async def pages() -> list[str]:
        return [repr(p) async for p in c.operations.list(connection_id=CONN).pages()]

    return {
        "operations.get": lambda: c.operations.get(OP_ID, connection_id=CONN),
        "operations.list": lambda: c.operations.list(connection_id=CONN).to_list(),
        "operations.list pages": pages,
        "a page": lambda: c._get_page(OPERATIONS_PATH, {}, ResourceOperation),
        "messages.create sync": lambda: c.messages.create(**MESSAGE, sync=True),
        "messages.create async": lambda: c.messages.create(**MESSAGE),
        "group_messages.create": lambda: c.group_messages.create(
            connection_id=CONN, sender_id=DISPATCHER, recipient_ids=[DRIVER], sync=True
        ),
        "messages.create_many": lambda: c.messages.create_many([MESSAGE, MESSAGE], sync=True),
        "operations.wait": lambda: c.operations.wait([PENDING], timeout=5, poll_interval=0),
        "messages.list": lambda: c.messages.list(connection_id=CONN).to_list(),
        "connections.list": lambda: c.connections.list().to_list(),
        "connections.get": lambda: c.connections.get(CONN),
        "users.list": lambda: c.users.list(connection_id=CONN).to_list(),
    }


def _outcome(texts: Texts, where: str, result: Any) -> None:
    """What a call returned: its repr, and a batch's table, HTML and row errors; a page's items."""
    texts.add(f"{where} result", repr(result))
    if isinstance(result, Page):
        try:
            texts.add(f"{where} items", repr(result.items))
        except Exception as exc:
            texts.exception(f"{where} items", exc)
    if hasattr(result, "outcomes"):
        texts.add(f"{where} html", result._repr_html_())
        texts.add(f"{where} frame", result.to_frame().to_string())
        for outcome in result.outcomes:
            texts.add(f"{where} outcome", repr(outcome))
            if outcome.error is not None:
                texts.exception(f"{where} row", outcome.error)


def _drive_sync(client: CatenaClient, texts: Texts, label: str) -> None:
    for name, call in _sync_calls(client).items():
        where = f"{label} {name}"
        try:
            result = call()
        except Exception as exc:
            texts.exception(where, exc)
        else:
            _outcome(texts, where, result)


async def _drive_async(client: AsyncCatenaClient, texts: Texts, label: str) -> None:
    for name, call in _async_calls(client).items():
        where = f"{label} {name}"
        try:
            result = await call()
        except Exception as exc:
            texts.exception(where, exc)
        else:
            _outcome(texts, where, result)


def _client_reprs(texts: Texts, where: str, client: CatenaClient | AsyncCatenaClient) -> None:
    texts.add(f"{where} client repr", repr(client))
    texts.add(f"{where} client vars", vars(client))
    texts.add(f"{where} auth repr", repr(client._auth))
    texts.add(f"{where} auth vars", vars(client._auth))
    texts.add(f"{where} paginator", repr(client.operations.list(connection_id=CONN)))


def _widgets(catena: EchoCatena, client: CatenaClient, texts: Texts) -> None:
    """The send form and the browser after every kind of failure, as their HTML would be saved."""
    with catena.mode("500-html"):
        form, browser = SendMessageForm(client), OperationBrowser(client)
        texts.add("form, listing failed", form.result.value)
        texts.add("browser, listing failed", browser.detail.value)
    for mode in API_MODES:
        with catena.mode("ok", messages=mode, operations=mode):
            form, browser = SendMessageForm(client), OperationBrowser(client)
            form.message_text.value = "hi"
            form.send()
            texts.add(f"form after {mode}", form.result.value)
            for field, box in form.field_errors.items():
                texts.add(f"form field {field} after {mode}", box.value)
            if form.last_error is not None:
                texts.exception(f"form error after {mode}", form.last_error)
            browser.op_id.value = OP_ID
            browser.lookup()
            texts.add(f"browser lookup after {mode}", browser.detail.value)
            browser.search()
            texts.add(f"browser search after {mode}", browser.table.value)
            texts.add(f"widget reprs after {mode}", f"{form!r} {browser!r}")


@pytest.mark.slow
def test_no_text_a_user_sees_holds_the_token_or_the_secret(catena: EchoCatena, debug_log: _Lines) -> None:
    """Every call, every hostile answer, both clients: 0 forms of the token or the secret in any text."""
    texts = Texts()
    with _sync_client(catena, static=False) as creds, _sync_client(catena, static=True) as static:
        for mode in API_MODES:
            with catena.mode(mode):
                _drive_sync(creds, texts, f"sync credentials {mode}")
                _drive_sync(static, texts, f"sync static {mode}")
        for mode in TOKEN_MODES:
            with catena.mode("ok", token=mode), _sync_client(catena, static=False) as fresh:
                _drive_sync(fresh, texts, f"sync token {mode}")
                _client_reprs(texts, f"sync token {mode}", fresh)
        _widgets(catena, creds, texts)
        _client_reprs(texts, "sync credentials", creds)
        _client_reprs(texts, "sync static", static)

        async def main() -> None:
            async with (
                _async_client(catena, static=False) as acreds,
                _async_client(catena, static=True) as astat,
            ):
                for mode in API_MODES:
                    with catena.mode(mode):
                        await _drive_async(acreds, texts, f"async credentials {mode}")
                        await _drive_async(astat, texts, f"async static {mode}")
                for mode in TOKEN_MODES:
                    with catena.mode("ok", token=mode):
                        async with _async_client(catena, static=False) as fresh:
                            await _drive_async(fresh, texts, f"async token {mode}")
                            _client_reprs(texts, f"async token {mode}", fresh)
                _client_reprs(texts, "async credentials", acreds)
                _client_reprs(texts, "async static", astat)

        asyncio.run(main())
        for i, line in enumerate(debug_log.lines):
            texts.add(f"log record {i}", line)
        leaks = texts.leaks(catena.secrets())
    logs = "\n".join(debug_log.lines)
    print(
        f"\nleak scan: {len(texts.items)} texts scanned ({len(debug_log.lines)} of them log records), "
        f"{catena.echoes} echoes served, {len(catena.secrets())} secrets in "
        f"{sum(len(text) for _, text in texts.items)} characters: {len(leaks)} hits"
    )
    assert leaks == [], leaks[:20]
    assert len(texts.items) > 3000
    # the echoes reached the widgets' HTML (masked): the failures were shown, not swallowed
    shown = [text for where, text in texts.items if where.startswith(("form", "browser"))]
    print(
        f"widget HTML texts: {len(shown)}, {sum(MASK in text for text in shown)} of them with a masked echo"
    )
    assert sum(MASK in text for text in shown) >= len(API_MODES)
    assert catena.echoes > 500, "the server echoed too little for the scan to mean anything"
    assert len(catena.issued) >= len(TOKEN_MODES), "the credential flows did not run"
    # the dependencies' own debug logs were part of it: httpcore logs each answer's headers, echo and all
    assert "x-echo" in logs
    assert "HTTP Request:" in logs
    assert MASK in logs


def test_the_scan_finds_each_form_of_each_secret(catena: EchoCatena) -> None:
    """The scan has teeth: an echo that reaches a text unredacted is found, in every form it holds."""
    with _sync_client(catena, static=False) as client:
        client.connections.list().to_list()  # a token is issued, so its forms are in the echo too
        texts = Texts()
        texts.add("a raw echo", catena.echo(f"Bearer {catena.issued[-1]}", "form"))
        leaks = texts.leaks(catena.secrets(every_token=False))
    for name in catena.secrets(every_token=False):
        for form in ("raw", "quote", "quote_plus", "json", "base64 0"):
            assert any(leak.startswith(f"{name} {form} ") for leak in leaks), (name, form)
    assert any(leak.startswith("client secret basic") for leak in leaks)
    assert any(leak.startswith("a JWT") for leak in leaks)


def test_every_logger_of_the_package_is_guarded() -> None:
    """Each logger the package names (and httpx's and httpcore's) carries the redacting filter."""
    import re
    from pathlib import Path

    from catena_nb._redact import RedactingFilter

    root = Path(__file__).resolve().parents[2] / "catena_nb"
    names = set()
    for path in root.rglob("*.py"):
        names |= set(re.findall(r'getLogger\("(catena_nb[^"]*)"\)', path.read_text(encoding="utf-8")))
    assert "catena_nb.client" in names
    for name in sorted(names | {"httpx", "httpcore.http11", "httpcore.connection"}):
        if name.startswith("catena_nb.sandbox."):
            continue  # the sandbox stands in for the server: it is not the client's to guard
        filters = logging.getLogger(name).filters
        assert any(isinstance(f, RedactingFilter) for f in filters), name
