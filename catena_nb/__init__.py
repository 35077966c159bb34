"""catena_nb: send driver messages through the Catena Telematics API and audit their reliability.

Names are imported on first use, so ``import catena_nb`` stays quick and a notebook that only sends
messages never loads matplotlib or the sandbox's web server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "APIConnectionError": "catena_nb.errors",
    "APIStatusError": "catena_nb.errors",
    "APITimeoutError": "catena_nb.errors",
    "AsyncCatenaClient": "catena_nb.client",
    "AuditStore": "catena_nb.store",
    "AuthenticationError": "catena_nb.errors",
    "BatchResult": "catena_nb.client",
    "CatenaClient": "catena_nb.client",
    "CatenaError": "catena_nb.errors",
    "ConfigurationError": "catena_nb.errors",
    "ConflictError": "catena_nb.errors",
    "ErrorBudget": "catena_nb.analysis",
    "InvalidRequestError": "catena_nb.errors",
    "Message": "catena_nb.models",
    "NotFoundError": "catena_nb.errors",
    "OperationBrowser": "catena_nb.notebook",
    "OperationLog": "catena_nb.models",
    "PaginationError": "catena_nb.errors",
    "PermissionDeniedError": "catena_nb.errors",
    "RateLimitError": "catena_nb.errors",
    "ReliabilityDashboard": "catena_nb.notebook",
    "ResourceOperation": "catena_nb.models",
    "ResponseValidationError": "catena_nb.errors",
    "RowOutcome": "catena_nb.client",
    "Sandbox": "catena_nb.sandbox",
    "SendMessageForm": "catena_nb.notebook",
    "ServerError": "catena_nb.errors",
    "StoreError": "catena_nb.store",
    "Tsp": "catena_nb.models",
    "UnsupportedResourceWarning": "catena_nb.errors",
    "ValidationError": "catena_nb.errors",
    "WaitTimeoutError": "catena_nb.errors",
    "WebhookVerificationError": "catena_nb.errors",
    "attempts_distribution": "catena_nb.analysis",
    "compare_periods": "catena_nb.analysis",
    "delivery_funnel": "catena_nb.analysis",
    "error_breakdown": "catena_nb.analysis",
    "error_budget": "catena_nb.analysis",
    "error_signatures": "catena_nb.analysis",
    "escape_html": "catena_nb._html",
    "escape_markdown": "catena_nb._html",
    "find_incidents": "catena_nb.analysis",
    "format_table": "catena_nb.analysis.tables",
    "funnel_table": "catena_nb.analysis",
    "latency_summary": "catena_nb.analysis",
    "locate_incidents": "catena_nb.analysis.incidents",
    "logs_frame": "catena_nb.frames",
    "markdown_code": "catena_nb._html",
    "messages_frame": "catena_nb.frames",
    "operation_frames": "catena_nb.frames",
    "operations_frame": "catena_nb.frames",
    "outcome_rates": "catena_nb.analysis",
    "plot_attempts": "catena_nb.charts",
    "plot_delivery_funnel": "catena_nb.charts",
    "plot_error_budget": "catena_nb.charts",
    "plot_error_types": "catena_nb.charts",
    "plot_failure_rate_over_time": "catena_nb.charts",
    "plot_funnel": "catena_nb.charts",
    "plot_latency": "catena_nb.charts",
    "plot_outcomes": "catena_nb.charts",
    "rates_over_time": "catena_nb.analysis",
    "retry_effect": "catena_nb.analysis",
    "webhook_logs_frame": "catena_nb.frames",
    "webhook_metrics_frame": "catena_nb.frames",
    "signature_of": "catena_nb.analysis",
    "time_to_deliver": "catena_nb.analysis",
    "time_to_settle": "catena_nb.analysis",
    "webhooks": "catena_nb.webhooks",
}

# Written out (not computed) so that type checkers see the exports; a test keeps it equal to _EXPORTS.
__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncCatenaClient",
    "AuditStore",
    "AuthenticationError",
    "BatchResult",
    "CatenaClient",
    "CatenaError",
    "ConfigurationError",
    "ConflictError",
    "ErrorBudget",
    "InvalidRequestError",
    "Message",
    "NotFoundError",
    "OperationBrowser",
    "OperationLog",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReliabilityDashboard",
    "ResourceOperation",
    "ResponseValidationError",
    "RowOutcome",
    "Sandbox",
    "SendMessageForm",
    "ServerError",
    "StoreError",
    "Tsp",
    "UnsupportedResourceWarning",
    "ValidationError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "__version__",
    "attempts_distribution",
    "compare_periods",
    "delivery_funnel",
    "error_breakdown",
    "error_budget",
    "error_signatures",
    "escape_html",
    "escape_markdown",
    "find_incidents",
    "format_table",
    "funnel_table",
    "latency_summary",
    "locate_incidents",
    "logs_frame",
    "markdown_code",
    "messages_frame",
    "operation_frames",
    "operations_frame",
    "outcome_rates",
    "plot_attempts",
    "plot_delivery_funnel",
    "plot_error_budget",
    "plot_error_types",
    "plot_failure_rate_over_time",
    "plot_funnel",
    "plot_latency",
    "plot_outcomes",
    "rates_over_time",
    "retry_effect",
    "signature_of",
    "time_to_deliver",
    "time_to_settle",
    "webhook_logs_frame",
    "webhook_metrics_frame",
    "webhooks",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'catena_nb' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith("." + name) else getattr(module, name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from catena_nb import webhooks
    from catena_nb._html import escape_html, escape_markdown, markdown_code
    from catena_nb.analysis import (
        ErrorBudget,
        attempts_distribution,
        compare_periods,
        delivery_funnel,
        error_breakdown,
        error_budget,
        error_signatures,
        find_incidents,
        format_table,
        funnel_table,
        latency_summary,
        locate_incidents,
        outcome_rates,
        rates_over_time,
        retry_effect,
        signature_of,
        time_to_deliver,
        time_to_settle,
    )
    from catena_nb.charts import (
        plot_attempts,
        plot_delivery_funnel,
        plot_error_budget,
        plot_error_types,
        plot_failure_rate_over_time,
        plot_funnel,
        plot_latency,
        plot_outcomes,
    )
    from catena_nb.client import AsyncCatenaClient, BatchResult, CatenaClient, RowOutcome
    from catena_nb.errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        CatenaError,
        ConfigurationError,
        ConflictError,
        InvalidRequestError,
        NotFoundError,
        PaginationError,
        PermissionDeniedError,
        RateLimitError,
        ResponseValidationError,
        ServerError,
        UnsupportedResourceWarning,
        ValidationError,
        WaitTimeoutError,
        WebhookVerificationError,
    )
    from catena_nb.frames import (
        logs_frame,
        messages_frame,
        operation_frames,
        operations_frame,
        webhook_logs_frame,
        webhook_metrics_frame,
    )
    from catena_nb.models import Message, OperationLog, ResourceOperation, Tsp
    from catena_nb.notebook import OperationBrowser, ReliabilityDashboard, SendMessageForm
    from catena_nb.sandbox import Sandbox
    from catena_nb.store import AuditStore, StoreError
