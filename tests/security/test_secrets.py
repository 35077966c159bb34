"""No token or client secret in any output, log, repr or exception text: notebooks, report, client.

The notebooks make their own sandbox inside the kernel, so the secrets they use are only known there. An
IPython startup file (in a scratch ``IPYTHONDIR`` that the report's kernel inherits) records every token the
sandbox issues and every client secret it makes, and sends every ``catena_nb``, ``httpx`` and ``httpcore``
log record at debug level to a file. Each notebook is then run through ``render_report``, and the HTML and the
log are scanned for each recorded value, and for anything shaped like a JWT.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest

from catena_nb.client import CatenaClient
from catena_nb.errors import APIConnectionError, AuthenticationError, InvalidRequestError, NotFoundError
from catena_nb.frames import operations_frame
from catena_nb.report import render_report
from catena_nb.sandbox import Sandbox
from tests.support.rounds import quick_sleep, rows_for

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# a JWT (header.claims.signature, base64url), whoever issued it
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")

STARTUP = """
import logging, os
from catena_nb.sandbox import server
from catena_nb.sandbox.api import tokens

_SECRETS = os.environ["CATENA_LEAK_TEST_SECRETS"]


def _record(value):
    with open(_SECRETS, "a", encoding="utf-8") as f:
        f.write(value + "\\n")


_issue = tokens.TokenStore.issue


def _recording_issue(self, ttl=None):
    token, lifetime = _issue(self, ttl)
    _record(token)
    return token, lifetime


tokens.TokenStore.issue = _recording_issue
_init = server.Sandbox.__init__


def _recording_init(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    _record(self.client_secret)


server.Sandbox.__init__ = _recording_init
_handler = logging.FileHandler(os.environ["CATENA_LEAK_TEST_LOG"], encoding="utf-8")
_handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
for _name in ("catena_nb", "httpx", "httpcore"):
    _log = logging.getLogger(_name)
    _log.setLevel(logging.DEBUG)
    _log.addHandler(_handler)
"""


@pytest.fixture
def recording_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Kernels started from here record the sandbox's secrets and their debug logs; returns both files."""
    ipython_dir = tmp_path / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-record-secrets.py").write_text(STARTUP, encoding="utf-8")
    secrets_file, log_file = tmp_path / "secrets.txt", tmp_path / "kernel.log"
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    monkeypatch.setenv("CATENA_LEAK_TEST_SECRETS", str(secrets_file))
    monkeypatch.setenv("CATENA_LEAK_TEST_LOG", str(log_file))
    return secrets_file, log_file


def _leaks(text: str, secrets: set[str]) -> list[str]:
    found = [s[:12] + "..." for s in secrets if s in text]
    found += [m[:12] + "..." for m in JWT.findall(text)]
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    "notebook",
    [
        "01_send_messages.ipynb",
        "02_operation_lookups.ipynb",
        "03_reliability_audit.ipynb",
        "04_webhooks_and_store.ipynb",
    ],
)
def test_notebook_and_its_report_show_no_token_or_secret(
    notebook: str, recording_kernel: tuple[Path, Path], tmp_path: Path
) -> None:
    """Each notebook, run as a report with debug logging, shows none of the secrets its sandbox handed out."""
    secrets_file, log_file = recording_kernel
    # a week of history instead of the audit's 30 days: the same cells run, on less data
    parameters = {"days": 7} if notebook.startswith("03") else None
    out = render_report(
        tmp_path / "out.html", notebook=NOTEBOOKS / notebook, parameters=parameters, progress=False
    )
    secrets = {line for line in secrets_file.read_text(encoding="utf-8").splitlines() if line}
    assert len(secrets) >= 2, "the kernel recorded no secret: the startup file did not run"
    log = log_file.read_text(encoding="utf-8")
    assert "catena_nb" in log or "httpx" in log, "the kernel's debug log is empty"
    html = out.read_text(encoding="utf-8")
    assert _leaks(html, secrets) == []
    assert _leaks(log, secrets) == []


@pytest.mark.slow
def test_the_scan_finds_a_token_a_notebook_shows(recording_kernel: tuple[Path, Path], tmp_path: Path) -> None:
    """A notebook that prints its sandbox's token is caught: the scan above has teeth."""
    secrets_file, _ = recording_kernel
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import catena_nb as cn\nsb = cn.Sandbox(seed=1).start()\nprint(sb.token)")
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "leaky.ipynb")
    out = render_report(tmp_path / "leaky.html", notebook=tmp_path / "leaky.ipynb", progress=False)
    secrets = {line for line in secrets_file.read_text(encoding="utf-8").splitlines() if line}
    assert _leaks(out.read_text(encoding="utf-8"), secrets)


