"""The sandbox ``catena-nb report`` serves beside the audit notebook's kernel, in a process of its own.

Run inside the kernel, the sandbox would build its history, render every answer and decode every page on
one core, one after the other. Served from a process of its own instead (``_served_child``), its history is
built while this process imports the kernel's machinery and the kernel starts, none of them waiting for
another's interpreter, and its answers are made on one core while the kernel reads them on the other. The
kernel finds it through the ``CATENA_*`` variables (client credentials, chosen here before the sandbox
serves) and ``CATENA_REPORT_SANDBOX_SEED``, which the notebook reads to say where its data came from; the
notebook's data cell runs once the sandbox serves.

The sandbox is built as the notebook's own ``parameters`` cell would build it (seed, days, anchor).
"""

from __future__ import annotations

import ast
import contextlib
import json
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import Any

from catena_nb import _config

__all__ = ["ServedSandbox"]

TIME_SCALE = 0.002  # as the notebook's own sandbox
# where the sandbox serves (its server's HOST and its auth module's REALM_PREFIX; a test holds them equal),
# written here so that this process need not import the sandbox to give the kernel its environment
HOST = "127.0.0.1"
REALM_PREFIX = "/realms/catena"
START_TIMEOUT_S = 180.0  # a history of many days on a slow machine, and the sandbox's own start
STOP_TIMEOUT_S = 15.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def notebook_parameters() -> dict[str, Any]:
    """The literal values of the audit notebook's ``parameters`` cell."""
    from catena_nb.report.render import find_audit_notebook

    # read as plain JSON: nbformat's schema validation would take seconds before the sandbox could start
    nb = json.loads(find_audit_notebook().read_text(encoding="utf-8"))
    values: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            for node in ast.parse("".join(source) if isinstance(source, list) else source).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        values[target.id] = ast.literal_eval(node.value)
    return values


class ServedSandbox:
    """A sandbox started in a process of its own; `wait()` until it serves, `stop()` at the end."""

    def __init__(self, seed: int, days: int, anchor: str) -> None:
        self.seed, self.port = seed, _free_port()
        self.client_id = f"catena-sandbox-{seed}"  # as the sandbox names its client
        self.client_secret = secrets.token_urlsafe(24)
        self.url = f"http://{HOST}:{self.port}"
        self._said: str | None = None
        self._heard = threading.Event()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "catena_nb.cli._served_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        settings = {
            "seed": seed, "days": days, "anchor": anchor, "time_scale": TIME_SCALE, "port": self.port,
            "client_secret": self.client_secret,
        }  # fmt: skip
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps(settings) + "\n")
        self._process.stdin.flush()
        threading.Thread(target=self._listen, name="catena-report-sandbox", daemon=True).start()

    @classmethod
    def for_audit_notebook(cls) -> ServedSandbox:
        """The sandbox of the audit notebook's default parameters."""
        values = notebook_parameters()
        return cls(int(values["seed"]), int(values["days"]), str(values["anchor"]))

    def _listen(self) -> None:
        assert self._process.stdout is not None
        self._said = self._process.stdout.readline().strip()
        self._heard.set()

    def environment(self) -> Mapping[str, str]:
        """What the kernel needs to reach it (its port and credentials are chosen before it serves)."""
        return {
            _config.ENV_BASE_URL: self.url,
            _config.ENV_AUTH_URL: self.url + REALM_PREFIX,
            _config.ENV_CLIENT_ID: self.client_id,
            _config.ENV_CLIENT_SECRET: self.client_secret,
            "CATENA_REPORT_SANDBOX_SEED": str(self.seed),
        }

    def wait(self) -> None:
        """Block until the sandbox serves.

        Raises:
            RuntimeError: it could not start (its port was taken meanwhile, say), or took too long.
        """
        if not self._heard.wait(START_TIMEOUT_S):
            raise RuntimeError(f"the sandbox did not serve within {START_TIMEOUT_S:.0f} s")
        if self._said != "serving":
            code = self._process.poll()
            said = self._said or f"it exited with code {code}"
            raise RuntimeError(f"the sandbox could not start: {said.removeprefix('error ')}")

    @property
    def stopped(self) -> bool:
        """Whether its process has ended."""
        return self._process.poll() is not None

    def stop(self) -> None:
        """Stop serving (after the report, or if it failed): its stdin closed, its process waited for."""
        assert self._process.stdin is not None
        with contextlib.suppress(OSError):  # it died already
            self._process.stdin.close()
        try:
            self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._heard.wait(STOP_TIMEOUT_S)  # its stdout is at its end: the listener is done with it
        assert self._process.stdout is not None
        self._process.stdout.close()
