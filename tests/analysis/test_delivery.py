"""The delivery funnel: created, accepted, delivered, read."""

from __future__ import annotations

import pytest

from catena_nb.analysis import delivery_funnel
from catena_nb.analysis.intervals import wilson_interval
from catena_nb.frames import messages_frame, operations_frame
from tests.support.analysis_records import FAIL_AUTH, OK, op


def test_delivery_funnel_stages_exact() -> None:
    """created → accepted → delivered → read, matched on resource_id, with shares and step rates."""
    ops = [op("success", attempts=OK) for _ in range(4)] + [op("failed", attempts=FAIL_AUTH)]
    ids = [o["resource_id"] for o in ops[:4]]
    messages = [
        {
            "id": ids[0],
            "status": "read",
            "read_at": "2026-10-01T10:05:00Z",
            "delivered_at": "2026-10-01T10:01Z",
        },
        {"id": ids[1], "status": "delivered", "delivered_at": "2026-10-01T10:01:00Z"},
        {"id": ids[2], "status": "sent"},
        {"id": "someone-else", "status": "read"},
    ]
    table = delivery_funnel(operations_frame(ops), messages_frame(messages))
    assert list(table["stage"].astype(str)) == ["created", "accepted", "delivered", "read"]
    assert list(table["n"]) == [5, 4, 2, 1]
    assert list(table["share"]) == pytest.approx([1.0, 0.8, 0.4, 0.2])
    assert list(table["step_rate"]) == pytest.approx([1.0, 0.8, 0.5, 0.5])
    low, _ = wilson_interval(2, 4)
    assert table.loc[2, "step_ci_low"] == pytest.approx(float(low))
    grouped = delivery_funnel(operations_frame(ops), messages_frame(messages), by="source_name")
    assert len(grouped) == 4
    assert set(grouped["source_name"]) == {"samsara"}
