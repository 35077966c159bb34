"""Operations, logs and messages into typed pandas frames: records -> columns -> frames."""

from __future__ import annotations

from catena_nb.frames._build import (
    LOG_COLUMNS,
    MESSAGE_COLUMNS,
    OPERATION_COLUMNS,
    logs_frame,
    messages_frame,
    operation_frames,
    operations_frame,
)

__all__ = [
    "LOG_COLUMNS",
    "MESSAGE_COLUMNS",
    "OPERATION_COLUMNS",
    "logs_frame",
    "messages_frame",
    "operation_frames",
    "operations_frame",
]
