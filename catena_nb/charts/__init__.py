"""The charts: ``plot_*(data, *, ax=None, **kw) -> Axes``, one module per question, in one style.

Every chart takes either the frame of operations (and computes its table with :mod:`catena_nb.analysis`)
or that table itself, draws on ``ax`` (or on a new Axes of a fixed size with constrained layout), and
returns the Axes. None calls ``plt.show()`` or changes matplotlib's global settings; a new figure is not
registered with ``pyplot``, so nothing is left open. Titles ask the question the chart answers, rates are in
percent with their 95% Wilson interval, and ``n`` is always shown, so a rate over three operations reads
as the guess it is. Colours, and text from the data, follow :mod:`~.style`.

- :mod:`~.outcomes`: :func:`plot_outcomes`, :func:`plot_error_types`
- :mod:`~.timeline`: :func:`plot_failure_rate_over_time`
- :mod:`~.retries`: :func:`plot_attempts`
- :mod:`~.latency`: :func:`plot_latency`
- :mod:`~.delivery`: :func:`plot_delivery_funnel`
- :mod:`~.funnel`: :func:`plot_funnel` (Spiegelhalter's funnel plot)
- :mod:`~.budget`: :func:`plot_error_budget`
"""

from __future__ import annotations

from catena_nb.charts.budget import plot_error_budget
from catena_nb.charts.delivery import plot_delivery_funnel
from catena_nb.charts.funnel import plot_funnel
from catena_nb.charts.latency import plot_latency
from catena_nb.charts.outcomes import plot_error_types, plot_outcomes
from catena_nb.charts.retries import plot_attempts
from catena_nb.charts.timeline import plot_failure_rate_over_time

__all__ = [
    "plot_attempts", "plot_delivery_funnel", "plot_error_budget", "plot_error_types",
    "plot_failure_rate_over_time", "plot_funnel", "plot_latency", "plot_outcomes",
]  # fmt: skip
