"""What the report's HTML may hold, and the three passes that hold it to that, whatever the notebook produced.

A report is a file that people share and open from disk: it must run no script, fetch nothing, and show text
from the API as text. The policy: no ``<a>`` that leads anywhere but an anchor of the page (``#...``), no
URL but an embedded image (``data:image/...``), no event handler, no ``style`` attribute, and none of
``<script>``, ``<style>``, ``<link>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<form>``, ``<svg>``,
``<base>`` or ``<meta http-equiv>`` from the notebook. The passes:

1. :func:`sanitize_notebook` before the export: outputs keep only the MIME types the template shows safely,
   HTML outputs and raw cells go through :func:`sanitize_html`, images must be base64, their sizes numbers.
2. During the export, every piece of Markdown (the notebook's Markdown cells and its ``text/markdown``
   outputs alike) is rendered by nbconvert's own renderer and then through :func:`sanitize_html`: escaping
   Markdown before rendering it is not enough, as ``[x](javascript:...)`` carries no HTML to escape.
3. :func:`enforce_page_policy` over the whole exported page: an allow-list of the tags and attributes the
   template and the first two passes may leave, applied again to what a browser would parse. It normally
   finds nothing; what it removes is logged, as that means a pass above let something through.

And the page opens with :data:`CONTENT_SECURITY_POLICY`, so that the browser itself runs no script and
loads nothing but ``data:`` even from markup that got past all three (or was added to the file later).

nbconvert's own sanitiser is not used: its allow-list escapes headings, paragraphs and table headers
(jupyter/nbconvert#2016), so a report would show raw markup.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

from catena_nb._html import escape_html, neutralize_bidi

logger = logging.getLogger("catena_nb.report")

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_PROTOCOLS",
    "ALLOWED_TAGS",
    "CONTENT_SECURITY_POLICY",
    "enforce_page_policy",
    "report_exporter",
    "sanitize_html",
    "sanitize_notebook",
]

# What a fragment from the notebook may keep: tables, text formatting, headings, and images embedded as data.
ALLOWED_TAGS = frozenset(
    ["a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl",
     "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small",
     "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"]
)  # fmt: skip
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "*": frozenset({"class", "title", "colspan", "rowspan", "align", "role", "aria-label"}),
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    # the anchors nbconvert gives headings, which the ``#...`` links of the page point at
    **{h: frozenset({"id"}) for h in _HEADINGS},
}
# bleach's check of URL-valued attributes: only embedded data passes (anchors pass it as relative URLs)
ALLOWED_PROTOCOLS = frozenset({"data"})
# The template's first element: should anything get past the passes, the browser itself refuses to run a
# script (javascript: links included) or to load anything but data: images, fonts and the page's own styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)

# Elements whose content is no text a reader wants: dropped whole before bleach, which would keep it as text.
_DROP_WITH_CONTENT = re.compile(
    r"<(script|style|svg|math|template|iframe|object|noscript|textarea|select)\b[^>]*>.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp|svg\+xml)(?:;[\w.+=-]+)*;base64,[A-Za-z0-9+/=\s]+")
_NUMBER = re.compile(r"\d{1,5}")
# mistune aligns table columns with a style attribute: the same alignment as an attribute the policy allows
_ALIGN_STYLE = re.compile(r'<(th|td) style="text-align:(left|right|center)">')


def _is_anchor(value: str) -> bool:
    # a fragment-only URL stays on the page (no <base> is ever allowed to move it elsewhere)
    return value.startswith("#")


def _is_data_image(value: str) -> bool:
    return _DATA_IMAGE.fullmatch(value) is not None


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Whether an attribute stays: on the allow-list, and for a URL an anchor (links) or a data image."""
    if tag == "a" and name == "href":
        return _is_anchor(value)
    if tag == "img" and name == "src":
        # a remote or relative source would be fetched when the report is opened (a tracker, or a request
        # from a file that promises to load nothing): only images embedded as data stay
        return _is_data_image(value)
    if name in ("width", "height"):
        return _NUMBER.fullmatch(value) is not None
    return name in ALLOWED_ATTRIBUTES["*"] or name in ALLOWED_ATTRIBUTES.get(tag, ())


