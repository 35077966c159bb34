"""Render the report of a store full of hostile text and print what the page would run or fetch.

Usage: python scripts/hostile_report.py [--keep DIR]

The store is ``tests/security/_hostile.py``'s: the sandbox's seeded history with markup, Markdown links and
images to a tracker on 127.0.0.1, obfuscated ``javascript:`` URLs and right-to-left overrides in every text
the report shows. The figures: counts on the parsed HTML, then chromium's record (Debian's chromium through
Playwright) of every request and dialog on opening the file and on clicking each of its links, and the
tracker's hits. Every count but the links, images and links clicked must be 0.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the store lives with the tests that use it

from catena_nb.report import render_report
from tests.support.hostile_store import (
    SINCE,
    UNTIL,
    build_hostile_store,
    findings,
    open_in_chromium,
    page_counts,
    tracker,
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="DIR", help="write the store and the report there (kept)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="hostile-report-") as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        with tracker() as t:
            start = time.perf_counter()
            store = build_hostile_store(folder, t)
            out = render_report(
                folder / "report.html", store=store.path, since=SINCE, until=UNTIL, progress=False
            )
            elapsed = time.perf_counter() - start
            page = out.read_text(encoding="utf-8")
            counts = page_counts(page)
            record = open_in_chromium(out)
            hits = list(t.hits)
            # the browser's own layer: markup written into the file after the export, past every pass
            planted = folder / "planted.html"
            planted.write_text(page.replace("<main>", "<main>" + _planted(t.url), 1), encoding="utf-8")
            planted_record = open_in_chromium(planted)
            planted_hits = list(t.hits)[len(hits) :]
        lines = [
            f"store: {store.operations:,} operations, {store.messages:,} messages, "
            f"{len(store.incidents)} seeded incidents; report {len(page):,} bytes in {elapsed:.1f} s",
            f"findings naming a hostile TSP: {sum('<' in f or '](' in f for f in findings(page))}",
            "parsed HTML:",
            *(f"  {name}: {value}" for name, value in asdict(counts).items()),
            "chromium:",
            # Playwright reports no request for a data: URI: the one request on open is the file itself
            f"  requests on open (all): {len(record.requests_on_open)} {record.requests_on_open}, "
            f"of which not data: and not the file itself: {record.foreign(out.as_uri())}",
            f"  links clicked: {record.links_clicked}; requests after the clicks: "
            f"{record.requests_on_clicks}",
            f"  dialogs: {record.dialogs}",
            f"  navigations away from the page: {record.left_the_page}",
            f"  DOM counts: {record.dom}",
            f"tracker hits: {len(hits)} {hits}",
            "markup planted in the file after the export (only the Content-Security-Policy stands):",
            f"  scripts in the DOM: {planted_record.dom['scripts']}, dialogs: {planted_record.dialogs}, "
            f"tracker hits: {len(planted_hits)} {planted_hits}",
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        bad = counts.hostile() + len(record.foreign(out.as_uri())) + len(record.dialogs) + len(hits)
        bad += len(planted_record.dialogs) + len(planted_hits)
        return 1 if bad else 0


def _planted(url: Callable[[str], str]) -> str:
    return (
        f'<script>alert("planted")</script><img src="{url("planted.png")}" onerror="alert(2)">'
        f'<a href="javascript:alert(3)">j</a><div style="background:url({url("planted-css")})">s</div>'
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
