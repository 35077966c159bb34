"""The shareable reliability report: the audit notebook, executed with parameters, as one offline HTML file.

The notebook is run with nbclient (a papermill-style ``parameters`` cell is followed by an injected cell
tagged ``injected-parameters``), then exported with nbconvert through the ``catena_report`` template, which
is the lab template without the scripts it would load from CDNs. The file has code hidden, no widgets, charts
as embedded PNG, API-supplied HTML sanitised, and a banner that says whether the data came from the sandbox.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catena_nb import _config
from catena_nb.errors import CatenaError

logger = logging.getLogger("catena_nb.report")

AUDIT_NOTEBOOK = "03_reliability_audit.ipynb"
TEMPLATE_NAME = "catena_report"
DEFAULT_OUTPUT = Path("catena-reliability-report.html")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# Cells tagged with one of these are left out of the report (the interactive dashboard, set-up code).
REMOVE_CELL_TAGS = ("remove-cell", "report-skip")

# What an HTML output may keep: tables, text formatting, and images embedded as data. Everything else (script,
# iframe, event handlers, javascript: links) is removed. nbconvert's own sanitiser is not used: its allow-list
# escapes headings, paragraphs and table headers (jupyter/nbconvert#2016), so a report would show raw markup.
ALLOWED_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "col",
        "colgroup",
        "dd",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    ]
)
ALLOWED_ATTRIBUTES = {
    "*": ["class", "title", "colspan", "rowspan", "align", "role", "aria-label"],
    "a": ["href"],
    "img": ["src", "alt", "width", "height"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "data"})


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Whether an attribute stays: the allow-list above, and an image's source only when embedded."""
    if tag == "img" and name == "src":
        # a remote or relative source would be fetched when the report is opened (a tracker, or a request
        # from a file that promises to load nothing): only images embedded as data stay
        return value.strip().lower().startswith("data:image/")
    return name in ALLOWED_ATTRIBUTES["*"] or name in ALLOWED_ATTRIBUTES.get(tag, [])


_DROP_WITH_CONTENT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def credentials_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment names a real Catena account (a token, or a client id and secret)."""
    env = os.environ if environ is None else environ
    if env.get(_config.ENV_TOKEN):
        return True
    return bool(env.get(_config.ENV_CLIENT_ID) and env.get(_config.ENV_CLIENT_SECRET))


def find_audit_notebook() -> Path:
    """The audit notebook: packaged with catena_nb, or in the source tree's ``notebooks/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_notebooks" / AUDIT_NOTEBOOK, here.parent / "notebooks" / AUDIT_NOTEBOOK):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{AUDIT_NOTEBOOK} is neither packaged with catena_nb nor in ./notebooks")


