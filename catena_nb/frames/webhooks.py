"""Webhook subscriptions' metrics and delivery logs into typed frames, for analysis.

``webhook_metrics_frame`` gives one row per subscription and window (``6h``, ``24h``, ``7d``, ``14d``) with
the spec's ``WebhookMetrics`` fields as columns; ``webhook_logs_frame`` one row per HTTP attempt
(``WebhookLogRead``). Both take models, wire dicts or an iterable of either, and are pure (no I/O).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import pydantic

from catena_nb.client.resources.webhook_models import TimePeriodMetric, WebhookLog, WebhookMetrics

__all__ = ["WEBHOOK_LOG_COLUMNS", "WEBHOOK_METRIC_COLUMNS", "webhook_logs_frame", "webhook_metrics_frame"]

WINDOWS = ("6h", "24h", "7d", "14d")
# the spec's TimePeriodMetric fields, in the model's order (http_attempts ... avg_response_time_ms)
_COUNTS = tuple(name for name, f in WebhookMetrics.model_fields.items() if f.annotation is TimePeriodMetric)
WEBHOOK_METRIC_COLUMNS = ("webhook_id", "window", *_COUNTS, "ewma_success_rate", "dlq_count")
WEBHOOK_LOG_COLUMNS = (
    "created_at",
    "webhook_id",
    "event_id",
    "event_name",
    "status",
    "status_code",
    "error_message",
    "response_time_ms",
    "delivery_attempt",
)
_ATTR = "catena_nb"


def _items(data: Any, model: type[pydantic.BaseModel], what: str) -> list[Any]:
    if isinstance(data, model | Mapping):
        data = [data]
    if not isinstance(data, Iterable) or isinstance(data, str | bytes):
        raise TypeError(
            f"{what} takes {model.__name__} models or dicts (or a list of them), not {type(data).__name__}"
        )
    out = []
    for item in data:
        if isinstance(item, Mapping):
            item = model.model_validate(item)
        if not isinstance(item, model):
            raise TypeError(f"{what} takes {model.__name__} models or dicts, not {type(item).__name__}")
        out.append(item)
    return out


def webhook_metrics_frame(metrics: Any) -> pd.DataFrame:
    """One row per (subscription, window) of ``client.webhooks.metrics(...)`` answers.

    Columns: ``webhook_id``, ``window`` (ordered ``6h < 24h < 7d < 14d``), the spec's counts
    (``http_attempts``, ``http_success_attempts``, ``http_failure_attempts``, ``message_count``,
    ``message_success_count``), ``success_rate`` (a percentage, NA under 200 messages),
    ``avg_response_time_ms``, and the subscription's ``ewma_success_rate`` and ``dlq_count`` on each row.

    Raises:
        TypeError: ``metrics`` holds something that is not a ``WebhookMetrics`` (or its dict).
    """
    rows = []
    for m in _items(metrics, WebhookMetrics, "webhook_metrics_frame"):
        for window in WINDOWS:
            row: dict[str, Any] = {"webhook_id": m.webhook_id, "window": window}
            for name in _COUNTS:
                row[name] = getattr(m, name).by_window()[window]
            row["ewma_success_rate"] = m.ewma_success_rate
            row["dlq_count"] = m.dlq_count
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(WEBHOOK_METRIC_COLUMNS))
    frame["webhook_id"] = frame["webhook_id"].astype("string")
    frame["window"] = pd.Categorical(frame["window"], categories=list(WINDOWS), ordered=True)
    for name in (*_COUNTS, "dlq_count"):
        frame[name] = pd.array(frame[name].tolist(), dtype="Int64")
    frame["ewma_success_rate"] = pd.array(frame["ewma_success_rate"].tolist(), dtype="Float64")
    frame.attrs[_ATTR] = "webhook_metrics"
    return frame


def webhook_logs_frame(logs: Any) -> pd.DataFrame:
    """One row per HTTP attempt of ``client.webhooks.logs(...)`` (a listing, models or dicts).

    Columns: ``created_at`` (UTC), ``webhook_id``, ``event_id`` (the log's ``message_id``: the envelope's
    ``id``), ``event_name``, ``status`` (``success``/``failed``), ``status_code`` (0: no HTTP answer),
    ``error_message``, ``response_time_ms``, ``delivery_attempt``.

    Raises:
        TypeError: ``logs`` holds something that is not a ``WebhookLog`` (or its dict).
    """
    rows = [
        {
            "created_at": log.created_at,
            "webhook_id": log.webhook_id,
            "event_id": log.message_id,
            "event_name": log.event_name,
            "status": log.status,
            "status_code": log.status_code,
            "error_message": log.error_message,
            "response_time_ms": log.response_time_ms,
            "delivery_attempt": log.delivery_attempt,
        }
        for log in _items(logs, WebhookLog, "webhook_logs_frame")
    ]
    frame = pd.DataFrame(rows, columns=list(WEBHOOK_LOG_COLUMNS))
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    for name in ("webhook_id", "event_id", "error_message"):
        frame[name] = frame[name].astype("string")
    for name in ("event_name", "status"):
        frame[name] = frame[name].astype("category")
    for name in ("status_code", "response_time_ms", "delivery_attempt"):
        frame[name] = pd.array(frame[name].tolist(), dtype="Int64")
    frame.attrs[_ATTR] = "webhook_logs"
    return frame
