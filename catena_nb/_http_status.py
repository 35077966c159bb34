"""The TSP's HTTP status of an attempt: the log's ``response_status_code``, else the status its text names.

Catena's lookup logs (``ResourceOperationLogRead``) carry no ``response_status_code``; only the write answers
do. The status is then only in ``error_details``, the text of the HTTP client Catena calls the TSP with, e.g.
``"Client error '401 Unauthorized' for url 'https://…'"`` (the seed's "Sync Write Operations" page).
:func:`attempt_status` takes the field where there is one and reads the text where there is not;
:mod:`catena_nb.frames` does the same for whole columns and says which it used.

The text is read with the phrasings of the common HTTP clients and of error bodies, strongest first, and the
first phrasing found wins (so the status line of an httpx error beats a ``"status"`` in the body it quotes):

- httpx's ``raise_for_status``: ``Client error '401 Unauthorized' for url …``, ``Server error '503 …'``;
- requests': ``401 Client Error: Unauthorized for url: …``; urllib's ``HTTP Error 404: Not Found``;
  aiohttp's ``503, message='Service Unavailable', url=…``;
- ``HTTP 503``, ``HTTP/1.1 503``, ``HTTP status 503``;
- ``status code 429``, ``status: 429``, ``status_code=429``, ``Request failed with status code 429``;
- ``returned 500``, ``responded with 502``, ``got 503``, ``received 504``;
- a JSON body's ``"status": 502`` (or ``statusCode``, ``status_code``, ``httpStatus``, ``code``).

A number is a status only in one of these phrasings, only with three digits that stand alone (not part of
an id such as ``503-ab12`` or ``4291``, nor a decimal), and only from 100 to 599. URLs are taken out of the
text first, so a number in a URL (``…/fleets/500/messages``, the MDN link httpx adds) is never read.
"""

from __future__ import annotations

import re

_URL = re.compile(r"""\b[a-z][a-z0-9+.-]*://[^\s'"<>]+""", re.IGNORECASE)
_CODE = r"([1-5]\d\d)(?![\w-]|\.\d)"  # three digits standing alone, not a decimal
# strongest first: the first phrasing that occurs anywhere in the text gives the status
_PHRASINGS = (
    # httpx
    rf"\b(?:client error|server error|redirect response|informational response|invalid status code)"
    rf"\s+'{_CODE}",
    # requests, urllib, aiohttp
    rf"(?<![\w.-]){_CODE} (?:client|server) error\b",
    rf"\bhttp error {_CODE}",
    rf"(?:^|:\s*){_CODE}, message=",
    # "HTTP 503", "HTTP/1.1 503 Service Unavailable", "HTTP status 503", "HTTP status code: 503"
    rf"\bhttp(?:/\d(?:\.\d)?)?\s+(?:status\s+(?:code\s*)?)?[:=]?\s*{_CODE}",
    # "status code 429", "status: 429", "status_code=429", "statusCode 429", "status of 503"
    rf"\bstatus(?:[ _]?code)?\s*(?:[:=]|\bis\b|\bof\b)?\s*{_CODE}",
    # "returned 500", "responded with 502", "answered with a 503", "got 503", "received HTTP 504"
    rf"\b(?:returned|responded|answered|got|received)\s+(?:with\s+)?(?:an?\s+)?(?:http\s+)?"
    rf"(?:status\s+(?:code\s+)?)?{_CODE}",
    # a JSON body: "status": 502, "statusCode": "502", "code": 429
    rf"""["'](?:status|status_?code|http_?status|code)["']\s*:\s*["']?{_CODE}""",
)
_TEXT = re.compile("|".join(f"(?:{p})" for p in _PHRASINGS), re.IGNORECASE)
# Two shortcuts that give what the phrasings give, for the texts most logs hold: one without three digits
# in a row names no status; one that opens with httpx's status line names that status (the strongest
# phrasing, which no URL can hide at the very start).
_ANY_CODE = re.compile(r"[1-5]\d\d")
_HTTPX_OPENING = re.compile(_PHRASINGS[0].removeprefix(r"\b"), re.IGNORECASE)


def status_in_text(text: str) -> int | None:
    """The HTTP status an error text names (see the module's phrasings), or None.

    Example:
        >>> status_in_text("Client error '401 Unauthorized' for url 'https://api.samsara.com/v1/x'")
        401
        >>> status_in_text("ReadTimeout: The read operation timed out") is None
        True
    """
    if _ANY_CODE.search(text) is None:
        return None
    opening = _HTTPX_OPENING.match(text)
    if opening is not None:
        return int(opening.group(1))
    best: tuple[int, int] | None = None  # (phrasing, status)
    for match in _TEXT.finditer(_URL.sub(" ", text)):
        phrasing = match.lastindex
        if phrasing is not None and (best is None or phrasing < best[0]):
            best = (phrasing, int(match.group(phrasing)))
            if phrasing == 1:
                break
    return None if best is None else best[1]


def attempt_status(response_status_code: int | None, error_details: str | None) -> int | None:
    """One attempt's HTTP status: its ``response_status_code``, else the status its ``error_details`` names.

    Example:
        >>> attempt_status(None, "Server error '503 Service Unavailable' for url 'https://api.motive.com/x'")
        503
        >>> attempt_status(429, None)
        429
    """
    if response_status_code is not None:
        return response_status_code
    return None if not error_details else status_in_text(error_details)
