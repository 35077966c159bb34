"""The send form and the operation browser in real JupyterLab, clicked through in chromium like an analyst.

The sandbox runs in this test process and JupyterLab passes its URL and token to the kernel through the
environment, so each test can read ``sandbox.requests`` to see exactly what reached the server.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox
from tests.browser.conftest import UI_TIMEOUT_MS, PageLog, watch
from tests.support.lab import LabServer, lab_server, run_all_cells, wait_for_kernel, write_notebook

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CREATE = ("POST", "/v2/telematics/messages")
GET_OPERATION = (
    "GET",
    "/v2/integrations/connections/{connection_id}/resource-operations/{resource_operation_id}",
)
NOTEBOOK = "forms.ipynb"
FORM_CELL = "SendMessageForm(client)"
BROWSER_CELL = "OperationBrowser(client)"
CELLS = [
    "import os\n"
    "from catena_nb import CatenaClient, OperationBrowser, SendMessageForm\n"
    "client = CatenaClient(base_url=os.environ['CATENA_BASE_URL'], token=os.environ['CATENA_TOKEN'])",
    FORM_CELL,
    BROWSER_CELL,
]
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A seeded sandbox whose async waits are near instant."""
    with Sandbox(seed=7, time_scale=0.001, tsp_latency=0) as sb:
        yield sb


@pytest.fixture(scope="module")
def lab(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab whose kernels know the sandbox's URL and token, serving the forms notebook."""
    env = {"CATENA_BASE_URL": sandbox.url, "CATENA_TOKEN": sandbox.token}
    with lab_server(tmp_path_factory.mktemp("lab"), env) as server:
        write_notebook(server.root / NOTEBOOK, CELLS)
        yield server


@pytest.fixture(scope="module")
def lab_page(browser: Browser, lab: LabServer, screenshots: Path) -> Iterator[tuple[Page, PageLog]]:
    """The forms notebook open in Lab with every cell run, and what the page logged."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    log = watch(page)
    try:
        try:
            page.goto(lab.notebook_url(NOTEBOOK))
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            wait_for_kernel(page)
            run_all_cells(page)
            page.get_by_role("button", name="Send").wait_for()
            page.get_by_role("button", name="Look up").wait_for()
        except Exception as exc:
            page.screenshot(path=screenshots / "lab-forms-not-shown.png", full_page=True)
            raise AssertionError(
                f"the forms did not appear ({exc}); Lab's log ends with:\n{lab.log_tail()}"
            ) from None
        yield page, log
    finally:
        context.close()


def _cell(page: Page, source: str) -> Locator:
    # the cell whose input is `source`: its outputs hold that widget
    return page.locator(".jp-Notebook .jp-Cell").filter(has=page.get_by_text(source, exact=True))


def _shown_operation_id(area: Locator) -> str:
    row = area.locator(".catena-operation tr").filter(
        has=area.page.locator("b", has_text=re.compile(r"^id$"))
    )
    text = row.locator("code").inner_text().strip()
    assert UUID_RE.fullmatch(text), text
    return text


def test_send_form_sends_one_message_and_shows_its_operation(
    lab_page: tuple[Page, PageLog], sandbox: Sandbox, screenshots: Path
) -> None:
    """Filling the form and clicking Send makes one create request and shows that operation's status."""
    page, log = lab_page
    form = _cell(page, FORM_CELL)
    text = f"Delivery confirmed at dock 4 ({uuid.uuid4().hex[:8]})"
    form.get_by_placeholder("or paste a recipient user id").fill("")
    form.get_by_label("Message").fill(text)
    form.get_by_label("Priority").select_option("low")
    before = sandbox.requests[CREATE]

    form.get_by_role("button", name="Send").click()
    headline = form.get_by_text(re.compile(r"the TSP accepted the message|Failed at the TSP"))
    headline.wait_for()
    page.screenshot(path=screenshots / "lab-send-form.png", full_page=True)

    assert sandbox.requests[CREATE] == before + 1
    op_id = _shown_operation_id(form)
    record = sandbox.state.get_operation(op_id)
    assert record is not None, f"the page shows {op_id}, which the sandbox does not hold"
    assert record["payload"]["message_text"] == text
    assert record["payload"]["priority"] == "low"
    badge = form.locator(".catena-operation .catena-badge").first.inner_text().strip()
    assert badge == record["status"]
    assert ("accepted" in headline.inner_text()) == (record["status"] == "success")
    assert form.get_by_role("button", name="Send").is_enabled()
    assert log.errors == []


def test_send_form_refuses_a_bad_uuid_and_sends_nothing(
    lab_page: tuple[Page, PageLog], sandbox: Sandbox, screenshots: Path
) -> None:
    """A malformed pasted recipient id is marked beside its field and no request reaches the sandbox."""
    page, log = lab_page
    form = _cell(page, FORM_CELL)
    form.get_by_label("Message").fill("hello")
    pasted = form.get_by_placeholder("or paste a recipient user id")
    pasted.fill("1234-not-a-uuid")
    before = sandbox.requests.snapshot()

    form.get_by_role("button", name="Send").click()
    form.get_by_text("not a valid user id (a UUID): '1234-not-a-uuid'").wait_for()
    form.get_by_text("Nothing was sent: fix the fields marked above.").wait_for()
    page.screenshot(path=screenshots / "lab-send-form-bad-uuid.png", full_page=True)

    assert sandbox.requests.snapshot() == before
    pasted.fill("")
    assert log.errors == []


def test_operation_browser_looks_one_operation_up(
    lab_page: tuple[Page, PageLog], sandbox: Sandbox, screenshots: Path
) -> None:
    """Typing an operation's id and picking its connection shows that operation, after one GET."""
    page, log = lab_page
    conn = sandbox.connections[1]
    with CatenaClient(base_url=sandbox.url, token=sandbox.token) as client:
        op = client.messages.create(
            connection_id=conn.id,
            sender_id=conn.users[0],
            recipient_id=conn.users[-1],
            message_text="Gate code changed to 4711",
            sync=True,
        )
    browser_cell = _cell(page, BROWSER_CELL)
    browser_cell.get_by_label("Operation id").fill(str(op.id))
    # the lookup's own Connection picker comes first; the search filters have another one
    browser_cell.get_by_label("Connection").first.select_option(f"{conn.source_name} · {conn.description}")
    before = sandbox.requests[GET_OPERATION]

    browser_cell.get_by_role("button", name="Look up").click()
    shown = browser_cell.get_by_text("Gate code changed to 4711")
    shown.wait_for()
    # the answer lands under the search controls, below the fold: scroll to it as a reader must
    shown.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "lab-operation-browser.png", full_page=True)

    assert sandbox.requests[GET_OPERATION] == before + 1
    assert _shown_operation_id(browser_cell) == str(op.id)
    badge = browser_cell.locator(".catena-operation .catena-badge").first.inner_text().strip()
    assert badge == str(getattr(op.status, "value", op.status))
    assert log.errors == []


def test_operation_browser_refuses_a_bad_id_and_looks_nothing_up(
    lab_page: tuple[Page, PageLog], sandbox: Sandbox
) -> None:
    """A malformed operation id is marked under the field and no request reaches the sandbox."""
    page, log = lab_page
    browser_cell = _cell(page, BROWSER_CELL)
    browser_cell.get_by_label("Operation id").fill("op-42")
    before = sandbox.requests.snapshot()

    browser_cell.get_by_role("button", name="Look up").click()
    browser_cell.get_by_text(re.compile(r"not a valid operation id .*'op-42'")).wait_for()

    assert sandbox.requests.snapshot() == before
    assert log.errors == []
