"""Reliability analysis over the frames: how reliable are the sends, and why do they fail.

One module per question: :mod:`~.outcomes` (rates per group and over time, failures by error type),
:mod:`~.retries` (first attempt against final success, attempts), :mod:`~.latency` (time to settle),
:mod:`~.delivery` (the funnel to the driver), :mod:`~.incidents` (periods of unusual failure, found by the
Bernoulli CUSUM of :mod:`~.changepoints`), :mod:`~.comparisons` (two windows compared per group),
:mod:`~.funnel` (groups against the funnel plot's limits), :mod:`~.budgets` (an SLO's error budget and
burn-rate alerts), :mod:`~.settle` (Kaplan–Meier time to settle, to delivered and to read, the pending
censored) and :mod:`~.signatures` (the few causes behind many error texts); under them
:mod:`~.intervals` (Wilson intervals, the small-sample threshold), :mod:`~.buckets` (UTC time buckets),
:mod:`~.grouping` (the ``by`` argument) and :mod:`~.proportions` (two proportions compared);
:mod:`~.tables` makes any of their tables readable.

Every function takes the frames of :mod:`catena_nb.frames` and returns a plain DataFrame. Conventions, the
same everywhere:

- **Settled** operations (``success`` or ``failed``) are the denominator of every rate; ``pending`` ones (and
  any status other than the two) are counted apart and excluded, since their outcome is not known yet.
- Every rate comes with its 95% **Wilson** interval (never the Wald interval, which misbehaves near 0% and
  100%) and with its ``n``; a group with fewer than 30 settled operations is flagged ``small_sample``.
- ``by`` groups the rows: ``None`` (one row for everything), a column name (``"source_name"``,
  ``"error_type"``, ``"connection_id"``, ``"payload_priority"``...), a :class:`pandas.Grouper` (a time
  bucket, e.g. ``pd.Grouper(key="created_at", freq="D")``), or a list of these. Missing values form their
  own group. Tables grouped by categories list the most failures first; time buckets stay in time order.

Example:
    >>> outcome_rates(ops_df, by="source_name")  # doctest: +SKIP
"""

from __future__ import annotations

from catena_nb.analysis.budgets import ErrorBudget, error_budget
from catena_nb.analysis.comparisons import compare_periods, previous_window
from catena_nb.analysis.delivery import FUNNEL_STAGES, delivery_funnel
from catena_nb.analysis.funnel import funnel_table
from catena_nb.analysis.incidents import INCIDENT_COLUMNS, find_incidents, locate_incidents
from catena_nb.analysis.latency import latency_summary
from catena_nb.analysis.outcomes import UNKNOWN_ERROR, error_breakdown, outcome_rates, rates_over_time
from catena_nb.analysis.retries import attempts_distribution, retry_effect
from catena_nb.analysis.settle import time_to_deliver, time_to_settle
from catena_nb.analysis.signatures import error_signatures, signature_of
from catena_nb.analysis.tables import format_table

__all__ = [
    "FUNNEL_STAGES",
    "INCIDENT_COLUMNS",
    "UNKNOWN_ERROR",
    "ErrorBudget",
    "attempts_distribution",
    "compare_periods",
    "delivery_funnel",
    "error_breakdown",
    "error_budget",
    "error_signatures",
    "find_incidents",
    "format_table",
    "funnel_table",
    "latency_summary",
    "locate_incidents",
    "outcome_rates",
    "previous_window",
    "rates_over_time",
    "retry_effect",
    "signature_of",
    "time_to_deliver",
    "time_to_settle",
]
