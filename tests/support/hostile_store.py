"""A store full of hostile text, a tracker that records every hit, and what a page would do with them.

The store is the sandbox's seeded history (its three incidents included) with every text the report can show
replaced by markup, Markdown links and images to a tracker on 127.0.0.1, obfuscated ``javascript:`` URLs and
right-to-left overrides: the TSP names, the fleets, the error types and details, the message texts and
names. Used by ``test_report_hostile.py`` and ``scripts/hostile_report.py`` (which prints the figures).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

from catena_nb._html import BIDI_CONTROLS
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.world import build_world
from catena_nb.store import AuditStore

SEED = 7
DAYS = 30
ANCHOR = dt.date(2026, 11, 1)
SINCE, UNTIL = "2026-10-03", "2026-11-02"
RLO = "\u202e"

# attributes whose value a browser fetches or follows
URL_ATTRIBUTES = frozenset(
    {"href", "src", "srcset", "poster", "background", "action", "formaction", "data", "codebase", "cite",
     "longdesc", "lowsrc", "dynsrc", "ping", "xlink:href", "manifest", "icon", "profile", "archive"}
)  # fmt: skip
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*(?!data:)|@import", re.IGNORECASE)
DANGEROUS_TAGS = ("script", "iframe", "object", "embed", "form", "svg", "link", "base", "frame", "style")


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    do_POST = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Tracker:
    """An HTTP server on 127.0.0.1 that answers everything and records the path of every request."""

    port: int
    hits: list[str]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"


@contextmanager
def tracker() -> Iterator[Tracker]:
    """A running tracker, shut down on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Tracker(port=server.server_address[1], hits=server.hits)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def hostile_texts(t: Tracker) -> dict[str, dict[str, str]]:
    """What each seeded value becomes, per field: each one carries markup or Markdown to run or fetch."""
    return {
        "source_name": {
            "samsara": "samsara<script>alert(1)</script>",
            "motive": "motive<img src=x onerror=alert(2)>",
            "geotab": f"geotab{RLO}[fleet](javascript:alert(3))",
            "omnitracs": f"omnitracs![t]({t.url('track.png')})",
        },
        "fleet_ref": {
            "FLT-NF-01": f'FLT-NF-01<a href="{t.url("x")}">x</a>',
            "FLT-BRH-02": (
                'FLT-BRH-02 [y](javascript&colon;alert(6)) <a href="jav&#x09;ascript:alert(7)">j</a>'
            ),
            "FLT-PCC-03": f"FLT-PCC-03 <{t.url('auto')}> {t.url('bare')} www.example.com",
            "FLT-HL-04": (
                f'FLT-HL-04{RLO}gnp.exe [z](&#106;avascript:alert(8)) <iframe src="{t.url("frame")}">'
            ),
            "FLT-STL-05": (
                f"FLT-STL-05<svg onload=alert(9)><style>body{{background:url({t.url('css')})}}</style>"
            ),
        },
        "error_type": {
            "auth": "auth`<script>alert(4)</script>`",
            "validation": "validation<img src=x onerror=alert(5)>",
            "network": f"network{RLO} ![n](//127.0.0.1:{t.port}/protocol-relative.png)",
            "tsp": f'tsp<meta http-equiv="refresh" content="0;url={t.url("refresh")}">',
        },
    }


def hostile_free_text(t: Tracker) -> str:
    """The text put in every error detail, message text and user name."""
    return (
        f'<a href="{t.url("details")}">details</a> <script>alert(10)</script> '
        f"![m]({t.url('msg.png')}) [m](javascript:alert(11)) {RLO}evil"
    )


@dataclass
class HostileStore:
    """The store written, the seeded incidents, and what each seeded value became."""

    path: Path
    names: dict[str, dict[str, str]]
    incidents: list[Any]
    operations: int
    messages: int


def _swap(mapping: Mapping[str, str], value: Any) -> Any:
    return mapping.get(value, value) if isinstance(value, str) else value


