"""The charts: `plot_*(data, *, ax=None) -> Axes`, in one style."""

from __future__ import annotations

from catena_nb.charts._plots import (
    plot_attempts,
    plot_delivery_funnel,
    plot_error_types,
    plot_failure_rate_over_time,
    plot_latency,
    plot_outcomes,
)

__all__ = [
    "plot_attempts",
    "plot_delivery_funnel",
    "plot_error_types",
    "plot_failure_rate_over_time",
    "plot_latency",
    "plot_outcomes",
]
