"""`catena-nb` answers each expected failure in at most two lines and exit status 1, with no traceback.

Each case runs the command in a child process, as a user would. With ``-s`` the test prints a table of the
cases: the failure, the exit status and what the command said.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from catena_nb.sandbox import Sandbox
from catena_nb.store import AuditStore

WRONG_SECRET = "wrong-secret-0f1e2d3c4b5a"


@dataclass
class World:
    """What the cases run against: a sandbox, a server that breaks its listings, a store held elsewhere."""

    tmp: Path
    sandbox: Sandbox
    broken_url: str
    held: Path
    closed_port: int
    env: dict[str, str] = field(default_factory=dict)


class _BrokenListing(BaseHTTPRequestHandler):
    """Answers every request 200 with a body that is no list page."""

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        body = json.dumps({"items": "temporarily unavailable", "next_page": None}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket is closed


@contextmanager
def _held_open(path: Path) -> Iterator[None]:
    """A store file kept open for writing by a program other than catena-nb (a DuckDB shell, say)."""
    AuditStore(path).close()
    hold = f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print(1, flush=True); sys.stdin.read()"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "1"
        yield
    finally:
        holder.communicate("", timeout=60)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The sandbox, the broken server and a store held open by another program (catena-nb's own processes
    share a store: a listener no longer locks the others out)."""
    tmp = tmp_path_factory.mktemp("cli")
    shutil.copy("/etc/passwd", tmp / "passwd")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenListing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with (
            Sandbox(seed=7, time_scale=0.001, tsp_latency=0) as sb,
            _held_open(tmp / "held.duckdb"),
        ):
            yield World(tmp, sb, f"http://127.0.0.1:{server.server_address[1]}", tmp / "held.duckdb",
                        _closed_port())  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Case:
    """One failure: the arguments, the environment it needs, and what the answer must name."""

    args: tuple[str, ...]
    env: str  # none | unreachable | sandbox-token | bad-token | bad-secret | broken
    says: tuple[str, ...]


CASES: dict[str, Case] = {
    "store held by another program (sync)": Case(
        ("sync", "--store", "{held}"),
        "sandbox-token",
        ("{held}", "held by another process", "for more than 1 s", "a program other than catena-nb"),
    ),
    "store held by another program (report --store)": Case(
        ("report", "--store", "{held}"), "none", ("{held}", "held by another process", "for more than 1 s")
    ),
    "not a DuckDB file (report --store /etc/passwd)": Case(
        ("report", "--store", "/etc/passwd"), "none", ("/etc/passwd is not an audit store",)
    ),
    "not a DuckDB file (sync --store a copy of /etc/passwd)": Case(
        ("sync", "--store", "{tmp}/passwd"), "sandbox-token", ("passwd is not an audit store",)
    ),
    "missing store (report --store)": Case(
        ("report", "--store", "{tmp}/missing.duckdb"), "none", ("no audit store at", "missing.duckdb")
    ),
    "bad date (report --since garbage)": Case(
        ("report", "--since", "garbage"), "none", ("--since 'garbage' is not a date",)
    ),
    "bad date (report --until 2026-13-01)": Case(
        ("report", "--until", "2026-13-01"), "none", ("--until '2026-13-01' is not a date",)
    ),
    "bad date (sync --since garbage)": Case(
        ("sync", "--store", "{tmp}/a.duckdb", "--since", "garbage"), "sandbox-token", ("--since 'garbage'",)
    ),
    "window that ends before it starts (sync)": Case(
        ("sync", "--store", "{tmp}/a.duckdb", "--since", "2026-10-02", "--until", "2026-10-01"),
        "sandbox-token",
        ("is not before --until",),
    ),
    "no credentials (sync)": Case(
        ("sync", "--store", "{tmp}/a.duckdb"), "none", ("no credentials", "CATENA_TOKEN")
    ),
    "unreachable API (sync)": Case(
        ("sync", "--store", "{tmp}/a.duckdb"),
        "unreachable",
        ("cannot reach the Catena API", "CATENA_BASE_URL"),
    ),
    "bad token (sync)": Case(
        ("sync", "--store", "{tmp}/a.duckdb"), "bad-token", ("refused the credentials", "401")
    ),
    "bad client secret (sync)": Case(
        ("sync", "--store", "{tmp}/a.duckdb"),
        "bad-secret",
        ("refused the credentials", "CATENA_CLIENT_SECRET"),
    ),
    "a listing the API breaks (sync)": Case(
        ("sync", "--store", "{tmp}/a.duckdb"), "broken", ("cannot read", "items")
    ),
    "notebook error (report, API unreachable)": Case(
        ("report", "--no-progress", "--out", "{tmp}/r.html"),
        "unreachable",
        ("the audit notebook stopped at code cell", "APIConnectionError"),
    ),
}


