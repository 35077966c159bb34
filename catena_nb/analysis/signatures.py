"""The few causes behind many error texts: ``error_details`` normalised into templates (signatures).

A TSP's error texts differ by request ids, user ids, field values and URLs, so one cause shows as hundreds
of strings. :func:`signature_of` turns a text into its template:

- URLs become their host and path, ids in the path templated (``https://api.samsara.com/v1/drivers/<id>``;
  ``my<n>.geotab.com``), the query dropped;
- UUIDs become ``<uuid>``, timestamps ``<time>``, words mixing letters and digits (``req_8f3a2b1c``, hex
  digests) ``<id>`` but for short version-like ones (``v2``, ``apiv1``, ``OAuth2``), other numbers ``<n>``,
  e-mail addresses ``<email>``;
- quoted values become ``'<str>'``, except field names after a word that says so (``field 'recipient_id'``),
  names of exceptions and upper-case codes, and quoted sentences (templated in turn);
- a JSON body is templated by structure: keys kept (sorted), messages templated as text, ids and values to
  placeholders, the TSP's error code to ``<code>`` and an HTTP status to ``<status>``;
- whitespace folded, and what is left redacted (:func:`catena_nb._redact.redact`).

The HTTP status and the TSP's error code are kept apart, as columns of :func:`error_signatures`, not in the
template; a cause is the template with the two. The work is done once per distinct thing: each distinct
token of the texts is masked once (ids, numbers, times; :mod:`~.masks`), and each distinct masked text
templated once, so that the cost grows with the distinct tokens, not with the texts
(``benchmarks/settle_signatures.py`` times 400,000 texts that all differ by their ids).

Known limits: a value written as plain words outside quotes (``Driver Bob Smith is inactive``) stays in the
template, as does an id without any digit; both split one cause over several signatures, never merge two.

Example:
    >>> signature_of("Client error '404 Not Found' for url 'https://api.samsara.com/v1/drivers/281474'")
    "Client error '<status> Not Found' for url 'https://api.samsara.com/v1/drivers/<id>'"
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb._http_status import status_in_text
from catena_nb._redact import clip, redact
from catena_nb.analysis.grouping import By, keys_of, names_of
from catena_nb.analysis.masks import STATUS_DIGITS, mask, mask_all
from catena_nb.frames.checks import mark_table, require, require_by

__all__ = ["SIGNATURE_COLUMNS", "error_signatures", "signature_key", "signature_of", "signatures_of"]

SIGNATURE_COLUMNS = ("n", "operations", "first_seen", "last_seen", "example")
_EXAMPLE_LIMIT = 500  # characters of the example text shown

# the TSP's error code in a JSON body: the first value of one of these keys (a number from 100 to 599 under
# "code" is the HTTP status instead, as the template says)
_CODE_VALUE = re.compile(
    r'"(code|errorCode|error_code|errCode|err_code|reasonCode|reason_code|subCode|sub_code|error_subcode|'
    r'errorSubcode|faultCode|fault_code)"\s*:\s*(?:"([^"\\]{1,80})"|(-?\d+(?:\.\d+)?)\b)',
    re.I,
)
_CODE_VALUE_LOWER = re.compile(_CODE_VALUE.pattern.lower())  # the same, for a lowered ASCII text
# what the masks may have written into a value (a placeholder, a number's "0" standing alone as they write
# it), or cut it at (a URL's query, a run of spaces)
_REWRITTEN = re.compile(r"[<@\s]|://|(?<![\w.<\\-])0(?![\w.>])")
_WRITTEN = re.compile(r"[<@]|://|(?<![\w.<\\-])0(?![\w.>])")  # the same but spaces, which values hold
_CODE_KEY = re.compile(_CODE_VALUE.pattern[: _CODE_VALUE.pattern.index(r'"\s*:') + len(r'"\s*:')], re.I)
_NEAR = 120  # characters after a code key that its value and what bounds it take in a masked text
_PLACEHOLDER = r"<(?:uuid|time|id|n|str|email|status|code|url)>"
_URL = re.compile(rf"""\b[a-z][a-z0-9+.-]*://(?:[^\s'"<>\\]|{_PLACEHOLDER})+""", re.I)
# the status lines of the common HTTP clients (the masks have made the status a 0): the status is a column,
# the reason phrase stays
_STATUS_LINES = (
    re.compile(
        r"\b((?:client|server) error|redirect response|informational response|invalid status code)"
        r"\s+'([1-5]\d\d|0)\s*([^'\n]*)'",
        re.I,
    ),
    re.compile(r"(?<![\w.-])([1-5]\d\d|0)( (?:client|server) error\b)", re.I),
    re.compile(
        r"\b(http error |http(?:/\d(?:\.\d)?)? |status(?:[ _]?code)?\s*[:=]?\s*)([1-5]\d\d|0)\b", re.I
    ),
)
_QUOTED = re.compile(r"""'([^'\n]{0,300})'|"([^"\n]{0,300})"|`([^`\n]{0,300})`""")
# a quoted field name is kept only after one of these words ("field 'recipient_id'"); a JSON value only
# under one of these keys ("field": "recipient_id"): elsewhere the same shape is a value (a database name)
_FIELD_WORD = re.compile(
    r"\b(?:field|parameter|param|property|attribute|key|column|argument|path)s?\s*$", re.I
)
_FIELD_KEYS = frozenset(
    {"field", "param", "parameter", "property", "path", "attribute", "pointer", "loc", "name", "type"}
)
# names of exceptions and upper-case codes: kept wherever they stand
_NAME = re.compile(r"^(?:[A-Za-z]+(?:Error|Exception|Fault)|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z_.\[\]-]*$")  # any field name, after a word that says it is one
_FIELD = re.compile(
    r"^(?=.*(?:_|\.|[a-z][A-Z]|[A-Z]{2}[a-z]|(?:Error|Exception|Fault)$))[A-Za-z_][A-Za-z_.\[\]-]*$"
)
_VERSION = re.compile(r"^(?:v\d+(?:\.\d+)*|[A-Za-z]{1,6}v?\d{1,2})$")  # v2, apiv1, OAuth2: not ids
_ALNUM_ID = re.compile(r"(?<![\w<])(?=[A-Za-z_]*\d)(?=\w*[A-Za-z_])\w+(?![\w>])")
_NUMBER = re.compile(r"(?<![\w<])[-+]?\d+(?:[.,]\d+)*(?![\w>])")
_SPACE = re.compile(r"\s+")
# a protected part stands in the text as a private-use character between NULs: neither a word nor a digit
_PRIVATE = 0xF0000
_PROTECTED = re.compile("\x00([\U000f0000-\U000fffff])\x00")

