"""A JupyterLab test server, the notebooks it opens, and how a person drives them in the browser.

The server listens on 127.0.0.1 on a free port, with no token, no announcements, no update check, a
read-only extension manager (nothing asks PyPI), and its config, settings, workspaces and runtime files in a
temporary folder, so that neither the developer's own Lab settings nor a previous run change what the test
sees. The kernels it starts inherit its environment: this is how a notebook learns the sandbox's URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from playwright.sync_api import Page

# JupyterLab's first start builds its settings and workspace files: generous, as CI machines are busy.
LAB_START_TIMEOUT_S = 180.0
# The Lab plugins that would fetch news or put a toast over the notebook on a first start.
DISABLED_LAB_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)


@dataclass
class LabServer:
    """A running JupyterLab test server."""

    url: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]

    def notebook_url(self, name: str) -> str:
        """The URL that opens notebook ``name`` (relative to the server's root) in Lab."""
        return f"{self.url}/lab/tree/{name}"

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log (the kernel's tracebacks land there too), for a failure message."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _lab_environment(base: Path, extra: Mapping[str, str]) -> dict[str, str]:
    config = base / "config"
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": dict.fromkeys(DISABLED_LAB_PLUGINS, True)}
    (config / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    env = dict(os.environ)
    env.update(
        {
            "JUPYTER_CONFIG_DIR": str(config),
            # the notebook-signing key and other user data; kernelspecs are still found in sys.prefix
            "JUPYTER_DATA_DIR": str(base / "data"),
            "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "TQDM_DISABLE": "1",
            "MPLBACKEND": "Agg",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def _lab_command(root: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        # jupyter_server 2 reads the token from the identity provider (ServerApp.token is a deprecated alias)
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root}",
        # CI runs as root, which Jupyter refuses unless told
        "--ServerApp.allow_root=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]


def _stop(process: subprocess.Popen[bytes]) -> None:
    # the server shuts its kernels down on SIGTERM; its own process group catches a kernel that lingers
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _wait_ready(server: LabServer) -> None:
    deadline = time.monotonic() + LAB_START_TIMEOUT_S
    with httpx.Client(trust_env=False, timeout=5.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with {server.process.returncode}:\n{server.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if http.get(f"{server.url}/api/status").status_code == 200:
                    return
            time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer /api/status within {LAB_START_TIMEOUT_S:.0f} s")


@contextlib.contextmanager
def lab_server(base: Path, env: Mapping[str, str]) -> Iterator[LabServer]:
    """Run JupyterLab on 127.0.0.1 serving ``base/root``, with ``env`` added to its environment.

    Raises:
        RuntimeError: the server did not answer ``/api/status`` (its log is in the message).
    """
    root = base / "root"
    root.mkdir(parents=True, exist_ok=True)
    full_env = _lab_environment(base, env)
    failures: list[str] = []
    # a free port can be taken between the check and the bind (port_retries=0): try another one then
    for attempt in range(3):
        port = _free_port()
        log_path = base / f"lab-{attempt}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                _lab_command(root, port),
                cwd=root,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = LabServer(url=f"http://127.0.0.1:{port}", root=root, log=log_path, process=process)
        try:
            _wait_ready(server)
        except RuntimeError as exc:
            _stop(process)
            failures.append(f"{exc}\n{server.log_tail()}")
            continue
        try:
            yield server
        finally:
            _stop(process)
        return
    raise RuntimeError("JupyterLab did not start:\n" + "\n---\n".join(failures))


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells for the ``python3`` kernel, so that Lab asks for no kernel choice."""
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],
    }
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def wait_for_kernel(page: Page) -> None:
    """Wait until the open notebook's kernel is connected and idle, as its status bar says.

    Running cells before that makes Lab ask which kernel to start, in a dialog over the notebook.
    """
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for()


def run_all_cells(page: Page) -> None:
    """Run every cell of the open notebook through Lab's Run menu, as a person would."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
