"""The layout holds: the import contracts are kept, no module imports itself in a circle, packages stay small.

The contracts (layers, a self-contained sandbox) are declared in pyproject.toml under ``tool.importlinter``;
``lint-imports`` checks them, and so does this test, so that an upward import fails the test command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "catena_nb"
MAX_TOP_LEVEL_MODULES = 12
MIN_SUBPACKAGES = 5
MAX_MODULE_LINES = 500


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of two or more modules (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_the_import_contracts_are_kept() -> None:
    """`lint-imports` passes: every layer imports only from those below it, and the sandbox stands alone."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_takes_part_in_an_import_cycle() -> None:
    """No import cycle in catena_nb, counting imports inside functions (not those for type checkers)."""
    graph = grimp.build_graph("catena_nb", exclude_type_checking_imports=True, cache_dir=None)
    assert _cycles(graph) == []


def test_the_top_level_holds_few_modules_and_the_layers_are_packages() -> None:
    """At most 12 modules directly in catena_nb/, and at least 5 subpackages."""
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules
    assert len(packages) >= MIN_SUBPACKAGES, packages


def test_no_module_is_over_500_lines() -> None:
    """Each module keeps to one concern: none of catena_nb's is longer than 500 lines."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The cycle check can fail: two modules importing each other are reported as one group."""
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(graph) == [["pkg.a", "pkg.b"]]
