"""The client's namespaces: one module per resource."""

from __future__ import annotations
