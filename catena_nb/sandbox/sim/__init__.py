"""The sandbox's simulation: the seeded world, the TSPs behind it, what happens to an operation, the history.

- ``types``: the records both halves share (users, connections, attempt outcomes, ``Pace``).
- ``world``: the seeded partner, connections and users; ``integrations``: what each TSP supports;
  ``ids``, ``timestamps``: every record's formats.
- ``records``: the operation record, its payloads, its attempt logs and its three wire shapes.
- ``profiles``, ``outcomes``, ``errortexts``, ``ratelimit``, ``tsp``: how each TSP behaves, what one call
  answers and in which words, each connection's rate limit, and the calls as they happen in real time.
- ``engine``, ``worker``, ``threads``, ``webhooks``: sync and async operations, retries, webhook deliveries;
  ``webhook_book``: their logs, dead-letter queues, metrics and circuit breaker; ``message_events``: the
  ``message.*`` events of a message's delivery life; ``schedule``: what falls due later (retries, changes).
- ``delivery``: the record of a message a TSP accepted, and its life (sent, delivered, read).
- ``history``, ``traffic``, ``incidents``: days of past traffic, and its incidents (the three named ones,
  or those a caller specifies, a degradation among them).

Nothing here imports the HTTP side (``api``): the server wires the two together.
"""

from __future__ import annotations