def _env(world: World, kind: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATENA_")}
    env["TQDM_DISABLE"] = "1"
    env["CATENA_STORE_LOCK_WAIT"] = "1"  # a held store is reported after a second, not a minute
    sb = world.sandbox
    if kind == "sandbox-token":
        env.update(CATENA_BASE_URL=sb.url, CATENA_TOKEN=sb.token)
    elif kind == "unreachable":
        env.update(CATENA_BASE_URL=f"http://127.0.0.1:{world.closed_port}", CATENA_TOKEN="tok-unreachable")
    elif kind == "bad-token":
        env.update(CATENA_BASE_URL=sb.url, CATENA_TOKEN="tok-not-a-valid-one")
    elif kind == "bad-secret":
        env.update(CATENA_BASE_URL=sb.url, CATENA_AUTH_URL=sb.auth_url, CATENA_CLIENT_ID=sb.client_id,
                   CATENA_CLIENT_SECRET=WRONG_SECRET)  # fmt: skip
    elif kind == "broken":
        env.update(CATENA_BASE_URL=world.broken_url, CATENA_TOKEN="tok-broken")
    return env


def _run(world: World, case: Case, *extra: str) -> subprocess.CompletedProcess[str]:
    fill = {"held": str(world.held), "tmp": str(world.tmp)}
    args = [a.format(**fill) for a in case.args]
    return subprocess.run(
        [sys.executable, "-m", "catena_nb.cli", *extra, *args],
        env=_env(world, case.env),
        cwd=world.tmp,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_each_failure_is_told_in_two_lines_without_a_traceback(world: World, name: str) -> None:
    """The command exits 1 and says in at most two lines what failed, naming the cause; no traceback."""
    case = CASES[name]
    done = _run(world, case)
    lines = done.stderr.splitlines()
    sys.stdout.write(f"\n| {name} | {done.returncode} | {' / '.join(line.strip() for line in lines)} |")
    assert done.returncode == 1, done.stderr
    assert 1 <= len(lines) <= 2, done.stderr
    assert "Traceback" not in done.stderr
    fill = {"held": str(world.held), "tmp": str(world.tmp)}
    for text in case.says:
        assert text.format(**fill) in done.stderr
    assert WRONG_SECRET not in done.stderr + done.stdout
    assert lines[0].startswith(f"catena-nb {case.args[0]}: ")


def test_debug_shows_the_traceback_then_the_answer(world: World) -> None:
    """With --debug (before or after the command) the traceback comes first, then the same answer, exit 1."""
    case = CASES["store held by another program (sync)"]
    plain = _run(world, case)
    for debug in (("--debug",), ()):
        args = case.args if debug else (*case.args, "--debug")
        done = _run(world, Case(args, case.env, case.says), *debug)
        assert done.returncode == 1
        assert "Traceback (most recent call last)" in done.stderr
        assert "IOException" in done.stderr  # DuckDB's own error, chained
        assert done.stderr.rstrip().endswith(plain.stderr.rstrip())


def test_a_failing_notebook_raises_the_cell_error_without_its_code(tmp_path: Path) -> None:
    """render_report raises ReportError with the failing cell's name, message and number, not its source."""
    import nbformat

    from catena_nb.report import ReportError, render_report

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# a report"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("hidden = 'do not show me'\nraise LookupError('no such fleet')"),
        nbformat.v4.new_code_cell("y = 2"),
    ]
    source = tmp_path / "failing.ipynb"
    nbformat.write(nb, source)
    with pytest.raises(ReportError) as caught:
        render_report(tmp_path / "out.html", notebook=source, progress=False)
    error = caught.value
    assert (error.ename, error.evalue, error.cell) == ("LookupError", "no such fleet", 2)
    assert str(error) == "the audit notebook stopped at code cell 2 with LookupError: no such fleet"
    assert "do not show me" not in str(error)
    assert "LookupError" in error.traceback
    assert "\x1b[" not in error.traceback
    assert not (tmp_path / "out.html").exists()
