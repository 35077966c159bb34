"""The rendered reliability report as a reader sees it: opened from disk in chromium, with nothing fetched."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from catena_nb.report import render as report
from tests.browser.conftest import UI_TIMEOUT_MS, PageLog, watch

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# schemes a self-contained file may load from: itself, and images embedded as data: URIs
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
# an HTML tag shown to the reader as text: markup that was escaped instead of rendered
RAW_TAG = re.compile(r"</?(?:h[1-6]|p|br|th|thead|tbody|tr|td|style|div|span|table)\b[^>]*>")


@pytest.fixture(scope="module")
def report_file(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The audit notebook rendered to HTML, as ``catena-nb report`` writes it (sandbox data)."""
    # asks for chromium first, so that a machine without it skips before the notebook runs
    return report.render_report(tmp_path_factory.mktemp("report") / "report.html", progress=False)


@pytest.fixture(scope="module")
def report_page(browser: Browser, report_file: Path, screenshots: Path) -> Iterator[tuple[Page, PageLog]]:
    """The report open in chromium from its file:// URL, fully loaded, with a full-page screenshot saved."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    log = watch(page)
    try:
        page.goto(report_file.as_uri(), wait_until="load")
        page.screenshot(path=screenshots / "report.png", full_page=True)
        yield page, log
    finally:
        context.close()


def test_every_chart_image_has_loaded(report_page: tuple[Page, PageLog]) -> None:
    """The report has chart images, and each one decoded to a picture with a non-zero size."""
    page, _ = report_page
    images = page.eval_on_selector_all(
        "img",
        "imgs => imgs.map(i => ({alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))",
    )
    assert images, "the report shows no image at all"
    broken = [img for img in images if not (img["complete"] and img["w"] > 0 and img["h"] > 0)]
    assert broken == []


def test_the_report_fetches_nothing_from_the_network(report_page: tuple[Page, PageLog]) -> None:
    """Every request the page made was for the file itself or an embedded data: URI."""
    _, log = report_page
    assert log.requests, "no request was recorded, not even the file itself"
    assert [url for url in log.requests if not url.startswith(LOCAL_SCHEMES)] == []


def test_the_report_logs_no_console_error(report_page: tuple[Page, PageLog]) -> None:
    """Opening the report raises no JavaScript error and logs no console error."""
    _, log = report_page
    assert log.errors == []


def test_the_report_says_it_shows_sandbox_data(report_page: tuple[Page, PageLog]) -> None:
    """A reader sees at the top that the numbers come from the sandbox, not from their fleet."""
    page, _ = report_page
    assert page.title() == "Catena reliability report (sandbox data)"
    assert page.get_by_text("Sandbox data: simulated TSPs, not your fleet.").first.is_visible()


def test_the_reader_sees_headings_and_no_raw_markup(report_page: tuple[Page, PageLog]) -> None:
    """The notebook's headings render as headings, and no HTML tag shows up as text on the page."""
    page, _ = report_page
    shown = page.locator("body").inner_text()
    leaked = sorted(set(RAW_TAG.findall(shown)))
    assert leaked == []
    assert page.get_by_role("heading", name="Findings").count() == 1
