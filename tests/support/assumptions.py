"""Where the sandbox's code marks a choice with ``# assumed:``, and the README's table of those choices.

Each marker is located as ``catena_nb/sandbox/<module>.py:<name>``: the innermost function or class around
the comment (``Class.method`` for a method), or, for a comment at module level, the name the next statement
assigns. The README's table "What the sandbox assumes where Catena's docs are silent" names such locations in
backticks in its last column.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "catena_nb" / "sandbox"
README = ROOT / "README.md"
TABLE_TITLE = "What the sandbox assumes where Catena's docs are silent"
_MARKER = re.compile(r"^#\s*assumed\b", re.IGNORECASE)
_LOCATION = re.compile(r"`(catena_nb/sandbox/[\w/]+\.py):([\w.]+)`")


@dataclass(frozen=True)
class Marker:
    """One ``# assumed:`` comment: where it is, and what it says."""

    location: str  # catena_nb/sandbox/api/query.py:window
    line: int
    text: str


def _scopes(tree: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, dotted name) of every function and class, outermost first."""
    found: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found.append((start, child.end_lineno or child.lineno, name))
                visit(child, name + ".")

    visit(tree, "")
    return found


def _assigned_after(tree: ast.Module, line: int) -> str | None:
    """The name the first module-level statement after ``line`` assigns (or defines)."""
    for node in tree.body:
        if node.lineno <= line:
            continue
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            return node.targets[0].id
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            return node.target.id
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return node.name
        return None
    return None


def markers() -> list[Marker]:
    """Every ``# assumed`` comment under catena_nb/sandbox/, located."""
    out: list[Marker] = []
    for path in sorted(SANDBOX.rglob("*.py")):
        source = path.read_text()
        tree = ast.parse(source)
        scopes = _scopes(tree)
        module = path.relative_to(ROOT).as_posix()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type != tokenize.COMMENT or not _MARKER.match(tok.string):
                continue
            line = tok.start[0]
            around = [name for start, end, name in scopes if start <= line <= end]
            name = around[-1] if around else _assigned_after(tree, line)
            out.append(Marker(f"{module}:{name}", line, tok.string))
    return out


def readme_rows() -> list[tuple[str, str, set[str]]]:
    """The rows of the README's table: (behaviour, why, the locations its last column names)."""
    text = README.read_text()
    start = text.index(TABLE_TITLE)
    rows: list[tuple[str, str, set[str]]] = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or set(cells[0]) <= {"-", " ", ":"} or cells[0].lower() == "behaviour":
            continue
        rows.append((cells[0], cells[1], {f"{m}:{n}" for m, n in _LOCATION.findall(cells[-1])}))
    return rows
