"""The committed notebooks: executed, deterministic to compare, and safe to share."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
TOKEN_LIKE = re.compile(r"(Bearer\s+[A-Za-z0-9._~+/-]{16,}|access_token|client_secret\s*=\s*['\"])")


def _code_cells(path: Path) -> list[dict[str, Any]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_four_notebooks_are_there() -> None:
    """The documentation notebooks exist under their documented names."""
    names = {p.name for p in NOTEBOOKS}
    assert {
        "01_send_messages.ipynb",
        "02_operation_lookups.ipynb",
        "03_reliability_audit.ipynb",
        "04_webhooks_and_store.ipynb",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_fully_executed(path: Path) -> None:
    """Every code cell ran, in order, without an error output."""
    cells = _code_cells(path)
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{path.name}: unexecuted cells"
    assert counts == sorted(counts), f"{path.name}: cells ran out of order"
    errors = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_holds_no_svg_widget_state_or_secret(path: Path) -> None:
    """No SVG (it differs on every run), no stored widget state, no token in any output."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: widget state is stored"
    for cell in _code_cells(path):
        for output in cell["outputs"]:
            assert "image/svg+xml" not in output.get("data", {}), f"{path.name}: SVG output"
            text = json.dumps(output)
            assert not TOKEN_LIKE.search(text), f"{path.name}: something like a token in an output"
        source = "".join(cell["source"])
        assert not source.rstrip().endswith(";"), f"{path.name}: a trailing ';' (nbval ignores it)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_a_parameters_cell(path: Path) -> None:
    """Each notebook has one cell tagged `parameters` (seed, dates), so runs can be parameterised."""
    tagged = [c for c in _code_cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
