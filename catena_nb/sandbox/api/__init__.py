"""The sandbox's HTTP side: routes, auth, errors, pagination, shapes, state."""

from __future__ import annotations
