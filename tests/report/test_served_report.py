"""`catena-nb report` without credentials serves the sandbox from its own process: same report, said so."""

from __future__ import annotations

from pathlib import Path

import pytest

from catena_nb import _config
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
        assert served.sandbox.url == env[_config.ENV_BASE_URL]
        assert env[_config.ENV_AUTH_URL] == served.sandbox.auth_url
        assert env["CATENA_REPORT_SANDBOX_SEED"] == str(values["seed"])
    finally:
        served.stop()


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
    assert served.sandbox.client_secret not in html
    assert f"127.0.0.1:{served.port}" not in html
    assert served.sandbox._server is None  # stopped after the report