_CODE_KEYS = frozenset(
    {
        "code", "errorcode", "error_code", "errcode", "err_code", "reasoncode", "reason_code", "subcode",
        "sub_code", "error_subcode", "errorsubcode", "faultcode", "fault_code",
    }
)  # fmt: skip
_STATUS_KEYS = frozenset(
    {"status", "statuscode", "status_code", "httpstatus", "http_status", "httpstatuscode"}
)
_TEXT_KEY = re.compile(r"message|msg|detail|description|reason|error|title|hint|explanation", re.I)


def signature_of(text: str) -> str:
    """The template of an error text: what stays the same across its ids, values and URLs (see the module).

    Example:
        >>> signature_of('Server error \\'503 Service Unavailable\\' for url "https://my12.geotab.com/apiv1"')
        'Server error \\'<status> Service Unavailable\\' for url "https://my<n>.geotab.com/apiv1"'
    """
    if not isinstance(text, str):
        raise TypeError(f"signature_of needs an error text (a str), not {type(text).__name__}")
    return _template(STATUS_DIGITS.sub("0", mask(text)))


def signatures_of(texts: Sequence[str]) -> list[str]:
    """:func:`signature_of` of each text, as :func:`error_signatures` reads them: the tokens masked through
    one memo, each distinct skeleton templated once (several times quicker over a few hundred texts)."""
    masked = mask_all(list(texts))
    skeletons = [STATUS_DIGITS.sub("0", m) for m in masked]
    templates = {skeleton: _template(skeleton) for skeleton in dict.fromkeys(skeletons)}
    return [templates[skeleton] for skeleton in skeletons]


def signature_key(text: str) -> tuple[str, int | None, str | None]:
    """A text's cause: its template (:func:`signature_of`), the HTTP status it names, the TSP's error code."""
    masked = mask(text)
    return _template(STATUS_DIGITS.sub("0", masked)), status_in_text(masked), _code_of(text)