def build_hostile_store(folder: Path, t: Tracker) -> HostileStore:
    """The seeded history with hostile text in every field the report shows, upserted into a new store."""
    names = hostile_texts(t)
    free = hostile_free_text(t)
    history = generate_history(build_world(SEED), SEED, DAYS, ANCHOR)
    ops = []
    for op in history.operations:
        op = dict(op)
        op["source_name"] = _swap(names["source_name"], op.get("source_name"))
        op["fleet_ref"] = _swap(names["fleet_ref"], op.get("fleet_ref"))
        payload = dict(op.get("payload") or {})
        if "message_text" in payload:
            payload["message_text"] = free
        op["payload"] = payload
        logs = []
        for log in op.get("logs") or []:
            log = dict(log)
            if log.get("error_type"):
                log["error_type"] = _swap(names["error_type"], log["error_type"])
                log["error_details"] = free
            logs.append(log)
        op["logs"] = logs
        ops.append(op)
    msgs = []
    for msg in history.messages:
        msg = dict(msg)
        for key in ("source_name", "tsp_slug"):
            msg[key] = _swap(names["source_name"], msg.get(key))
        msg["fleet_ref"] = _swap(names["fleet_ref"], msg.get("fleet_ref"))
        for key in ("message_text", "sender_name", "recipient_name"):
            if msg.get(key) is not None:
                msg[key] = free
        msgs.append(msg)
    # the store's own name reaches the report too (its banner, and the findings' first line)
    path = folder / "audit [s](javascript:alert(12)) <b onmouseover=alert(13)>.duckdb"
    with AuditStore(path) as store:
        store.upsert(ops)
        store.upsert_messages(msgs)
    return HostileStore(path, names, list(history.incidents), len(ops), len(msgs))


# -- what a page holds ---------------------------------------------------------------------------------------
@dataclass
class PageCounts:
    """What a page would run or fetch, counted on its parsed HTML (all must be 0), and what it shows."""

    links_off_page: int = 0  # <a href> that is not an in-page anchor
    remote_resources: int = 0  # any URL attribute not data: (<a> anchors aside), CSS url()/@import
    handlers: int = 0  # attributes named on...
    styles_attributes: int = 0
    dangerous_elements: dict[str, int] = field(default_factory=dict)  # script, iframe, ... in the body
    meta_refresh: int = 0
    raw_bidi: int = 0
    links: int = 0  # every <a>, for the record
    images: int = 0  # every <img>

    def hostile(self) -> int:
        """The sum of everything that must be 0."""
        return (
            self.links_off_page
            + self.remote_resources
            + self.handlers
            + self.styles_attributes
            + sum(self.dangerous_elements.values())
            + self.meta_refresh
            + self.raw_bidi
        )


def page_counts(page: str) -> PageCounts:
    """Count, on the parsed page, every link away from it, URL that is not data:, handler and bidi control."""
    soup = BeautifulSoup(page, "html.parser")
    counts = PageCounts(raw_bidi=sum(page.count(c) for c in BIDI_CONTROLS))
    body = soup.body or soup
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value or "")
            lowered = name.lower()
            if lowered.startswith("on"):
                counts.handlers += 1
            if lowered == "style":
                counts.styles_attributes += 1
                counts.remote_resources += bool(_CSS_URL.search(text))
            if lowered in URL_ATTRIBUTES:
                stripped = text.strip()
                if tag.name == "a" and lowered == "href":
                    counts.links_off_page += not stripped.startswith("#")
                elif not stripped.lower().startswith("data:"):
                    counts.remote_resources += 1
        if tag.name == "meta" and str(tag.get("http-equiv", "")).lower() == "refresh":
            counts.meta_refresh += 1
    for style in soup.find_all("style"):
        counts.remote_resources += len(_CSS_URL.findall(style.get_text()))
    for name in DANGEROUS_TAGS:
        found = len(body.find_all(name))
        if found:
            counts.dangerous_elements[name] = found
    head = soup.head
    if head is not None:
        for name in ("script", "link", "base", "iframe"):
            found = len(head.find_all(name))
            if found:
                counts.dangerous_elements[f"head {name}"] = found
    counts.links = len(soup.find_all("a"))
    counts.images = len(soup.find_all("img"))
    return counts


