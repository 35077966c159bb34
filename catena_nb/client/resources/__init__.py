"""The client's namespaces, one module per resource: `messages` (messages and group messages),
`operations` (resource operations: lookups, listings, waits), `directory` (connections and users), `tsps`
and `webhooks` (the notifications API; its models in `webhook_models`).

Each module checks the arguments and builds the request of each method once (`_checks`, `_base.Call`); its
sync and async classes, side by side, then send it and cast the answer.
"""

from __future__ import annotations