def test_committed_notebooks_hold_no_credentials() -> None:
    """The notebooks take credentials from the environment or the sandbox: no literal token or secret."""
    literal = re.compile(r"(token|client_secret|client_id)\s*=\s*['\"]")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert not JWT.search(text), path.name
        for cell in json.loads(text)["cells"]:
            assert not literal.search("".join(cell["source"])), path.name


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=9, time_scale=0.001, tsp_latency=0) as sandbox:
        yield sandbox


def test_client_reprs_errors_and_debug_logs_hold_no_secret(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Against the sandbox: reprs, error texts, tracebacks, batch tables and debug logs name no secret."""
    caplog.set_level(logging.DEBUG)
    secrets = {sb.token, sb.client_secret}
    texts: list[str] = [repr(sb)]
    wrong = sb.token[:-6] + "AAAAAA"  # a token the sandbox refuses: it must not be echoed either
    secrets.add(wrong)
    with CatenaClient(
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        auth_url=sb.auth_url,
        progress=False,
        sleep=quick_sleep,
    ) as client:
        texts += [repr(client), str(client), repr(vars(client)), repr(client._auth), repr(vars(client._auth))]
        texts += [repr(client.messages), repr(client.operations.list(size=5))]
        batch = client.messages.create_many([*rows_for(sb, 3, "secret"), {"connection_id": "x"}], sync=True)
        texts += [repr(batch), batch._repr_html_(), batch.to_frame().to_string()]
        op = batch.operations[0]
        texts += [repr(op), op._repr_html_(), operations_frame([op]).to_string()]
        errors: list[BaseException] = []
        missing = "00000000-0000-4000-8000-000000000000"
        with pytest.raises(NotFoundError) as not_found:
            client.operations.get(missing, connection_id=op.connection_id)
        errors.append(not_found.value)
        with pytest.raises(InvalidRequestError) as invalid:
            client.messages.create(connection_id="nope", sender_id="1", recipient_id="")
        errors.append(invalid.value)
        # the token endpoint refusing a wrong secret
        with (
            CatenaClient(
                base_url=sb.url,
                client_id=sb.client_id,
                client_secret=wrong,
                auth_url=sb.auth_url,
                progress=False,
            ) as bad_secret,
            pytest.raises(AuthenticationError) as refused,
        ):
            bad_secret.connections.list().to_list()
        errors.append(refused.value)
        texts.append(refused.value.body)
    # the API refusing a wrong static token
    with CatenaClient(base_url=sb.url, token=wrong, progress=False) as bad_token:
        texts += [repr(bad_token), repr(vars(bad_token._auth))]
        with pytest.raises(AuthenticationError) as info:
            bad_token.operations.list(size=5).to_list()
        errors.append(info.value)
        texts.append(info.value.body)
    # a connection that cannot be made
    with CatenaClient(base_url="http://127.0.0.1:9", token=sb.token, progress=False, max_retries=0) as down:
        with pytest.raises(APIConnectionError) as unreachable:
            down.connections.list().to_list()
        errors.append(unreachable.value)
    for error in errors:
        texts += [str(error), repr(error), *traceback.format_exception(error)]
        texts.append(repr(vars(error)))
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    assert len(caplog.records) > 0
    joined = "\n".join(texts)
    assert [s[:10] for s in secrets if s in joined] == []
    assert JWT.findall(joined) == []


def test_httpx_request_headers_are_the_only_place_the_token_goes(sb: Sandbox) -> None:
    """The bearer token is sent in the Authorization header, and only there (not in the URL or body)."""
    seen: list[httpx.Request] = []

    class Spy(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return super().handle_request(request)

    with CatenaClient(base_url=sb.url, token=sb.token, transport=Spy(), progress=False) as client:
        client.messages.create_many(rows_for(sb, 2, "header"), sync=True)
        client.operations.list(size=5).to_list()
    assert seen
    for request in seen:
        assert request.headers["authorization"] == f"Bearer {sb.token}"
        assert sb.token not in str(request.url)
        assert sb.token.encode() not in request.content
