"""The report machinery: parameters, execution, and the offline HTML export."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from catena_nb.report import render as report

EVIL = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def _notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A small audit"),
        nbformat.v4.new_code_cell("seed = 7\nsince = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            f"import pandas as pd\npd.DataFrame({{'n': [1, 2], 'text': [{EVIL!r}, 'ok']}})"
        ),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots(figsize=(4, 3))\n"
            "_ = ax.bar(['a', 'b'], [1, 2])\n"
            "print('seed', seed, 'since', since)"
        ),
        nbformat.v4.new_code_cell(f"from IPython.display import HTML\nHTML({EVIL!r})"),
        nbformat.v4.new_code_cell(f"from IPython.display import Markdown\nMarkdown('**found** ' + {EVIL!r})"),
        nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider()"),
        nbformat.v4.new_code_cell("print('left out')", metadata={"tags": ["remove-cell"]}),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    target = path / "audit.ipynb"
    nbformat.write(nb, target)
    return target


def test_inject_parameters_follows_the_parameters_cell() -> None:
    """Injected values land in a tagged cell right after the `parameters` cell, replacing an older one."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("title"),
        nbformat.v4.new_code_cell("seed = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("x = seed"),
    ]
    report.inject_parameters(nb, {"seed": 9})
    report.inject_parameters(nb, {"seed": 10, "since": "2026-10-01"})
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert tags == [[], ["parameters"], ["injected-parameters"], []]
    assert "seed = 10" in nb.cells[2].source
    assert "since = '2026-10-01'" in nb.cells[2].source


def test_inject_parameters_refuses_code() -> None:
    """Only plain values are injected, so a parameter cannot smuggle code into the kernel."""
    nb = nbformat.v4.new_notebook()
    with pytest.raises(ValueError, match="identifier"):
        report.inject_parameters(nb, {"x; import os": 1})
    with pytest.raises(TypeError):
        report.inject_parameters(nb, {"x": object()})


def test_sanitize_html_keeps_tables_and_drops_scripts() -> None:
    """Tables, headings and data images stay; scripts, styles, handlers and javascript links go."""
    dirty = (
        "<style>td {color: red}</style><h2>Rates</h2><table><thead><tr><th>n</th></tr></thead>"
        "<tbody><tr><td onclick='x()'>3</td></tr></tbody></table><script>alert(1)</script>"
        '<a href="javascript:alert(1)">link</a><img src="data:image/png;base64,AAAA" onerror="alert(1)">'
    )
    clean = report.sanitize_html(dirty)
    assert "<h2>Rates</h2>" in clean
    assert "<th>n</th>" in clean
    assert "<td>3</td>" in clean
    assert "script" not in clean
    assert "color: red" not in clean
    assert "onclick" not in clean
    assert "onerror" not in clean
    assert "javascript:" not in clean
    assert 'src="data:image/png;base64,AAAA"' in clean


def test_credentials_configured() -> None:
    """A token, or a client id with its secret, means live data; anything less means the sandbox."""
    assert not report.credentials_configured({})
    assert not report.credentials_configured({"CATENA_CLIENT_ID": "a"})
    assert report.credentials_configured({"CATENA_CLIENT_ID": "a", "CATENA_CLIENT_SECRET": "b"})
    assert report.credentials_configured({"CATENA_TOKEN": "t"})


@pytest.mark.slow
def test_report_is_offline_sanitised_and_bannered(tmp_path: Path) -> None:
    """The HTML has the parameters, a PNG chart, no script, no CDN link, no widget, and escaped text."""
    out = report.render_report(
        tmp_path / "out" / "report.html",
        since="2026-10-01",
        notebook=_notebook(tmp_path),
        progress=False,
    )
    html = out.read_text(encoding="utf-8")
    assert "seed 7 since 2026-10-01" in html
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html)
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "IntSlider" not in html
    assert "widget-view" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "left out" not in html
    assert re.search(r"<h1[^>]*>A small audit", html), "markdown headings render as headings"
    assert re.search(r"<th[^>]*>n</th>", html), "tables keep their headers"
    assert "<strong>found</strong>" in html
    assert "catena-banner sandbox" in html
    assert "<title>Catena reliability report (sandbox data)</title>" in html


