"""Print the table of wrong inputs: every public function that takes a frame, each wrong input a new user
tries, and the first line of the error it raises.

Usage: python scripts/wrong_inputs.py [--markdown]

The cases are those of ``tests/test_wrong_inputs.py`` (``tests/support/wrong_inputs.py``). The last lines
count the errors that are bare ``KeyError``/``AttributeError``, the inputs accepted silently, and the
messages that do not name the frame expected: each must be 0.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the cases live with the tests that use them
os.environ.setdefault("MPLBACKEND", "Agg")

from tests.support.wrong_inputs import outcomes


def main(markdown: bool) -> int:
    results = outcomes()
    if markdown:
        print("| function | wrong input | error | message (first line) |")
        print("|---|---|---|---|")
    for o in results:
        line = o.first_line.replace("|", "\\|")
        if markdown:
            print(f"| `{o.case.function}` | {o.case.wrong} | {o.kind} | {line} |")
        else:
            print(f"{o.case.function:28} {o.case.wrong:34} {o.kind:24} {line}")
    bare = sum(isinstance(o.error, KeyError | AttributeError) for o in results)
    silent = sum(o.error is None for o in results)
    unclear = sum(not o.clear for o in results)
    functions = len({o.case.function for o in results})
    print(
        f"\n{len(results)} cases over {functions} functions: {bare} bare KeyError/AttributeError, "
        f"{silent} accepted silently, {unclear} without the frame expected in the message"
    )
    return 1 if bare or silent or unclear else 0


if __name__ == "__main__":
    sys.exit(main("--markdown" in sys.argv[1:]))
