"""The masks of error texts: each whitespace-separated token's ids, numbers, times, e-mails and URL queries
masked (the first stage of :mod:`~.signatures`).

A text is masked token by token through a memo (:class:`TokenMemo`), so that the constant words of many texts
are looked up rather than scanned again; the commonest shapes of token (a number, a UUID, an id, a URL) are
masked by string methods where the patterns' answer is known (:func:`quick_mask`, :func:`quick_url`), the
others by the patterns (:func:`pattern_mask`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from catena_nb._jsonio import collector_paused

__all__ = [
    "CACHE_LIMIT", "DIGIT_OR_MARK", "MASKS", "STATUS_DIGITS", "TokenMemo", "mask", "mask_all", "mask_token",
    "pattern_mask", "quick_mask", "quick_url", "url_cut",
]  # fmt: skip

# The masks applied to each token of a text before the text is templated. A number becomes "0", not "<n>",
# so that a JSON body with an id as a bare number still parses; the three digits of a possible HTTP status
# stay until the status is read (STATUS_DIGITS then masks them too).
# (the text a token must hold for the mask to apply, the pattern, its replacement)
MASKS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("-", re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (
        "-",
        re.compile(r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\b(?!-)"),
        "<time>",
    ),
    ("@", re.compile(r"(?<![\w\\])(?:[\w.+-]|\\u[0-9a-fA-F]{4})++@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
    # a URL's query and fragment (its template drops them) and the digits of its host's first label
    ("://", re.compile(r"""(://[^\s'"?#<>\\]*)[?#][^\s'"<>\\]*"""), r"\1"),
    ("://", re.compile(r"(://[A-Za-z-]+)\d+(?=[.-])"), r"\g<1>0"),
    # tokens of 8+ characters with 3+ digits and a letter: request and trace ids, hex digests, prefixed ids
    (
        "",
        re.compile(r"(?<![\w<\\-])(?=(?:[A-Za-z_-]*+\d){3})(?=[\d-]*+[A-Za-z_])[A-Za-z0-9][\w-]{7,}+(?![>])"),
        "<id>",
    ),
    # every other number standing alone but three digits from 100 to 599, which may be the HTTP status (the
    # status is read from the masked text; the TSP's code from the raw one)
    ("", re.compile(r"(?<![\w.<\\-])(?![1-5]\d\d(?![\w.>]))\d++(?![\w.>])"), "0"),
)
STATUS_DIGITS = re.compile(r"(?<![\w.<\\-])[1-5]\d\d(?![\w.>])")  # the numbers the masks leave
DIGIT_OR_MARK = re.compile(r"[\d@?#]")  # a token without any of these is left as it is by every mask
# the masks but those of URLs in one pattern, for the tokens without a URL (most of them): one pass each
_REPLACEMENTS = {"uuid": "<uuid>", "time": "<time>", "email": "<email>", "id": "<id>", "num": "0"}


def _expander(template: str) -> Callable[[re.Match[str]], str]:
    """A replacement template as a function (``\\1``, ``\\g<1>0``): called per match, it skips the template's
    expansion, which costs more than the masks' own matching on URL tokens."""
    if template == r"\1":
        return lambda m: m.group(1)
    if template == r"\g<1>0":
        return lambda m: m.group(1) + "0"
    return lambda m: m.expand(template)


def _one_pass(masks: tuple[tuple[str, re.Pattern[str], str], ...]) -> re.Pattern[str]:
    names = {"<uuid>": "uuid", "<time>": "time", "<email>": "email", "<id>": "id", "0": "num"}
    parts = [f"(?P<{names[r]}>{p.pattern})" for _, p, r in masks if r in names]
    return re.compile("|".join(parts), re.I)


_ONE_PASS = _one_pass(MASKS)
# a URL's query dropped and its host's digits masked first, then the other masks
_URL_MASKS = tuple((p, _expander(r)) for needed, p, r in MASKS if needed == "://")
# Without the e-mail mask every mask starts at the start of a word (after no word character, on one): saying
# so first lets the engine pass over the inside of words at once, for the same matches in half the time.
_ONE_PASS_NO_EMAIL = re.compile(
    r"(?<!\w)(?=\w)(?:" + _one_pass(tuple(m for m in MASKS if m[2] != "<email>")).pattern + ")", re.I
)
# what may stand around a token's value for quick_mask: characters that are neither word characters nor
# any the masks' look-arounds refuse ('.', '-', '<', '>', '\\') or look for ('@', '?', '#', '/')
_NEUTRAL = "'\"{}[](),:;"
_UUID = MASKS[0][1]  # the UUID mask itself, matched whole (its word boundaries hold at a bare value's ends)
_THREE_DIGITS = re.compile(r"(?:\D*\d){3}")
CACHE_LIMIT = 500_000  # tokens remembered by one call of error_signatures
_FRESH_KEPT = 20_000  # tokens the masks change, remembered while the memo holds fewer
_CHECK_EVERY = 2_000  # texts masked between two looks at the memo's size


