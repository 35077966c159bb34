"""ipywidgets forms and the reliability dashboard: send a message, browse operations, explore the audit.

The widgets hold state and wiring only: the client sends and looks up, ``frames`` and ``analysis`` compute,
``charts`` draws, and pure functions build the HTML through :mod:`catena_nb._html` (escaped, in its status
palette). Every result lands in an ``HTML`` widget's ``value`` (never ``with out:``, which stays empty outside
a browser), so a test can drive a form headlessly: set values, ``click()``, read ``.value``. Each widget has
a short, stable ``repr`` for notebooks checked by nbval.

One widget per module: :mod:`~.send_form`, :mod:`~.operation_browser` and :mod:`~.dashboard`; under them
:mod:`~._options` (what the pickers offer), :mod:`~._panes` (boxes, an operation's outcome, a table of
operations) and :mod:`~._views` (the dashboard's selection, tables and charts).
"""

from __future__ import annotations

from catena_nb.notebook.dashboard import ReliabilityDashboard
from catena_nb.notebook.operation_browser import MAX_BROWSE_RESULTS, PAGE_SIZE, OperationBrowser
from catena_nb.notebook.send_form import SendMessageForm

__all__ = ["MAX_BROWSE_RESULTS", "PAGE_SIZE", "OperationBrowser", "ReliabilityDashboard", "SendMessageForm"]
