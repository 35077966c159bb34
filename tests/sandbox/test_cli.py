"""`catena-nb sandbox` serves the API in the foreground: the README's curl steps work against it."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catena_nb.cli import build_parser, main


def _read_lines(stream: object, out: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        out.put(line.rstrip("\n"))


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    """`catena-nb sandbox --port 0` in a subprocess, and the variables its banner exports."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "catena_nb.cli",
            "sandbox",
            "--port",
            "0",
            "--seed",
            "7",
            "--tsp-latency",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    exports: dict[str, str] = {}
    banner: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=60)
            except queue.Empty:
                proc.kill()
                raise AssertionError(
                    f"no banner; stderr: {proc.stderr.read() if proc.stderr else ''}"
                ) from None
            banner.append(line)
            if line.startswith("export "):
                name, _, value = line[len("export ") :].partition("=")
                exports[name] = shlex.split(value)[0]
            if line.startswith("Press Ctrl-C"):
                break
        exports["_banner"] = "\n".join(banner)
        yield exports
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def test_banner_names_urls_and_credentials(served: dict[str, str]) -> None:
    """The banner prints the URL, the token endpoint, the client id and secret, and a token."""
    banner = served["_banner"]
    assert served["CATENA_BASE_URL"].startswith("http://127.0.0.1:")
    assert served["CATENA_AUTH_URL"] == served["CATENA_BASE_URL"] + "/realms/catena"
    assert served["CATENA_CLIENT_SECRET"] in banner
    assert served["CATENA_AUTH_URL"] + "/protocol/openid-connect/token" in banner


def test_curl_steps_token_send_lookup(served: dict[str, str]) -> None:
    """Get a token, send a message (sync), and look the operation up, as the README's curl commands do."""
    env = served
    token = httpx.post(
        env["CATENA_AUTH_URL"] + "/protocol/openid-connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": env["CATENA_CLIENT_ID"],
            "client_secret": env["CATENA_CLIENT_SECRET"],
            "scope": "organization",
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    sent = httpx.post(
        env["CATENA_BASE_URL"] + "/v2/telematics/messages?is_sync=true",
        headers=headers,
        json={
            "connection_id": env["CONNECTION_ID"],
            "sender_id": env["SENDER_ID"],
            "recipient_id": env["RECIPIENT_ID"],
            "message_text": "Delivery confirmed at warehouse B",
            "priority": "low",
        },
        timeout=30,
    )
    assert sent.status_code in (200, 502)
    op = sent.json()
    looked_up = httpx.get(
        f"{env['CATENA_BASE_URL']}/v2/integrations/connections/{env['CONNECTION_ID']}/resource-operations/{op['id']}",
        headers=headers,
    )
    assert looked_up.status_code == 200
    assert looked_up.json()["status"] == op["status"]
    ready = httpx.get(
        env["CATENA_BASE_URL"] + "/v2/integrations/connections",
        headers={"Authorization": f"Bearer {env['CATENA_TOKEN']}"},
    )
    assert ready.status_code == 200


def test_parser_knows_the_sandbox_subcommand() -> None:
    """`catena-nb sandbox` parses its options; no subcommand prints help and exits 2."""
    args = build_parser().parse_args(["sandbox", "--port", "9", "--history", "3", "--anchor", "2026-11-01"])
    assert (args.port, args.history, args.anchor, args.seed) == (9, 3, "2026-11-01", 7)
    assert main([]) == 2


def test_history_without_anchor_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`--history` without `--anchor` is refused with a message, before anything is served."""
    assert main(["sandbox", "--port", "0", "--history", "3"]) == 2
    assert "anchor" in capsys.readouterr().err


def test_success_logs_and_scopes_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--no-success-logs` and `--scopes a,b` reach the sandbox as success_logs=False and those scopes; the
    defaults log every attempt and grant every scope."""
    args = build_parser().parse_args(["sandbox"])
    assert (args.success_logs, args.scopes) == (True, None)
    made: dict[str, Any] = {}

    class Refuse(ValueError):
        pass

    def fake_sandbox(*_args: Any, **kw: Any) -> None:
        made.update(kw)
        raise Refuse("stop here")

    monkeypatch.setattr("catena_nb.sandbox.Sandbox", fake_sandbox)
    argv = ["sandbox", "--no-success-logs", "--scopes", "telematics:read, telematics:write"]
    assert main(argv) == 2
    assert made["success_logs"] is False
    assert made["scopes"] == ["telematics:read", "telematics:write"]


def test_an_unknown_scope_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`--scopes` naming a scope no route requires is refused with a message, before anything is served."""
    assert main(["sandbox", "--port", "0", "--scopes", "telematics:reed"]) == 2
    assert "telematics:reed" in capsys.readouterr().err


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_shell_steps() -> str:
    text = README.read_text()
    section = text[text.index("## The sandbox from a shell") :]
    blocks: list[str] = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return blocks[1]


def _json_values(text: str) -> list[dict[str, Any]]:
    """The JSON documents printed one after another (curl adds no newline after a body)."""
    decoder, values, i = json.JSONDecoder(), [], 0
    while (i := text.find("{", i)) != -1:
        value, i = decoder.raw_decode(text, i)
        values.append(value)
    return values


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_commands_run(served: dict[str, str]) -> None:
    """The README's curl commands, run by bash with the banner's exports, get a token, send and look up."""
    env = {**os.environ, **{k: v for k, v in served.items() if not k.startswith("_")}}
    script = "set -euo pipefail\n" + _readme_shell_steps()
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    sent, looked_up, listed = _json_values(done.stdout)
    assert sent["status"] in {"success", "failed"}
    assert looked_up["id"] == sent["id"]
    assert looked_up["source_name"]
    assert "items" in listed


def test_incidents_file_reaches_the_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`--incidents FILE.json` passes the file's list of specs to the sandbox; without it, None (the default
    three)."""
    assert build_parser().parse_args(["sandbox"]).incidents is None
    specs = [{"kind": "degradation", "source_name": "samsara", "start": "2026-10-30T15:00:00Z",
              "end": "2026-10-30T18:00:00Z", "error_type": "tsp", "failure_rate": 0.3}]  # fmt: skip
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps(specs))
    made: dict[str, Any] = {}

    def fake_sandbox(*_args: Any, **kw: Any) -> None:
        made.update(kw)
        raise ValueError("stop here")

    monkeypatch.setattr("catena_nb.sandbox.Sandbox", fake_sandbox)
    assert main(["sandbox", "--history", "5", "--anchor", "2026-11-01", "--incidents", str(path)]) == 2
    assert made["incidents"] == specs


def test_a_bad_incidents_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file, a file that is not JSON, not a list, or a spec that does not fit: exit 2, a message."""
    notjson, notlist, badspec = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    notjson.write_text("[{")
    notlist.write_text('{"kind": "degradation"}')
    badspec.write_text('[{"kind": "degradation", "source_name": "nosuchtsp"}]')
    for path, words in (
        (tmp_path / "missing.json", "cannot read"),
        (notjson, "not JSON"),
        (notlist, "JSON list"),
        (badspec, "source_name"),
    ):
        argv = [
            "sandbox",
            "--port",
            "0",
            "--history",
            "5",
            "--anchor",
            "2026-11-01",
            "--incidents",
            str(path),
        ]
        assert main(argv) == 2
        assert words in capsys.readouterr().err
