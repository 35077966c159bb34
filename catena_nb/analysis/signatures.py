"""Error signatures: the cause behind an ``error_details`` text, with its ids, numbers and values taken out.

``signature_of(text)`` turns one text into its template: URLs to their host and path (ids in the path
templated, the query dropped), UUIDs and long hex or numeric ids to ``<id>``, other numbers to ``<n>``,
whitespace folded. Two texts that differ only by such values share a
signature; the words of the message, the HTTP status phrase and the host stay, so different causes do not.
"""

from __future__ import annotations

import re

__all__ = ["signature_of"]

_URL = re.compile(r"https?://([^/\s'\"?#]+)([^\s'\"?#]*)(?:\?[^\s'\"#]*)?(?:#[^\s'\"]*)?")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_HEX_ID = re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b")
_LONG_NUMBER = re.compile(r"\b\d{5,}\b")
_NUMBER = re.compile(r"(?<![\w<])\d+(?:\.\d+)?(?![\w>])")
_PATH_ID = re.compile(r"/(?:<id>|\d+|[0-9a-fA-F]{8,}|[A-Za-z]*\d[\w-]{5,})(?=/|$)")
_SPACE = re.compile(r"\s+")
# the status line of an HTTP error keeps its number: it names the cause ("401 Unauthorized")
_STATUS = re.compile(r"'(\d{3}) ([A-Z][A-Za-z ]+)'")


def _url(match: re.Match[str]) -> str:
    host, path = match.group(1), match.group(2)
    path = _UUID.sub("<id>", path)
    return "https://" + host + _PATH_ID.sub("/<id>", path)


def _tag(i: int) -> str:
    """A placeholder without digits (the number rules must not touch it)."""
    letters = ""
    while True:
        i, r = divmod(i, 26)
        letters += chr(ord("a") + r)
        if not i:
            return letters


def signature_of(text: str) -> str:
    """The template of one error text: the same for the same cause whatever its ids and values.

    Example:
        >>> signature_of("recipient 4f1c2d3e-0000-4000-8000-00000000abcd is deactivated (request 81723)")
        'recipient <id> is deactivated (request <id>)'
    """
    if not isinstance(text, str):
        raise TypeError(f"signature_of needs a str (an error_details text), not {type(text).__name__}")
    statuses: list[str] = []

    def keep_status(match: re.Match[str]) -> str:
        statuses.append(match.group(0))
        return f"\x00{_tag(len(statuses) - 1)}\x00"

    out = _STATUS.sub(keep_status, text)
    out = _URL.sub(_url, out)
    out = _UUID.sub("<id>", out)
    out = _HEX_ID.sub("<id>", out)
    out = _LONG_NUMBER.sub("<id>", out)
    out = _NUMBER.sub("<n>", out)
    out = _SPACE.sub(" ", out).strip()
    for i, status in enumerate(statuses):
        out = out.replace(f"\x00{_tag(i)}\x00", status)
    return out