def inject_parameters(nb: Any, parameters: Mapping[str, Any]) -> Any:
    """Insert a cell tagged ``injected-parameters`` after the ``parameters`` cell (papermill's convention).

    Values are written as Python literals with ``repr``, so only plain values (str, int, float, bool, None)
    are accepted.
    """
    import nbformat

    for name, value in parameters.items():
        if not name.isidentifier():
            raise ValueError(f"parameter name {name!r} is not a Python identifier")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise TypeError(f"parameter {name!r} must be a str, int, float, bool or None, not {type(value)}")
    lines = ["# Parameters injected by catena-nb report"]
    lines += [f"{name} = {value!r}" for name, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    cells = nb.cells
    position = next(
        (i + 1 for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0
    )
    cells[:] = [c for c in cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    cells.insert(position, cell)
    return nb


def sanitize_html(fragment: str) -> str:
    """An HTML output reduced to the allowed tags and attributes; scripts and styles go with their content."""
    import bleach

    cleaned = bleach.clean(
        _DROP_WITH_CONTENT.sub("", fragment),
        tags=ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return str(cleaned)


def _sanitize_outputs(nb: Any) -> None:
    """Make every output safe to open: HTML outputs sanitised, Markdown outputs shown as text where they
    hold markup (they are built from API data, which could carry HTML)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            data = output.get("data", {})
            if "text/html" in data:
                value = data["text/html"]
                data["text/html"] = sanitize_html("".join(value) if isinstance(value, list) else value)
            if "text/markdown" in data:
                value = data["text/markdown"]
                text = "".join(value) if isinstance(value, list) else value
                data["text/markdown"] = html.escape(text, quote=False)


def _strip_widgets(nb: Any) -> None:
    """Drop widget state and widget views: a static report cannot run them, and they would load scripts."""
    nb.metadata.pop("widgets", None)
    kept = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if any(tag in tags for tag in REMOVE_CELL_TAGS):
            continue
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_MIME not in o.get("data", {})]
        kept.append(cell)
    nb.cells = kept


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class ReportError(CatenaError):
    """The notebook failed while the report ran: the failing cell's error, without its code.

    Attributes:
        ename: the exception's name in the kernel (``FileNotFoundError``, ...).
        evalue: its message.
        cell: the failing cell's number among the notebook's code cells (1-based), when known.
        traceback: the kernel's traceback (plain text), for debugging.
    """

    def __init__(self, ename: str, evalue: str, *, cell: int | None = None, traceback: str = "") -> None:
        self.ename = ename
        self.evalue = evalue
        self.cell = cell
        self.traceback = traceback
        where = f" at code cell {cell}" if cell is not None else ""
        super().__init__(f"the audit notebook stopped{where} with {ename}: {evalue}")


def execute_notebook(nb: Any, *, cwd: Path, progress: bool = True, timeout: int = 600) -> Any:
    """Run every cell of ``nb`` in a fresh kernel of this Python, with a progress bar over the cells.

    Raises:
        ReportError: a cell failed (its error name and message), ran past ``timeout``, or the kernel died.
    """
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from tqdm.auto import tqdm

    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    bar = tqdm(total=code_cells, desc="report", unit="cell", disable=not progress)
    running: list[int] = []  # the code cells started so far, by index in the notebook

    def advance(**_: Any) -> None:
        bar.update(1)

    def started(cell_index: int, **_: Any) -> None:
        running.append(cell_index)

    # IPC sockets in the scratch folder: no TCP port is opened for the kernel.
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(cwd / "kernel"))
    client = NotebookClient(
        nb,
        km=kernel,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        store_widget_state=False,
        on_cell_execute=started,
        on_cell_executed=advance,
    )

    def cell() -> int | None:  # the failing cell's number among the code cells
        return len(running) or None

    # The report's kernel never draws progress bars or opens windows.
    env_before = {k: os.environ.get(k) for k in ("TQDM_DISABLE", "MPLBACKEND")}
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        client.execute(cleanup_kc=True)  # we made the kernel manager, so we shut its kernel down
    except CellExecutionError as exc:
        # the cell's error, not the cell's code nor the machinery's traceback around it
        raise ReportError(exc.ename, exc.evalue, cell=cell(), traceback=_ANSI.sub("", str(exc))) from exc
    except CellTimeoutError as exc:
        raise ReportError("CellTimeoutError", f"a cell ran for more than {timeout} s", cell=cell()) from exc
    except DeadKernelError as exc:
        raise ReportError("DeadKernelError", f"the kernel died ({exc})", cell=cell()) from exc
    finally:
        bar.close()
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def to_html(nb: Any, *, title: str, banner: Mapping[str, Any]) -> str:
    """Export an executed notebook as one offline HTML page with code hidden (sanitise its outputs first)."""
    from nbconvert import HTMLExporter

    templates = Path(__file__).resolve().parent / "templates"
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(templates)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb, resources={"catena": dict(banner)})
    return str(body)


def render_report(
    out: str | os.PathLike[str] | None = None,
    *,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    store: str | os.PathLike[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    notebook: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> Path:
    """Execute the audit notebook and write the reliability report as one self-contained HTML file.

    Args:
        out: where to write the HTML (default ``./catena-reliability-report.html``).
        since, until: the audit window (dates or ISO strings), passed to the notebook's parameters.
        store: an AuditStore path to read operations from instead of the API.
        parameters: further values for the notebook's ``parameters`` cell.
        notebook: another notebook to run instead of the packaged audit notebook.
        progress: show a progress bar over the notebook's cells.

    Returns:
        The path of the HTML file written.

    Raises:
        ReportError: the notebook failed; the error of its failing cell, without the cell's code.

    Example:
        >>> path = render_report("report.html", since="2026-10-01")  # doctest: +SKIP
    """
    import nbformat

    source = Path(notebook) if notebook is not None else find_audit_notebook()
    values: dict[str, Any] = dict(parameters or {})
    if since is not None:
        values["since"] = str(since)
    if until is not None:
        values["until"] = str(until)
    if store is not None:
        values["store"] = str(Path(store).resolve())
    nb = nbformat.read(source, as_version=4)
    if values:
        inject_parameters(nb, values)
    sandbox = store is None and not credentials_configured()
    with tempfile.TemporaryDirectory(prefix="catena-report-") as work:
        execute_notebook(nb, cwd=Path(work), progress=progress)
    _strip_widgets(nb)
    _sanitize_outputs(nb)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    shown = ", ".join(f"{k}={v}" for k, v in values.items()) or "notebook defaults"
    if sandbox:
        title = "Catena reliability report (sandbox data)"
        headline = "Sandbox data: simulated TSPs, not your fleet. No Catena credentials were configured."
    elif store is not None:
        title = "Catena reliability report"
        headline = f"Data from the audit store {Path(store).name}, as last synced."
    else:
        title = "Catena reliability report"
        headline = "Live data from the Catena API."
    banner = {"sandbox": sandbox, "headline": headline, "meta": f"Generated {now} · parameters: {shown}"}
    html = to_html(nb, title=title, banner=banner)
    target = Path(out) if out is not None else DEFAULT_OUTPUT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    logger.info("report written to %s (%d bytes)", target, len(html.encode()))
    return target.resolve()
