"""One redaction for every text catena_nb shows, logs or raises.

`redact(text)` masks, in this order:
- every secret value the process holds (each `Secret` joins a registry when it is made: the client's static
  token, its client secret, every token fetched), in its raw, URL-encoded (`quote`, `quote_plus`),
  JSON-escaped, HTML-escaped and base64 forms, and the base64 of `client_id:secret` (HTTP Basic);
- anything shaped like a credential, known or not: `Bearer …` and `Basic …` values, `Authorization:` header
  values, `access_token`/`refresh_token`/`id_token`/`client_secret`/`password` values in JSON or a form,
  and JWT-shaped strings.

`clip(text, limit)` redacts and cuts a quoted body short; `redact_data` redacts decoded JSON; a
`RedactingFilter` on the package's, httpx's and httpcore's loggers (`protect_loggers`) redacts each log
record, so that neither the package nor its dependencies log a secret in a notebook.

This module imports nothing from catena_nb, so that every other module, `errors` first, can use it.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import logging
import re
import threading
import traceback
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "RedactingFilter",
    "Secret",
    "clip",
    "protect_loggers",
    "redact",
    "redact_data",
    "redact_headers",
]

MASK = "**********"
# Shorter values are not secrets worth the name, and masking them would garble every text they occur in.
MIN_SECRET_LENGTH = 6
# How far past a cut the text is still redacted, so that a secret that straddles the cut is masked whole.
_CLIP_MARGIN = 65_536

_lock = threading.Lock()
_ids = itertools.count()
# Weak: a secret leaves the registry with the last object holding it (a client closed, a token replaced).
_live: weakref.WeakValueDictionary[int, Secret] = weakref.WeakValueDictionary()


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _forms(value: str, user: str | None) -> tuple[str, ...]:
    """The ways `value` can show up in a text: raw, URL-encoded, JSON- and HTML-escaped, bytes, base64."""
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        _lower_hex(quote(value, safe="")),
        _lower_hex(quote_plus(value)),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
        repr(value.encode())[2:-1],  # as httpcore's debug log shows a header's bytes
    }
    raws = [value.encode()]
    if user is not None:
        raws.append(f"{user}:{value}".encode())
    for raw in raws:
        for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
            forms |= {encoded, encoded.rstrip("=")}
    # longest first, so that a form that contains another is masked whole
    return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET_LENGTH), key=len, reverse=True))


class Secret:
    """A string that never shows itself in a repr or str, and that every redaction masks while it lives.

    Args:
        value: the secret.
        user: for a client secret, the client id: the base64 of `user:value` (HTTP Basic) is masked too.
    """

    __slots__ = ("__weakref__", "_forms", "_value")

    def __init__(self, value: str, *, user: str | None = None) -> None:
        self._value = value
        self._forms = _forms(value, user) if len(value) >= MIN_SECRET_LENGTH else ()
        if self._forms:
            with _lock:
                _live[next(_ids)] = self

    def get(self) -> str:
        """The secret value (only for building a request)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _known_forms() -> list[str]:
    with _lock:
        secrets = list(_live.values())
    forms = {form for secret in secrets for form in secret._forms}
    return sorted(forms, key=len, reverse=True)


_SEP = r"""(?:\\?["'])?(?:\s|%20|\+)*(?::|=|%3A|%3D)(?:\s|%20|\+)*(?:\\?["'])?"""
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # an Authorization header's whole value, in a header dump, JSON, a repr or a form
    (
        re.compile(rf"(?<![A-Za-z0-9])((?:proxy-)?authorization{_SEP})[^\r\n\"'<>\\&]+", re.IGNORECASE),
        rf"\g<1>{MASK}",
    ),
    # a bearer token wherever it is quoted; the challenge's own parameters (`Bearer realm="…"`) stay
    (
        re.compile(
            r"(?<![A-Za-z0-9])(bearer(?:\s|%20|\+)+)"
            r"(?!(?:realm|error|error_description|error_uri|scope)\s*=)[^\s\"'<>\\&]+",
            re.IGNORECASE,
        ),
        rf"\g<1>{MASK}",
    ),
    # HTTP Basic credentials (base64 with at least one digit or symbol, so that prose stays readable)
    (
        re.compile(r"(?<![A-Za-z0-9])(Basic(?:\s|%20|\+)+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}"),
        rf"\g<1>{MASK}",
    ),
    # token and secret fields of JSON bodies and forms (the token endpoint's answer, an echoed form)
    (
        re.compile(
            rf"(?<![A-Za-z0-9])((?:access_token|refresh_token|id_token|client_secret|password){_SEP})"
            r"[^\s\"'&<>\\,;}\])]+",
            re.IGNORECASE,
        ),
        rf"\g<1>{MASK}",
    ),
    # a JWT, whoever issued it
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"), MASK),
)

_SENSITIVE_KEYS = frozenset(
    {"access_token", "refresh_token", "id_token", "client_secret", "password", "authorization"}
)
_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def redact(text: str) -> str:
    """`text` with every known secret and everything shaped like a credential masked."""
    if not text:
        return text
    for form in _known_forms():
        if form in text:
            text = text.replace(form, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def clip(text: str, limit: int, *, strip: bool = True) -> str:
    """`text` redacted, stripped and cut to at most `limit` characters (an ellipsis marks the cut)."""
    clean = redact(text[: limit + _CLIP_MARGIN])
    if strip:
        clean = clean.strip()
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def redact_data(value: Any, _depth: int = 0) -> Any:
    """Decoded JSON with its strings redacted and the values of token and secret fields masked."""
    if isinstance(value, str):
        return redact(value)
    if _depth > 50:  # deeper than any answer of the API: not worth walking
        return MASK
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            name = redact(key) if isinstance(key, str) else key
            sensitive = isinstance(key, str) and key.lower() in _SENSITIVE_KEYS and item is not None
            out[name] = MASK if sensitive else redact_data(item, _depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [redact_data(item, _depth + 1) for item in value]
    return value


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Response headers with credential headers masked and every other value redacted."""
    return {
        name: MASK if name.lower() in _SENSITIVE_HEADERS else redact(value) for name, value in headers.items()
    }


class RedactingFilter(logging.Filter):
    """Redacts each record's message, and its traceback when it carries one, before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it itself
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            formatted = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            # the standard Formatter uses exc_text when it is set, instead of formatting exc_info again
            record.exc_text = redact(formatted)
        return True


_FILTER = RedactingFilter()
# A logger's filters do not apply to its children's records, so each logger that may log server text gets
# the filter: the package's, and those of httpx and httpcore (which log response headers at debug level).
# Every logger of the package is named here, so that it is guarded even when its module is imported later.
_PREFIXES = ("catena_nb", "httpx", "httpcore")
_KNOWN = (
    "catena_nb",
    "catena_nb.auth",
    "catena_nb.batch",
    "catena_nb.client",
    "catena_nb.store.listen",
    "catena_nb.report",
    "catena_nb.retry",
    "catena_nb.sandbox",
    "catena_nb.store",
    "catena_nb.notebook",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def protect_loggers() -> None:
    """Put the redacting filter on every logger of catena_nb, httpx and httpcore (idempotent)."""
    names = set(_KNOWN)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in _PREFIXES:
            names.add(name)
    for name in sorted(names):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(_FILTER)


protect_loggers()
