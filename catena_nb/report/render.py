"""The shareable reliability report: the audit notebook, executed with parameters, as one offline HTML file.

The notebook is run with nbclient (a papermill-style ``parameters`` cell is followed by an injected cell
tagged ``injected-parameters``), then exported with nbconvert through the ``catena_report`` template, which
is the lab template without the scripts it would load from CDNs. The file has code hidden, no widgets, charts
as embedded PNG, API-supplied HTML sanitised, and a banner that says whether the data came from the sandbox.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from catena_nb import _config
from catena_nb._progress import progress_bar
from catena_nb.errors import CatenaError
from catena_nb.report import layout as _layout
from catena_nb.report import sanitize as _policy

logger = logging.getLogger("catena_nb.report")

AUDIT_NOTEBOOK = "03_reliability_audit.ipynb"
TEMPLATE_NAME = "catena_report"
DEFAULT_OUTPUT = Path("catena-reliability-report.html")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# Cells tagged with one of these are left out of the report (the interactive dashboard, set-up code).
REMOVE_CELL_TAGS = ("remove-cell", "report-skip")
# Cells tagged so are not even run for the report: what they make could not be shown in it (the dashboard's
# widgets, whose first drawing of its charts costs seconds); "remove-cell" runs and hides.
SKIP_CELL_TAG = "report-skip"
# Sent to the kernel (silently, out of the notebook) while the data it waits for is being made: the imports
# every audit cell needs then cost nothing on the way to the report. Failing, it leaves them to the cells.
KERNEL_WARM_UP = """\
try:
    import matplotlib.pyplot
    import pandas

    import catena_nb.analysis
    import catena_nb.charts
    import catena_nb.client
    import catena_nb.frames
except Exception:
    pass
"""

# The report's HTML policy (what a fragment, an output and the page may hold) lives in _report_html.
ALLOWED_TAGS = _policy.ALLOWED_TAGS
ALLOWED_ATTRIBUTES = _policy.ALLOWED_ATTRIBUTES
ALLOWED_PROTOCOLS = _policy.ALLOWED_PROTOCOLS
sanitize_html = _policy.sanitize_html


class ServedAPI(Protocol):
    """An API served beside the report's kernel: its environment (known before it serves), and a wait."""

    def environment(self) -> Mapping[str, str]: ...

    def wait(self) -> None: ...


def credentials_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment names a real Catena account (a token, or a client id and secret)."""
    env = os.environ if environ is None else environ
    if env.get(_config.ENV_TOKEN):
        return True
    return bool(env.get(_config.ENV_CLIENT_ID) and env.get(_config.ENV_CLIENT_SECRET))


def find_audit_notebook() -> Path:
    """The audit notebook: packaged with catena_nb, or in the source tree's ``notebooks/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_notebooks" / AUDIT_NOTEBOOK, here.parents[1] / "notebooks" / AUDIT_NOTEBOOK):
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


def _sanitize_outputs(nb: Any) -> None:
    """Make every output safe to open: outputs reduced to what the template shows safely, HTML sanitised
    (Markdown is rendered and sanitised by the export, see ``to_html``)."""
    _policy.sanitize_notebook(nb)


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


