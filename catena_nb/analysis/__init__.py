"""Reliability analysis over the frames: rates with intervals, breakdowns, retries, latency, incidents."""

from __future__ import annotations

from catena_nb.analysis.incidents import INCIDENT_COLUMNS, find_incidents, locate_incidents
from catena_nb.analysis.reliability import (
    FUNNEL_STAGES,
    UNKNOWN_ERROR,
    attempts_distribution,
    delivery_funnel,
    error_breakdown,
    latency_summary,
    outcome_rates,
    rates_over_time,
    retry_effect,
)
from catena_nb.analysis.tables import format_table

__all__ = [
    "FUNNEL_STAGES",
    "INCIDENT_COLUMNS",
    "UNKNOWN_ERROR",
    "attempts_distribution",
    "delivery_funnel",
    "error_breakdown",
    "find_incidents",
    "format_table",
    "latency_summary",
    "locate_incidents",
    "outcome_rates",
    "rates_over_time",
    "retry_effect",
]