def error_signatures(logs_df: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """The causes of the failed attempts: their ``error_details`` grouped by signature, per group.

    Args:
        logs_df: a logs frame (:func:`catena_nb.logs_frame`); the attempts with an ``error_details`` count.
        by: an optional grouping of the logs (``"source_name"``, ``"connection_id"``...).

    Returns:
        One row per group and cause: the group columns, ``error_type`` (where the frame has it),
        ``http_status`` (the log's, else the one its text names), ``error_code`` (the TSP's, from its error
        body), ``signature``, then ``n`` (attempts), ``operations`` (distinct operations), ``first_seen``,
        ``last_seen`` and one ``example`` (the first text seen, redacted and cut short). Most attempts first.

    Raises:
        TypeError: ``logs_df`` is not a logs frame (an operations frame, None...).
        ValueError: it lacks ``error_details``, ``operation_id`` or ``created_at``, its times are naive or
            missing, or ``by`` names no column of it.

    Example:
        >>> error_signatures(logs_df, by="source_name").head(10)  # doctest: +SKIP
    """
    function = "error_signatures"
    columns = ["error_details", "operation_id"]
    require(logs_df, "logs", function, "logs_df", columns=columns, times=["created_at"])
    require_by(logs_df, by, function, "logs_df", "logs")
    return _signatures(logs_df, by, function)


def _signatures(logs_df: pd.DataFrame, by: By, function: str) -> pd.DataFrame:
    keys = keys_of(by)
    names = names_of(keys)
    details = logs_df["error_details"].astype("string")
    rows = (details != "").fillna(False).to_numpy(dtype=bool)
    work = logs_df.loc[rows]
    raw_codes, raw = pd.factorize(details[rows].to_numpy(dtype=object))
    texts: list[str] = list(raw)
    # three levels, each templated once: the distinct texts, masked (statuses kept), then every number masked
    masked_codes, masked = pd.factorize(np.asarray(mask_all(texts), dtype=object))
    skeleton_codes, skeletons = pd.factorize(
        np.asarray([STATUS_DIGITS.sub("0", m) for m in masked], dtype=object)
    )
    signature_codes, signatures = pd.factorize(np.asarray([_template(s) for s in skeletons], dtype=object))
    error_codes, codes = pd.factorize(np.asarray(_codes_of(texts, list(masked), masked_codes), dtype=object))
    of_row = masked_codes[raw_codes]
    status = _statuses(work, list(masked), of_row)
    extra = ["error_type"] if "error_type" in work.columns else []
    table = work[[*[k for k in keys if isinstance(k, str)], *extra, "operation_id", "created_at"]].copy()
    for key in keys:
        if isinstance(key, pd.Grouper):
            table[str(key.key)] = work[key.key]
    table["http_status"] = status.array
    table["_code"] = error_codes[raw_codes]
    table["_signature"] = signature_codes[skeleton_codes[of_row]]
    table["_text"] = raw_codes
    group_keys = [*keys, *extra, "http_status", "_code", "_signature"]
    out_names = [*names, *extra, "http_status", "error_code", "signature"]
    if not len(table):
        empty = pd.DataFrame({name: pd.Series(dtype=object) for name in out_names})
        for column, dtype in zip(
            SIGNATURE_COLUMNS, ["int64", "int64", "object", "object", "string"], strict=True
        ):
            empty[column] = pd.Series(dtype=dtype)
        return mark_table(empty, function)
    # in time order, so that each group's first row is its first text seen
    table = table.iloc[np.argsort(table["created_at"].to_numpy(dtype="datetime64[us]"), kind="stable")]
    grouped = table.groupby(group_keys, observed=True, dropna=False, sort=False)
    out = grouped.agg(
        n=("operation_id", "size"),
        operations=("operation_id", "nunique"),
        first_seen=("created_at", "min"),
        last_seen=("created_at", "max"),
        _text=("_text", "first"),
    ).reset_index()
    code_values = np.asarray([*codes, None], dtype=object)  # factorize codes None as -1
    out["error_code"] = pd.array(code_values[out["_code"].to_numpy()], dtype="string")
    out["signature"] = pd.array(
        np.asarray(signatures, dtype=object)[out["_signature"].to_numpy()], dtype="string"
    )
    out["example"] = pd.array([clip(redact(texts[i]), _EXAMPLE_LIMIT) for i in out["_text"]], dtype="string")
    out = out.sort_values(["n", "operations"], ascending=False, kind="stable")
    return mark_table(out[[*out_names, *SIGNATURE_COLUMNS]].reset_index(drop=True), function)


def _statuses(work: pd.DataFrame, texts: Sequence[str], which: npt.NDArray[np.intp]) -> pd.Series:
    """Each row's HTTP status: the log's, else the one its text names (read once per distinct masked text,
    and only for the texts of rows without one)."""
    if "http_status" in work.columns:
        logged = work["http_status"].astype("Int64").reset_index(drop=True)
    else:
        logged = pd.Series(pd.NA, index=pd.RangeIndex(len(work)), dtype="Int64")
    missing = logged.isna().to_numpy(dtype=bool)
    if missing.any():
        needed = np.unique(which[missing])
        named = dict(zip(needed.tolist(), (status_in_text(texts[i]) for i in needed), strict=True))
        logged[missing] = pd.array([named[i] for i in which[missing].tolist()], dtype="Int64")
    return logged


def _codes_of(texts: list[str], masked: list[str], of_text: npt.NDArray[np.intp]) -> list[str | None]:
    """:func:`_code_of` of each text, read once per masked text where that gives the text's own answer.

    The code keys survive the masks, and a value the masks leave whole is the text's: so the masked text's
    code is each of its texts' when it is None or a value with nothing a mask writes or removes (no
    placeholder, no number masked to ``0``, no space, no URL; ``-32000`` and ``OMN-500`` are left whole).
    The masks shorten values but for an e-mail's (``<email>`` may be longer than the address), so without
    one a value too long in the text is too long in its masked text or holds what a mask wrote, and a key
    whose value fails in the masked text fails in the text. The other texts are read one by one.
    """
    answers: list[str | bool | None] = []
    for m in masked:
        code = _code_of(m)
        if "<email>" in m or (code is not None and _REWRITTEN.search(code)) or _rewritten_near_a_key(m):
            answers.append(False)  # read from the texts themselves
        else:
            answers.append(code)
    of_masked = [answers[i] for i in of_text.tolist()]
    return [_code_of(t) if a is False else a for t, a in zip(texts, of_masked, strict=True)]


def _rewritten_near_a_key(masked: str) -> bool:
    """Whether the masks wrote something just after a code key of a masked text: where a value stands whose
    start they changed (``02026-11-01...`` reads as the number ``02026`` in the text, ``<id>`` after it)."""
    if "ode" not in masked and "ODE" not in masked:
        return False
    return any(_WRITTEN.search(masked, m.end(), m.end() + _NEAR) for m in _CODE_KEY.finditer(masked))


def _code_of(text: str) -> str | None:
    """The TSP's error code in a text's JSON body (the first value under a code key), or None."""
    if "ode" not in text and "ODE" not in text:
        return None
    if not text.isascii():
        return _first_code(_CODE_VALUE.finditer(text), text)
    # the keys looked for in the text lowered, by a pattern that need not fold case (several times quicker);
    # lower() keeps an ASCII text's length, so each value is read from the text at the offsets found
    return _first_code(_CODE_VALUE_LOWER.finditer(text.lower()), text)


def _first_code(matches: Iterator[re.Match[str]], text: str) -> str | None:
    for match in matches:
        number = match.group(3)
        if match.group(1).lower() == "code" and number is not None and _is_status(number):
            continue  # a number from 100 to 599 under "code" is the HTTP status
        start, end = match.span(2) if match.group(2) is not None else match.span(3)
        return text[start:end]
    return None


def _template(text: str) -> str:
    """A masked text's template."""
    out: list[str] = []
    at = 0
    for start, end, body in _json_bodies(text):
        out.append(_free_text(text[at:start]))
        out.append(json.dumps(_json_template(body, None), sort_keys=True, ensure_ascii=False))
        at = end
    out.append(_free_text(text[at:]))
    template = _SPACE.sub(" ", "".join(out)).strip()
    return redact(template)


def _json_bodies(text: str) -> list[tuple[int, int, Any]]:
    """The JSON objects and arrays in a text: (start, end, value), the first that parse from each brace."""
    found: list[tuple[int, int, Any]] = []
    decoder = json.JSONDecoder()
    at = 0
    tries = 0
    while tries < 8:
        match = re.compile(r"[{\[]").search(text, at)
        if match is None:
            break
        tries += 1
        try:
            value, end = decoder.raw_decode(text, match.start())
        except ValueError:
            at = match.start() + 1
            continue
        if isinstance(value, dict | list) and value:
            found.append((match.start(), end, value))
        at = end
    return found


def _json_template(value: Any, key: str | None) -> Any:
    lower = (key or "").lower()
    if isinstance(value, dict):
        return {str(k): _json_template(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            templated = _json_template(item, key)
            if templated not in items:
                items.append(templated)
        return items
    if isinstance(value, bool) or value is None:
        return value
    if lower in _STATUS_KEYS and _is_status(value):
        return "<status>"
    if lower in _CODE_KEYS:
        if lower == "code" and _is_status(value) and not isinstance(value, str):
            return "<status>"
        return "<code>"
    if isinstance(value, int | float):
        return "<n>"
    text = str(value)
    if _TEXT_KEY.search(lower) or len(text.split()) >= 3:
        return _free_text(text)
    return _token(text, field=lower in _FIELD_KEYS or lower in _STATUS_KEYS)


def _is_status(value: Any) -> bool:
    try:
        number = int(str(value))
    except ValueError:
        return False
    return 100 <= number <= 599 and str(value).strip().isdigit()


def _token(text: str, *, field: bool) -> str:
    """A single value: kept when it is a name (of an exception, an upper-case code) or, where a field name
    is expected, a field name; else ``<str>``, whatever was masked in it (so that an id masked as ``<id>``
    in one text and left whole in another give the same template)."""
    stripped = text.strip()
    if _NAME.match(stripped) or (field and _FIELD.match(stripped)):
        return stripped
    return "<str>" if stripped else stripped


def _free_text(text: str) -> str:
    """The template of text outside a JSON body."""
    saved: list[str] = []

    def protect(value: str) -> str:
        saved.append(value)
        return f"\x00{chr(_PRIVATE + len(saved) - 1)}\x00"

    text = _URL.sub(lambda m: protect(_url_template(m.group())), text)
    first, second, third = _STATUS_LINES
    text = first.sub(lambda m: protect(f"{m.group(1)} '<status> {_reason(m.group(3))}'"), text)
    text = second.sub(lambda m: protect(f"<status>{m.group(2)}"), text)
    text = third.sub(lambda m: protect(f"{m.group(1)}<status>"), text)
    text = _QUOTED.sub(lambda m: protect(_quoted(m)), text)
    text = _ALNUM_ID.sub(lambda m: m.group() if _VERSION.match(m.group()) else "<id>", text)
    text = _NUMBER.sub("<n>", text)
    while _PROTECTED.search(text):
        text = _PROTECTED.sub(lambda m: saved[ord(m.group(1)) - _PRIVATE], text)
    return text


def _reason(phrase: str) -> str:
    return _SPACE.sub(" ", phrase).strip()


def _quoted(match: re.Match[str]) -> str:
    quote = match.group()[0]
    inner = next(g for g in match.groups() if g is not None)
    stripped = inner.strip()
    if not stripped or _PROTECTED.fullmatch(stripped):
        return match.group()
    before = match.string[max(0, match.start() - 24) : match.start()]
    if _NAME.match(stripped) or (_IDENTIFIER.match(stripped) and _FIELD_WORD.search(before)):
        return match.group()
    if len(stripped.split()) >= 3:
        return f"{quote}{_free_text(inner)}{quote}"
    return f"{quote}<str>{quote}"


def _url_template(url: str) -> str:
    """A URL as its scheme, host and path, ids in them templated; query, fragment and credentials dropped."""
    trail = len(url) - len(url.rstrip(".,;:)]}!?"))
    core, tail = (url[:-trail], url[-trail:]) if trail else (url, "")
    try:
        parts = urlsplit(core)
        host = parts.hostname or ""
    except ValueError:
        return "<url>" + tail
    labels = [re.sub(r"\d+", "<n>", label) for label in host.split(".")]
    segments = [_segment(s) for s in parts.path.split("/")]
    return f"{parts.scheme.lower()}://{'.'.join(labels)}{'/'.join(segments)}{tail}"


def _segment(segment: str) -> str:
    if not segment or re.fullmatch(_PLACEHOLDER, segment):
        return segment
    if any(c.isdigit() for c in segment) and not _VERSION.match(segment):
        return "<id>"
    return "<id>" if len(segment) >= 24 else segment