def execute_notebook(
    nb: Any,
    *,
    cwd: Path,
    progress: bool = True,
    timeout: int = 600,
    env: Mapping[str, str] | None = None,
    before_data: Callable[[], None] | None = None,
    after_data: Callable[[], None] | None = None,
) -> Any:
    """Run every cell of ``nb`` in a fresh kernel of this Python, with a progress bar over the cells.

    ``env`` is added to the kernel's environment; ``before_data`` is called (and may wait) before the first
    code cell after the ``parameters`` cells, so that what it waits for is made while the kernel starts and
    imports what the cells need (``KERNEL_WARM_UP``); ``after_data`` (which must not wait) once that cell
    has run. Cells tagged ``report-skip`` are not run.

    Raises:
        ReportError: a cell failed (its error name and message), ran past ``timeout``, or the kernel died.
    """
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    def runs(cell: Any) -> bool:
        tags = cell.get("metadata", {}).get("tags", [])
        return bool(cell.cell_type == "code" and SKIP_CELL_TAG not in tags)

    code_cells = sum(1 for c in nb.cells if runs(c))
    parameters = ("parameters", "injected-parameters")
    first_data = next(
        (
            i
            for i, c in enumerate(nb.cells)
            if runs(c) and not set(parameters) & set(c.get("metadata", {}).get("tags", []))
        ),
        -1,
    )
    bar = progress_bar(progress, total=code_cells, desc="report", unit="cell")
    running: list[int] = []  # the code cells started so far, by index in the notebook

    def advance(cell_index: int, **_: Any) -> None:
        bar.update(1)
        if after_data is not None and cell_index == first_data:
            after_data()

    def started(cell_index: int, **_: Any) -> None:
        running.append(cell_index)
        if before_data is not None and cell_index == first_data:
            # queued before the cell: the kernel imports while this process waits; an error in it must not
            # abort the cells queued behind it
            if client.kc is not None:
                client.kc.execute(KERNEL_WARM_UP, silent=True, store_history=False, stop_on_error=False)
            before_data()

    # IPC sockets in the scratch folder: no TCP port is opened for the kernel.
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(cwd / "kernel"))
    client = NotebookClient(
        nb,
        km=kernel,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        store_widget_state=False,
        skip_cells_with_tag=SKIP_CELL_TAG,
        on_cell_execute=started,
        on_cell_executed=advance,
    )

    def cell() -> int | None:  # the failing cell's number among the code cells
        return len(running) or None

    # The report's kernel never draws progress bars or opens windows.
    extra = {"TQDM_DISABLE": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline", **(env or {})}
    env_before = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
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


_exporter_lock = threading.Lock()


@functools.cache
def _exporter() -> Any:
    """The report's exporter, made once: its template is compiled on its first export, not on each."""
    templates = Path(__file__).resolve().parent / "templates"
    return _policy.report_exporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(templates)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def prepare_export() -> None:
    """Export a small notebook of each kind of cell and output, and throw the page away.

    The first export imports nbconvert, the sanitiser and the Markdown renderer, compiles the template and
    the regular expressions behind them: about a second that ``render_report`` spends while the kernel runs
    the analysis cells instead of after them.
    """
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\n## Section\n\nText with `code` and **bold**."),
        nbformat.v4.new_code_cell(
            "",
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={
                        "text/html": '<table class="dataframe"><thead><tr><th></th><th>n</th></tr></thead>'
                        "<tbody><tr><th>0</th><td>1</td></tr></tbody></table>",
                        "text/plain": "n 1",
                    },
                ),
                nbformat.v4.new_output("display_data", data={"text/markdown": "- **a** item"}),
                nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "x"}),
                nbformat.v4.new_output("stream", name="stdout", text="text\n"),
            ],
        ),
    ]
    to_html(nb, title="", banner={"sandbox": True, "headline": "", "meta": ""})


def _prepare_quietly() -> None:
    try:
        prepare_export()
    except Exception:  # the report's own export will raise it, if it is not a fluke of the small notebook
        logger.debug("report: the export could not be prepared", exc_info=True)


def to_html(nb: Any, *, title: str, banner: Mapping[str, Any]) -> str:
    """Export an executed notebook as one offline HTML page with code hidden, under the report's HTML policy.

    The outputs are sanitised, every piece of Markdown is rendered and then sanitised, the whole page is
    checked once more against the policy's allow-list, and it opens with a Content-Security-Policy that lets
    the browser run no script and load nothing but data: (see ``catena_nb.report.sanitize``).
    """
    _policy.sanitize_notebook(nb)
    nb.metadata["title"] = title
    resources = {
        "catena": dict(banner),
        "catena_csp": _policy.CONTENT_SECURITY_POLICY,
        "catena_dark_css": _layout.dark_theme_css(),
    }
    with _exporter_lock:  # one exporter for every report of the process: one export at a time
        body, _ = _exporter().from_notebook_node(nb, resources=resources)
    page, removed = _policy.enforce_page_policy(_layout.lay_out(str(body)))
    if removed:
        # the passes before this one should have left nothing to remove: say what got that far
        logger.warning("report: the last check removed %d item(s): %s", len(removed), "; ".join(removed[:9]))
    return page


def render_report(
    out: str | os.PathLike[str] | None = None,
    *,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    store: str | os.PathLike[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    notebook: str | os.PathLike[str] | None = None,
    progress: bool = True,
    served: ServedAPI | None = None,
) -> Path:
    """Execute the audit notebook and write the reliability report as one self-contained HTML file.

    Args:
        out: where to write the HTML (default ``./catena-reliability-report.html``).
        since, until: the audit window (dates or ISO strings), passed to the notebook's parameters.
        store: an AuditStore path to read operations from instead of the API.
        parameters: further values for the notebook's ``parameters`` cell.
        notebook: another notebook to run instead of the packaged audit notebook.
        progress: show a progress bar over the notebook's cells.
        served: a sandbox served beside the kernel (``catena-nb report`` starts one in its own process when
            no credentials are set, so that its history is built while the kernel starts and its answers
            are made on the other core): the kernel gets its environment, and the notebook's data cell
            waits until it serves.

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
    # the export's first-time costs are paid in this process while the kernel runs the analysis (once the
    # data cell is done: before, this process's core serves the sandbox's pages)
    preparing = threading.Thread(target=_prepare_quietly, name="catena-report-export", daemon=True)
    with tempfile.TemporaryDirectory(prefix="catena-report-") as work:
        env = served.environment() if served is not None else None
        wait = served.wait if served is not None else None
        execute_notebook(
            nb, cwd=Path(work), progress=progress, env=env, before_data=wait, after_data=preparing.start
        )
    if preparing.is_alive():
        preparing.join()
    _strip_widgets(nb)  # to_html sanitises the outputs
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
