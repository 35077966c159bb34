"""The shareable reliability report: the audit notebook executed and exported as one offline HTML file."""

from __future__ import annotations

from catena_nb.report.render import ReportError, credentials_configured, render_report

__all__ = [
    "ReportError",
    "credentials_configured",
    "render_report",
]
