"""The sandbox ``catena-nb report`` serves beside the audit notebook's kernel, in the command's own process.

Run inside the kernel, the sandbox would build its history, render every answer and decode every page on
one core, one after the other. Served from the command's process instead (which only waits for the kernel
otherwise), the history is built while the kernel starts, and the answers are made on one core while the
kernel reads them on the other. The kernel finds it through the ``CATENA_*`` variables (client credentials,
known before the sandbox serves) and ``CATENA_REPORT_SANDBOX_SEED``, which the notebook reads to say where
its data came from; the notebook's data cell runs once the sandbox serves.

The sandbox is built as the notebook's own ``parameters`` cell would build it (seed, days, anchor).
"""

from __future__ import annotations

import ast
import json
import socket
import threading
from collections.abc import Mapping
from typing import Any

from catena_nb import _config

__all__ = ["ServedSandbox"]

TIME_SCALE = 0.002  # as the notebook's own sandbox


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
    """A sandbox started in a thread of this process; `wait()` until it serves, `stop()` at the end."""

    def __init__(self, seed: int, days: int, anchor: str) -> None:
        from catena_nb.sandbox import Sandbox

        self.seed, self.port = seed, _free_port()
        self.sandbox = Sandbox(seed, history=days, anchor=anchor, time_scale=TIME_SCALE, port=self.port)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name="catena-report-sandbox", daemon=True)
        self._thread.start()

    @classmethod
    def for_audit_notebook(cls) -> ServedSandbox:
        """The sandbox of the audit notebook's default parameters."""
        values = notebook_parameters()
        return cls(int(values["seed"]), int(values["days"]), str(values["anchor"]))

    def _start(self) -> None:
        try:
            self.sandbox.start()
        except BaseException as exc:  # told by wait(), in the thread that runs the report
            self._error = exc

    def environment(self) -> Mapping[str, str]:
        """What the kernel needs to reach it (its port and credentials are chosen before it serves)."""
        from catena_nb.sandbox.api.auth import REALM_PREFIX
        from catena_nb.sandbox.server import HOST

        url = f"http://{HOST}:{self.port}"
        return {
            _config.ENV_BASE_URL: url,
            _config.ENV_AUTH_URL: url + REALM_PREFIX,
            _config.ENV_CLIENT_ID: self.sandbox.client_id,
            _config.ENV_CLIENT_SECRET: self.sandbox.client_secret,
            "CATENA_REPORT_SANDBOX_SEED": str(self.seed),
        }

    def wait(self) -> None:
        """Block until the sandbox serves.

        Raises:
            OSError, RuntimeError: it could not start (its port was taken meanwhile, say).
        """
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Stop serving (after the report, or if it failed)."""
        self._thread.join()
        self.sandbox.stop()
