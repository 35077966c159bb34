"""The notifications API's models: subscriptions, their delivery logs and metrics.

As catenaclearing/catena-sdk-go ``specs/notifications/openapi.json`` gives them (components ``Webhook``,
``WebhookRead``, ``WebhookFilters``, ``WebhookLogRead``, ``WebhookMetrics``, ``TimePeriodMetric``), open to
unknown fields and values like every response model. A subscription's secret is never shown: it is out of
every repr, and while a model holds it, every redaction of the package masks it (``_redact``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from catena_nb import _redact
from catena_nb.models import UTCDateTime

__all__ = [
    "TimePeriodMetric",
    "Webhook",
    "WebhookFilters",
    "WebhookLog",
    "WebhookMetrics",
    "WebhookStatus",
]


class WebhookStatus(StrEnum):
    """A subscription's status; the circuit breaker sets `stale`, never back."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    STALE = "stale"


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class WebhookFilters(_Response):
    """Which fleets' events a subscription receives (none: all)."""

    fleet_ids: list[str] | None = None
    fleet_refs: list[str] | None = None


class Webhook(_Response):
    """A subscription: `WebhookRead` (list, get, update), or the create answer's `Webhook`, whose `secret`
    is the real one (shown that once: keep it where the receiver reads it)."""

    id: str
    url: str
    event_name: str
    status: WebhookStatus | str | None = None
    filters: WebhookFilters | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    deleted_at: UTCDateTime | None = None
    partner_id: str | None = None
    secret: str | None = Field(default=None, repr=False)
    _guard: _redact.Secret | None = PrivateAttr(default=None)

    @field_validator("status", mode="before")
    @classmethod
    def _open_status(cls, value: Any) -> Any:
        try:
            return WebhookStatus(value)
        except ValueError:
            return value

    def model_post_init(self, context: Any, /) -> None:
        # registered while this model lives: every log line, error and repr of the package masks it
        if self.secret:
            self._guard = _redact.Secret(self.secret)

    def __repr__(self) -> str:
        return _redact.redact(
            f"Webhook(id={self.id!r}, event_name={self.event_name!r}, status={str(self.status)!r}, "
            f"url={self.url!r})"
        )

    __str__ = __repr__


# The spec's window names ("6h") are not Python names: each is read under its alias.
_6H = Annotated[int | None, Field(alias="6h")]
_24H = Annotated[int | None, Field(alias="24h")]
_7D = Annotated[int | None, Field(alias="7d")]
_14D = Annotated[int | None, Field(alias="14d")]


class TimePeriodMetric(_Response):
    """A count (or rate, or time) over the last 6 hours, 24 hours, 7 days and 14 days."""

    h6: _6H = None
    h24: _24H = None
    d7: _7D = None
    d14: _14D = None

    def by_window(self) -> dict[str, int | None]:
        """The values under the spec's window names."""
        return {"6h": self.h6, "24h": self.h24, "7d": self.d7, "14d": self.d14}


class WebhookMetrics(_Response):
    """A subscription's delivery metrics (`GET …/{webhook_id}/metrics`).

    `success_rate` is a percentage, given only from 200 messages on; `ewma_success_rate` a share (below
    0.95 the circuit breaker marks the subscription `stale`); `dlq_count` the events in the dead-letter
    queue, kept 14 days and brought back only by `client.webhooks.replay`.
    """

    webhook_id: str
    http_attempts: TimePeriodMetric = Field(default_factory=TimePeriodMetric)
    http_success_attempts: TimePeriodMetric = Field(default_factory=TimePeriodMetric)
    http_failure_attempts: TimePeriodMetric = Field(default_factory=TimePeriodMetric)
    message_count: TimePeriodMetric = Field(default_factory=TimePeriodMetric)
    message_success_count: TimePeriodMetric = Field(default_factory=TimePeriodMetric)
    success_rate: TimePeriodMetric = Field(default_factory=TimePeriodMetric)
    avg_response_time_ms: TimePeriodMetric = Field(default_factory=TimePeriodMetric)
    ewma_success_rate: float | None = None
    dlq_count: int = 0


class WebhookLog(_Response):
    """One HTTP attempt of a delivery (`WebhookLogRead`): `message_id` is the event's id."""

    created_at: UTCDateTime | None = None
    webhook_id: str | None = None
    message_id: str | None = None
    event_name: str | None = None
    status: str | None = None
    status_code: int | None = None
    error_message: str | None = None
    response_time_ms: int | None = None
    delivery_attempt: int | None = None
