"""Re-execute the documentation notebooks in place, as nbval will, so their committed outputs are current.

Usage: python scripts/refresh_notebooks.py [NOTEBOOK ...]   (default: every notebook in notebooks/)

Outputs come from the seeded sandbox, progress bars are off, and widget state is not stored (nbval does not
compare it and the HTML report must not carry it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    sys.stdout.write(f"executed {path.name}\n")


def main(argv: list[str]) -> int:
    os.environ["TQDM_DISABLE"] = "1"
    targets = [Path(a).resolve() for a in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in targets:
        refresh(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
