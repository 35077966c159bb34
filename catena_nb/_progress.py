"""The one progress bar of the package: batches, waits, long listings, store syncs and the report."""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


def progress_bar(
    enabled: bool | None,
    *,
    desc: str,
    unit: str,
    total: int | None = None,
    leave: bool = True,
    delay: float = 0.0,
) -> Any:
    """A `tqdm.auto` bar (a notebook widget or a terminal line), or a disabled one that callers update all the
    same.

    Args:
        enabled: False hides the bar; True or None leave it to tqdm, so that `TQDM_DISABLE=1` still hides it
            (as in the tests and the notebooks run under them).
        desc: the label before the bar.
        unit: what is counted (`" rows"`, `" items"`, ...).
        total: how many there are, when known.
        leave: keep the finished bar on screen (False: it clears itself, so a failure is told in its own
            lines, not after a dead bar).
        delay: show the bar only once it has run this many seconds (short runs stay quiet).
    """
    from tqdm.auto import tqdm  # imported late: it probes for ipywidgets

    hidden: dict[str, Any] = {"disable": True} if enabled is False else {}
    return tqdm(total=total, desc=desc, unit=unit, leave=leave, delay=delay, **hidden)
