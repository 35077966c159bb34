"""The sandbox's simulation: world, TSPs, engine, worker, delivery, history, webhooks."""

from __future__ import annotations