@pytest.fixture(scope="module")
def audit_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real reliability report, rendered once from the seeded sandbox."""
    out = report.render_report(tmp_path_factory.mktemp("report") / "audit.html", progress=False)
    return out.read_text(encoding="utf-8")


@pytest.mark.slow
def test_audit_report_names_every_seeded_incident(audit_html: str) -> None:
    """Each incident seeded in the sandbox's history is a finding: its TSP or connection, day, error_type."""
    import datetime as dt

    from catena_nb.sandbox.sim.history import generate_history
    from catena_nb.sandbox.sim.world import build_world

    world = build_world(7)
    seeded = generate_history(world, 7, 30, dt.date(2026, 11, 1)).incidents
    assert len(seeded) == 3
    findings = re.findall(r"<li>(.*?)</li>", audit_html, flags=re.DOTALL)
    for incident in seeded:
        where = incident.source_name
        if incident.connection_id is not None:
            connection = world.connection(incident.connection_id)
            assert connection is not None
            where = f"{incident.source_name} · {connection.fleet_ref}"
        day = f"{incident.start:%Y-%m-%d}"
        error_type = f"<code>{incident.error_type}</code>"
        named = [f for f in findings if where in f and day in f and error_type in f]
        assert named, f"the report does not name {incident.name}"


@pytest.mark.slow
def test_audit_report_has_charts_findings_and_no_remote_script(audit_html: str) -> None:
    """The charts are embedded PNGs, the findings come first, and no script or stylesheet is fetched."""
    charts = list(re.finditer(r'<img[^>]+src="data:image/png;base64,', audit_html))
    assert len(charts) >= 6
    assert audit_html.index(">Findings: incidents to the hour<") < charts[0].start()
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']https?://""", audit_html)
    assert "<script" not in audit_html
    assert "Sandbox data" in audit_html


@pytest.mark.slow
def test_report_reads_an_audit_store(tmp_path: Path) -> None:
    """`--store` audits what a sync kept, and the banner says so instead of claiming sandbox data."""
    from catena_nb.client import CatenaClient
    from catena_nb.sandbox import Sandbox
    from catena_nb.store import AuditStore

    with Sandbox(seed=5, history=10, anchor="2026-11-01", time_scale=0.001, tsp_latency=0) as sb:
        client = CatenaClient(base_url=sb.url, token=sb.token, progress=False)
        with AuditStore(tmp_path / "audit.duckdb") as store:
            summary = store.sync(client, since="2026-10-20", until="2026-11-02", progress=False)
        client.close()
    out = report.render_report(tmp_path / "r.html", store=tmp_path / "audit.duckdb", progress=False)
    html = out.read_text(encoding="utf-8")
    assert "from the audit store" in html
    assert "Data from the audit store audit.duckdb" in html
    assert "catena-banner sandbox" not in html
    assert f"<strong>{summary.fetched:,} sends</strong>" in html


@pytest.mark.slow
def test_audit_report_reads_as_a_document(audit_html: str) -> None:
    """Contents link every section, no table shows row numbers, numbers align right, dark and print styles."""
    sections = re.findall(r'<h2 id="([^"]+)">', audit_html)
    assert len(sections) >= 8
    assert re.findall(r'<li><a href="#([^"]+)">', audit_html) == sections
    assert "<th>0</th>" not in audit_html
    assert audit_html.count('<td class="num">') > 50
    assert "@media (prefers-color-scheme: dark)" in audit_html
    assert "@media print" in audit_html


@pytest.mark.slow
def test_report_skip_cells_are_not_run_and_the_wait_comes_before_the_data(tmp_path: Path) -> None:
    """A `report-skip` cell is not executed; `before_data` is called once, before the first data cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("seed = 7", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('data', seed)"),
        nbformat.v4.new_code_cell("raise RuntimeError('not run')", metadata={"tags": ["report-skip"]}),
        nbformat.v4.new_code_cell("print('after')"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    waits: list[int] = []
    report.execute_notebook(nb, cwd=tmp_path, progress=False, before_data=lambda: waits.append(len(waits)))
    assert waits == [0]
    assert [o.get("text") for o in nb.cells[1].outputs] == ["data 7\n"]
    assert nb.cells[2].outputs == []
    assert [o.get("text") for o in nb.cells[3].outputs] == ["after\n"]
