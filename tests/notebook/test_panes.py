"""The widgets' HTML: an operation's outcome from its last failed attempt, boxes in the status palette."""

from __future__ import annotations

from typing import Any

from catena_nb._html import STATUS_COLOURS
from catena_nb.models import ResourceOperation
from catena_nb.notebook import _panes as panes
from catena_nb.notebook._options import operation_label


def _failed(logs: list[dict[str, Any]]) -> ResourceOperation:
    return ResourceOperation.model_validate(
        {
            "id": "019df22e-f255-7a7c-b1d7-59f509071b6d",
            "created_at": "2026-05-04T08:51:01Z",
            "connection_id": "019ddd87-eedd-710f-967c-1c6cc72ac985",
            "resource": "message",
            "operation_type": "create",
            "status": "failed",
            "logs": logs,
        }
    )


def test_the_headline_and_the_label_name_the_models_last_error() -> None:
    """Headline and row label show ``last_error``: the latest failed attempt by time, not by wire order."""
    op = _failed(
        [
            {
                "created_at": "2026-05-04T08:51:09Z",
                "status": "failed",
                "error_type": "tsp",
                "error_details": "late",
            },
            {"created_at": None, "status": "failed", "error_type": "auth", "error_details": "timeless"},
            {"created_at": "2026-05-04T08:51:02Z", "status": "failed", "error_type": "network"},
        ]
    )
    assert op.last_error is not None
    assert op.last_error.error_type == "tsp"
    headline = panes.operation_headline(op)
    assert "<code>tsp</code>" in headline
    assert "late" in headline
    assert operation_label(op, 3) == "3. failed (tsp) · 2026-05-04 08:51 · 019df22e"


def test_boxes_take_the_status_palette() -> None:
    """A failure is boxed in the failed colour, a success in the success colour, a note in grey."""
    assert STATUS_COLOURS["failed"] in panes.error_box_text("x")
    assert STATUS_COLOURS["failed"] in panes.field_error("x")
    assert STATUS_COLOURS["unknown"] in panes.info_box("x")
    ok = _failed([]).model_copy(update={"status": "success"})
    assert STATUS_COLOURS["success"] in panes.operation_headline(ok)
    assert "no attempt logged" in panes.operation_headline(_failed([]))
