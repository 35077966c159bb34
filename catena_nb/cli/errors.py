"""What ``catena-nb`` says when a command fails: one or two lines, what happened and what to do.

:func:`explain` turns an exception into those lines; the command prints them (after the traceback, with
``--debug``) and exits with status 1. Every line is one line of plain text, whatever the exception holds:
whitespace runs collapse, control characters (a terminal escape in text from the API) are dropped, and a long
text is cut short.
"""

from __future__ import annotations

import os
import re

from catena_nb import _config, errors

__all__ = ["UsageError", "explain", "one_line"]

MAX_LINE = 400
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")
DEBUG_HINT = "Run it again with --debug for the traceback."
RESUME = "What was stored stays, and the next sync resumes from there."


class UsageError(Exception):
    """A command's argument is not usable (a date that is not one, a window that ends before it starts)."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.hint = hint
        super().__init__(message)


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """``text`` as one printable line of at most ``limit`` characters."""
    flat = _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _api_hint(command: str, what: str) -> str:
    return f"{what} {RESUME}" if command == "sync" else what


def _base_url() -> str:
    url = os.environ.get(_config.ENV_BASE_URL) or _config.DEFAULT_BASE_URL
    return re.sub(r"//[^/@]*@", "//", url)  # never a user or password written into the URL


def _without_hint(text: str, exc: errors.APIStatusError) -> str:
    """The error's text without the advice it ends with, which the second line gives for the command."""
    return text.removesuffix(f". {exc.hint}") if exc.hint else text


def explain(exc: BaseException, command: str) -> list[str]:
    """The one or two lines that say what went wrong in ``catena-nb <command>`` and what to do about it."""
    from catena_nb.report import ReportError
    from catena_nb.store import StoreError

    text = one_line(str(exc)) or type(exc).__name__
    lines: list[str]
    if isinstance(exc, UsageError):
        lines = [text, exc.hint]
    elif isinstance(exc, ReportError):
        lines = [text, "Run it again with --debug for the notebook's traceback."]
    elif isinstance(exc, StoreError | errors.InvalidRequestError):
        lines = [text]  # these say what to do themselves
    elif isinstance(exc, errors.ConfigurationError):
        lines = [text, "(`catena-nb sandbox` serves a local stand-in of the API to try the commands with.)"]
    elif isinstance(exc, errors.AuthenticationError):
        lines = [
            f"the Catena API refused the credentials: {_without_hint(text, exc)}",
            "Check CATENA_TOKEN, or CATENA_CLIENT_ID and CATENA_CLIENT_SECRET (and CATENA_AUTH_URL).",
        ]
    elif isinstance(exc, errors.PermissionDeniedError):
        lines = [
            f"the credentials lack access: {_without_hint(text, exc)}",
            "Ask for the organization scope on these connections, or use other credentials.",
        ]
    elif isinstance(exc, errors.APITimeoutError):
        lines = [
            f"the Catena API did not answer in time: {text}",
            _api_hint(command, f"Check the network and CATENA_BASE_URL ({_base_url()}), then run it again."),
        ]
    elif isinstance(exc, errors.APIConnectionError):
        lines = [
            f"cannot reach the Catena API: {text}",
            _api_hint(command, f"Check CATENA_BASE_URL ({_base_url()}) and the network, then run it again."),
        ]
    elif isinstance(exc, errors.ResponseValidationError):
        lines = [
            f"the Catena API answered with a body catena-nb cannot read: {text}",
            _api_hint(command, "Run it again later, and report it if it goes on."),
        ]
    elif isinstance(exc, errors.APIStatusError):
        lines = [f"the Catena API failed: {text}", _api_hint(command, "Run it again later.")]
    elif isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        lines = [one_line(f"{exc.strerror}{where}") if exc.strerror else text]
    elif type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb"):
        lines = [f"the audit store failed: {text}", DEBUG_HINT]
    elif isinstance(exc, ValueError):
        lines = [text]
    else:
        lines = [f"unexpected {type(exc).__name__}: {text}", f"{DEBUG_HINT} Please report it."]
    return [one_line(line) for line in lines if line]
