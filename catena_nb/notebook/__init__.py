"""ipywidgets forms and the reliability dashboard: send a message, browse operations, explore the audit.

The widgets only wire things together: the client sends and looks up, ``frames`` and ``reliability`` compute,
``charts`` draws and ``display`` renders escaped HTML. Every result lands in an ``HTML`` widget's ``value``
(never ``with out:``, which stays empty outside a browser), so a test can drive a form headlessly: set values,
``click()``, read ``.value``. Each widget has a short, stable ``repr`` for notebooks checked by nbval.

One form per module: :mod:`catena_nb.notebook.send_form`, :mod:`catena_nb.notebook.operation_browser` and
:mod:`catena_nb.notebook.dashboard`, with the pieces they share in :mod:`catena_nb.notebook._parts`.
"""

from __future__ import annotations

from catena_nb.notebook.dashboard import ReliabilityDashboard
from catena_nb.notebook.operation_browser import MAX_BROWSE_RESULTS, PAGE_SIZE, OperationBrowser
from catena_nb.notebook.send_form import SendMessageForm

__all__ = ["MAX_BROWSE_RESULTS", "PAGE_SIZE", "OperationBrowser", "ReliabilityDashboard", "SendMessageForm"]