def visible_text(page: str) -> str:
    """The page's text as a reader sees it (tags gone, entities decoded)."""
    return BeautifulSoup(page, "html.parser").get_text(" ")


def findings(page: str) -> list[str]:
    """The text of each list item of the report (the findings)."""
    return [li.get_text("") for li in BeautifulSoup(page, "html.parser").find_all("li")]


# -- what chromium does with it ------------------------------------------------------------------------------
@dataclass
class BrowserRecord:
    """Every request and dialog of a page opened from disk, on open and after clicking each of its links."""

    requests_on_open: list[str] = field(default_factory=list)
    requests_on_clicks: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    links_clicked: int = 0
    left_the_page: list[str] = field(default_factory=list)  # URLs a click navigated to, other than the page
    dom: dict[str, int] = field(default_factory=dict)

    def foreign(self, page_url: str) -> list[str]:
        """Requests for anything but the page itself and data: URIs."""
        return [
            u
            for u in self.requests_on_open + self.requests_on_clicks
            if not u.startswith("data:") and u.split("#")[0] != page_url
        ]


# counted in the live DOM, after chromium parsed the page: the same rules as page_counts
_DOM_COUNTS = """() => {
  const urlAttrs = %s;
  let off = 0, remote = 0, handlers = 0, styles = 0, bidi = 0;
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const n = a.name.toLowerCase(), v = a.value.trim();
      if (n.startsWith('on')) handlers++;
      if (n === 'style') styles++;
      if (urlAttrs.includes(n)) {
        if (el.tagName === 'A' && n === 'href') { if (!v.startsWith('#')) off++; }
        else if (!v.toLowerCase().startsWith('data:')) remote++;
      }
    }
    const bg = getComputedStyle(el).backgroundImage;
    if (bg && /url\\(\\s*["']?(?!data:)/i.test(bg)) remote++;
  }
  const text = document.documentElement.outerHTML;
  for (const c of %s) bidi += text.split(c).length - 1;
  return {links_off_page: off, remote_resources: remote, handlers: handlers, style_attributes: styles,
          scripts: document.scripts.length, iframes: document.querySelectorAll('iframe,object,embed').length,
          forms: document.forms.length, svgs: document.querySelectorAll('svg').length,
          raw_bidi: bidi, links: document.links.length + document.querySelectorAll('a:not([href])').length};
}"""


def open_in_chromium(path: Path) -> BrowserRecord:
    """Open ``path`` from disk in Debian's chromium, count its DOM, then click every link it has."""
    import json

    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS

    record = BrowserRecord()
    sink = record.requests_on_open
    url = path.resolve().as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(UI_TIMEOUT_MS)
            page = context.new_page()

            def on_dialog(dialog: Any) -> None:
                record.dialogs.append(f"{dialog.type}: {dialog.message}")
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.on("request", lambda request: sink.append(request.url))
            context.on("page", lambda popup: record.left_the_page.append(f"popup {popup.url}"))
            page.goto(url, wait_until="load")
            page.wait_for_timeout(300)
            script = _DOM_COUNTS % (json.dumps(sorted(URL_ATTRIBUTES)), json.dumps(sorted(BIDI_CONTROLS)))
            record.dom = page.evaluate(script)
            sink = record.requests_on_clicks
            n_links = page.locator("a").count()
            for i in range(n_links):
                # element.click() follows the link even where CSS hides it (the headings' anchor links)
                page.locator("a").nth(i).evaluate("a => a.click()")
                record.links_clicked += 1
                page.wait_for_timeout(20)
                if page.url.split("#")[0] != url:
                    record.left_the_page.append(page.url)
                    page.goto(url, wait_until="load")
            page.wait_for_timeout(300)
        finally:
            browser.close()
    return record