class TokenMemo(dict[str, str]):
    """Tokens and their masked forms, each token masked the first time it is looked up.

    A URL is masked through the memo too: its query dropped and its host's digits masked first, so that
    URLs that differ only there (``?driver_id=3823815``) are one entry, then part by part between slashes,
    as :func:`quick_url` masks it, each part an entry of its own (``v1``, ``drivers``, the id).
    """

    def __missing__(self, token: str) -> str:
        if "://" in token and "@" not in token:
            cut = url_cut(token)
            masked = self[cut] if cut != token else "/".join(map(self.__getitem__, token.split("/")))
        else:
            masked = mask_token(token)
        if masked == token or len(self) < _FRESH_KEPT:
            # kept: a word the masks leave as it is, which comes again; a token they change is most often a
            # fresh id, seen once, and kept only while the memo is small, so that the memo stays in the
            # processor's cache for the many lookups of the words
            self[token] = masked
        return masked


def url_cut(token: str) -> str:
    """A token's URLs without their query and fragment, their host's digits masked (the masks of URLs;
    applied twice, they change nothing more)."""
    for pattern, replacement in _URL_MASKS:
        token = pattern.sub(replacement, token)
    return token


def mask(text: str, memo: TokenMemo | None = None) -> str:
    """The masks applied to each whitespace-separated token (so that the constant words of a text are looked
    up, not scanned again), the tokens joined by single spaces."""
    return " ".join(map((TokenMemo() if memo is None else memo).__getitem__, text.split()))


def mask_token(token: str) -> str:
    if not DIGIT_OR_MARK.search(token):
        return token
    quick = quick_url(token) if "://" in token else quick_mask(token)
    return quick if quick is not None else pattern_mask(token)


def pattern_mask(token: str) -> str:
    if "://" in token:
        for pattern, replacement in _URL_MASKS:
            token = pattern.sub(replacement, token)
    pattern = _ONE_PASS if "@" in token else _ONE_PASS_NO_EMAIL
    return pattern.sub(_replacement, token)


def quick_mask(token: str) -> str | None:
    """The masks' answer for the commonest shapes of token, read without the patterns: a number, a UUID or
    an ASCII id of 8+ letters and digits, each alone between quotes, brackets or commas; None for any other
    token (the patterns decide). None of these neighbours is one the patterns' look-arounds refuse, so the
    answer is theirs (``tests/analysis/test_signatures.py`` checks it on every shape)."""
    core = token.strip(_NEUTRAL)
    if not core.isascii():
        return None
    if core.isdigit():
        if len(core) == 3 and core[0] in "12345":
            return token  # perhaps the HTTP status: kept until it is read
        masked = "0"
    elif len(core) == 36 and _UUID.fullmatch(core):
        masked = "<uuid>"
    elif len(core) >= 8 and core.isalnum() and _THREE_DIGITS.match(core):
        masked = "<id>"
    else:
        return None
    if len(core) == len(token):
        return masked
    lead = len(token) - len(token.lstrip(_NEUTRAL))
    return token[:lead] + masked + token[lead + len(core) :]


def quick_url(token: str) -> str | None:
    """:func:`pattern_mask` of a token with a URL and no e-mail: the URL's query dropped and its host's
    digits masked, then each part between slashes masked alone, most of them by :func:`quick_mask`. No
    mask but the URL's reaches across a slash, and a slash is a boundary to every look-around, so the parts
    masked alone give what the whole gives; None for a token with an ``@``."""
    if "@" in token:
        return None
    parts = url_cut(token).split("/")
    for i, part in enumerate(parts):
        if DIGIT_OR_MARK.search(part):
            quick = quick_mask(part)
            parts[i] = quick if quick is not None else _ONE_PASS_NO_EMAIL.sub(_replacement, part)
    return "/".join(parts)


def _replacement(match: re.Match[str]) -> str:
    return _REPLACEMENTS[match.lastgroup or "num"]


def mask_all(texts: list[str]) -> list[str]:
    """:func:`_mask` of every text, with one memo of the tokens seen (the memo is emptied when it grows
    past ``CACHE_LIMIT``, so that texts full of fresh ids do not hold memory)."""
    memo = TokenMemo()
    look_up, join = memo.__getitem__, " ".join
    out: list[str] = []
    with collector_paused():  # strings only: the collector would walk the caller's frames over and over
        for start in range(0, len(texts), _CHECK_EVERY):
            if len(memo) > CACHE_LIMIT:
                memo.clear()
            out.extend([join(map(look_up, text.split())) for text in texts[start : start + _CHECK_EVERY]])
    return out
