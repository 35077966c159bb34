"""The sandbox's HTTP side: the FastAPI app over the store, in front of the simulation.

- ``app``: the app and the middleware it is served behind; ``context``: what every route shares.
- ``auth``, ``tokens``: the OAuth endpoints, the bearer and scope check, the granted scopes; ``errors``,
  ``faults``: error bodies and injected faults.
- ``query``, ``pagination``: what a list reads and how it pages; ``schemas``: request bodies and the OpenAPI
  document's response schemas.
- ``state``: the in-memory store.
- the routes: ``messages``, ``operations``, ``connections``, ``tsps``, ``users``, ``webhooks``.
"""

from __future__ import annotations