def sanitize_html(fragment: str) -> str:
    """An HTML fragment reduced to the allowed tags and attributes, with bidi controls shown.

    Scripts, styles, SVG and the like go with their content; other unknown tags are removed and their text
    kept; links keep only in-page anchors, images only ``data:image`` sources.
    """
    import bleach

    cleaned = bleach.clean(
        _DROP_WITH_CONTENT.sub("", fragment),
        tags=ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return neutralize_bidi(str(cleaned))


# -- pass 1: the notebook before the export ---------------------------------------------------------------
# Output MIME types the template renders safely (after the treatment below); any other is dropped, among
# them application/javascript (a <script>), text/vnd.mermaid (inserted unescaped) and widget views.
_KEPT_MIME = frozenset(
    {"text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/svg+xml"}
)
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _image_metadata(metadata: Any) -> dict[str, Any]:
    """The image metadata the template reads, each value checked: it lands in attributes unescaped."""
    kept: dict[str, Any] = {}
    if not isinstance(metadata, dict):
        return kept
    for key in ("width", "height"):
        value = metadata.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 100_000:
            kept[key] = int(value)
    if metadata.get("unconfined") is True:
        kept["unconfined"] = True
    if metadata.get("needs_background") in ("light", "dark"):
        kept["needs_background"] = metadata["needs_background"]
    return kept


def _sanitize_output(output: Any) -> None:
    # the template takes an image's src from these instead of the data when they are set
    output.pop("svg_filename", None)
    if "metadata" in output:
        metadata = output.get("metadata") or {}
        clean = _image_metadata(metadata)
        for mime in ("image/png", "image/jpeg"):
            if isinstance(metadata.get(mime), dict):
                clean[mime] = _image_metadata(metadata[mime])
        output["metadata"] = clean
    data = output.get("data")
    if data is None:
        return
    for mime in [m for m in data if m not in _KEPT_MIME]:
        del data[mime]
    for mime in ("image/png", "image/jpeg"):
        if mime in data and not _BASE64.fullmatch(_joined(data[mime])):
            del data[mime]
    if "image/svg+xml" in data:
        # the template embeds SVG as an <img> data URI (where it can run nothing and load nothing); checked
        # that it encodes, as a string that does not (a lone surrogate) would end the export
        try:
            _joined(data["image/svg+xml"]).encode("utf-8")
        except UnicodeEncodeError:
            del data["image/svg+xml"]
    if "text/html" in data:
        data["text/html"] = sanitize_html(_joined(data["text/html"]))
    # text/markdown stays Markdown: the exporter's markdown2html renders it and sanitises the HTML (pass 2)


def sanitize_notebook(nb: Any) -> None:
    """Make every output and raw cell of ``nb`` safe to export (in place); Markdown is left to the export."""
    for cell in nb.cells:
        if cell.cell_type == "raw":
            # raw cells are copied into an HTML export as they are
            cell.source = sanitize_html(_joined(cell.source))
        elif cell.cell_type == "code":
            kept = []
            for output in cell.get("outputs", []):
                if output.get("output_type") not in _OUTPUT_TYPES:
                    continue
                _sanitize_output(output)
                # an output left with nothing the template can show is dropped (it would warn, show nothing)
                if "data" not in output or output["data"]:
                    kept.append(output)
            cell.outputs = kept


_OUTPUT_TYPES = frozenset({"stream", "display_data", "execute_result", "error"})


# -- pass 2: Markdown rendered, then sanitised ------------------------------------------------------------
def safe_markdown(render: Callable[[str], str], source: str) -> str:
    """``source`` rendered to HTML by ``render``, then sanitised; Markdown the renderer refuses (an
    attachment that is not there) is shown as text."""
    try:
        rendered = render(source)
    except Exception:
        logger.debug("markdown not rendered, shown as text", exc_info=True)
        rendered = f"<pre>{escape_html(source)}</pre>"
    return sanitize_html(_ALIGN_STYLE.sub(r'<\1 align="\2">', rendered))


@functools.cache
def _exporter_class() -> type[Any]:
    from jinja2 import pass_context
    from nbconvert import HTMLExporter

    class ReportExporter(HTMLExporter):
        """The HTML exporter whose ``markdown2html`` filter sanitises what it renders."""

        @pass_context
        def markdown2html(self, context: Any, source: str) -> str:
            parent = super().markdown2html
            return safe_markdown(lambda text: str(parent(context, text)), source)

    return ReportExporter


def report_exporter(**config: Any) -> Any:
    """An ``HTMLExporter`` whose Markdown (cells and outputs) goes through :func:`sanitize_html`."""
    return _exporter_class()(**config)


# -- pass 3: the whole page -------------------------------------------------------------------------------
# What the exported page may hold: the fragments' allow-list, and the template's own frame around them.
_PAGE_TAGS = ALLOWED_TAGS | {"html", "head", "meta", "title", "style", "body", "main"}
_PAGE_ATTRIBUTES = frozenset(
    {"class", "id", "title", "colspan", "rowspan", "align", "role", "aria-label", "tabindex", "lang",
     "data-mime-type", "data-jp-theme-light", "data-jp-theme-name"}
)  # fmt: skip
_META_NAMES = frozenset({"viewport", "description", "generator"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
# CSS that fetches: url(), image-set(), @import; read after CSS escapes are undone (\75 rl( is url()
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.DOTALL)
_CSS_FETCH = re.compile(r"@import|(?:url|image-set|image|src)\(\s*(['\"]?)\s*(?!data:)", re.IGNORECASE)


def _css_fetches(css: str) -> bool:
    def unescape(m: re.Match[str]) -> str:
        if m.group(1):
            code = int(m.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return m.group(2)

    plain = _CSS_ESCAPE.sub(unescape, css).replace("/**/", "")
    return _CSS_FETCH.search(plain) is not None


class _PagePolicy(HTMLParser):
    """Re-writes a page token by token, keeping only allowed tags and attributes (values re-escaped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.removed: list[str] = []
        self._in_head = False
        self._raw: str | None = None  # "style" or "script": the element whose text is being read
        self._raw_text: list[str] = []
        self._raw_start = ""

    def _attribute(self, tag: str, name: str, value: str | None) -> str | None:
        """The attribute as written out, or None when the policy removes it."""
        text = value or ""
        if tag == "a" and name == "href":
            ok = _is_anchor(text)
        elif tag == "img" and name == "src":
            ok = _is_data_image(text)
        elif tag == "img" and name in ("alt", "width", "height"):
            ok = name == "alt" or _NUMBER.fullmatch(text) is not None
        elif tag == "meta":
            ok = name in ("charset", "name", "content", "http-equiv")  # http-equiv: only the CSP gets here
        elif tag == "style":
            ok = name == "type"
        else:
            ok = name in _PAGE_ATTRIBUTES
        if not ok:
            self.removed.append(f"<{tag} {name}={text[:60]!r}>")
            return None
        return name if value is None else f'{name}="{escape_html(value)}"'

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._raw is not None:
            return
        if tag == "head":
            self._in_head = True
        if tag in ("script", "style"):
            self._raw, self._raw_text, self._raw_start = tag, [], ""
        if tag not in _PAGE_TAGS or (tag == "style" and not self._in_head):
            # the template carries no script and styles only in <head>: any other is content, and goes
            self.removed.append(f"<{tag}>")
            return
        if tag == "meta" and not _allowed_meta(attrs):
            self.removed.append(f"<meta {' '.join(f'{n}={v!r}' for n, v in attrs)}>")
            return
        kept = [a for a in (self._attribute(tag, n, v) for n, v in attrs) if a is not None]
        start = f"<{tag}{''.join(' ' + a for a in kept)}>"
        if tag == "style":
            self._raw_start = start
        else:
            self.out.append(start)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # a browser ignores the self-closing slash on an HTML element (<script/> opens a script): so does this
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._raw is not None:
            if tag != self._raw:
                return
            raw, self._raw = self._raw, None
            if raw == "style" and self._raw_start:
                css = "".join(self._raw_text)
                if _css_fetches(css):
                    self.removed.append("<style> that fetches (url(), @import)")
                else:
                    self.out.append(f"{self._raw_start}{css}</style>")
            self._raw_start = ""
            return
        if tag == "head":
            self._in_head = False
        if tag in _PAGE_TAGS and tag not in _VOID and tag not in ("style", "script"):
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._raw_text.append(data)
        else:
            self.out.append(escape_html(data))

    def handle_decl(self, decl: str) -> None:
        if decl.lower() == "doctype html":
            self.out.append(f"<!{decl}>")

    def handle_comment(self, data: str) -> None:
        pass  # comments are dropped (conditional comments are markup to old browsers)

    def handle_pi(self, data: str) -> None:
        self.removed.append("<?...>")

    def unknown_decl(self, data: str) -> None:
        self.removed.append("<![...]>")


def _allowed_meta(attrs: list[tuple[str, str | None]]) -> bool:
    """A charset, a viewport or description, or the report's own Content-Security-Policy: no refresh."""
    values = {n: (v or "") for n, v in attrs}
    if "http-equiv" in values:
        return (
            values["http-equiv"].lower() == "content-security-policy"
            and values.get("content") == CONTENT_SECURITY_POLICY
            and set(values) == {"http-equiv", "content"}
        )
    return "charset" in values or values.get("name", "").lower() in _META_NAMES


def enforce_page_policy(page: str) -> tuple[str, list[str]]:
    """The exported page re-written under the report's policy, and what had to be removed (normally nothing).

    Every tag and attribute is checked against the allow-list of the page (the template's frame and the
    fragments' allow-list), attribute values and text are re-escaped, scripts and styles outside ``<head>``
    go, a ``<style>`` that would fetch goes, and bidi controls are shown.
    """
    policy = _PagePolicy()
    policy.feed(neutralize_bidi(page))
    policy.close()
    if policy._raw is not None:  # an element left open at the end: its text is not written out
        policy.removed.append(f"unclosed <{policy._raw}>")
    return "".join(policy.out), policy.removed
