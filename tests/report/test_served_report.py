"""`catena-nb report` without credentials serves the sandbox from its own process: same report, said so."""

from __future__ import annotations

from pathlib import Path

import pytest

from catena_nb import CatenaClient, _config
from catena_nb.cli import main
from catena_nb.cli._served import ServedSandbox, notebook_parameters


def test_the_served_sandbox_is_the_notebooks_own() -> None:
    """It is built from the audit notebook's parameters, and its environment names it before it serves."""
    values = notebook_parameters()
    assert {"seed", "days", "anchor"} <= set(values)
    served = ServedSandbox(int(values["seed"]), 1, str(values["anchor"]))
    try:
        env = served.environment()
        assert env[_config.ENV_BASE_URL] == f"http://127.0.0.1:{served.port}"
        served.wait()
        assert env["CATENA_REPORT_SANDBOX_SEED"] == str(values["seed"])
        # the credentials chosen before it served are the ones it takes, at the URLs the kernel is given
        with CatenaClient(
            base_url=env[_config.ENV_BASE_URL],
            auth_url=env[_config.ENV_AUTH_URL],
            client_id=env[_config.ENV_CLIENT_ID],
            client_secret=env[_config.ENV_CLIENT_SECRET],
            progress=False,
        ) as client:
            assert client.connections.list().to_list()
    finally:
        served.stop()
    assert served.stopped


def test_the_served_sandbox_says_why_it_could_not_start() -> None:
    """A sandbox that cannot start (an anchor that is no date) raises in `wait`, with the reason."""
    served = ServedSandbox(7, 1, "not-a-date")
    try:
        with pytest.raises(RuntimeError, match="could not start: ValueError"):
            served.wait()
    finally:
        served.stop()
    assert served.stopped


def test_the_served_sandbox_ends_when_the_report_dies() -> None:
    """Its process stops when its stdin closes, as it does when the report's process dies."""
    served = ServedSandbox(7, 0, "2026-11-01")
    served.wait()
    assert not served.stopped
    assert served._process.stdin is not None
    served._process.stdin.close()  # what the death of this process does
    assert served._process.wait(15) == 0  # it stopped its sandbox and left
    served.stop()  # and stopping it then is harmless


def test_the_served_urls_are_the_sandboxs() -> None:
    """The host and realm written into the served module are the sandbox's own."""
    from catena_nb.cli import _served
    from catena_nb.sandbox.api.auth import REALM_PREFIX
    from catena_nb.sandbox.server import HOST

    assert (_served.HOST, _served.REALM_PREFIX) == (HOST, REALM_PREFIX)


@pytest.mark.slow
def test_report_without_credentials_reads_the_served_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report says its data is the sandbox's, and carries neither the sandbox's secret nor its port."""
    for name in (_config.ENV_TOKEN, _config.ENV_CLIENT_ID, _config.ENV_CLIENT_SECRET, _config.ENV_BASE_URL):
        monkeypatch.delenv(name, raising=False)
    seen: list[ServedSandbox] = []
    made = ServedSandbox.for_audit_notebook

    def spy() -> ServedSandbox:
        served = made()
        seen.append(served)
        return served

    monkeypatch.setattr(ServedSandbox, "for_audit_notebook", staticmethod(spy))
    out = tmp_path / "report.html"
    assert main(["report", "--out", str(out), "--no-progress"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Sandbox data" in html
    assert "from the sandbox (seed 7, simulated TSPs)" in html
    (served,) = seen
    assert served.client_secret not in html
    assert f"127.0.0.1:{served.port}" not in html
    assert served.stopped  # stopped after the report
