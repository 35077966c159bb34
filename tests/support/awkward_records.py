"""Operation records whose oddities fall in different chunks of the frames' reader, and a one-chunk read."""

from __future__ import annotations

import random
from typing import Any

import pandas as pd

from catena_nb.frames import _operations, operation_frames

TSPS = ("samsara", "motive", "geotab")


def stamp(rng: random.Random, base: int) -> str:
    """A timestamp about ``base`` seconds into May 2026, in one of the API's forms or another zone."""
    seconds = base + rng.randint(0, 50_000)
    day, rest = divmod(seconds, 86_400)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    zone = rng.choice(["Z", "Z", "+02:00", "-05:30"])
    fraction = rng.choice(["", ".5", ".123", ".123456"])
    return f"2026-05-{day % 28 + 1:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"


def awkward_operations(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` operations whose ids, keys, payload and log fields and TSPs come and go; logs out of order."""
    rng = random.Random(seed)
    ops: list[dict[str, Any]] = []
    for i in range(n):
        logs: list[Any] = []
        for a in range(rng.randint(0, 4)):
            status = rng.choice(["failed", "failed", "success", "queued"])
            entry: dict[str, Any] = {
                "id": f"log-{i}-{a}",
                "created_at": stamp(rng, i * 100),
                "updated_at": None,
                "resource_operation_id": f"op-{i}",
                "status": status,
                "error_type": rng.choice([None, "auth", "tsp", "network", "brand_new"]),
                "error_details": rng.choice([None, "boom", "<b>x</b>"]),
                "response_status_code": rng.choice([None, 200, 401, "503", 2**70, 4.5]),
            }
            entry["updated_at"] = entry["created_at"] if rng.random() < 0.7 else stamp(rng, i * 100)
            if i > n // 2 and rng.random() < 0.3:
                entry["trace"] = rng.choice(["t1", "t2", 3])  # an unknown log field, first seen late
            logs.append(entry)
        rng.shuffle(logs)  # wire order is not attempt order
        payload: Any = {"priority": rng.choice(["low", "high"]), "message_text": f"msg {i} <i>"}
        if i > n // 3:
            payload["retries"] = rng.choice([1, 2, None])  # a payload field first seen late, numeric
        if i % 5 == 0:
            payload = rng.choice([None, "not an object", {}])
        op: dict[str, Any] = {
            "id": None if i % 11 == 3 else f"op-{i}",
            "created_at": stamp(rng, i * 100),
            "updated_at": stamp(rng, i * 100 + 60_000),
            "deleted_at": None if rng.random() < 0.9 else stamp(rng, i * 100),
            "partner_id": "partner",
            "connection_id": f"conn-{i % 4}",
            "source_name": TSPS[i % 3] if i < n - 2 else "late_tsp",
            "fleet_ref": rng.choice([None, "FLT-1", 12]),
            "resource": "message",
            "operation_type": "create",
            "payload": payload,
            "resource_id": None,
            "source_id": None,
            "status": rng.choice(["success", "failed", "pending"]),
            "logs": None if i % 13 == 5 else logs,
        }
        if i % 7 == 2:
            del op["deleted_at"]  # a key some records lack
        if i > n - 4:
            op["region"] = "eu"  # an unknown top-level field, only in the last operations
        ops.append(op)
    return ops


def read_in_one_chunk(ops: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``operation_frames(ops)`` with every operation in one chunk."""
    saved = _operations.CHUNK
    _operations.CHUNK = 1_000_000
    try:
        return operation_frames(ops)
    finally:
        _operations.CHUNK = saved
