"""Operations in wire form for the analysis tests: one per call, with its attempts, and a small mixed set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

_counter = 0


def op(
    status: str,
    source: str | None = "samsara",
    attempts: Sequence[tuple[str, str | None]] | None = None,
    created: str = "2026-10-01T10:00:00Z",
    duration_s: float = 1.0,
    **extra: Any,
) -> dict[str, Any]:
    """A wire operation; ``attempts`` lists (status, error_type) in time order."""
    global _counter
    _counter += 1
    start = pd.Timestamp(created)
    logs = [
        {
            "id": f"l{_counter}-{i}",
            "created_at": (start + pd.Timedelta(seconds=i + 0.5)).isoformat(),
            "status": s,
            "error_type": e,
            "response_status_code": None if s == "success" else 500,
        }
        for i, (s, e) in enumerate(attempts or [])
    ]
    return {
        "id": f"op-{_counter}",
        "created_at": start.isoformat(),
        "updated_at": (start + pd.Timedelta(seconds=duration_s)).isoformat(),
        "connection_id": f"conn-{source}",
        "source_name": source,
        "resource": "message",
        "operation_type": "create",
        "status": status,
        "resource_id": f"msg-{_counter}" if status == "success" else None,
        "payload": {"priority": extra.pop("priority", "low")},
        "logs": logs,
        **extra,
    }


def as_float(value: object) -> float:
    """A numeric frame cell as a float."""
    assert isinstance(value, (int, float, np.integer, np.floating)), value
    return float(value)


OK = [("success", None)]
FAIL_AUTH = [("failed", "auth")]


def small_operations() -> list[dict[str, Any]]:
    """samsara: 3 successes, 1 auth failure, 1 pending; motive: 2 network failures after retries."""
    return [
        op("success", "samsara", OK),
        op("success", "samsara", OK),
        op("success", "samsara", [("failed", "tsp"), ("success", None)]),
        op("failed", "samsara", FAIL_AUTH),
        op("pending", "samsara", []),
        op("failed", "motive", [("failed", "network"), ("failed", "network")]),
        op("failed", "motive", [("failed", "network")]),
    ]
