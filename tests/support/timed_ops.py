"""Operations frames made to order for the window, funnel and budget tests: outcomes at given times."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import pandas as pd

from catena_nb.frames import operations_frame

_ids = itertools.count(1)


def wire(created: Any, status: str, source: str = "samsara", connection: str | None = None) -> dict[str, Any]:
    """One wire operation created at ``created`` with that final status (a failed one logs a tsp error)."""
    start = pd.Timestamp(created)
    start = start.tz_localize("UTC") if start.tzinfo is None else start
    error = "tsp" if status == "failed" else None
    logs = (
        []
        if status == "pending"
        else [{"created_at": start.isoformat(), "status": status, "error_type": error}]
    )
    return {
        "id": f"op-{next(_ids)}",
        "created_at": start.isoformat(),
        "updated_at": (start + pd.Timedelta(seconds=1)).isoformat(),
        "connection_id": connection or f"conn-{source}",
        "source_name": source,
        "resource": "message",
        "operation_type": "create",
        "status": status,
        "logs": logs,
    }


def spread(
    start: str, end: str, ok: int, failed: int, pending: int = 0, **where: Any
) -> list[dict[str, Any]]:
    """``ok`` successes and ``failed`` failures spread evenly over ``[start, end)``, the failures evenly among
    them, then ``pending`` ones."""
    settled = ok + failed
    statuses = ["success"] * settled + ["pending"] * pending
    for i in range(failed):
        statuses[int((i + 0.5) * settled / failed)] = "failed"
    first, last = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    step = (last - first) / max(len(statuses), 1)
    return [wire(first + i * step, s, **where) for i, s in enumerate(statuses)]


def frame(*parts: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The operations frame of the wire operations of all ``parts``."""
    return operations_frame([op for part in parts for op in part])
