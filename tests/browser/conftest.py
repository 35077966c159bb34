"""Fixtures for the real-browser tests: Debian's chromium driven by Playwright, and where screenshots go.

The browser is Debian's ``/usr/bin/chromium`` (Playwright's own browser download cannot work on a closed
network), started with the flags that keep it from calling home. Where chromium or Playwright is missing
(a developer's machine without root), the tests skip with the reason; under CI (``CI`` set) they fail
instead: ``.ci/run`` installs chromium, and a skip there would hide that nothing was tested.

Every fixture here is module-scoped, not session-scoped: Playwright's sync API keeps an event loop of its
own while it runs, which must not outlive the browser tests into the rest of the suite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "screenshots"
CHROMIUM = Path(os.environ.get("CATENA_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags chromium keeps trying to reach Google's hosts, which this closed
# network refuses. Headless and --no-sandbox come from Playwright's launch options, and each launch gets a
# fresh, empty profile of its own (Playwright refuses a --user-data-dir argument to launch()).
CHROMIUM_ARGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Playwright's waits on a page: a kernel's first import of pandas and matplotlib can take a while in CI.
UI_TIMEOUT_MS = 90_000


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    """Debian's chromium executable, or a skip (a failure under CI) when it or Playwright is missing."""
    if not CHROMIUM.exists():
        _missing(f"chromium is not installed at {CHROMIUM} (as root: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing('Playwright is not installed (pip install -e ".[test]")')
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Browser]:
    """A headless chromium for the module's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """The folder screenshots are saved in: the repo's ``screenshots/``, which git ignores."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


@dataclass
class PageLog:
    """What a page did besides rendering: console errors, uncaught exceptions and every request's URL."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def watch(page: Page) -> PageLog:
    """Record the page's console errors, uncaught exceptions and requested URLs from now on."""
    log = PageLog()
    page.on("console", lambda msg: log.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: log.errors.append(f"uncaught: {exc}"))
    page.on("request", lambda request: log.requests.append(request.url))
    return log
