"""HTML renderers: escaped values, badges, log tables, batch summaries (snapshot-style, no kernel)."""

from __future__ import annotations

from catena_nb._html import _text_on, batch_html, esc, logs_table_html, operation_html, status_badge
from catena_nb.models import OperationLog, ResourceOperation
from tests.support.client_mock import FAILED_OP, op

EVIL = '<img src=x onerror="alert(1)">'


def test_esc_escapes_and_shortens() -> None:
    """Values are escaped (quotes too), None is empty, long text is shortened."""
    assert esc(EVIL) == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    assert esc(None) == ""
    assert len(esc("x" * 1000)) <= 400


def test_status_badge() -> None:
    """A badge shows the status text on its outcome colour; unknown statuses get a neutral colour."""
    assert status_badge("success") == (
        '<span class="catena-badge" style="background:#009E73;color:#000;padding:1px 6px;'
        'border-radius:3px;font-size:11px;font-weight:600">success</span>'
    )
    assert "#57606a" in status_badge("brand_new")
    assert "&lt;b&gt;" in status_badge("<b>")


def test_badge_text_reads_on_its_colour() -> None:
    """Badge text is black on light colours and white on dark ones (the higher WCAG contrast)."""
    assert "color:#000" in status_badge("pending")  # orange
    assert _text_on("#000000") == "#fff"
    assert _text_on("#FFFFFF") == "#000"
    assert _text_on("#1F3A93") == "#fff"


def test_operation_card_escapes_api_text() -> None:
    """The operation card has the badge, the ids and the logs, with API text escaped."""
    parsed = ResourceOperation.model_validate(
        op(
            "failed",
            source_name=EVIL,
            logs=[{"status": "failed", "error_type": "tsp", "error_details": EVIL}],
        )
    )
    html = operation_html(parsed)
    assert EVIL not in html
    assert html.count("&lt;img") == 2
    assert "failed</span>" in html
    assert parsed.id is not None
    assert parsed.id in html


def test_logs_table_numbers_attempts() -> None:
    """The log table numbers the attempts from 1 and shows the TSP's HTTP status."""
    html = logs_table_html(
        [
            OperationLog(status="failed", error_type="network", response_status_code=503),
            OperationLog(status="success"),
        ]
    )
    assert html.count("<tr>") == 3
    assert "<td" in html
    assert ">503<" in html
    assert logs_table_html([]) == "<p><i>no attempts logged</i></p>"


def test_seed_example_renders() -> None:
    """The seed page's 502 example renders its auth error."""
    html = ResourceOperation.model_validate(FAILED_OP)._repr_html_()
    assert ">auth<" in html
    assert "1 attempt<" in html


def test_batch_summary_limits_rows() -> None:
    """The batch summary shows counts, the first rows and how many more there are."""
    rows = [{"index": i, "status": "success", "operation_id": f"op{i}"} for i in range(25)]
    html = batch_html({"success": 25, "failed": 0}, rows, total=25, max_rows=20)
    assert "25 rows" in html
    assert "… 5 more rows" in html
    assert "failed</span>" not in html
    assert (
        batch_html({}, [{"index": 0, "status": "error", "error": EVIL}], total=1, interrupted=True).count(
            "&lt;img"
        )
        == 1
    )


def test_a_looked_up_log_shows_the_status_its_error_details_name() -> None:
    """A lookup's log has no response_status_code: the card and the model show the status the text names."""
    log = OperationLog(
        status="failed",
        error_type="auth",
        error_details="Client error '401 Unauthorized' for url 'https://api.samsara.com/v1/fleet/messages/500'",
    )
    assert log.http_status == 401
    cells = logs_table_html([log])
    assert ">401<" in cells
    timeout = OperationLog(status="failed", error_type="network", error_details="ReadTimeout")
    assert timeout.http_status is None
    written = OperationLog(status="failed", response_status_code=503, error_details="HTTP 429")
    assert written.http_status == 503
